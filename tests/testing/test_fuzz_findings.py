"""Hangs and engine crashes are findings: shrunk, printed, never a hung run (issue 14)."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import strategies as st

import trio_steps as ts
from trio_steps._engine import _runner
from trio_steps.testing import (
    EngineCrash,
    JobHangs,
    ScriptedStep,
    check_against_model,
    check_job,
    run_on_mock_clock,
)
from trio_steps.testing._fuzz import describe, fuzz

from .user_steps import stubborn


def shielded_forever() -> ts.Job:
    return ts.Job(
        [ScriptedStep(1, id="a", background=True, stop_delay=math.inf), ts.Cancel("a")],
        interrupt_grace=0.5,
        terminate_grace=0.5,
    )


def test_a_step_shielded_forever_is_a_hang_on_the_mock_clock() -> None:
    with pytest.raises(JobHangs) as caught:
        check_job(shielded_forever(), mock_deadline=100.0, wall_deadline=60.0)
    assert caught.value.clock == "mock"
    assert caught.value.seconds == 100.0
    assert caught.value.kind == "hang"
    # The job is attached, as Python.
    assert "stop_delay=math.inf" in "".join(caught.value.__notes__)


def test_the_model_saying_never_ends_still_runs_the_engine_with_deadlines() -> None:
    """A job waiting forever on an endless step: the model raises JobNeverEnds,
    the engine run hangs; check_against_model reports the hang (default deadlines)."""
    job = ts.Job([ScriptedStep(math.inf, id="a", background=True), ts.Wait("a")])
    with pytest.raises(JobHangs) as caught:
        check_against_model(job)
    assert caught.value.clock == "mock"


async def blocks_the_thread(ctx: ts.StepContext) -> None:
    time.sleep(0.5)  # no checkpoint: the clock cannot move, only wall time passes


def test_a_step_that_blocks_is_a_hang_on_the_wall_clock() -> None:
    job = ts.Job([ts.Step(blocks_the_thread, id="x")])
    with pytest.raises(JobHangs) as caught:
        run_on_mock_clock(job, wall_deadline=0.05)
    assert caught.value.clock == "wall"
    # With time enough it runs; the abandoned run does not disturb the next.
    assert (
        run_on_mock_clock(job, wall_deadline=30.0).report.result is ts.Result.SUCCEEDED
    )


def crash_on_cancel_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """A seeded engine bug: a cancel step makes the engine raise."""

    async def cancel_step(self: _runner.JobRunner, *args: object) -> None:
        raise RuntimeError("seeded engine bug")

    monkeypatch.setattr(_runner.JobRunner, "_cancel_step", cancel_step)


def test_an_engine_exception_is_a_crash_finding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    crash_on_cancel_steps(monkeypatch)
    job = ts.Job([ScriptedStep(1, id="a", background=True), ts.Cancel("a")])
    with pytest.raises(EngineCrash) as caught:
        check_job(job)
    assert caught.value.kind == "crash"
    assert isinstance(caught.value.error, BaseException)
    # The error itself, not the task group around it, and where it was raised.
    assert str(caught.value).startswith(
        "engine crash: RuntimeError: seeded engine bug at "
    )
    assert "test_fuzz_findings.py:" in str(caught.value)


def test_fuzz_shrinks_an_engine_crash_to_a_minimal_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    crash_on_cancel_steps(monkeypatch)
    result = fuzz(500, seed_value=2, progress=None)
    assert result.kind == "crash" and result.job is not None
    assert [type(e).__name__ for e in result.job.steps] == ["Step", "Cancel"]
    text = describe(result)
    assert "FAILED (crash)" in text and "Traceback" not in text
    assert "ts.Cancel(['s1'])" in text


def test_fuzz_shrinks_a_user_step_that_shields_itself_forever() -> None:
    result = fuzz(
        300,
        seed_value=3,
        extra_steps=st.just(ts.Step(stubborn)),
        progress=None,
    )
    assert result.kind == "hang" and result.job is not None
    assert result.failure is not None and "MockClock" in result.failure
    # Small: the stubborn step, what stops it, and at most one step between.
    assert len(result.job.steps) + len(result.job.post_steps) <= 3
    assert "from tests.testing.user_steps import stubborn" in (result.job_code or "")


def test_a_hang_does_not_keep_the_cpu_busy() -> None:
    """The abandoned run's clock is frozen: it waits instead of jumping forever."""
    with pytest.raises(JobHangs):
        check_job(shielded_forever(), mock_deadline=50.0)
    start = time.process_time()
    time.sleep(0.2)
    assert time.process_time() - start < 0.15


def test_a_failure_that_does_not_happen_again_is_reported_as_flaky() -> None:
    """Hypothesis replays the minimal job; when it passes then, the report says
    so, with the first failure and its job, not Hypothesis' long message."""
    failed: list[ts.Job] = []

    def once(job: ts.Job) -> None:
        if not failed and any(isinstance(e, ts.Cancel) for e in job.steps):
            failed.append(job)
            raise AssertionError("failed once")

    result = fuzz(300, seed_value=4, check=once, progress=None)
    assert result.kind == "flaky"
    assert result.failure == (
        "the job failed, then passed when replayed; the failure: failed once"
    )
    assert result.job is failed[0]
    assert "# minimal job:" in describe(result)
