"""Minimal jobs on which the engine and the model disagree (reported to the lead).

Each is ``xfail(strict=True)``: when the engine (or the spec) is fixed, the
test passes, the strict xfail fails, and the marker must go.
"""

from __future__ import annotations

import pytest

import trio_steps as ts
from trio_steps.reference import simulate
from trio_steps.testing import ScriptedStep, check_against_model, check_deterministic


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


def test_model_reading_of_d1() -> None:
    """R4.6 + timing.rst: a cancel whose targets have all ended does not block.

    At t=0.25 s1 ends (natural activity first), the cancel step finds s2
    finished, the main steps and the final wait are over, so the job timeout
    is withdrawn before it is applied: the job SUCCEEDED.
    """
    report = simulate(cancel_of_finished_target_at_job_timeout())
    assert report.result is ts.Result.SUCCEEDED
    assert report.steps["__cancel_3"].finished_at == 0.25


@pytest.mark.xfail(
    strict=True,
    reason="D1: the engine's cancel step waits for its own stop decision even when "
    "every target has ended, so the earlier-registered job timeout applies first",
)
def test_d1_cancel_of_finished_targets_does_not_wait_for_decisions() -> None:
    check_against_model(cancel_of_finished_target_at_job_timeout())


@pytest.mark.xfail(
    strict=True,
    reason="D3: events of one instant follow Trio's (randomised) task order",
)
def test_d3_event_order_is_deterministic_i10() -> None:
    job = ts.Job([ScriptedStep(0, id="s1", background=True), ScriptedStep(0, id="s2")])
    for _ in range(20):  # Trio shuffles runnable tasks: try a few times
        check_deterministic(job)
