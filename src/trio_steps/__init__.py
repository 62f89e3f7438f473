"""Run the steps of a CI job on Trio, with GitHub Actions' background steps.

Public names are imported on first use, so that ``trio-steps --version``
and ``import trio_steps`` stay fast; type checkers see ordinary imports.
"""

from __future__ import annotations

from ._version import __version__ as __version__

# typing.TYPE_CHECKING without importing typing, for start-up time.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._context import StepContext as StepContext
    from ._engine import JobRunner as JobRunner
    from ._engine import run_job as run_job
    from ._errors import JobDefinitionError as JobDefinitionError
    from ._events import Event as Event
    from ._events import EventKind as EventKind
    from ._job import Cancel as Cancel
    from ._job import Job as Job
    from ._job import Parallel as Parallel
    from ._job import Step as Step
    from ._job import Wait as Wait
    from ._job import WaitAll as WaitAll
    from ._results import CaseInsensitiveMapping as CaseInsensitiveMapping
    from ._results import JobReport as JobReport
    from ._results import Result as Result
    from ._results import StepReport as StepReport
    from ._results import merge_results as merge_results
    from ._stats import CriticalLink as CriticalLink
    from ._stats import JobStatistics as JobStatistics
    from ._status import Status as Status
    from ._status import StepView as StepView
    from ._status import always as always
    from ._status import cancelled as cancelled
    from ._status import failure as failure
    from ._status import success as success
    from ._timeline import render_timeline as render_timeline
    from ._trace import TraceError as TraceError
    from ._trace import TraceWriter as TraceWriter
    from ._trace import load_trace as load_trace
    from ._workflow import WorkflowError as WorkflowError
    from ._workflow import load_workflow as load_workflow

_WHERE = {
    "CaseInsensitiveMapping": "._results",
    "Cancel": "._job",
    "CriticalLink": "._stats",
    "Event": "._events",
    "EventKind": "._events",
    "Job": "._job",
    "JobDefinitionError": "._errors",
    "JobReport": "._results",
    "JobRunner": "._engine",
    "JobStatistics": "._stats",
    "Parallel": "._job",
    "Result": "._results",
    "Status": "._status",
    "Step": "._job",
    "StepContext": "._context",
    "StepReport": "._results",
    "StepView": "._status",
    "TraceError": "._trace",
    "TraceWriter": "._trace",
    "Wait": "._job",
    "WaitAll": "._job",
    "WorkflowError": "._workflow",
    "always": "._status",
    "cancelled": "._status",
    "failure": "._status",
    "load_trace": "._trace",
    "load_workflow": "._workflow",
    "merge_results": "._results",
    "render_timeline": "._timeline",
    "run_job": "._engine",
    "success": "._status",
}

__all__ = [
    "Cancel",
    "CaseInsensitiveMapping",
    "CriticalLink",
    "Event",
    "EventKind",
    "Job",
    "JobDefinitionError",
    "JobReport",
    "JobRunner",
    "JobStatistics",
    "Parallel",
    "Result",
    "Status",
    "Step",
    "StepContext",
    "StepReport",
    "StepView",
    "TraceError",
    "TraceWriter",
    "Wait",
    "WaitAll",
    "WorkflowError",
    "always",
    "cancelled",
    "failure",
    "load_trace",
    "load_workflow",
    "merge_results",
    "render_timeline",
    "run_job",
    "success",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'trio_steps' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
