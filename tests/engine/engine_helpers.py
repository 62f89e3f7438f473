"""Small step factories shared by the engine tests."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping

import trio

import trio_steps as ts

StepFn = Callable[[ts.StepContext], Awaitable[object]]


def work(
    seconds: float = 1.0,
    *,
    fail: bool = False,
    outputs: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    path: tuple[str, ...] = (),
    ignore_stop: float = 0.0,
    lines: int = 0,
    name: str = "work",
) -> StepFn:
    """A step that writes, logs ``lines`` lines, sleeps and succeeds or raises.

    When stopped it keeps running (shielded) for ``ignore_stop`` seconds.
    """

    async def step(ctx: ts.StepContext) -> None:
        for key, value in (outputs or {}).items():
            ctx.set_output(key, value)
        for key, value in (env or {}).items():
            ctx.set_env(key, value)
        for entry in path:
            ctx.add_path(entry)
        for number in range(lines):
            ctx.log(f"line {number}")
        try:
            await trio.sleep(seconds)
        except trio.Cancelled:
            if ignore_stop:
                with trio.CancelScope(shield=True):
                    if math.isinf(ignore_stop):
                        await trio.sleep_forever()
                    await trio.sleep(ignore_stop)
            raise
        if fail:
            raise RuntimeError(f"{name} failed on purpose")

    step.__name__ = name
    return step


def forever(**outputs: str) -> StepFn:
    """A service: sets outputs, then runs until stopped."""

    async def serve(ctx: ts.StepContext) -> None:
        for key, value in outputs.items():
            ctx.set_output(key, value)
        await trio.sleep_forever()

    return serve


def times(
    report: ts.JobReport, id: str
) -> tuple[float | None, float | None, float | None]:
    """``(queued_at, started_at, finished_at)`` of a step."""
    step = report.steps[id]
    return (step.queued_at, step.started_at, step.finished_at)


def results(report: ts.JobReport, id: str) -> tuple[ts.Result | None, ts.Result | None]:
    """``(outcome, conclusion)`` of a step."""
    step = report.steps[id]
    return (step.outcome, step.conclusion)


def kinds(report: ts.JobReport, step_id: str | None = None) -> list[str]:
    """The event kinds of one step (or of the job) in order."""
    return [str(e.kind) for e in report.events if e.step_id == step_id]
