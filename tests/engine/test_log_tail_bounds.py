"""The kept log tail is bounded in bytes per step and per job (issue 12, item 20).

Every line still reaches ``on_event`` and ``log_dir`` files; the report
keeps at most ``LOG_TAIL`` lines and ``STEP_TAIL_BYTES`` per step and
``JOB_TAIL_BYTES`` per job, dropping the oldest lines first and counting
them in ``StepReport.log_dropped``. Memory is checked by counting what the
report keeps, never by timing.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest
import trio
import trio.testing

import trio_steps as ts
from trio_steps import write_trace
from trio_steps._engine import _recorder
from trio_steps._engine._recorder import (
    ENTRY_COST,
    JOB_TAIL_BYTES,
    LOG_TAIL,
    STEP_TAIL_BYTES,
    JobTails,
    LogEntry,
)
from trio_steps._trace._load import load_trace

PIECE = 65536  # the shell executor's longest line


def _kept_bytes(lines: tuple[str, ...]) -> int:
    return sum(sys.getsizeof(line) + ENTRY_COST for line in lines)


def _entry(seq: int, text: str) -> LogEntry:
    return (0, seq, 0.0, 0.0, text, "log")


def test_limits_are_sane() -> None:
    assert (LOG_TAIL, STEP_TAIL_BYTES, JOB_TAIL_BYTES) == (1000, 1 << 20, 64 << 20)


def test_step_bound_drops_its_oldest_lines() -> None:
    tails = JobTails(step_bytes=3 * (ENTRY_COST + 149), job_bytes=1 << 30)
    tail = tails.new()
    for seq in range(10):
        tails.add(tail, _entry(seq, "x" * 100))  # getsizeof: 149 bytes
    assert [e[1] for e in tail.entries] == [7, 8, 9]
    assert tail.dropped == 7
    assert tail.size == tails.size == 3 * (ENTRY_COST + 149)


def test_line_bound_still_holds() -> None:
    tails = JobTails(lines=5)
    tail = tails.new()
    for seq in range(12):
        tails.add(tail, _entry(seq, ""))
    assert [e[1] for e in tail.entries] == list(range(7, 12))
    assert tail.dropped == 7


def test_a_line_over_the_step_bound_is_not_kept() -> None:
    tails = JobTails(step_bytes=1000)
    tail = tails.new()
    tails.add(tail, _entry(0, "x" * 2000))
    assert tail.lines() == ()
    assert (tail.dropped, tail.size, tails.size) == (1, 0, 0)


def test_job_bound_drops_the_jobs_oldest_lines_first() -> None:
    cost = ENTRY_COST + sys.getsizeof("x" * 100)
    tails = JobTails(step_bytes=1 << 30, job_bytes=16 * cost)
    a, b, c = tails.new(), tails.new(), tails.new()
    seq = 0
    for tail in (a, b, a, c, b, a, c, c, b, a, b, c, a, b, c, a):  # 16 lines
        tails.add(tail, _entry(seq, "x" * 100))
        seq += 1
    a.freeze()  # a finished step: its tuple is cut too
    assert tails.size == 16 * cost
    tails.add(b, _entry(seq, "x" * 100))  # one over: trim to 7/8 (14 lines)
    kept = sorted(e[1] for t in (a, b, c) for e in t.entries)
    assert kept == list(range(3, 17))  # the three oldest of the job went
    assert (a.dropped, b.dropped, c.dropped) == (2, 1, 0)
    assert isinstance(a.entries, tuple)
    assert tails.size == sum(t.size for t in (a, b, c)) == 14 * cost


async def test_newline_free_output_is_kept_in_bytes_not_pieces(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """100 pieces of 64K characters: 6.4 MB printed, at most 1 MiB kept."""

    async def chatty(ctx: ts.StepContext) -> None:
        for i in range(100):
            ctx.log(f"{i:03d}" + "x" * (PIECE - 3))

    seen = 0

    def count(event: ts.Event) -> None:
        nonlocal seen
        seen += event.kind == "step-output"

    report = await ts.run_job(
        ts.Job([ts.Step(chatty, id="c")]), on_event=count, log_dir=tmp_path
    )
    step = report.steps["c"]
    assert seen == 100
    assert _kept_bytes(step.log) <= STEP_TAIL_BYTES
    kept = len(step.log)
    assert kept == STEP_TAIL_BYTES // (sys.getsizeof("x" * PIECE) + ENTRY_COST)
    assert step.log_dropped == 100 - kept
    assert step.log[-1].startswith("099")
    assert step.log[0].startswith(f"{100 - kept:03d}")
    kept_events = [e for e in report.events if e.kind == "step-output"]
    assert len(kept_events) == kept
    # the log file has every line
    assert len((tmp_path / "c.log").read_text().splitlines()) == 100


async def test_many_steps_stay_within_the_job_bound(
    autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job bound, scaled down (4 KiB lines, 64 KiB per step, 256 KiB per job)."""
    monkeypatch.setattr(
        _recorder,
        "JobTails",
        functools.partial(JobTails, step_bytes=64 << 10, job_bytes=256 << 10),
    )

    def printer(n: int) -> object:
        async def step(ctx: ts.StepContext) -> None:
            for i in range(40):
                ctx.log(f"{n}:{i}:" + "y" * 4096)
                await trio.sleep(1)

        return step

    job = ts.Job(
        [ts.Step(printer(n), id=f"s{n}", background=True) for n in range(12)],  # type: ignore[arg-type]
        max_background=4,
    )
    report = await ts.run_job(job)
    total = sum(_kept_bytes(s.log) for s in report.steps.values())
    assert total <= 256 << 10
    for step in report.steps.values():
        if step.kind == "run":
            assert _kept_bytes(step.log) <= 64 << 10
            assert len(step.log) + step.log_dropped == 40
    # the last steps to run keep their newest lines; the first ones lost most
    assert report.steps["s11"].log[-1].startswith("11:39:")
    assert report.steps["s0"].log_dropped == 40


async def test_log_dropped_survives_a_trace_round_trip(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    async def many(ctx: ts.StepContext) -> None:
        for i in range(LOG_TAIL + 5):
            ctx.log(str(i))

    report = await ts.run_job(ts.Job([ts.Step(many, id="m")]))
    assert report.steps["m"].log_dropped == 5
    for name in ("t.jsonl", "t.json"):
        write_trace(report, tmp_path / name)
        again = load_trace(tmp_path / name)
        assert again.steps["m"].log_dropped == 5
        assert again.steps["m"] == report.steps["m"]


async def test_shell_output_without_newlines(tmp_path: Path) -> None:
    """20 MB without a newline: 306 pieces printed, at most 1 MiB kept."""
    seen = 0

    def count(event: ts.Event) -> None:
        nonlocal seen
        seen += event.kind == "step-output" and event.data["stream"] == "stdout"

    script = "head -c 20000000 /dev/zero | tr '\\0' x"
    with trio.fail_after(60):
        report = await ts.run_job(
            ts.Job([ts.Step(script, id="flat")], workspace=str(tmp_path)),
            on_event=count,
        )
    step = report.steps["flat"]
    assert step.outcome is ts.Result.SUCCEEDED
    assert seen == -(-20_000_000 // PIECE)
    assert _kept_bytes(step.log) <= STEP_TAIL_BYTES
    assert step.log_dropped == seen - len(step.log)
    assert _recorder.STEP_TAIL_BYTES == STEP_TAIL_BYTES
