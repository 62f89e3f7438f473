"""Run the steps of a CI job on Trio, with GitHub Actions' background steps.

Public names are imported on first use, so that ``trio-steps --version``
and ``import trio_steps`` stay fast; type checkers see ordinary imports.
One table, :data:`_EXPORTS`, says where each public name lives; a test
checks that the imports for type checkers say the same.
"""

from __future__ import annotations

from ._version import __version__ as __version__

# typing.TYPE_CHECKING without importing typing, for start-up time.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._context import StepContext as StepContext
    from ._engine._runner import JobRunner as JobRunner
    from ._engine._runner import run_job as run_job
    from ._engine._workflow_runner import WorkflowRunner as WorkflowRunner
    from ._engine._workflow_runner import run_workflow as run_workflow
    from ._errors import JobDefinitionError as JobDefinitionError
    from ._events import Event as Event
    from ._events import EventKind as EventKind
    from ._job import Job as Job
    from ._results import CaseInsensitiveMapping as CaseInsensitiveMapping
    from ._results import JobReport as JobReport
    from ._results import Result as Result
    from ._results import StepReport as StepReport
    from ._results import merge_results as merge_results
    from ._semantics import Semantics as Semantics
    from ._status import Status as Status
    from ._status import StepView as StepView
    from ._status import always as always
    from ._status import cancelled as cancelled
    from ._status import failure as failure
    from ._status import success as success
    from ._steps import Cancel as Cancel
    from ._steps import Parallel as Parallel
    from ._steps import Step as Step
    from ._steps import StepKind as StepKind
    from ._steps import Wait as Wait
    from ._steps import WaitAll as WaitAll
    from ._trace._json import TraceError as TraceError
    from ._trace._load import load_trace as load_trace
    from ._trace._stats import CriticalLink as CriticalLink
    from ._trace._stats import JobStatistics as JobStatistics
    from ._trace._stats import job_statistics as job_statistics
    from ._trace._timeline import render_timeline as render_timeline
    from ._trace._workflow import WorkflowStatistics as WorkflowStatistics
    from ._trace._workflow import load_workflow_trace as load_workflow_trace
    from ._trace._workflow import render_workflow_timeline as render_workflow_timeline
    from ._trace._workflow import workflow_statistics as workflow_statistics
    from ._trace._workflow import write_workflow_trace as write_workflow_trace
    from ._trace._write import TraceWriter as TraceWriter
    from ._trace._write import write_trace as write_trace
    from ._workflow._nodes import WorkflowError as WorkflowError
    from ._workflow._read import load_workflow as load_workflow
    from ._workflow._read import read_workflow_file as read_workflow_file
    from ._workflows import Workflow as Workflow
    from ._workflows import WorkflowJob as WorkflowJob
    from ._workflows import WorkflowJobReport as WorkflowJobReport
    from ._workflows import WorkflowReport as WorkflowReport

#: Public name -> the private module that defines it.
_EXPORTS: dict[str, str] = {
    "Cancel": "_steps",
    "CaseInsensitiveMapping": "_results",
    "CriticalLink": "_trace._stats",
    "Event": "_events",
    "EventKind": "_events",
    "Job": "_job",
    "JobDefinitionError": "_errors",
    "JobReport": "_results",
    "JobRunner": "_engine._runner",
    "JobStatistics": "_trace._stats",
    "Parallel": "_steps",
    "Result": "_results",
    "Semantics": "_semantics",
    "Status": "_status",
    "Step": "_steps",
    "StepContext": "_context",
    "StepKind": "_steps",
    "StepReport": "_results",
    "StepView": "_status",
    "TraceError": "_trace._json",
    "TraceWriter": "_trace._write",
    "Wait": "_steps",
    "WaitAll": "_steps",
    "WorkflowError": "_workflow._nodes",
    "always": "_status",
    "cancelled": "_status",
    "failure": "_status",
    "job_statistics": "_trace._stats",
    "load_trace": "_trace._load",
    "load_workflow": "_workflow._read",
    "merge_results": "_results",
    "render_timeline": "_trace._timeline",
    "run_job": "_engine._runner",
    "success": "_status",
    "write_trace": "_trace._write",
    # Whole workflows (rules §15).
    "Workflow": "_workflows",
    "WorkflowJob": "_workflows",
    "WorkflowJobReport": "_workflows",
    "WorkflowReport": "_workflows",
    "WorkflowRunner": "_engine._workflow_runner",
    "read_workflow_file": "_workflow._read",
    "run_workflow": "_engine._workflow_runner",
    "WorkflowStatistics": "_trace._workflow",
    "load_workflow_trace": "_trace._workflow",
    "render_workflow_timeline": "_trace._workflow",
    "workflow_statistics": "_trace._workflow",
    "write_workflow_trace": "_trace._workflow",
}

__all__ = sorted(_EXPORTS)


if not TYPE_CHECKING:  # type checkers see the imports above, and no fallback

    def __getattr__(name: str) -> Any:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
