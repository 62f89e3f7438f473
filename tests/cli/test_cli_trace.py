"""The `trio-steps timeline` and `trio-steps stats` subcommands."""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from trio_steps import write_trace
from trio_steps._cli._trace import register

from ..trace.trace_fixtures import handmade_report


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="trio-steps")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code = args.handler(args)
    assert isinstance(code, int)
    return code


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    path = tmp_path / "trace.jsonl"
    write_trace(handmade_report(), path)
    return path


def test_timeline_writes_svg(trace: Path, tmp_path: Path) -> None:
    out = tmp_path / "timeline.svg"
    assert _run(["timeline", str(trace), "-o", str(out)]) == 0
    root = ET.fromstring(out.read_bytes())
    assert root.attrib["data-result"] == "SUCCEEDED"


def test_timeline_writes_html_from_a_chrome_trace(tmp_path: Path) -> None:
    trace = tmp_path / "trace.json"
    write_trace(handmade_report(), trace)
    out = tmp_path / "timeline.html"
    assert _run(["timeline", str(trace), "-o", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_timeline_to_stdout(trace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["timeline", str(trace)]) == 0
    assert "<svg" in capsys.readouterr().out


def test_timeline_unknown_output_suffix(
    trace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["timeline", str(trace), "-o", str(tmp_path / "t.png")]) == 2
    assert "use .svg or .html" in capsys.readouterr().err
    assert (
        _run(["timeline", str(trace), "-o", str(tmp_path / "t.png"), "--format", "svg"])
        == 0
    )


@pytest.mark.parametrize("command", ["timeline", "stats"])
def test_bad_trace_exits_2_with_the_reason(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"type": "header", "format": "trio-steps-trace", "version": 1}\n{"ty'
    )
    out = tmp_path / "t.svg"
    argv = [command, str(bad)] + (["-o", str(out)] if command == "timeline" else [])
    assert _run(argv) == 2
    captured = capsys.readouterr()
    assert f"{bad}:2: " in captured.err
    assert "truncated" in captured.err
    assert captured.out == ""
    assert not out.exists()


@pytest.mark.parametrize("command", ["timeline", "stats"])
def test_missing_trace_exits_2(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run([command, str(tmp_path / "nope.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_stats_prints_a_summary(
    trace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["stats", str(trace)]) == 0
    out = capsys.readouterr().out
    assert "Makespan: 4.500 s" in out
    assert "Critical path (6 links):" in out


def test_stats_json(trace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["stats", str(trace), "--json"]) == 0
    value = json.loads(capsys.readouterr().out)
    assert value["makespan"] == 4.5
    assert value["peak_concurrency"] == 1
    assert [link["step_id"] for link in value["critical_path"]][-1] == "wait"


def test_register_keeps_imports_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, argparse; import trio_steps._cli._trace as c; "
        "p = argparse.ArgumentParser(); c.register(p.add_subparsers()); "
        "print(sorted(m for m in ('trio_steps._trace._timeline', 'trio_steps._trace._stats') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
