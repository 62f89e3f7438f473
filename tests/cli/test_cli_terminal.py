"""On a terminal: colours per step, a live status line, a rich table."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .cli_helpers import TIMEOUT, cli_command

pty = pytest.importorskip("pty")

WORKFLOW = """on: push
jobs:
  build:
    steps:
      - {id: alpha, run: 'sleep 0.3; echo a', background: true}
      - {id: beta, run: 'sleep 0.3; echo b', background: true}
      - {id: main, run: echo main}
"""


def _run_on_a_terminal(tmp_path: Path, *args: str) -> tuple[int, str]:
    path = tmp_path / "w.yml"
    path.write_text(WORKFLOW, encoding="utf-8")
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(
        cli_command("run", str(path), *args),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=tmp_path,
    )
    os.close(slave)
    output = b""
    deadline = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal closed: the command ended
                break
            if not data:
                break
            output += data
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.wait(timeout=TIMEOUT), output.decode(errors="replace")


def test_colour_and_status_line_on_a_terminal(tmp_path: Path) -> None:
    code, output = _run_on_a_terminal(tmp_path)
    assert code == 0
    assert "\x1b[" in output  # colours
    assert "running: " in output  # the live status line
    assert "Job succeeded" in output
    assert "┃" in output or "│" in output  # rich's table


def test_no_color_on_a_terminal_is_plain(tmp_path: Path) -> None:
    code, output = _run_on_a_terminal(tmp_path, "--no-color")
    assert code == 0
    assert "\x1b[" not in output
    assert "[main] main" in output
    assert sys.platform != "win32"
