"""Trace files (rules §9): JSON Lines and Chrome trace events, written and read back."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import trio
import trio.testing

import trio_steps as ts
from trio_steps._trace._chrome import chrome_trace
from trio_steps._trace._json import TRACE_FORMAT, TRACE_VERSION, TraceError
from trio_steps._trace._load import load_trace
from trio_steps._trace._write import TraceWriter, write_trace

from .trace_fixtures import C, S, handmade_report, work


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# ------------------------------------------------------------------ round trip


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_round_trip_of_a_handmade_report_is_exact(tmp_path: Path, suffix: str) -> None:
    report = handmade_report()
    path = tmp_path / f"trace{suffix}"
    write_trace(report, path)
    loaded = load_trace(path)
    assert loaded == report
    assert loaded.events == report.events
    assert list(loaded.steps) == list(report.steps)  # declared order kept
    assert loaded.steps["SERVER"].outputs == {"port": "8080"}  # ids ignore case
    assert loaded.steps["lint"].outcome is ts.Result.FAILED


def _engine_job() -> ts.Job:
    return ts.Job(
        [
            ts.Step(work(100, ignore_stop=1.5), id="server", background=True),
            ts.Step(work(2, lines=3), id="build"),
            ts.Parallel(
                [ts.Step(work(1), id="a"), ts.Step(work(3, fail=True), id="b")]
            ),
            ts.Cancel("server"),
            ts.Step(work(1), id="skipped", condition=ts.failure),
        ],
        max_background=2,
        name="engine job",
    )


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
async def test_round_trip_of_an_engine_run(
    tmp_path: Path, suffix: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Rules §9: events can be written as JSON lines and Chrome trace events."""
    report = await ts.run_job(_engine_job())
    path = tmp_path / f"trace{suffix}"
    write_trace(report, path)
    loaded = load_trace(path)
    assert loaded == report
    assert [e.kind for e in loaded.events] == [e.kind for e in report.events]
    # server holds one of two slots, so b waits for a's (R4.2); the cancel
    # step stops server at 6 and it takes 1.5 s to end
    step_b = loaded.steps["b"]
    assert (step_b.queued_at, step_b.started_at, step_b.finished_at) == (2.0, 3.0, 6.0)
    assert loaded.steps["server"].finished_at == 7.5


def test_format_is_recognised_by_content_not_suffix(tmp_path: Path) -> None:
    report = handmade_report()
    write_trace(report, tmp_path / "a.jsonl")
    write_trace(report, tmp_path / "b.json")
    (tmp_path / "a.jsonl").rename(tmp_path / "a.txt")
    (tmp_path / "b.json").rename(tmp_path / "b.trace")
    assert load_trace(tmp_path / "a.txt") == report
    assert load_trace(tmp_path / "b.trace") == report


@pytest.mark.parametrize("name", ["trace.txt", "trace", "trace.json.gz"])
def test_write_trace_rejects_other_suffixes(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=r"\.jsonl .*\.json"):
        write_trace(handmade_report(), tmp_path / name)
    assert not (tmp_path / name).exists()


# ------------------------------------------------------------- JSONL schema


def test_jsonl_schema_header_events_report(tmp_path: Path) -> None:
    report = handmade_report()
    path = tmp_path / "t.jsonl"
    write_trace(report, path)
    lines = _lines(path)
    header, *events, last = lines
    assert header["type"] == "header"
    assert header["format"] == TRACE_FORMAT
    assert header["version"] == TRACE_VERSION == 1
    assert header["job"] == {"name": "demo", "max_background": 1}
    assert len(events) == len(report.events)
    assert events[0] == {
        "type": "event",
        "kind": "job-started",
        "step_id": None,
        "time": 0.0,
        "wall_time": 1e9,
        "data": {"name": "demo", "max_background": 1},
    }
    assert last["type"] == "report"
    assert last["result"] == "SUCCEEDED"
    assert last["env"] == {"A": "1"}
    assert last["path"] == ["/opt/bin"]
    steps = last["steps"]
    assert isinstance(steps, list)
    assert [s["id"] for s in steps] == list(report.steps)
    assert steps[2]["outcome"] == "FAILED"
    assert steps[2]["conclusion"] == "SUCCEEDED"
    assert steps[5]["started_at"] is None


def test_times_survive_exactly(tmp_path: Path) -> None:
    report = handmade_report()
    odd = ts.Event(kind="job-finished", step_id=None, time=0.1 + 0.2, wall_time=1 / 3)
    report = ts.JobReport(result=report.result, steps=report.steps, events=(odd,))
    write_trace(report, tmp_path / "t.jsonl")
    assert load_trace(tmp_path / "t.jsonl").events[0].time == 0.1 + 0.2


# ------------------------------------------------------------- Chrome layout


def test_chrome_trace_layout() -> None:
    report = handmade_report()
    trace = chrome_trace(report)
    events = trace["traceEvents"]
    assert isinstance(events, list)
    spans = {(e["args"]["step_id"], e["cat"]): e for e in events if e["ph"] == "X"}
    # queued and running are separate spans, in microseconds from job start
    assert spans["lint", "queued"]["ts"] == 2_000_000
    assert spans["lint", "queued"]["dur"] == 1_500_000
    assert spans["lint", "running"]["ts"] == 3_500_000
    # a stopped step: running until the stop request, then stopping
    assert spans["server", "running"]["dur"] == 3_000_000
    assert spans["server", "stopping"]["ts"] == 3_000_000
    assert spans["server", "stopping"]["dur"] == 500_000
    # foreground and control steps share the main sequence track
    main = (spans["build", "running"]["pid"], spans["build", "running"]["tid"])
    assert (spans["stop", "running"]["pid"], spans["stop", "running"]["tid"]) == main
    assert (spans["lint", "running"]["pid"], spans["lint", "running"]["tid"]) != main
    assert ("skipme", "running") not in spans
    instants = [e for e in events if e["ph"] == "i"]
    names = {e["name"] for e in instants}
    assert {"signal SIGINT", "flushed by stop", "stop requested: cancel"} <= names
    assert {"job-started", "job-finished"} <= names
    thread_names = {
        e["args"]["name"]
        for e in events
        if e["ph"] == "M" and e["name"] == "thread_name"
    }
    assert thread_names == {"main sequence", "Serve the app", "Lint"}
    counters = [e for e in events if e["ph"] == "C"]
    assert [(c["ts"], c["args"]) for c in counters] == [
        (0.0, {"running": 1, "queued": 0}),
        (2_000_000.0, {"running": 1, "queued": 1}),
        (3_500_000.0, {"running": 1, "queued": 0}),
        (4_500_000.0, {"running": 0, "queued": 0}),
    ]
    assert trace["displayTimeUnit"] == "ms"
    json.dumps(trace, allow_nan=False)  # plain JSON


async def test_chrome_trace_gives_each_parallel_group_a_process(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """R4.9: members of one parallel group share a process (a track group)."""
    report = await ts.run_job(_engine_job())
    events = chrome_trace(report)["traceEvents"]
    assert isinstance(events, list)
    processes = {
        e["pid"]: e["args"]["name"]
        for e in events
        if e["ph"] == "M" and e["name"] == "process_name"
    }
    group = report.steps["a"].group
    assert group is not None
    group_pid = next(
        pid for pid, name in processes.items() if name == f"parallel: {group}"
    )
    pids = {e["args"]["step_id"]: e["pid"] for e in events if e["ph"] == "X"}
    assert pids["a"] == pids["b"] == group_pid
    assert pids["server"] == pids["build"] == 1
    for entry in events:
        if entry["ph"] == "X":
            assert entry["dur"] >= 0


def test_written_chrome_file_is_one_event_per_line(tmp_path: Path) -> None:
    report = handmade_report()
    write_trace(report, tmp_path / "t.json")
    text = (tmp_path / "t.json").read_text()
    value = json.loads(text)
    assert value == json.loads(json.dumps(chrome_trace(report)))
    assert text.count("\n") > len(report.events)


# ------------------------------------------------------------------ errors


def _write_jsonl(tmp_path: Path) -> tuple[Path, list[str]]:
    path = tmp_path / "t.jsonl"
    write_trace(handmade_report(), path)
    return path, path.read_text().splitlines(keepends=True)


def test_truncated_jsonl_mid_line_names_file_and_line(tmp_path: Path) -> None:
    path, lines = _write_jsonl(tmp_path)
    path.write_text("".join(lines[:5]) + lines[5][:20])
    with pytest.raises(TraceError) as info:
        load_trace(path)
    assert info.value.line == 6
    assert str(info.value).startswith(f"{path}:6: ")
    assert "truncated" in str(info.value)


def test_jsonl_without_report_or_job_finished_is_truncated(tmp_path: Path) -> None:
    path, lines = _write_jsonl(tmp_path)
    path.write_text("".join(lines[:8]))
    with pytest.raises(TraceError, match="truncated") as info:
        load_trace(path)
    assert info.value.line == 9
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (lambda d: d.update(format="something-else"), 1, "not a trio-steps trace"),
        (lambda d: d.update(version=2), 1, "unsupported trace version 2"),
    ],
)
def test_foreign_or_newer_header(
    tmp_path: Path, change: object, line: int, message: str
) -> None:
    path, lines = _write_jsonl(tmp_path)
    header = json.loads(lines[0])
    change(header)  # type: ignore[operator]
    path.write_text(json.dumps(header) + "\n" + "".join(lines[1:]))
    with pytest.raises(TraceError, match=message) as info:
        load_trace(path)
    assert info.value.line == line


@pytest.mark.parametrize(
    ("replacement", "message"),
    [
        (
            '{"type":"event","kind":"step-exploded","step_id":null,"time":1,"wall_time":1}',
            "unknown event kind 'step-exploded'",
        ),
        (
            '{"type":"event","kind":"job-started","step_id":null,"time":"soon","wall_time":1}',
            "event 'time' must be a number, not a string",
        ),
        (
            '{"type":"event","kind":"job-started","step_id":7,"time":1,"wall_time":1}',
            "event 'step_id' must be a string, not an integer",
        ),
        ("[1, 2]", "an event line must be an object"),
        ("not json at all", "not JSON"),
    ],
)
def test_bad_event_line_is_reported_with_its_line(
    tmp_path: Path, replacement: str, message: str
) -> None:
    path, lines = _write_jsonl(tmp_path)
    lines[3] = replacement + "\n"
    path.write_text("".join(lines))
    with pytest.raises(TraceError, match=message) as info:
        load_trace(path)
    assert info.value.line == 4
    assert info.value.path == str(path)


def test_bad_report_line(tmp_path: Path) -> None:
    path, lines = _write_jsonl(tmp_path)
    report = json.loads(lines[-1])
    report["steps"][1]["outcome"] = "GREAT"
    lines[-1] = json.dumps(report) + "\n"
    path.write_text("".join(lines))
    with pytest.raises(
        TraceError, match=r"steps\[1\]: step 'outcome' 'GREAT' is not a result"
    ) as info:
        load_trace(path)
    assert info.value.line == len(lines)


def test_lines_after_the_report_are_an_error(tmp_path: Path) -> None:
    path, lines = _write_jsonl(tmp_path)
    path.write_text("".join(lines) + lines[2])
    with pytest.raises(TraceError, match="nothing may follow the report line") as info:
        load_trace(path)
    assert info.value.line == len(lines) + 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b'{"traceEvents": []}', "no 'trio_steps' key"),
        (b'[{"ph": "X"}]', "no 'trio_steps' key"),
        (b"hello\n", "not JSON"),
    ],
)
def test_foreign_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "foreign.json"
    path.write_bytes(content)
    with pytest.raises(TraceError, match=message) as info:
        load_trace(path)
    assert str(info.value).startswith(str(path))


def test_truncated_chrome_trace(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    write_trace(handmade_report(), path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(TraceError, match="truncated") as info:
        load_trace(path)
    assert info.value.line is not None
    assert info.value.line == text[: len(text) // 2].count("\n") + 1


def test_damaged_embedded_report_in_chrome_trace(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    write_trace(handmade_report(), path)
    value = json.loads(path.read_text())
    value["trio_steps"]["events"][2]["kind"] = 5
    path.write_text(json.dumps(value))
    with pytest.raises(
        TraceError, match=r"trio_steps\.events\[2\]: event 'kind' must be a string"
    ):
        load_trace(path)


def test_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_trace(tmp_path / "nope.jsonl")


# ------------------------------------------------------------------ TraceWriter


async def test_trace_writer_streams_and_ends_with_the_report(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "live.jsonl"
    with TraceWriter(path) as writer:
        report = await ts.run_job(_engine_job(), on_event=writer)
        writer.write_report(report)
    assert writer.events_written == len(report.events)
    assert load_trace(path) == report


async def test_trace_writer_writes_each_event_when_it_happens(
    autojump_clock: trio.testing.MockClock,
) -> None:
    buffer = io.StringIO()
    writer = TraceWriter(buffer)
    seen: list[int] = []

    def on_event(event: ts.Event) -> None:
        writer(event)
        seen.append(len(buffer.getvalue().splitlines()))

    report = await ts.run_job(_engine_job(), on_event=on_event)
    # header + one line per event, written as each event was delivered
    assert seen == list(range(2, len(report.events) + 2))
    writer.close()
    assert not buffer.closed  # a file object given is left open


class _CountingFile(io.StringIO):
    flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_trace_writer_flushes_at_job_finished() -> None:
    file = _CountingFile()
    writer = TraceWriter(file)
    report = handmade_report()
    for event in report.events[:-1]:
        writer(event)
    assert file.flushes == 0
    writer(report.events[-1])
    assert file.flushes == 1


async def test_trace_writer_without_report_line_is_rebuilt_from_events(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "live.jsonl"
    with TraceWriter(path) as writer:
        report = await ts.run_job(_engine_job(), on_event=writer)
    loaded = load_trace(path)
    assert loaded.events == report.events
    assert loaded.result is report.result
    assert list(loaded.steps) == list(report.steps)
    for step_id, step in report.steps.items():
        again = loaded.steps[step_id]
        assert (again.queued_at, again.started_at, again.finished_at) == (
            step.queued_at,
            step.started_at,
            step.finished_at,
        ), step_id
        assert (again.outcome, again.conclusion) == (step.outcome, step.conclusion)
        assert again.completed_by == step.completed_by
        assert again.kind == step.kind
        assert again.background == step.background
    assert loaded.steps["server"].conclusion is C
    assert loaded.steps["server"].explicitly_canceled
    assert loaded.steps["build"].log == report.steps["build"].log


def test_trace_writer_on_a_closed_writer() -> None:
    writer = TraceWriter(io.StringIO())
    writer.close()
    writer.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        writer(handmade_report().events[0])


def test_trace_writer_owned_file_is_closed(tmp_path: Path) -> None:
    writer = TraceWriter(tmp_path / "t.jsonl")
    for event in handmade_report().events:
        writer(event)
    writer.close()
    header = _lines(tmp_path / "t.jsonl")[0]
    assert header["job"] == {"name": "demo", "max_background": 1}
    assert load_trace(tmp_path / "t.jsonl").result is S


async def test_trace_writer_is_fine_with_trio_checkpoints(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    # on_event is synchronous: it never needs the event loop
    writer = TraceWriter(tmp_path / "t.jsonl")
    for event in handmade_report().events:
        writer(event)
        await trio.lowlevel.checkpoint()
    writer.close()
    assert len(_lines(tmp_path / "t.jsonl")) == 1 + len(handmade_report().events)
