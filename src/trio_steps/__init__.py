"""Run the steps of a CI job on Trio, with GitHub Actions' background steps."""

from __future__ import annotations

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
from ._results import JobReport as JobReport
from ._results import Result as Result
from ._results import StepReport as StepReport
from ._results import merge_results as merge_results
from ._status import Status as Status
from ._status import StepView as StepView
from ._status import always as always
from ._status import cancelled as cancelled
from ._status import failure as failure
from ._status import success as success

__version__ = "0.1.0"

__all__ = [
    "Cancel",
    "Event",
    "EventKind",
    "Job",
    "JobDefinitionError",
    "JobReport",
    "JobRunner",
    "Parallel",
    "Result",
    "Status",
    "Step",
    "StepContext",
    "StepReport",
    "StepView",
    "Wait",
    "WaitAll",
    "always",
    "cancelled",
    "failure",
    "merge_results",
    "run_job",
    "success",
]
