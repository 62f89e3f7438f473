"""I10 when abandoned steps' tasks end at the same instant (issue 14).

Found by the fuzzer (``check_deterministic``): two steps abandoned after
their timeouts (R6.4) whose tasks end at the same instant after every step
finished; Trio runs them in an order it picks at random, and the job's end
event named whichever ended last (``abandoned_last``), so two runs of one
job gave different reports. The engine now names the one latest in the
plan.
"""

from __future__ import annotations

import math

import trio
import trio.testing

import trio_steps as ts
from trio_steps.testing import ScriptedStep, check_deterministic


def tied_abandoned_steps() -> ts.Job:
    return ts.Job(
        [
            ScriptedStep(
                math.inf, stop_delay=0.25, id="s1", background=True, timeout=0.25
            ),
            ScriptedStep(math.inf, stop_delay=0.25, id="s2", timeout=0.25),
        ],
        max_background=1,
        interrupt_grace=0,
        terminate_grace=0,
    )


def run(job: ts.Job) -> ts.JobReport:
    return trio.run(ts.run_job, job, clock=trio.testing.MockClock(autojump_threshold=0))


def test_the_last_abandoned_step_is_the_latest_in_the_plan_i10() -> None:
    for _ in range(30):  # Trio shuffles tasks runnable at one instant
        report = run(tied_abandoned_steps())
        end = report.events[-1]
        assert end.kind == "job-finished"
        assert end.time == 0.5
        assert dict(end.data)["abandoned_last"] == "s2"
        assert report.steps["s1"].abandoned and report.steps["s2"].abandoned
        assert report.steps["s1"].finished_at == report.steps["s2"].finished_at == 0.25


def test_the_same_job_gives_the_same_report_i10() -> None:
    for _ in range(30):
        check_deterministic(tied_abandoned_steps())


def test_a_later_abandoned_task_still_wins_over_plan_order() -> None:
    job = ts.Job(
        [
            ScriptedStep(
                math.inf, stop_delay=0.5, id="s1", background=True, timeout=0.25
            ),
            ScriptedStep(math.inf, stop_delay=0.25, id="s2", timeout=0.25),
        ],
        max_background=1,
        interrupt_grace=0,
        terminate_grace=0,
    )
    for _ in range(10):
        end = run(job).events[-1]
        assert end.time == 0.75
        assert dict(end.data)["abandoned_last"] == "s1"


def test_an_abandoned_task_ending_with_the_last_step_did_not_run_past_it_i10() -> None:
    """s1 is abandoned at 0.75 and its task ends at 2.25, the instant the post
    step s2 finishes (stopped by its timeout at 1.75, 0.5 s to stop): the job
    did not wait for s1, whichever of the two Trio runs first."""
    job = ts.Job(
        [ScriptedStep(0.5, stop_delay=2.0, id="s1", timeout=0.25)],
        post_steps=[ScriptedStep(1.25, stop_delay=0.5, id="s2", timeout=1.0)],
        interrupt_grace=0.5,
        terminate_grace=0,
    )
    for _ in range(30):
        report = run(job)
        assert report.steps["s1"].abandoned
        assert report.steps["s2"].finished_at == 2.25
        end = report.events[-1]
        assert end.time == 2.25
        assert "abandoned_last" not in dict(end.data)
