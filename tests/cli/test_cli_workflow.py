"""``trio-steps run`` on whole workflows (rules §15; real clock, bounded)."""

from __future__ import annotations

import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from .cli_helpers import TIMEOUT, processes_with, wait_for_line

Run = Callable[..., subprocess.CompletedProcess[str]]
Write = Callable[..., Path]
Spawn = Callable[[Sequence[str]], subprocess.Popen[str]]

GRAPH = """\
on: push
jobs:
  build:
    outputs:
      tag: ${{ steps.t.outputs.tag }}
    steps:
      - id: t
        run: echo tag=v1-${{ secrets.TOKEN }} >> "$GITHUB_OUTPUT"
  test:
    needs: build
    strategy:
      matrix:
        py: ["3.11", "3.12"]
        os: [a]
    steps:
      - id: show
        run: echo "py ${{ matrix.py }} tag ${{ needs.build.outputs.tag }}"
  lint:
    steps:
      - run: exit 3
  report:
    needs: [test, lint]
    if: always()
    steps:
      - id: say
        run: echo "lint was ${{ needs.lint.result }}"
  deploy:
    needs: report
    steps:
      - run: echo never
"""


def test_r15_9_every_job_runs_prefixed_and_summarised(
    run_cli: Run, workflow: Write
) -> None:
    result = run_cli(
        "run", str(workflow(GRAPH)), "--secret", "TOKEN=hunter2", "--max-jobs", "1"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "[test (3.11, a)] [show] py 3.11 tag v1-***" in out
    assert "[test (3.12, a)] [show] py 3.12 tag v1-***" in out
    assert "[lint] [Run exit 3] Process completed with exit code 3." in out
    assert "[report] [say] lint was failure" in out
    assert "[deploy] job finished: skipped (if: success() was false)" in out
    assert "hunter2" not in out + result.stderr
    # --max-jobs 1: one job at a time, in the order they became ready.
    started = [
        line.split("]")[0][1:]
        for line in out.splitlines()
        if line.endswith("] job started")
    ]
    assert started == ["build", "lint", "test (3.11, a)", "test (3.12, a)", "report"]
    table = out[out.rindex("Job ") :].splitlines()
    assert table[0].split() == ["Job", "Result", "Duration", "Reason"]
    assert [row.split("  ")[0].strip() for row in table[1:-1]] == [
        "build",
        "test (3.11, a)",
        "test (3.12, a)",
        "lint",
        "report",
        "deploy",
    ]
    assert table[-1] == "Workflow failed"


def test_r15_1_job_option_runs_the_job_and_what_it_needs(
    run_cli: Run, workflow: Write
) -> None:
    result = run_cli("run", str(workflow(GRAPH)), "--job", "TEST")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[build] job started" in result.stdout
    assert "[lint]" not in result.stdout
    assert "[report]" not in result.stdout
    assert result.stdout.rstrip().endswith("Workflow succeeded")


def test_r15_1_graph_errors_exit_2_before_anything_runs(
    run_cli: Run, workflow: Write
) -> None:
    path = workflow(GRAPH.replace("needs: [test, lint]", "needs: [test, deploy]"))
    result = run_cli("run", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{path}:21:3: the needs of the jobs form a cycle: report -> deploy" in (
        result.stderr
    )


def test_one_plain_job_prints_as_before(run_cli: Run, workflow: Write) -> None:
    path = workflow(GRAPH)
    result = run_cli("run", str(path), "--job", "lint")
    assert result.returncode == 1
    assert result.stdout.startswith("[Run exit 3] started\n")
    assert result.stdout.rstrip().endswith("Job failed")


def test_bad_max_jobs_exits_2(run_cli: Run, workflow: Write) -> None:
    result = run_cli("run", str(workflow(GRAPH)), "--max-jobs", "0")
    assert result.returncode == 2
    assert "--max-jobs" in result.stderr


@pytest.fixture
def marker() -> Iterator[str]:
    value = uuid.uuid4().hex
    yield value
    import os

    for pid in processes_with(value):
        os.kill(pid, signal.SIGKILL)


def test_r15_8_ctrl_c_cancels_every_job_then_always_jobs_run(
    spawn_cli: Spawn, workflow: Write, marker: str
) -> None:
    sleeper = (
        f"python3 -c \"import time; print('up', flush=True); time.sleep(300)\" {marker}"
    )
    path = workflow(
        "on: push\njobs:\n"
        "  a:\n    steps:\n"
        f"      - run: {sleeper}\n"
        "      - if: cancelled()\n        run: echo cleanup a\n"
        "  b:\n    steps:\n"
        f"      - run: {sleeper}\n"
        "  c:\n    needs: [a, b]\n    if: always()\n    steps:\n"
        "      - run: echo c sees ${{ needs.a.result }}\n"
        "  d:\n    needs: [a]\n    steps:\n      - run: echo never\n"
    )
    proc = spawn_cli(["run", str(path), "--interrupt-grace", "1"])
    seen: list[str] = []
    wait_for_line(proc, "up", seen)
    wait_for_line(proc, "up", seen)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=TIMEOUT)
    text = "".join(seen) + out
    assert proc.returncode == 130, text + err
    assert "cleanup a" in text
    assert "c sees cancelled" in text
    assert "[d] job finished: cancelled" in text
    assert "Cancelling the workflow" in err
    assert processes_with(marker) == []
    assert text.rstrip().endswith("Workflow cancelled")


def test_r15_8_second_ctrl_c_hard_stops_every_job(
    spawn_cli: Spawn, workflow: Write, marker: str
) -> None:
    sleeper = (
        f"python3 -c \"import time; print('up', flush=True); time.sleep(300)\" {marker}"
    )
    ignoring = (
        'python3 -c "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN);'
        f" print('up', flush=True); time.sleep(300)\" {marker}"
    )
    path = workflow(
        "on: push\njobs:\n"
        "  a:\n    steps:\n"
        f"      - run: {sleeper}\n"
        f"      - if: cancelled()\n        run: {ignoring}\n"
        "  b:\n    steps:\n"
        f"      - run: {sleeper}\n"
        "  c:\n    needs: [a, b]\n    if: always()\n    steps:\n"
        "      - run: echo never\n"
    )
    proc = spawn_cli(["run", str(path), "--interrupt-grace", "60"])
    seen: list[str] = []
    wait_for_line(proc, "up", seen)
    wait_for_line(proc, "up", seen)
    proc.send_signal(signal.SIGINT)
    wait_for_line(proc, "up", seen)  # a's cancelled() step, which ignores SIGINT
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=TIMEOUT)
    text = "".join(seen) + out
    assert proc.returncode == 130, text + err
    assert "Stopping every step now" in err
    assert "echo never" not in text
    assert "[c] job finished" not in text
    assert processes_with(marker) == []
    assert text.rstrip().endswith("Workflow cancelled")


def test_r15_11_terminal_colours_jobs_and_shows_their_background_steps(
    tmp_path: Path,
) -> None:
    import os
    import re
    import select
    import time

    pty = pytest.importorskip("pty")
    from .cli_helpers import cli_command

    path = tmp_path / "w.yml"
    path.write_text(
        "on: push\njobs:\n"
        "  one:\n    steps:\n"
        "      - {id: alpha, run: 'sleep 0.5; echo a', background: true}\n"
        "      - {id: main, run: 'sleep 0.5'}\n"
        "  two:\n    needs: one\n    steps:\n      - {id: last, run: echo done}\n",
        encoding="utf-8",
    )
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(
        cli_command("run", str(path)),
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
    assert proc.wait(timeout=TIMEOUT) == 0
    text = output.decode(errors="replace")
    assert "\x1b[" in text  # colours
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    assert "one: alpha" in plain  # the status line: job, then its background step
    assert "[two] [last] done" in plain
    assert "Workflow succeeded" in plain
