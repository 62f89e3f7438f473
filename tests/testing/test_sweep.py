"""``sweep_cancellation``: cancel the job or one step at every boundary (R18.6)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

import trio_steps as ts
from trio_steps.testing import (
    JobNeverEnds,
    ScriptedStep,
    jobs,
    simulate,
    sweep_cancellation,
)
from trio_steps.testing._sweep import cancel_on_engine

from .testing_helpers import examples

R = ts.Result


def _job() -> ts.Job:
    return ts.Job(
        [
            ScriptedStep(2, id="a", background=True),
            ScriptedStep(1, id="b"),
            ts.Wait(["a"]),
        ],
        post_steps=[ScriptedStep(1, id="p")],
    )


def test_the_cuts_are_at_every_boundary_and_between() -> None:
    sweep = sweep_cancellation(_job())
    # a, b start at 0; b ends at 1; a at 2 (the wait too); p runs 2 to 3.
    assert sweep.instants == (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
    assert [(c.at, c.step) for c in sweep.cuts if c.at == 1.0] == [
        (1.0, None),
        (1.0, "a"),
        (1.0, "b"),
    ]
    assert [(c.at, c.step) for c in sweep.cuts if c.at == 2.5] == [
        (2.5, None),
        (2.5, "p"),
    ]


def test_what_each_cut_does_r6_1_r6_3() -> None:
    sweep = sweep_cancellation(_job())
    cuts = {(c.at, c.step): c.report for c in sweep.cuts}
    # The job cancelled at 0.5: b stops, a stops, the wait is CANCELED,
    # the post step still runs (R6.1, R4.8).
    early = cuts[0.5, None]
    assert early.result is R.CANCELED
    assert [early.steps[i].conclusion for i in ("a", "b", "p")] == [
        R.CANCELED,
        R.CANCELED,
        R.SUCCEEDED,
    ]
    # b stopped alone at 0.5: the main sequence goes on, a succeeds.
    alone = cuts[0.5, "b"]
    assert alone.steps["b"].conclusion is R.CANCELED
    assert alone.steps["a"].conclusion is R.SUCCEEDED
    # a stopped at 1.5: the wait merges its CANCELED.
    waited = cuts[1.5, "a"]
    assert waited.steps["__wait_3"].outcome is R.CANCELED
    # At 1.0 b's code ends first (natural activity before decisions).
    assert cuts[1.0, "b"].steps["b"].conclusion is R.SUCCEEDED
    # The job cancelled as the post step runs: the result is CANCELED, the
    # post step (always()) runs on.
    late = cuts[2.5, None]
    assert late.result is R.CANCELED
    assert late.steps["p"].conclusion is R.SUCCEEDED


def test_the_engine_agrees_between_boundaries() -> None:
    sweep = sweep_cancellation(_job(), engine=True)
    # 7 instants; a is live at 5 of them, b at 3, p at 3.
    assert len(sweep.cuts) == 7 + 5 + 3 + 3
    assert cancel_on_engine(_job(), 0.5).result is R.CANCELED


def test_a_failing_check_names_the_cut() -> None:
    def picky(job: ts.Job, report: ts.JobReport, cancelled: bool) -> None:
        assert not cancelled, "cancelled"

    with pytest.raises(AssertionError, match=r"cancelling the job at t=0: cancelled"):
        sweep_cancellation(_job(), check=picky)


def test_bad_input() -> None:
    with pytest.raises(ts.JobDefinitionError):
        sweep_cancellation("job")  # type: ignore[arg-type]


@settings(
    max_examples=examples(ci=100, dev=30),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(jobs(max_steps=5))
def test_the_invariants_hold_after_every_cut(job: ts.Job) -> None:
    try:
        simulate(job)
    except JobNeverEnds:
        return
    sweep_cancellation(job)


@pytest.mark.slow
@settings(
    max_examples=examples(ci=100, dev=40),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(jobs(max_steps=6))
def test_the_engine_agrees_with_the_model_after_every_cut(job: ts.Job) -> None:
    try:
        simulate(job)
    except JobNeverEnds:
        return
    sweep_cancellation(job, engine=True)


def test_a_sweep_under_github_runner_r18_6() -> None:
    """The same cuts, GitHub's invariants, the engine under the same semantics."""
    sweep = sweep_cancellation(_job(), semantics="github-runner", engine=True)
    assert len(sweep.cuts) == 7 + 5 + 3 + 3
    early = next(c.report for c in sweep.cuts if (c.at, c.step) == (0.5, None))
    assert early.result is R.CANCELED
    assert cancel_on_engine(_job(), 0.5, semantics="github-runner").result is R.CANCELED
