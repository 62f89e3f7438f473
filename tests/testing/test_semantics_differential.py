"""Under GITHUB_RUNNER too, the engine on a MockClock matches the model (§17).

Generated jobs run through both semantics; the invariants are those GitHub's
runner keeps (``trio_steps.testing._github_invariants``).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

import trio_steps as ts
from trio_steps.testing import (
    ScriptedStep,
    check_against_model,
    check_invariants,
    jobs,
    simulate,
)
from trio_steps.testing._invariants import check_deterministic

from .testing_helpers import examples

GITHUB = ts.Semantics.GITHUB_RUNNER


@settings(
    max_examples=examples(ci=120, dev=40),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(jobs())
def test_engine_matches_model_under_github_runner(job: ts.Job) -> None:
    """R17.2–R17.8: per step outcome, times, completed_by, never_completed."""
    check_against_model(job, semantics=GITHUB)


@pytest.mark.slow
@settings(
    max_examples=examples(ci=1500, dev=300),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(jobs(max_steps=12))
def test_engine_matches_model_under_github_runner_longer_jobs(job: ts.Job) -> None:
    """As above, more and longer jobs."""
    check_against_model(job, semantics=GITHUB)


@settings(max_examples=examples(ci=120, dev=40))
@given(jobs(max_background=1))
def test_engine_matches_model_under_github_runner_with_one_slot(job: ts.Job) -> None:
    """One slot: queued steps everywhere, so R17.4 (never completed) is common."""
    check_against_model(job, semantics=GITHUB)


@settings(max_examples=examples(ci=100, dev=20))
@given(jobs())
def test_github_runner_is_deterministic_i10(job: ts.Job) -> None:
    """I10 holds under GITHUB_RUNNER."""
    check_deterministic(job, semantics=GITHUB)


@pytest.mark.slow
@settings(max_examples=examples(ci=1000, dev=200))
@given(jobs(max_steps=12))
def test_model_keeps_githubs_invariants(job: ts.Job) -> None:
    """The model alone keeps the invariants GitHub's runner keeps."""
    check_invariants(job, simulate(job, semantics=GITHUB), semantics=GITHUB)


@pytest.mark.parametrize("semantics", list(ts.Semantics))
def test_r17_2_engine_and_model_publish_a_control_step_with_an_id(
    semantics: ts.Semantics,
) -> None:
    """The model published ``w``, the engine did not: now both do (R17.2)."""
    job = ts.Job(
        [
            ScriptedStep(1, id="b", background=True),
            ScriptedStep(1, id="d", background=True),
            ts.Wait("b", id="w"),
            ts.Cancel("d", id="c"),
            ScriptedStep(1, id="look", observe=True),
        ]
    )
    report = check_against_model(job, semantics=semantics)
    seen = report.steps["look"].outputs["seen"]
    assert seen.startswith("steps=b:SUCCEEDED/SUCCEEDED{} c:SUCCEEDED/SUCCEEDED{} ")
    assert " w:SUCCEEDED/SUCCEEDED{};" in seen


@pytest.mark.parametrize("semantics", list(ts.Semantics))
def test_r17_9_ids_written_in_another_case(semantics: ts.Semantics) -> None:
    """§11.8: here ``SVC`` names ``svc``; GitHub's runner does not know it."""
    job = ts.Job(
        [
            ScriptedStep(5, id="svc", background=True),
            ts.Cancel("SVC", id="c"),
            ts.Wait("SVC", id="w"),
            ScriptedStep(1, id="look", observe=True),
        ]
    )
    report = check_against_model(job, semantics=semantics)
    svc = report.steps["svc"]
    if semantics is ts.Semantics.TRIO_STEPS:
        assert (svc.outcome, svc.finished_at, svc.completed_by) == (
            ts.Result.CANCELED,
            0.0,
            "c",
        )
        assert svc.explicitly_canceled
        assert report.steps["look"].outputs["seen"].startswith("steps=c:")
        assert "svc:CANCELED" in report.steps["look"].outputs["seen"]
    else:
        # Not cancelled, not waited for: it runs on and the end flushes it.
        assert (svc.outcome, svc.finished_at, svc.completed_by) == (
            ts.Result.SUCCEEDED,
            5.0,
            None,
        )
        assert not svc.explicitly_canceled
        assert report.steps["w"].finished_at == 0.0
        assert "svc:" not in report.steps["look"].outputs["seen"]
