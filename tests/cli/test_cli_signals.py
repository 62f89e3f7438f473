"""Every terminating signal the command can catch stops the job like
SIGTERM, and a SIGKILL of the command still ends the job's processes
(issue 12, item 16).

Real clock, real processes; every wait is bounded by ``TIMEOUT``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from trio_steps._shell._process import control_directory

from .cli_helpers import TIMEOUT, cli_command, cli_env, processes_with, wait_for_line

Write = Callable[..., Path]
Spawn = Callable[[Sequence[str]], subprocess.Popen[str]]

HEAD = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"


def _sleeper(label: str) -> str:
    return (
        "python3 -c \"import time; print('up', flush=True); time.sleep(300)\" " + label
    )


def _workflow(marker: str, *, daemon: bool = False) -> str:
    # The marker is in the command line of every process the job starts,
    # and in the scripts (as a secret would be).
    escape = (
        # Leaves the step's process group and session at once.
        f"        run: |\n          setsid -f {_sleeper('daemon-' + marker)}"
        " > /dev/null\n"
        f"          {_sleeper('fg-' + marker)}\n"
        if daemon
        else f"        run: {_sleeper('fg-' + marker)}\n"
    )
    return (
        HEAD
        + f"      - id: bg\n        run: {_sleeper('bg-' + marker)}\n"
        + "        background: true\n"
        + "      - id: fg\n"
        + escape
    )


def _leftover_directories(pid: int) -> list[str]:
    bases = {control_directory(), "/dev/shm", os.environ.get("TMPDIR", "/tmp")}
    found = []
    for base in bases:
        try:
            names = os.listdir(base)
        except OSError:
            continue
        found += [
            f"{base}/{name}"
            for name in names
            if name.startswith("trio-steps-") and f"-{pid}-" in name
        ]
    return found


def _eventually_nothing_left(marker: str, pid: int) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if not processes_with(marker) and not _leftover_directories(pid):
            return
        time.sleep(0.05)
    assert processes_with(marker) == []
    assert _leftover_directories(pid) == []


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Start ``trio-steps run``; at teardown kill it and what it left."""
    started: list[subprocess.Popen[str]] = []
    markers: list[str] = []

    def start(args: Sequence[str]) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            cli_command(*args),
            cwd=tmp_path,
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        return proc

    start.markers = markers  # type: ignore[attr-defined]
    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=TIMEOUT)
    for marker in markers:
        for pid in processes_with(marker):
            os.kill(pid, signal.SIGKILL)


_CAUGHT = [
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGALRM,
    signal.SIGRTMIN + 3,
]


@pytest.mark.parametrize("signum", _CAUGHT, ids=lambda s: f"signal-{int(s)}")
def test_a_terminating_signal_stops_every_step_and_removes_their_files(
    workflow: Write, spawn: Spawn, signum: int
) -> None:
    marker = uuid.uuid4().hex
    spawn.markers.append(marker)  # type: ignore[attr-defined]
    proc = spawn(["run", str(workflow(_workflow(marker)))])
    seen: list[str] = []
    wait_for_line(proc, "[fg] up", seen)
    assert processes_with(f"bg-{marker}")
    assert _leftover_directories(proc.pid)  # the running steps' directories
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 130, err
    assert "Stopping every step now" in err
    # Gone when the command has exited, not some time later.
    assert processes_with(marker) == []
    assert _leftover_directories(proc.pid) == []


def test_sigkill_of_the_command_still_ends_the_steps_and_their_files(
    workflow: Write, spawn: Spawn
) -> None:
    """The guardian notices the command's death and cleans up after it:
    the steps' process groups, a daemon that left them (by its tracking id),
    and the step directories, whose scripts may hold secrets."""
    marker = uuid.uuid4().hex
    spawn.markers.append(marker)  # type: ignore[attr-defined]
    proc = spawn(["run", str(workflow(_workflow(marker, daemon=True)))])
    seen: list[str] = []
    wait_for_line(proc, "[fg] up", seen)
    assert processes_with(f"daemon-{marker}")
    proc.kill()
    proc.communicate(timeout=TIMEOUT)
    _eventually_nothing_left(marker, proc.pid)
