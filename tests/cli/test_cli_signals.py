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

from .cli_helpers import TIMEOUT, processes_with, wait_for_line

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


def _eventually_running(label: str) -> list[int]:
    """Pids of the processes carrying ``label``, once there are some.

    A step's line reaching stdout says nothing of another step's process:
    the background step's shell may not have started its sleeper yet.
    """
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        found = processes_with(label)
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no process carrying {label!r} within {TIMEOUT} s")


def _eventually_nothing_left(marker: str, pid: int) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if not processes_with(marker) and not _leftover_directories(pid):
            return
        time.sleep(0.05)
    assert processes_with(marker) == []
    assert _leftover_directories(pid) == []


@pytest.fixture
def marker() -> Iterator[str]:
    """A marker for the job's processes; whatever carries it is killed at teardown."""
    value = uuid.uuid4().hex
    yield value
    for pid in processes_with(value):
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
    workflow: Write, spawn_cli: Spawn, marker: str, signum: int
) -> None:
    proc = spawn_cli(["run", str(workflow(_workflow(marker)))])
    seen: list[str] = []
    wait_for_line(proc, "[fg] up", seen)
    assert _eventually_running(f"bg-{marker}")
    assert _leftover_directories(proc.pid)  # the running steps' directories
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 130, err
    assert "Stopping every step now" in err
    # Gone when the command has exited, not some time later.
    assert processes_with(marker) == []
    assert _leftover_directories(proc.pid) == []


def test_sigkill_of_the_command_still_ends_the_steps_and_their_files(
    workflow: Write, spawn_cli: Spawn, marker: str
) -> None:
    """The guardian notices the command's death and cleans up after it:
    the steps' process groups, a daemon that left them (by its tracking id),
    and the step directories, whose scripts may hold secrets."""
    proc = spawn_cli(["run", str(workflow(_workflow(marker, daemon=True)))])
    seen: list[str] = []
    wait_for_line(proc, "[fg] up", seen)
    assert _eventually_running(f"daemon-{marker}")
    proc.kill()
    proc.communicate(timeout=TIMEOUT)
    _eventually_nothing_left(marker, proc.pid)
