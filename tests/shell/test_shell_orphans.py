"""Nothing a job starts outlives it, also what left the step's process group
(issue 12, item 17), and nothing of a dead runner stays on disk (item 16).

Real clock, real processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

import trio_steps as ts
from trio_steps._shell._guardian import kill_tracked, remove_owned_directories


def _processes_with(marker: str) -> list[int]:
    """Live (not zombie) processes whose command line holds ``marker``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state not in (b"Z", b"X"):
            found.append(int(name))
    return found


@pytest.fixture
def marker() -> Iterator[str]:
    mark = uuid.uuid4().hex
    yield mark
    for pid in _processes_with(mark):  # a failed test leaves nothing behind
        os.kill(pid, signal.SIGKILL)


def _sleeper(label: str, prefix: str = "") -> str:
    return f'python3 -c "{prefix}import time; time.sleep(300)" {label}'


def test_daemons_that_left_the_process_group_end_with_the_job(
    marker: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    script = "\n".join(
        [
            # A new session, forked off at once: the classic daemon.
            f"setsid -f {_sleeper('setsid-' + marker)} > /dev/null 2>&1",
            # A double fork that also moves to a process group of its own.
            "( ( "
            + _sleeper("pgrp-" + marker, "import os; os.setpgid(0, 0); ")
            + " > /dev/null 2>&1 & ) & )",
            # Wait until both are running, so the test means something.
            "for _ in $(seq 200); do",
            f"  [ $(pgrep -fc '{marker}') -ge 2 ] && break; sleep 0.05",
            "done",
            f"pgrep -fc '{marker}'",
        ]
    )

    async def main() -> ts.JobReport:
        return await ts.run_job(ts.Job([ts.Step(script, id="s")]))

    report = trio.run(main)
    assert report.steps["s"].conclusion is ts.Result.SUCCEEDED, report.steps["s"].log
    assert report.steps["s"].log[-1] == "2"
    # Gone when run() returns (I5), not some time later.
    assert _processes_with(marker) == []


def test_each_job_has_its_own_tracking_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUNNER_TRACKING_ID", "from-outside")
    job = ts.Job([ts.Step('echo "$RUNNER_TRACKING_ID"', id="s")])

    async def main() -> str:
        report = await ts.run_job(job)
        return report.steps["s"].log[-1]

    first, second = trio.run(main), trio.run(main)
    assert first.startswith("trio-steps_")
    assert first != second


def test_kill_tracked_kills_exactly_the_processes_that_carry_the_entry(
    marker: str,
) -> None:
    entry = f"RUNNER_TRACKING_ID=test-{marker}"
    env = dict(os.environ, RUNNER_TRACKING_ID=f"test-{marker}")
    other = dict(os.environ, RUNNER_TRACKING_ID=f"test-{marker}-other")
    command = [sys.executable, "-c", "import time; time.sleep(300)", marker]
    tracked = subprocess.Popen(command, env=env)
    untracked = subprocess.Popen(command, env=other)
    try:
        assert kill_tracked([entry.encode()]) == 1
        assert tracked.wait(timeout=30) == -signal.SIGKILL
        assert untracked.poll() is None
    finally:
        untracked.kill()
        untracked.wait(timeout=30)


def test_directories_of_dead_runners_are_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    names = [
        f"trio-steps-{dead.pid}-0123456789ab",
        f"trio-steps-runner-{dead.pid}-x1y2",
        f"trio-steps-temp-{dead.pid}-x1y2",
        f"trio-steps-{os.getpid()}-0123456789ab",  # alive: ours
        "trio-steps-0123456789ab",  # no pid: not known to be stale
        f"other-{dead.pid}-x",
    ]
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / "script.sh").write_text("echo secret")
    removed = remove_owned_directories([str(tmp_path)])
    assert sorted(Path(p).name for p in removed) == sorted(names[:3])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[3:])
    # A runner's own, when it is gone (what its guardian does).
    removed = remove_owned_directories([str(tmp_path)], owner=os.getpid())
    assert [Path(p).name for p in removed] == [names[3]]


def test_a_killed_guardian_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step may kill the guardian (same user): the next message to it
    finds the pipe broken and starts a new one, told everything again."""
    from trio_steps._shell._process import GUARDIAN

    monkeypatch.chdir(tmp_path)
    job = ts.Job([ts.Step("true", id="s")])
    trio.run(ts.run_job, job)
    first = GUARDIAN.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    os.waitpid(first, 0)
    report = trio.run(ts.run_job, job)
    assert report.result is ts.Result.SUCCEEDED
    assert GUARDIAN.pid not in (None, first)
    os.kill(GUARDIAN.pid, 0)  # alive
