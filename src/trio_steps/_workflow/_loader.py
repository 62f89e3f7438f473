"""Workflow text -> :class:`LoadedWorkflow`: every job, or every problem.

Three parts do the work: :class:`~._source._Source` (the YAML, positions,
problems and typed values), the job loader (``_jobs.py``: workflow and job
keys, env, defaults) and the step loader (``_steps.py``: one step's shape,
keys, expressions and id; references between steps).
"""

from __future__ import annotations

from .._actions._definition import ActionSettings
from ._jobs import LoadedWorkflow, _JobLoader
from ._nodes import WorkflowError
from ._source import MAX_YAML_DEPTH, _Source

__all__ = ["MAX_YAML_DEPTH", "LoadedWorkflow", "load"]


def load(
    file: str,
    text: str,
    *,
    skip_unsupported: bool,
    actions: ActionSettings | None = None,
) -> LoadedWorkflow:
    """Load every job of a workflow's YAML text.

    Args:
        file: The file name shown in messages.
        text: The YAML text.
        skip_unsupported: Turn unsupported ``uses:`` steps into skipped
            steps (with a warning) instead of errors.
        actions: Where remote actions come from (rules §16).

    Returns:
        Every job, and the warnings loading gave.

    Raises:
        WorkflowError: Listing every problem of the text.
    """
    source = _Source(file, text)
    root = source.parse()
    workflow = None
    if not source.problems:
        loader = _JobLoader(source, skip_unsupported=skip_unsupported, actions=actions)
        workflow = loader.workflow(root)
    if source.problems or workflow is None:
        raise WorkflowError(source.problems)
    return workflow
