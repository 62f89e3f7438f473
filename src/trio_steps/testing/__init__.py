"""Tools to test steps and the engine: scripted steps, strategies, invariants.

Hypothesis is needed only for the strategies (:func:`jobs`,
:func:`invalid_jobs` and their building blocks) and the fuzzer
(:func:`fuzz`); they are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._compare import SemanticsDifference as SemanticsDifference
from ._compare import compare_semantics as compare_semantics
from ._explore import Exploration as Exploration
from ._explore import Limit as Limit
from ._explore import explore as explore
from ._explore import outcome_key as outcome_key
from ._findings import EngineCrash as EngineCrash
from ._findings import Finding as Finding
from ._findings import JobHangs as JobHangs
from ._invariants import EngineRun as EngineRun
from ._invariants import check_against_model as check_against_model
from ._invariants import check_deterministic as check_deterministic
from ._invariants import check_invariants as check_invariants
from ._invariants import check_job as check_job
from ._invariants import diff_reports as diff_reports
from ._invariants import run_on_mock_clock as run_on_mock_clock
from ._model import JobNeverEnds as JobNeverEnds
from ._model import simulate as simulate
from ._python import job_listing as job_listing
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
    from ._fuzz import FuzzResult as FuzzResult
    from ._fuzz import fuzz as fuzz
    from ._strategies import InvalidJob as InvalidJob
    from ._strategies import conditions as conditions
    from ._strategies import durations as durations
    from ._strategies import invalid_jobs as invalid_jobs
    from ._strategies import jobs as jobs
    from ._strategies import quarters as quarters
    from ._strategies import scripted_steps as scripted_steps

__all__ = [
    "Cut",
    "EngineCrash",
    "EngineRun",
    "Exploration",
    "Finding",
    "FuzzResult",
    "InvalidJob",
    "JobHangs",
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
    "check_job",
    "compare_semantics",
    "conditions",
    "diff_reports",
    "durations",
    "explore",
    "fuzz",
    "invalid_jobs",
    "job_from_trace",
    "job_listing",
    "job_to_python",
    "jobs",
    "observation",
    "outcome_key",
    "quarters",
    "run_on_mock_clock",
    "scripted_steps",
    "simulate",
    "sweep_cancellation",
]

_NEED_HYPOTHESIS = frozenset(
    {
        "InvalidJob",
        "conditions",
        "durations",
        "invalid_jobs",
        "jobs",
        "quarters",
        "scripted_steps",
    }
)
_FUZZ = frozenset({"FuzzResult", "fuzz"})


def __getattr__(name: str) -> object:
    if name in _NEED_HYPOTHESIS:
        from . import _strategies

        return getattr(_strategies, name)
    if name in _FUZZ:
        from . import _fuzz

        return getattr(_fuzz, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
