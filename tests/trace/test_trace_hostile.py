"""Hostile trace files: a TraceError naming the file (and line), never a crash.

Issue 12, items 8, 9, 11 and 12; the limits are in ``docs/source/limits.rst``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

import attrs
import pytest

import trio_steps as ts
from trio_steps import write_trace
from trio_steps._trace import _load
from trio_steps._trace._json import MAX_TRACE_DEPTH, TraceError
from trio_steps._trace._load import load_trace

from .trace_fixtures import handmade_report


@pytest.fixture
def lines(tmp_path: Path) -> list[str]:
    """The lines of a valid JSON Lines trace (header, events, report)."""
    path = tmp_path / "good.jsonl"
    write_trace(handmade_report(), path)
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _with_data(line: str, value: str) -> str:
    """An event line whose data holds ``value`` (raw JSON) under ``"x"``."""
    event = json.loads(line)
    event["data"]["x"] = "@"
    return json.dumps(event).replace('"@"', value)


def _load_error(path: Path) -> TraceError:
    with pytest.raises(TraceError) as info:
        load_trace(path)
    return info.value


@pytest.mark.parametrize("depth", [3000, 100_000])
def test_deep_nesting_in_jsonl_is_a_trace_error(
    tmp_path: Path, lines: list[str], depth: int
) -> None:
    """Item 8: json.loads raised RecursionError."""
    lines[2] = _with_data(lines[2], "[" * depth + "]" * depth)
    error = _load_error(_write(tmp_path / "deep.jsonl", lines))
    assert error.line == 3
    assert "nest" in error.message


def test_deep_nesting_in_a_chrome_trace_is_a_trace_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    write_trace(handmade_report(), path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"traceEvents":[', '"traceEvents":[' + "[" * 5000, 1))
    assert "nest" in _load_error(path).message


def test_data_nests_at_most_the_limit(tmp_path: Path, lines: list[str]) -> None:
    """Loadable but deep data is refused too: nothing recurses on it later."""
    # The data object is the first level.
    fits = MAX_TRACE_DEPTH - 1
    lines[2] = _with_data(lines[2], "[" * fits + "]" * fits)
    report = load_trace(_write(tmp_path / "fits.jsonl", lines))
    assert "x" in report.events[1].data
    lines[2] = lines[2].replace("[", "[[", 1).replace("]", "]]", 1)
    error = _load_error(_write(tmp_path / "deeper.jsonl", lines))
    assert (error.line, error.message) == (
        3,
        f"event 'data' nests deeper than {MAX_TRACE_DEPTH} levels",
    )


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(
    tmp_path: Path, lines: list[str], constant: str
) -> None:
    """Item 12: NaN and infinities made nonsense statistics and SVG."""
    assert '"time":' in lines[3]
    lines[3] = lines[3].replace('"time":', f'"time":{constant},"was":', 1)
    error = _load_error(_write(tmp_path / "nan.jsonl", lines))
    assert error.line == 4
    assert constant in error.message


def test_non_finite_numbers_in_a_chrome_trace_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "nan.json"
    write_trace(handmade_report(), path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"time":', '"time":NaN,"was":', 1))
    assert "NaN" in _load_error(path).message


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param("1e300", "out of range", id="huge-time"),
        pytest.param("9" * 5000, "64 bits", id="5000-digits"),
        pytest.param(str(2**63), "64 bits", id="2**63"),
    ],
)
def test_huge_numbers_are_refused(
    tmp_path: Path, lines: list[str], value: str, fragment: str
) -> None:
    lines[3] = lines[3].replace('"time":', f'"time":{value},"was":', 1)
    error = _load_error(_write(tmp_path / "huge.jsonl", lines))
    assert error.line == 4
    assert fragment in error.message


def test_a_huge_integer_in_the_job_data_is_refused(
    tmp_path: Path, lines: list[str]
) -> None:
    """max_background = 10**400 made statistics() raise OverflowError."""
    header = json.loads(lines[0])
    header["job"]["max_background"] = 10**400
    lines[0] = json.dumps(header)
    assert _load_error(_write(tmp_path / "big.jsonl", lines)).line == 1


def test_endless_input_is_cut_at_the_size_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Item 9: /dev/zero was read without end."""
    monkeypatch.setattr(_load, "MAX_TRACE_BYTES", 4096)
    error = _load_error(Path("/dev/zero"))
    assert error.message.startswith("larger than 4,096 bytes")


def test_a_file_over_the_limit_is_refused(
    tmp_path: Path, lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "trace.jsonl", lines)
    size = path.stat().st_size
    monkeypatch.setattr(_load, "MAX_TRACE_BYTES", size)
    assert load_trace(path).result is ts.Result.SUCCEEDED
    monkeypatch.setattr(_load, "MAX_TRACE_BYTES", size - 1)
    assert "larger than" in _load_error(path).message


@pytest.mark.parametrize("separator", ["\x85", "\u2028", "\u2029"])
def test_unicode_line_breaks_in_output_round_trip(
    tmp_path: Path, separator: str
) -> None:
    """Item 11: str.splitlines() split a JSON string that held U+2028."""
    report = handmade_report()
    step = report.steps["build"]
    line = f"before{separator}after"
    event = ts.Event(
        kind="step-output",
        step_id="build",
        time=1.0,
        wall_time=1e9 + 1,
        data={"line": line, "stream": "stdout"},
    )
    report = attrs.evolve(
        report,
        events=(*report.events[:3], event, *report.events[3:]),
        steps=ts.CaseInsensitiveMapping(
            {**report.steps, "build": attrs.evolve(step, log=(line,))}
        ),
    )
    path = tmp_path / "trace.jsonl"
    write_trace(report, path)
    assert load_trace(path) == report


def test_a_byte_order_mark_is_ignored(tmp_path: Path, lines: list[str]) -> None:
    path = _write(tmp_path / "bom.jsonl", lines)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_trace(path) == handmade_report()


def test_a_fifo_without_a_writer_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    assert "empty file" in _load_error(fifo).message


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_a_lone_surrogate_is_written_escaped_and_read_back(
    tmp_path: Path, suffix: str
) -> None:
    """fromJSON('"\\ud800"') in a step name made the trace write fail."""
    report = handmade_report()
    odd = attrs.evolve(report.steps["build"], name="half \ud800")
    report = attrs.evolve(
        report, steps=ts.CaseInsensitiveMapping({**report.steps, "build": odd})
    )
    path = tmp_path / f"trace{suffix}"
    write_trace(report, path)
    assert load_trace(path) == report


@pytest.mark.parametrize("picture", ["svg", "html"])
def test_a_lone_surrogate_is_drawn_as_its_escape(
    picture: Literal["svg", "html"],
) -> None:
    """Item 10: ``timeline -o t.html`` raised UnicodeEncodeError writing it."""
    report = handmade_report()
    odd = attrs.evolve(report.steps["build"], name="half \ud800")
    report = attrs.evolve(
        report, steps=ts.CaseInsensitiveMapping({**report.steps, "build": odd})
    )
    text = ts.render_timeline(report, format=picture)
    text.encode("utf-8")  # raised for the lone surrogate
    assert "half \\ud800" in text


def test_a_lone_surrogate_through_the_trace_writer(tmp_path: Path) -> None:
    report = handmade_report()
    path = tmp_path / "streamed.jsonl"
    with ts.TraceWriter(path) as writer:
        for event in report.events:
            writer(attrs.evolve(event, data={**event.data, "odd": "\udfff"}))
    assert all(e.data["odd"] == "\udfff" for e in load_trace(path).events)
