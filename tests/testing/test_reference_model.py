"""Hand-checked cases for ``trio_steps.testing.simulate`` (rules §2–§7)."""

from __future__ import annotations

import math

import pytest

import trio_steps as ts
from trio_steps.testing import (
    JobNeverEnds,
    RaisingCondition,
    ScriptedStep,
    Write,
    simulate,
)

R = ts.Result


def times(
    report: ts.JobReport, id: str
) -> tuple[float | None, float | None, float | None]:
    step = report.steps[id]
    return (step.queued_at, step.started_at, step.finished_at)


def test_foreground_steps_run_one_after_another_r4_1() -> None:
    job = ts.Job([ScriptedStep(1, id="a"), ScriptedStep(2, id="b", ending="fail")])
    report = simulate(job)
    assert times(report, "a") == (None, 0.0, 1.0)
    assert times(report, "b") == (None, 1.0, 3.0)
    assert report.steps["b"].outcome is R.FAILED
    assert report.result is R.FAILED
    assert report.events == ()


def test_slots_are_handed_out_in_launch_order_r4_2() -> None:
    job = ts.Job(
        [
            ScriptedStep(2, id="a", background=True),
            ScriptedStep(1, id="b", background=True),
            ScriptedStep(1, id="c", background=True),
            ts.WaitAll(),
        ],
        max_background=1,
    )
    report = simulate(job)
    assert [times(report, i) for i in "abc"] == [
        (0.0, 0.0, 2.0),
        (0.0, 2.0, 3.0),
        (0.0, 3.0, 4.0),
    ]
    assert {report.steps[i].completed_by for i in "abc"} == {"__wait_all_4"}
    assert "__implicit_wait_all" not in report.steps


def test_background_timeout_counts_from_the_slot_r4_3() -> None:
    job = ts.Job(
        [
            ScriptedStep(1, id="a", background=True),
            ScriptedStep(5, id="b", background=True, timeout=1.5),
        ],
        max_background=1,
        interrupt_grace=0,
        terminate_grace=0,
    )
    report = simulate(job)
    b = report.steps["b"]
    assert (b.started_at, b.finished_at, b.outcome, b.timed_out) == (
        1.0,
        2.5,
        R.FAILED,
        True,
    )
    assert report.steps["__implicit_wait_all"].outcome is R.FAILED
    assert report.result is R.FAILED


def test_wait_outcome_is_the_ordered_merge_r4_4() -> None:
    job = ts.Job(
        [
            ScriptedStep(1, id="a", background=True, ending="fail"),
            ScriptedStep(
                1, id="b", background=True, ending="fail", continue_on_error=True
            ),
            ts.Wait(["b", "a"], continue_on_error=True),
        ]
    )
    report = simulate(job)
    wait = report.steps["__wait_3"]
    assert (wait.outcome, wait.conclusion) == (R.FAILED, R.SUCCEEDED)
    assert report.steps["b"].conclusion is R.SUCCEEDED
    assert report.result is R.SUCCEEDED


def test_cancelled_failure_reaches_the_job_at_the_end_r2_4_3() -> None:
    """A cancel target that already FAILED is merged at R4.7, not by the cancel."""
    job = ts.Job(
        [
            ScriptedStep(0, id="a", background=True, ending="raise"),
            ts.Cancel("a"),
            ScriptedStep(1, id="b"),  # success(): the job has not failed yet
        ]
    )
    report = simulate(job)
    assert report.steps["a"].explicitly_canceled
    assert report.steps["a"].completed_by == "__cancel_2"
    assert report.steps["__cancel_2"].outcome is R.SUCCEEDED
    assert report.steps["b"].outcome is R.SUCCEEDED
    assert report.result is R.FAILED


def test_explicitly_cancelled_step_does_not_cancel_the_job_i8() -> None:
    job = ts.Job(
        [ScriptedStep(math.inf, id="server", background=True), ts.Cancel("server")]
    )
    report = simulate(job)
    assert report.steps["server"].outcome is R.CANCELED
    assert times(report, "server") == (0.0, 0.0, 0.0)
    assert report.result is R.SUCCEEDED


def test_abandoned_after_the_graces_r6_4() -> None:
    job = ts.Job(
        [
            ScriptedStep(math.inf, id="a", background=True, stop_delay=100),
            ScriptedStep(1, id="b", background=True),
            ts.Cancel("a"),
            ScriptedStep(0, id="c"),
        ],
        max_background=1,
        interrupt_grace=1,
        terminate_grace=0.5,
    )
    report = simulate(job)
    a = report.steps["a"]
    assert (a.finished_at, a.abandoned, a.outcome) == (1.5, True, R.CANCELED)
    assert times(report, "b") == (0.0, 1.5, 2.5)  # the slot is free at the give-up
    assert times(report, "c") == (None, 1.5, 1.5)


def test_ending_at_the_give_up_instant_is_not_abandoned_r6_4() -> None:
    job = ts.Job(
        [ScriptedStep(5, id="a", timeout=1, stop_delay=1)],
        interrupt_grace=0.5,
        terminate_grace=0.5,
    )
    a = simulate(job).steps["a"]
    assert (a.finished_at, a.abandoned, a.timed_out, a.outcome) == (
        2.0,
        False,
        True,
        R.FAILED,
    )


def test_ending_at_the_timeout_instant_is_not_timed_out() -> None:
    """timing.rst: natural activity first, then decisions."""
    a = simulate(ts.Job([ScriptedStep(1, id="a", timeout=1)])).steps["a"]
    assert (a.outcome, a.timed_out) == (R.SUCCEEDED, False)


def test_job_timeout_re_evaluates_the_running_step_r6_1() -> None:
    job = ts.Job(
        [
            ScriptedStep(5, id="a", background=True),
            ScriptedStep(5, id="b"),
            ScriptedStep(5, id="c", condition=ts.always),
            ScriptedStep(1, id="d"),
            ScriptedStep(1, id="e", background=True, condition=ts.cancelled),
        ],
        timeout=2,
        interrupt_grace=0,
        terminate_grace=0,
    )
    report = simulate(job)
    assert (report.steps["a"].outcome, report.steps["a"].finished_at) == (
        R.CANCELED,
        2.0,
    )
    assert (report.steps["b"].outcome, report.steps["b"].finished_at) == (
        R.CANCELED,
        2.0,
    )
    assert times(report, "c") == (None, 2.0, 7.0)
    assert report.steps["c"].outcome is R.SUCCEEDED
    assert report.steps["d"].outcome is R.SKIPPED
    assert times(report, "e") == (7.0, 7.0, 8.0)  # launched after R6.1: runs (§11.9)
    assert report.result is R.CANCELED


def test_condition_that_raises_fails_at_once_r3_4() -> None:
    job = ts.Job(
        [
            ScriptedStep(
                1,
                id="a",
                background=True,
                condition=RaisingCondition(),
                continue_on_error=True,
            ),
            ScriptedStep(1, id="b", condition=ts.failure, observe=True),
        ]
    )
    report = simulate(job)
    a = report.steps["a"]
    assert (a.outcome, a.conclusion, a.queued_at, a.completed_by) == (
        R.FAILED,
        R.FAILED,
        None,
        None,
    )
    assert report.steps["b"].outputs["seen"].startswith("steps=a:FAILED/FAILED{}")
    assert "__implicit_wait_all" in report.steps


def test_deferred_state_is_flushed_by_the_wait_r5() -> None:
    write = [
        Write(at=0, kind="output", name="o", value="x"),
        Write(at=0.5, kind="env", name="E", value="a"),
        Write(at=1, kind="path", name="/a"),
    ]
    job = ts.Job(
        [
            ScriptedStep(1, id="a", background=True, writes=write),
            ScriptedStep(2, id="b", observe=True),
            ts.Wait("a"),
            ScriptedStep(
                0, id="c", observe=True, writes=[Write(at=0, kind="path", name="/c")]
            ),
        ],
        env={"J": "1"},
    )
    report = simulate(job)
    assert report.steps["b"].outputs["seen"] == "steps=;env=J=1;path="
    assert report.steps["c"].outputs["seen"] == (
        "steps=a:SUCCEEDED/SUCCEEDED{o=x} b:SUCCEEDED/SUCCEEDED{seen=*};env=E=a,J=1;path=/a"
    )
    assert dict(report.env) == {"J": "1", "E": "a"}
    assert report.path == ("/c", "/a")


def test_cancelled_step_keeps_what_it_wrote_r5_3() -> None:
    job = ts.Job(
        [
            ScriptedStep(
                10,
                id="a",
                background=True,
                writes=[
                    Write(at=1, kind="output", name="early", value="1"),
                    Write(at=3, kind="output", name="late", value="2"),
                ],
            ),
            ScriptedStep(1, id="b"),
            ts.Cancel("a"),
        ]
    )
    assert dict(simulate(job).steps["a"].outputs) == {"early": "1"}


def test_non_scripted_steps_are_rejected_naming_the_step() -> None:
    async def real(ctx: ts.StepContext) -> None:
        pass

    job = ts.Job(
        [ScriptedStep(1, id="ok"), ts.Step(real, id="real"), ts.Step("true", id="sh")]
    )
    with pytest.raises(ts.JobDefinitionError) as info:
        simulate(job)
    assert len(info.value.problems) == 2
    assert "'real'" in info.value.problems[0] and "'sh'" in info.value.problems[1]


def test_a_job_that_never_ends_is_reported() -> None:
    job = ts.Job([ScriptedStep(math.inf, id="forever")])
    with pytest.raises(JobNeverEnds, match="forever"):
        simulate(job)
