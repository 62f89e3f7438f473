"""The engine: the main sequence, job status, stopping and flushing.

One :class:`JobRunner` runs one job. The main sequence is a single task
that walks the plan (rules §4); every step's code runs in a task of its own,
inside its own :class:`trio.CancelScope`, in the job's nursery, so that a
stop (R6.3) is a cancel of that scope and nothing of the job outlives
:meth:`JobRunner.run` (I5). Timed decisions go through a
:class:`~trio_steps._engine._timekeeper.Timekeeper` so that simultaneous events are
resolved in a fixed order (``docs/source/timing.rst``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from .._job import Job
from .._results import (
    Result,
)
from ._github import github_context

if TYPE_CHECKING:
    pass


def _default_github(job: Job, workspace: str) -> dict[str, object]:
    github: dict[str, object] = dict(
        github_context(workspace=workspace, job=job.name or "")
    )
    github.setdefault("event", {})
    github.update(job.github)
    return github


def _step_context(
    outputs: Mapping[str, str], outcome: Result, conclusion: Result
) -> dict[str, object]:
    """One step's entry in the ``steps`` context."""
    return {
        "outputs": dict(outputs),
        "outcome": outcome.github,
        "conclusion": conclusion.github,
    }


def _runner_context(temp: str) -> Mapping[str, object]:
    """The ``runner`` context of a job whose ``RUNNER_TEMP`` is ``temp``."""
    context: dict[str, object] = {
        "os": {"linux": "Linux", "darwin": "macOS", "win32": "Windows"}.get(
            sys.platform, sys.platform
        ),
        "arch": "X64" if os.uname().machine in ("x86_64", "AMD64") else "ARM64",
        "name": "trio-steps",
        "temp": temp,
        "tool_cache": tempfile.gettempdir(),
        "environment": "self-hosted",
        "debug": "",
    }
    # Shared by every evaluation: read-only.
    return MappingProxyType(context)


def _has_expressions(job: Job) -> bool:
    """Whether running ``job`` evaluates any expression (``${{ }}``, ``if:``)."""
    if any("${{" in value for value in job.env.values()):
        return True
    return any(
        plan.templated
        or (plan.step is not None and isinstance(plan.step.condition, str))
        for plan in job.plan
    )
