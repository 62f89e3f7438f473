"""Regenerate ``timeline-example.svg`` (shown in ``traces.rst``).

Runs a small job on Trio's autojump ``MockClock``, so the picture is the same
on every run::

    python docs/source/_static/make_timeline_example.py
"""

from __future__ import annotations

from pathlib import Path

import trio
import trio.testing

import trio_steps as ts
from trio_steps._trace._timeline import render_timeline


def _sleep(seconds: float, *, fail: bool = False, stop_time: float = 0.0):  # type: ignore[no-untyped-def]
    async def step(ctx: ts.StepContext) -> None:
        ctx.log(f"working for {seconds} s")
        try:
            await trio.sleep(seconds)
        except trio.Cancelled:
            with trio.CancelScope(shield=True):
                await trio.sleep(stop_time)  # a slow shutdown
            raise
        if fail:
            raise RuntimeError("lint found problems")

    return step


JOB = ts.Job(
    [
        ts.Step(
            _sleep(3600, stop_time=1.0), id="db", name="Start database", background=True
        ),
        ts.Step(_sleep(2), id="build", name="Build"),
        ts.Parallel(
            [
                ts.Step(_sleep(3), id="unit", name="Unit tests"),
                ts.Step(_sleep(2), id="integration", name="Integration tests"),
                ts.Step(
                    _sleep(1.5, fail=True),
                    id="lint",
                    name="Lint",
                    continue_on_error=True,
                ),
            ],
            name="Wait for the checks",
        ),
        ts.Cancel("db", id="stop_db", name="Stop database"),
        ts.Step(_sleep(1), id="report", name="Upload report"),
    ],
    max_background=3,
    name="ci",
)


def main() -> None:
    async def run() -> ts.JobReport:
        return await ts.run_job(JOB)

    report = trio.run(run, clock=trio.testing.MockClock(autojump_threshold=0))
    target = Path(__file__).with_name("timeline-example.svg")
    target.write_text(render_timeline(report), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
