"""The engine on a MockClock matches the reference model (rules §10, I1–I10)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

import trio_steps as ts
from trio_steps.testing import jobs, simulate
from trio_steps.testing._invariants import (
    check_against_model,
    check_deterministic,
    check_invariants,
)

from .testing_helpers import examples


@pytest.mark.slow
@settings(
    max_examples=examples(ci=2000, dev=200),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(jobs())
def test_engine_matches_model_and_invariants_hold(job: ts.Job) -> None:
    """§10: per step outcome, conclusion, times, completed_by; job result; I1–I9.

    Each example runs in a fresh ``trio.run`` on ``MockClock(autojump_threshold=0)``.
    """
    check_against_model(job)


@settings(max_examples=examples(ci=300, dev=50))
@given(jobs(max_background=1))
def test_engine_matches_model_with_one_slot(job: ts.Job) -> None:
    """R4.2/I3 under the tightest slot limit, where queueing is everywhere."""
    check_against_model(job)


@settings(max_examples=examples(ci=200, dev=30))
@given(jobs())
def test_same_job_same_report_i10(job: ts.Job) -> None:
    """I10: on a MockClock the same job gives the same report (events too)."""
    check_deterministic(job)


@pytest.mark.slow
@settings(max_examples=examples(ci=1000, dev=200))
@given(jobs(max_steps=12))
def test_model_satisfies_the_invariants(job: ts.Job) -> None:
    """The model itself satisfies I1–I4 and I6–I9 (no engine involved)."""
    check_invariants(job, simulate(job))
