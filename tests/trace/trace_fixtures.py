"""Hand-made reports and small engine jobs shared by the trace tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import trio_steps as ts
from trio_steps._results import CaseInsensitiveMapping

from ..engine import engine_helpers

S, F, C, K = (
    ts.Result.SUCCEEDED,
    ts.Result.FAILED,
    ts.Result.CANCELED,
    ts.Result.SKIPPED,
)


def event(
    kind: str, step_id: str | None, time: float, /, **data: str | float | bool | None
) -> ts.Event:
    return ts.Event(
        kind=kind, step_id=step_id, time=time, wall_time=1e9 + time, data=data
    )


def finished(
    step_id: str, time: float, result: ts.Result = S, **extra: object
) -> ts.Event:
    return event(
        "step-finished",
        step_id,
        time,
        outcome=result.name,
        conclusion=result.name,
        **extra,  # type: ignore[arg-type]
    )


def handmade_report() -> ts.JobReport:
    """A job on max_background=1 (times in seconds from 0).

    server  bg   launched 0, runs 0–3, stopped by `stop` at 3, ends 3.5
    build   fg   0–2
    lint    bg   launched 2, queued until server frees the slot at 3.5, 3.5–4.5
    test    fg   2–3
    stop    cancel server, 3–3.5
    skipme  skipped at 3.5
    wait    wait lint, 3.5–4.5
    """
    steps = [
        ts.StepReport(
            id="server",
            name="Serve the app",
            kind="run",
            background=True,
            outcome=C,
            conclusion=C,
            queued_at=0.0,
            started_at=0.0,
            finished_at=3.5,
            completed_by="stop",
            explicitly_canceled=True,
            log=("listening",),
            outputs={"port": "8080"},
            error="The step was cancelled",
        ),
        ts.StepReport(
            id="build",
            name="Build",
            kind="run",
            outcome=S,
            conclusion=S,
            started_at=0.0,
            finished_at=2.0,
        ),
        ts.StepReport(
            id="lint",
            name="Lint",
            kind="run",
            background=True,
            outcome=F,
            conclusion=S,
            queued_at=2.0,
            started_at=3.5,
            finished_at=4.5,
            completed_by="wait",
            exit_code=1,
        ),
        ts.StepReport(
            id="test",
            name="Test",
            kind="run",
            outcome=S,
            conclusion=S,
            started_at=2.0,
            finished_at=3.0,
        ),
        ts.StepReport(
            id="stop",
            name="Stop the server",
            kind="cancel",
            outcome=S,
            conclusion=S,
            started_at=3.0,
            finished_at=3.5,
        ),
        ts.StepReport(id="skipme", name="Skipped", kind="run", outcome=K, conclusion=K),
        ts.StepReport(
            id="wait",
            name="Wait for lint",
            kind="wait",
            outcome=S,
            conclusion=S,
            started_at=3.5,
            finished_at=4.5,
        ),
    ]
    events = (
        event("job-started", None, 0.0, name="demo", max_background=1),
        event("step-launched", "server", 0.0),
        event("step-started", "server", 0.0, kind="run"),
        event("step-started", "build", 0.0, kind="run"),
        event("step-output", "server", 0.0, line="listening", stream="log"),
        finished("build", 2.0),
        event("step-launched", "lint", 2.0),
        event("step-started", "test", 2.0, kind="run"),
        finished("test", 3.0),
        event("step-started", "stop", 3.0, kind="cancel"),
        event("cancel-requested", "server", 3.0, reason="cancel"),
        event("signal-sent", "server", 3.0, signal="SIGINT"),
        finished("server", 3.5, C),
        event("step-started", "lint", 3.5, kind="run"),
        event("step-flushed", "server", 3.5, by="stop"),
        finished("stop", 3.5),
        event("step-skipped", "skipme", 3.5, reason="condition"),
        finished("skipme", 3.5, K),
        event("step-started", "wait", 3.5, kind="wait"),
        event(
            "step-finished",
            "lint",
            4.5,
            outcome="FAILED",
            conclusion="SUCCEEDED",
            exit_code=1,
        ),
        event("step-flushed", "lint", 4.5, by="wait"),
        finished("wait", 4.5),
        event("job-finished", None, 4.5, result="SUCCEEDED"),
    )
    return ts.JobReport(
        result=S,
        steps=CaseInsensitiveMapping({s.id: s for s in steps}),
        events=events,
        env={"A": "1"},
        path=("/opt/bin",),
    )


def work(
    seconds: float = 1.0,
    *,
    fail: bool = False,
    ignore_stop: float = 0.0,
    lines: int = 1,
    outputs: Mapping[str, str] | None = None,
) -> Callable[[ts.StepContext], Awaitable[None]]:
    """The engine tests' step (``engine_helpers.work``), logging one line by default."""
    step = engine_helpers.work(
        seconds, fail=fail, ignore_stop=ignore_stop, lines=lines, outputs=outputs
    )
    return step  # type: ignore[return-value]
