"""``explore``: every outcome of a job of scripted steps (rules §18, R18.1–R18.5)."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings

import trio_steps as ts
from trio_steps.testing import (
    Exploration,
    JobNeverEnds,
    Limit,
    ScriptedStep,
    Write,
    explore,
    jobs,
    outcome_key,
    simulate,
)
from trio_steps.testing._invariants import check_against_model, check_invariants

from .testing_helpers import examples

R = ts.Result


def keys(exploration: Exploration) -> set[object]:
    return {outcome_key(r) for r in exploration.outcomes}


def test_cancel_after_a_foreground_step_has_two_outcomes_for_the_target() -> None:
    """The issue's example: ``a`` ends before the cancel, or is cancelled (R18.1)."""
    job = ts.Job(
        [
            ScriptedStep(1, id="a", background=True),
            ScriptedStep(1, id="b"),
            ts.Cancel(["a"]),
        ]
    )
    found = explore(job)
    assert found.covered
    assert found.results_of("a") == {R.SUCCEEDED, R.CANCELED}
    assert len(found.outcomes) == 2
    assert all(r.steps["a"].explicitly_canceled for r in found.outcomes)
    assert {r.result for r in found.outcomes} == {R.SUCCEEDED}


def test_each_schedule_replays_its_outcome_in_the_model_and_the_engine_r18_3() -> None:
    job = ts.Job(
        [
            ScriptedStep(1, id="a", background=True, ending="fail"),
            ScriptedStep(1, id="b", background=True, timeout=2),
            ScriptedStep(1, id="c"),
            ts.Wait(["a"]),
            ts.Cancel(["b"]),
        ],
        interrupt_grace=0,
        terminate_grace=0,
    )
    found = explore(job)
    assert found.covered
    assert len(found.schedules) == len(found.outcomes) > 2
    for report, schedule in zip(found.outcomes, found.schedules, strict=True):
        assert simulate(schedule) == report
        engine = check_against_model(schedule)
        assert outcome_key(engine) == outcome_key(report)


def test_ties_between_ends_and_timers_are_explored_r18_1() -> None:
    """A step that ends at the instant its timeout fires succeeds (timing.rst)."""
    job = ts.Job(
        [ScriptedStep(1, id="a", timeout=1)], interrupt_grace=0, terminate_grace=0
    )
    found = explore(job)
    assert found.covered
    # Before the timeout, at the same instant (natural activity first), after.
    assert found.results_of("a") == {R.SUCCEEDED, R.FAILED}
    timed_out = [r for r in found.outcomes if r.steps["a"].timed_out]
    assert len(timed_out) == 1 and timed_out[0].steps["a"].finished_at == 1.0


def test_zero_duration_ends_before_a_cancel_decision_of_the_same_instant() -> None:
    """A background step launched just before its cancel can still succeed."""
    job = ts.Job([ScriptedStep(5, id="a", background=True), ts.Cancel(["a"])])
    found = explore(job)
    assert found.results_of("a") == {R.SUCCEEDED, R.CANCELED}
    succeeded = next(
        r for r in found.outcomes if r.steps["a"].conclusion is R.SUCCEEDED
    )
    assert succeeded.steps["a"].finished_at == 0.0


def test_writes_of_a_step_that_ends_on_its_own_all_happen() -> None:
    job = ts.Job(
        [
            ScriptedStep(
                4,
                id="a",
                background=True,
                writes=[Write(at=2, kind="env", name="E", value="1")],
            ),
            ScriptedStep(3, id="b"),
            ts.Cancel(["a"]),
        ]
    )
    found = explore(job)
    assert found.covered
    envs = {tuple(r.env.items()) for r in found.outcomes}
    # Ended on its own: its env is published by the cancel step's flush.
    assert (("E", "1"),) in envs
    for report, schedule in zip(found.outcomes, found.schedules, strict=True):
        assert simulate(schedule) == report


def test_ends_that_only_a_join_sees_commute_r18_5() -> None:
    """Nothing but the final wait sees them: one order stands for all."""
    job = ts.Job([ScriptedStep(1, id=f"s{i}", background=True) for i in range(6)])
    found = explore(job)
    assert found.covered
    assert len(found.outcomes) == 1
    assert (found.runs, found.pruned) == (1, 0)


def test_states_met_before_are_pruned_r18_5() -> None:
    """With a foreground step running, the background ends are choices."""
    job = ts.Job(
        [ScriptedStep(1, id=f"s{i}", background=True) for i in range(4)]
        + [ScriptedStep(1, id="f"), ts.WaitAll()]
    )
    found = explore(job)
    assert found.covered
    assert len(found.outcomes) == 1
    # 5 steps end in 5! orders (and more with ties) without pruning.
    assert found.runs + found.pruned < math.factorial(5)
    assert found.pruned > 0


def test_a_bound_stops_the_search_and_says_so_r18_4() -> None:
    job = ts.Job(
        [ScriptedStep(1, id=f"s{i}", background=True, ending="fail") for i in range(4)]
        + [ts.Wait([f"s{i}"]) for i in range(4)]
    )
    small = explore(job, limit=Limit(schedules=3))
    assert not small.covered
    assert small.runs + small.pruned + small.never_ends == 3
    ticks = iter(range(100))
    timed = explore(job, limit=Limit(seconds=2), clock=lambda: float(next(ticks)))
    assert not timed.covered
    assert explore(job).covered


def test_bad_input() -> None:
    with pytest.raises(ts.JobDefinitionError):
        explore(ts.Job([ts.Step(lambda ctx: None, id="py")]))  # type: ignore[arg-type,return-value]
    with pytest.raises(ts.JobDefinitionError):
        explore("job")  # type: ignore[arg-type]
    with pytest.raises(ts.JobDefinitionError):
        Limit(schedules=0)
    with pytest.raises(ts.JobDefinitionError):
        Limit(seconds=-1)


def test_a_job_that_never_ends_is_counted() -> None:
    job = ts.Job([ScriptedStep(math.inf, id="a")])
    with pytest.raises(JobNeverEnds):
        simulate(job)
    found = explore(job)
    assert found.covered and found.outcomes == () and found.never_ends == 1


def test_the_table_lists_each_outcome() -> None:
    job = ts.Job(
        [
            ScriptedStep(1, id="a", background=True),
            ScriptedStep(1, id="b"),
            ts.Cancel(["a"]),
        ]
    )
    lines = explore(job).table().splitlines()
    assert lines[0].split() == ["#", "a", "b", "__cancel_3", "job"]
    assert lines[1].split()[1:] == [
        "succeeded[x]",
        "succeeded",
        "succeeded",
        "succeeded",
    ]
    assert lines[2].split()[1:] == [
        "canceled[x]",
        "succeeded",
        "succeeded",
        "succeeded",
    ]
    assert lines[3].startswith("2 outcomes;") and "; covered;" in lines[3]


@settings(
    max_examples=examples(ci=150, dev=40),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(jobs(max_steps=5))
def test_the_declared_durations_give_one_of_the_outcomes(job: ts.Job) -> None:
    """Completeness: the model's own run is among the explored outcomes."""
    try:
        declared = simulate(job)
    except JobNeverEnds:
        return
    found = explore(job, limit=Limit(seconds=5))
    for report, schedule in zip(found.outcomes, found.schedules, strict=True):
        check_invariants(schedule, report)
    if found.covered:
        assert outcome_key(declared) in keys(found)


@pytest.mark.slow
@settings(
    max_examples=examples(ci=100, dev=30),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(jobs(max_steps=6))
def test_the_engine_agrees_with_every_schedule(job: ts.Job) -> None:
    try:
        simulate(job)
    except JobNeverEnds:
        return
    found = explore(job, limit=Limit(seconds=5))
    for schedule in found.schedules[:6]:
        check_against_model(schedule)


def test_an_end_can_put_a_later_timer_before_or_after_a_fixed_one_r18_1() -> None:
    """b ends before 5 (c's timeout at b+5 comes first) or after (the job's)."""
    job = ts.Job(
        [
            ScriptedStep(1, id="b"),
            ScriptedStep(1, id="c", timeout=5),
            ScriptedStep(1, id="d", background=True, condition=ts.always),
        ],
        timeout=10,
        interrupt_grace=0,
        terminate_grace=0,
    )
    found = explore(job)
    assert found.covered
    # c still running when the job timeout falls due at 10, started before.
    cancelled = [
        (r, s)
        for r, s in zip(found.outcomes, found.schedules, strict=True)
        if r.steps["c"].conclusion is R.CANCELED
    ]
    assert cancelled
    # Started at 5 or later: the job timeout stops it, alone or in a tie
    # with its own timeout (which the search tries too).
    starts = {simulate(s).steps["c"].started_at for _, s in cancelled}
    assert any(t is not None and 5 <= t < 10 for t in starts)


def test_explored_under_github_runner_the_sticky_cancel_shows_r18_1() -> None:
    """Rules §17: the runner merges a cancelled target into the wait.

    ``cancel: svc`` then ``wait: [svc, f]`` with ``f`` failed: when the
    cancel stops svc, GitHub's runner ends the wait CANCELED (sticky over
    FAILED), the next step runs and the job fails only at the end; this
    project's semantics ignore the cancelled target and fail the wait.
    """
    job = ts.Job(
        [
            ScriptedStep(3, id="svc", background=True),
            ScriptedStep(1, id="f", background=True, ending="fail"),
            ScriptedStep(1, id="b"),
            ts.Cancel(["svc"]),
            ts.Wait(["svc", "f"]),
            ScriptedStep(1, id="after"),
        ]
    )

    def rows(found: Exploration) -> set[tuple[str, ...]]:
        return {
            (
                *(
                    r.steps[i].conclusion.name  # type: ignore[union-attr]
                    for i in ("svc", "__wait_5", "after")
                ),
                r.result.name,
            )
            for r in found.outcomes
        }

    ours = explore(job)
    github = explore(job, semantics=ts.Semantics.GITHUB_RUNNER)
    assert ours.covered and github.covered
    assert rows(ours) == {
        ("SUCCEEDED", "FAILED", "SKIPPED", "FAILED"),
        ("CANCELED", "FAILED", "SKIPPED", "FAILED"),
    }
    assert rows(github) == {
        ("SUCCEEDED", "FAILED", "SKIPPED", "FAILED"),
        ("CANCELED", "CANCELED", "SUCCEEDED", "FAILED"),
    }
    for report, schedule in zip(github.outcomes, github.schedules, strict=True):
        assert simulate(schedule, semantics="github-runner") == report
        engine = check_against_model(schedule, semantics="github-runner")
        assert outcome_key(engine) == outcome_key(report)
    with pytest.raises(ValueError, match="unknown semantics"):
        explore(job, semantics="act")


@settings(
    max_examples=examples(ci=100, dev=30),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(jobs(max_steps=5))
def test_under_github_runner_the_declared_durations_give_one_of_the_outcomes(
    job: ts.Job,
) -> None:
    try:
        declared = simulate(job, semantics="github-runner")
    except JobNeverEnds:
        return
    found = explore(job, semantics="github-runner", limit=Limit(seconds=5))
    for report, schedule in zip(found.outcomes, found.schedules, strict=True):
        check_invariants(schedule, report, semantics="github-runner")
    if found.covered:
        assert outcome_key(declared) in keys(found)
