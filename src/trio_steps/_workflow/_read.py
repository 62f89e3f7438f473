"""Reading workflow files and choosing a job: :func:`load_workflow`.

The file is read bounded (at most :data:`MAX_WORKFLOW_BYTES`) and without
blocking on a FIFO, decoded as UTF-8, then loaded by ``_loader.py``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final, TypeAlias

from .._actions._definition import ActionSettings
from .._face import public
from .._job import Job
from ._loader import load
from ._nodes import _STRING_NAME, Problem, WorkflowError

if TYPE_CHECKING:
    from .._workflows import Workflow
    from ._loader import LoadedWorkflow

__all__ = ["load_workflow", "read_workflow_file"]

Source: TypeAlias = "str | os.PathLike[str]"

#: The largest workflow file read, in bytes (YAML text given as a ``str``:
#: in characters). Larger input is a :class:`WorkflowError`, read no further.
MAX_WORKFLOW_BYTES: Final = 1024 * 1024


# --------------------------------------------------------------------------
# Public functions


_TOO_LARGE: Final = (
    f"the workflow is larger than {MAX_WORKFLOW_BYTES:,} bytes, the limit; "
    "nothing past the limit was read"
)


def _read(source: Source) -> tuple[str, str | None, Problem | None]:
    """Return ``(file name, text, problem)`` for a path or YAML text."""
    if isinstance(source, str):
        if len(source) > MAX_WORKFLOW_BYTES:
            return _STRING_NAME, None, Problem(_STRING_NAME, 1, 1, _TOO_LARGE)
        return _STRING_NAME, source, None
    path = os.fspath(source)
    try:
        # Non-blocking open: a FIFO nobody writes to reads as empty instead
        # of hanging. Bounded read: /dev/zero or a huge file is never read
        # whole.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        os.set_blocking(fd, True)
        with open(fd, "rb") as file:
            data = file.read(MAX_WORKFLOW_BYTES + 1)
    except FileNotFoundError:
        message = "no such file; check the path to the workflow file"
    except IsADirectoryError:
        message = "this is a directory, not a workflow file"
    except OSError as exc:
        message = f"cannot read the file: {exc.strerror or exc}"
    else:
        if len(data) > MAX_WORKFLOW_BYTES:
            return path, None, Problem(path, 1, 1, _TOO_LARGE)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return path, None, _not_utf8(path, data, exc)
        # What reading in text mode did: universal newlines.
        return path, text.replace("\r\n", "\n").replace("\r", "\n"), None
    return path, None, Problem(path, 1, 1, message)


def _not_utf8(path: str, data: bytes, exc: UnicodeDecodeError) -> Problem:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return Problem(path, 1, 1, "the file is UTF-16 text; save it as UTF-8")
    line = data.count(b"\n", 0, exc.start) + 1
    column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
    return Problem(
        path,
        line,
        column,
        f"the file is not UTF-8 text ({exc.reason} at byte {exc.start}); "
        "save it as UTF-8",
    )


def read_workflow(
    source: Source,
    *,
    skip_unsupported: bool = False,
    actions: ActionSettings | None = None,
) -> LoadedWorkflow:
    """Load and validate every job of a workflow file.

    Args:
        source: A path to the workflow file, or its YAML text as a ``str``.
        skip_unsupported: Turn unsupported ``uses:`` steps into skipped steps
            (with a warning) instead of errors.
        actions: Where remote actions come from (rules §16).

    Returns:
        Every job, and the warnings loading gave.

    Raises:
        WorkflowError: Listing every problem of the file.
    """
    file, text, problem = _read(source)
    if text is None:
        raise WorkflowError([problem] if problem is not None else [])
    return load(file, text, skip_unsupported=skip_unsupported, actions=actions)


def select_job(workflow: LoadedWorkflow, job: str | None) -> Job:
    """Pick one job of a loaded workflow.

    Args:
        workflow: What :func:`read_workflow` returned.
        job: The job id (ignoring case), or ``None`` when there is one job.

    Returns:
        The chosen :class:`Job`.

    Raises:
        WorkflowError: The job does not exist, cannot run here, or the
            workflow has several jobs and ``job`` is ``None``.
    """
    line, column = workflow.jobs_pos[0] + 1, workflow.jobs_pos[1] + 1
    ids = ", ".join(workflow.job_ids)
    if job is None:
        if len(workflow.job_ids) == 1:
            job = workflow.job_ids[0]
        else:
            raise WorkflowError(
                [
                    Problem(
                        workflow.file,
                        line,
                        column,
                        f"the workflow has {len(workflow.job_ids)} jobs ({ids}); "
                        "choose one with --job ID",
                    )
                ]
            )
    for job_id in workflow.job_ids:
        if job_id.casefold() == job.casefold():
            if job_id in workflow.jobs:
                return workflow.jobs[job_id]
            message = (
                f"job {job_id!r} calls a reusable workflow, which trio-steps cannot run"
            )
            break
    else:
        message = f"no job {job!r} in this workflow; its jobs are: {ids}"
    raise WorkflowError([Problem(workflow.file, line, column, message)])


def load_workflow(
    source: Source,
    *,
    job: str | None = None,
    skip_unsupported: bool = False,
    actions: ActionSettings | None = None,
) -> Job:
    """Read a GitHub Actions workflow file and return one of its jobs.

    The whole file is validated, whichever job is chosen (rules §13). Env
    precedence, lowest first: the environment the job runs in, the
    workflow's ``env``, the job's ``env`` (both in ``Job.env``), the
    step's ``env``. ``${{ }}`` expressions are parsed now and interpolated
    by the engine when each step's turn comes.

    Args:
        source: A path (``os.PathLike``) to the workflow file, or the YAML
            text itself as a ``str``.
        job: The id of the job to return (ignoring case); may be omitted
            when the workflow has exactly one job.
        skip_unsupported: Turn ``uses:`` steps other than
            ``actions/checkout`` that trio-steps cannot run (Docker actions)
            into steps reported ``SKIPPED`` (their name says so) instead of
            errors.
        actions: Where remote actions (``owner/repo@ref``) are fetched
            from and cached (rules §16); default :class:`~trio_steps.ActionSettings`.

    Returns:
        The chosen job, ready for :func:`~trio_steps.run_job`.

    Raises:
        WorkflowError: Listing every problem, each at ``file:line:column``;
            also for input over 1 MiB or nested deeper than 64 levels (see
            :ref:`input-limits`).
    """
    workflow = read_workflow(source, skip_unsupported=skip_unsupported, actions=actions)
    return select_job(workflow, job)


def read_workflow_file(
    source: Source,
    *,
    job: str | None = None,
    skip_unsupported: bool = False,
    actions: ActionSettings | None = None,
) -> Workflow:
    """Read a GitHub Actions workflow file and return all its jobs (rules §15).

    The whole file is validated (rules §13, R15.1), including each job's
    ``needs``, ``if:``, ``outputs`` and ``strategy``.

    Args:
        source: A path (``os.PathLike``) to the workflow file, or the YAML
            text itself as a ``str``.
        job: Keep only this job (ignoring case) and the jobs it needs.
        skip_unsupported: As for :func:`load_workflow`.
        actions: As for :func:`load_workflow`.

    Returns:
        The :class:`Workflow`, ready for :func:`~trio_steps.run_workflow`.

    Raises:
        WorkflowError: Listing every problem, each at ``file:line:column``;
            also when ``job`` names no job, or a job that cannot run here.
    """
    loaded = read_workflow(source, skip_unsupported=skip_unsupported, actions=actions)
    return select_workflow(loaded, job)


def select_workflow(loaded: LoadedWorkflow, job: str | None) -> Workflow:
    """The workflow of a loaded file, or of one job and what it needs."""
    workflow = loaded.workflow
    line, column = loaded.jobs_pos[0] + 1, loaded.jobs_pos[1] + 1
    if job is not None:
        select_job(loaded, job)  # the same errors as for one job
    if workflow is None or not workflow.jobs:  # pragma: no cover - only reusable calls
        raise WorkflowError(
            [Problem(loaded.file, line, column, "no job of this workflow can run here")]
        )
    if job is None:
        return workflow
    try:
        return workflow.select(job)
    except KeyError:
        raise WorkflowError(
            [
                Problem(
                    loaded.file,
                    line,
                    column,
                    f"job {job!r} needs a job that calls a reusable workflow, which "
                    "trio-steps cannot run",
                )
            ]
        ) from None


public(load_workflow, read_workflow_file)
