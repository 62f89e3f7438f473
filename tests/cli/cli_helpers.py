"""Helpers for end-to-end tests of the ``trio-steps`` command (real clock)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

#: Every subprocess test finishes well within this many seconds.
TIMEOUT = 60.0


def cli_command(*args: str) -> list[str]:
    """The command line that runs ``trio-steps`` with ``args``."""
    return [sys.executable, "-m", "trio_steps", *args]


def cli_env(**extra: str) -> dict[str, str]:
    """The environment the CLI runs in: plain output, no colour."""
    env = dict(os.environ)
    env.pop("FORCE_COLOR", None)
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


def processes_with(marker: str) -> list[int]:
    """Pids of live processes whose command line contains ``marker``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            status = (entry / "status").read_text()
        except OSError:
            continue
        if "State:\tZ" in status:
            continue  # a zombie has ended; only its exit status is left
        if marker.encode() in cmdline:
            pids.append(int(entry.name))
    return pids


def wait_for_line(proc: subprocess.Popen[str], needle: str, seen: list[str]) -> None:
    """Read ``proc``'s stdout until a line contains ``needle`` (or fail)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return
    raise AssertionError(f"{needle!r} never appeared; output so far:\n{''.join(seen)}")
