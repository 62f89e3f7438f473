"""Log files that cannot be written never stop the job (issue 12, item 13).

A full disk (``/dev/full``), a folder that turned into a file, too many
steps: the first failure is one log line of the step it happened in, the
log files stop, and every event (so the trace) keeps every line.
"""

from __future__ import annotations

from pathlib import Path

import trio
import trio.testing

import trio_steps as ts


def _lines(report: ts.JobReport, step: str) -> list[str]:
    return [
        str(e.data["line"])
        for e in report.events
        if e.kind == "step-output" and e.step_id == step
    ]


def _chatty(count: int):  # type: ignore[no-untyped-def]
    async def step(ctx: ts.StepContext) -> None:
        for number in range(count):
            ctx.log(f"line {number}")
        await trio.sleep(1)

    return step


async def test_a_full_disk_is_reported_once_and_the_job_goes_on(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    (tmp_path / "a.log").symlink_to("/dev/full")  # every write: ENOSPC
    job = ts.Job(
        [
            ts.Step(_chatty(3), id="a"),
            ts.Step(_chatty(3), id="b", background=True),
            ts.Step(_chatty(2), id="c"),
        ]
    )
    report = await ts.run_job(job, log_dir=tmp_path)
    assert report.result is ts.Result.SUCCEEDED
    failures = [
        (e.step_id, str(e.data["line"]))
        for e in report.events
        if "Cannot write the log file" in str(e.data.get("line", ""))
    ]
    assert failures == [
        (
            "a",
            f"Cannot write the log file {tmp_path / 'a.log'}: No space left on "
            f"device; no more logs are written to {tmp_path}",
        )
    ]
    # The failure line comes before the step's end; every line is an event.
    assert _lines(report, "a")[:3] == ["line 0", "line 1", "line 2"]
    assert _lines(report, "b") == ["line 0", "line 1", "line 2"]
    assert _lines(report, "c") == ["line 0", "line 1"]
    assert not (tmp_path / "b.log").exists()
    assert not (tmp_path / "c.log").exists()


async def test_a_write_error_while_the_step_runs(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """More than a buffer's worth: the write itself fails, mid-step."""
    (tmp_path / "a.log").symlink_to("/dev/full")
    events: list[ts.Event] = []
    report = await ts.run_job(
        ts.Job([ts.Step(_chatty(3000), id="a")]),
        log_dir=tmp_path,
        on_event=events.append,
    )
    assert report.result is ts.Result.SUCCEEDED
    lines = [str(e.data["line"]) for e in events if e.kind == "step-output"]
    failures = [n for n, line in enumerate(lines) if "Cannot write" in line]
    assert len(failures) == 1
    assert 0 < failures[0] < 3000  # while the step ran, not at its end
    assert lines[: failures[0]] == [f"line {n}" for n in range(failures[0])]
    assert lines[failures[0] + 1 :] == [f"line {n}" for n in range(failures[0], 3000)]


async def test_a_log_dir_that_is_a_file(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    (tmp_path / "logs").write_text("not a folder")
    report = await ts.run_job(
        ts.Job([ts.Step(_chatty(2), id="a"), ts.Step(_chatty(1), id="b")]),
        log_dir=tmp_path / "logs",
    )
    assert report.result is ts.Result.SUCCEEDED
    first, failure, second = _lines(report, "a")
    assert (first, second) == ("line 0", "line 1")
    assert failure.startswith(
        f"Cannot write the log file {tmp_path / 'logs' / 'a.log'}"
    )
    assert _lines(report, "b") == ["line 0"]


async def test_a_surrogate_in_a_log_line_is_written_escaped(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    async def odd(ctx: ts.StepContext) -> None:
        ctx.log("half a pair: \ud800")

    report = await ts.run_job(ts.Job([ts.Step(odd, id="a")]), log_dir=tmp_path)
    assert report.result is ts.Result.SUCCEEDED
    assert (tmp_path / "a.log").read_text() == "half a pair: \\ud800\n"
