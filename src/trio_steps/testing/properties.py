"""The engine's properties as plain Hypothesis tests, for pytest and HypoFuzz.

Each function here is an ordinary ``@given`` test: pytest runs it (point it
at this module: ``pytest --pyargs trio_steps.testing.properties``), and
`HypoFuzz <https://hypofuzz.com>`__ collects it as it is and fuzzes it with
coverage guidance, on every core and, with a shared example database, on
many machines::

    hypothesis fuzz -- --pyargs trio_steps.testing.properties

The functions use the ``settings`` profile in effect (no example count or
database of their own), so the runner decides how long each one runs and
where failures are saved.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from .._errors import JobDefinitionError
from .._job import Job
from ._invariants import check_deterministic, check_invariants, check_job
from ._model import simulate
from ._strategies import InvalidJob, invalid_jobs, jobs

__all__ = [
    "test_engine_matches_model",
    "test_engine_matches_model_with_one_slot",
    "test_invalid_jobs_are_rejected",
    "test_invariants_hold_in_the_model",
    "test_same_job_same_report",
]

#: Jobs take milliseconds each; a slow one is not a health problem here.
_RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_RELAXED
@given(jobs())
def test_engine_matches_model(job: Job) -> None:
    """The engine matches the model, the invariants hold, the job ends and nothing crashes.

    :func:`~trio_steps.testing.check_job` on jobs from
    :func:`~trio_steps.testing.jobs` (rules §10, I1–I9).
    """
    check_job(job)


@_RELAXED
@given(jobs(max_background=1))
def test_engine_matches_model_with_one_slot(job: Job) -> None:
    """The same with one background slot, where queueing is everywhere (R4.2, I3)."""
    check_job(job)


@_RELAXED
@given(jobs())
def test_same_job_same_report(job: Job) -> None:
    """I10: on a MockClock the same job gives the same report (events too)."""
    check_deterministic(job)


@_RELAXED
@given(jobs(max_steps=12))
def test_invariants_hold_in_the_model(job: Job) -> None:
    """The model itself satisfies I1–I4 and I6–I9 (no engine involved)."""
    check_invariants(job, simulate(job))


@_RELAXED
@given(invalid_jobs())
def test_invalid_jobs_are_rejected(invalid: InvalidJob) -> None:
    """§7: every way to break a definition rule raises ``JobDefinitionError``."""
    try:
        invalid()
    except JobDefinitionError:
        return
    raise AssertionError(f"no JobDefinitionError: {invalid.rule}")
