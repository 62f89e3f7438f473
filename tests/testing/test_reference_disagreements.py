"""Jobs on which the engine and the model once disagreed, now settled.

D1 was fixed in the engine (a cancel step with nothing left to stop makes no
decision); D3 was settled by reading I10 per step (``timing.rst``).
"""

from __future__ import annotations

import trio_steps as ts
from trio_steps.testing import (
    ScriptedStep,
    check_against_model,
    check_deterministic,
    simulate,
)


def cancel_of_finished_target_at_job_timeout() -> ts.Job:
    return ts.Job(
        [
            ScriptedStep(0.25, id="s1", timeout=0.25),
            ScriptedStep(0.0, id="s2", background=True),
            ts.Cancel(["s2"]),
        ],
        interrupt_grace=0.0,
        terminate_grace=0.0,
        timeout=0.25,
    )


def test_d1_cancel_step_waits_for_its_decision() -> None:
    """timing.rst: a cancel step's stop request is a decision, even with
    nothing left to stop, so the earlier-registered job timeout due at the
    same instant applies first and the job is CANCELED.
    """
    report = simulate(cancel_of_finished_target_at_job_timeout())
    assert report.result is ts.Result.CANCELED
    assert report.steps["__cancel_3"].finished_at == 0.25


def test_d1_cancel_of_finished_targets_does_not_wait_for_decisions() -> None:
    check_against_model(cancel_of_finished_target_at_job_timeout())


def test_d3_each_steps_events_are_deterministic_i10() -> None:
    """I10 compares the whole sequence of events (R18.8 orders one instant's)."""
    job = ts.Job([ScriptedStep(0, id="s1", background=True), ScriptedStep(0, id="s2")])
    for _ in range(20):  # Trio shuffles runnable tasks: try a few times
        check_deterministic(job)
