"""Tools to test steps and the engine: scripted steps, strategies, invariants.

Hypothesis is needed only for the strategies (:func:`jobs`,
:func:`invalid_jobs`); they are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._compare import SemanticsDifference as SemanticsDifference
from ._compare import compare_semantics as compare_semantics
from ._explore import Exploration as Exploration
from ._explore import Limit as Limit
from ._explore import explore as explore
from ._explore import outcome_key as outcome_key
from ._invariants import EngineRun as EngineRun
from ._invariants import check_against_model as check_against_model
from ._invariants import check_deterministic as check_deterministic
from ._invariants import check_invariants as check_invariants
from ._invariants import diff_reports as diff_reports
from ._invariants import run_on_mock_clock as run_on_mock_clock
from ._model import JobNeverEnds as JobNeverEnds
from ._model import simulate as simulate
from ._python import job_to_python as job_to_python
from ._replay import job_from_trace as job_from_trace
from ._scripted import RaisingCondition as RaisingCondition
from ._scripted import Script as Script
from ._scripted import ScriptedStep as ScriptedStep
from ._scripted import Write as Write
from ._scripted import observation as observation
from ._sweep import Cut as Cut
from ._sweep import Sweep as Sweep
from ._sweep import sweep_cancellation as sweep_cancellation

if TYPE_CHECKING:
    from ._strategies import InvalidJob as InvalidJob
    from ._strategies import invalid_jobs as invalid_jobs
    from ._strategies import jobs as jobs

__all__ = [
    "Cut",
    "EngineRun",
    "Exploration",
    "InvalidJob",
    "JobNeverEnds",
    "Limit",
    "RaisingCondition",
    "Script",
    "ScriptedStep",
    "SemanticsDifference",
    "Sweep",
    "Write",
    "check_against_model",
    "check_deterministic",
    "check_invariants",
    "compare_semantics",
    "diff_reports",
    "explore",
    "invalid_jobs",
    "job_from_trace",
    "job_to_python",
    "jobs",
    "observation",
    "outcome_key",
    "run_on_mock_clock",
    "simulate",
    "sweep_cancellation",
]

_NEED_HYPOTHESIS = frozenset({"InvalidJob", "invalid_jobs", "jobs"})


def __getattr__(name: str) -> object:
    if name in _NEED_HYPOTHESIS:
        from . import _strategies

        return getattr(_strategies, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
