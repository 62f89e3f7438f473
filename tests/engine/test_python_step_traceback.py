"""A Python step that raises leaves its traceback in the log (issue 12, item 23).

R2.2: the step is ``FAILED`` with the error in its log. The one-line summary
goes to ``StepReport.error``; the formatted traceback goes, line by line and
masked like every log line, to the step log: the report's tail, the
``step-output`` events delivered to ``on_event`` and the ``log_dir`` file.
"""

from __future__ import annotations

from pathlib import Path

import trio
import trio.testing

import trio_steps as ts

SECRET = "hunter2xyz"


def _inner(value: int) -> None:
    raise ValueError(f"bad value {value} {SECRET}")


async def broken(ctx: ts.StepContext) -> None:
    ctx.log("before")
    await trio.sleep(1)
    _inner(42)


async def test_traceback_goes_to_the_log_events_and_log_file(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    seen: list[ts.Event] = []
    job = ts.Job([ts.Step(broken, id="b")], secrets={"TOK": SECRET})
    report = await ts.run_job(job, on_event=seen.append, log_dir=tmp_path)
    step = report.steps["b"]
    assert step.outcome is ts.Result.FAILED
    assert step.finished_at == 1.0
    assert step.error == "ValueError: bad value 42 ***"
    log = list(step.log)
    assert log[0] == "before"
    assert log[1] == "Traceback (most recent call last):"
    text = "\n".join(log)
    # the user's frames and source lines, innermost last, not the engine's
    assert "in broken" in text
    assert "_inner(42)" in text
    assert "in _inner" in text
    assert 'raise ValueError(f"bad value {value} {SECRET}")' in text
    assert "_engine.py" not in text
    assert "_python_step.py" not in text
    # the exception line, masked, then the summary that ends the log
    assert log[-2] == "ValueError: bad value 42 ***"
    assert log[-1] == "ValueError: bad value 42 ***"
    assert SECRET not in text
    live = [e.data["line"] for e in seen if e.kind == "step-output"]
    assert live == log
    kept = [e.data["line"] for e in report.events if e.kind == "step-output"]
    assert kept == log
    assert (tmp_path / "b.log").read_text().splitlines() == log


async def test_exceptions_of_child_tasks_and_chains(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def child() -> None:
        await trio.sleep(1)
        try:
            {}["missing"]  # type: ignore[index]  # a KeyError on purpose
        except KeyError as exc:
            raise RuntimeError("child failed") from exc

    async def parent(ctx: ts.StepContext) -> None:
        ctx.start_soon(child)
        await trio.sleep(5)

    report = await ts.run_job(ts.Job([ts.Step(parent, id="p")]))
    step = report.steps["p"]
    assert step.error == "RuntimeError: child failed"
    text = "\n".join(step.log)
    assert "KeyError: 'missing'" in text
    assert "The above exception was the direct cause" in text
    assert "in child" in text
    assert text.count("Traceback (most recent call last):") == 2


async def test_no_traceback_for_success_or_cancellation(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def quiet(ctx: ts.StepContext) -> None:
        await trio.sleep_forever()

    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(quiet, id="bg", background=True),
                ts.Step(_ok, id="ok"),
                ts.Cancel("bg"),
            ]
        )
    )
    assert report.steps["bg"].conclusion is ts.Result.CANCELED
    for step in report.steps.values():
        assert not any("Traceback" in line for line in step.log), step.id


async def _ok(ctx: ts.StepContext) -> None:
    ctx.log("fine")
