"""Fuzzing campaigns: workers, a time budget, progress, Ctrl-C (issue 14).

The subprocess tests use the real clock with bounded timeouts.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import trio_steps as ts
from trio_steps.testing import ScriptedStep, fuzz

COMMAND = [sys.executable, "-m", "trio_steps.testing", "fuzz"]
SUMMARY = re.compile(r"^(\d+) runs in ([\d.]+) s \((\d+) jobs/s\)", re.MULTILINE)


def processes_using(marker: str) -> list[int]:
    """Processes whose command line mentions ``marker`` (a unique path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(entry.name))
    return found


def test_two_workers_with_a_time_budget(tmp_path: Path) -> None:
    database = tmp_path / "db"
    done = subprocess.run(
        [
            *COMMAND,
            "--workers",
            "2",
            "--seconds",
            "2",
            "--every",
            "0.5",
            "--database",
            str(database),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = SUMMARY.search(done.stdout)
    assert found is not None, done.stdout
    assert int(found.group(1)) > 0
    assert ", 2 workers: engine and model agree" in done.stdout
    lines = [line for line in done.stderr.splitlines() if "jobs/s" in line]
    assert lines, done.stderr
    assert re.fullmatch(
        r"\d+ jobs, \d+ jobs/s, 0 failures, \d+ s, 2 workers", lines[-1]
    ), lines[-1]
    # Both workers used the shared database directory.
    assert database.is_dir()
    assert not processes_using(str(database))


def interrupt(args: list[str], marker: str) -> subprocess.CompletedProcess[str]:
    """Start the command, wait for a progress line with jobs run, send SIGINT."""
    process = subprocess.Popen(
        [*COMMAND, *args, "--every", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        seen = ""
        while True:
            line = process.stderr.readline()
            seen += line
            assert "jobs/s" in line, seen
            if not line.startswith("0 jobs"):
                break
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return subprocess.CompletedProcess(
        process.args, process.returncode, out, line + err
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_ends_the_campaign_with_its_summary(
    tmp_path: Path, workers: int
) -> None:
    database = str(tmp_path / "db")
    done = interrupt(
        ["--workers", str(workers), "--seconds", "600", "--database", database],
        database,
    )
    assert done.returncode == 130, done.stdout + done.stderr
    found = SUMMARY.search(done.stdout)
    assert found is not None and int(found.group(1)) > 0, done.stdout
    assert "interrupted: engine and model agree" in done.stdout
    assert "Traceback" not in done.stderr
    # No worker outlives the campaign.
    deadline = time.monotonic() + 10
    while processes_using(database) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes_using(database)


def test_a_failure_saved_in_the_database_is_replayed_first(tmp_path: Path) -> None:
    """Another seed, same database: the saved minimal job is the first one run."""
    seen: list[ts.Job] = []

    def no_cancel(job: ts.Job) -> None:
        seen.append(job)
        assert not any(isinstance(e, ts.Cancel) for e in job.steps), "a cancel step"

    first = fuzz(300, seed_value=5, database=tmp_path, check=no_cancel, progress=None)
    assert first.failed and first.job is not None
    assert first.job.steps == (
        ScriptedStep(0, id="s1", background=True),
        ts.Cancel("s1"),
    )
    seen.clear()
    again = fuzz(300, seed_value=6, database=tmp_path, check=no_cancel, progress=None)
    assert again.failed
    assert seen[0] == first.job


def test_fuzz_needs_a_budget() -> None:
    with pytest.raises(ValueError, match="examples, seconds"):
        fuzz(None)


def test_a_time_budget_stops_generation() -> None:
    result = fuzz(None, seconds=0.5, progress=None)
    assert not result.failed and result.runs > 0
    assert 0.5 <= result.seconds < 30


SEEDED_CRASH = """
from trio_steps._engine import _runner

async def _cancel_step(self, *args):
    raise RuntimeError("seeded engine bug")

_runner.JobRunner._cancel_step = _cancel_step
"""


def test_the_first_failure_ends_a_campaign(tmp_path: Path) -> None:
    """A worker's finding is shrunk and printed; the other worker stops too."""
    (tmp_path / "sitecustomize.py").write_text(SEEDED_CRASH)  # in every worker
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    database = str(tmp_path / "db")
    done = subprocess.run(
        [*COMMAND, "--workers", "2", "--seconds", "300", "--database", database],
        capture_output=True,
        text=True,
        timeout=200,
        check=False,
        env=env,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert ", 2 workers: FAILED (crash)" in done.stdout
    assert "engine crash: RuntimeError: seeded engine bug at " in done.stdout
    code = done.stdout.split("# minimal job:\n", 1)[1]
    namespace: dict[str, object] = {}
    exec(code, namespace)
    job = namespace["job"]
    assert isinstance(job, ts.Job)
    assert [type(e).__name__ for e in job.steps] == ["Step", "Cancel"]
    assert "Traceback" not in done.stderr
    assert not processes_using(database)


def test_an_error_while_drawing_is_reported_without_a_job() -> None:
    result = fuzz(20, max_background=0, progress=None)
    assert result.kind == "error" and result.job is None and result.job_code is None
    assert (
        result.failure == "JobDefinitionError: job: max_background must be >= 1, not 0"
    )
