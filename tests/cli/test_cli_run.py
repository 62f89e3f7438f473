"""``trio-steps`` end to end, in subprocesses on the real clock.

Exit codes: 0 succeeded, 1 failed, 2 invalid input (nothing ran), 130
cancelled (rules R6.1: Ctrl-C and the job timeout alike).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

import trio_steps

from .cli_helpers import TIMEOUT, cli_command, cli_env, processes_with, wait_for_line

Run = Callable[..., subprocess.CompletedProcess[str]]
Write = Callable[..., Path]
Spawn = Callable[[Sequence[str]], subprocess.Popen[str]]

HEAD = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"


def test_version(run_cli: Run) -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"trio-steps {trio_steps.__version__}"


def test_no_command_is_a_usage_error(run_cli: Run) -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "usage: trio-steps" in result.stderr


def test_success_prefixes_and_summary(run_cli: Run, workflow: Write) -> None:
    path = workflow(
        HEAD
        + "      - id: greet\n        run: echo hello\n"
        + '      - id: server\n        run: echo serving; touch "$RUNNER_TEMP/up"; sleep 30\n'
        + "        background: true\n"
        # Cancelled only once it printed: a SIGINT before its echo would
        # rightly leave no line.
        + "      - name: Second\n"
        + '        run: until [ -e "$RUNNER_TEMP/up" ]; do sleep 0.01; done; echo world\n'
        + "      - cancel: server\n"
    )
    result = run_cli("run", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "[greet] hello" in lines
    assert "[Second] world" in lines
    assert "[server] serving" in lines
    # Plain output when piped: no escape sequences.
    assert "\x1b[" not in result.stdout
    # The summary table: a header and one row per step with kind and conclusion.
    header = next(i for i, line in enumerate(lines) if line.startswith("Step "))
    assert lines[header].split() == ["Step", "Id", "Kind", "Conclusion", "Duration"]
    rows = [line.split() for line in lines[header + 1 : header + 5]]
    assert rows[0][:5] == ["Run", "echo", "hello", "greet", "run"]
    assert rows[1][-4:-1] == ["server", "background", "cancelled"]
    assert rows[2][:3] == ["Second", "run", "success"]
    assert rows[3][:4] == ["Cancel", "server", "cancel", "success"]
    assert lines[-1] == "Job succeeded"


def test_failure_exits_1(run_cli: Run, workflow: Write) -> None:
    path = workflow(
        HEAD + "      - id: bad\n        run: exit 3\n      - run: echo never\n"
    )
    result = run_cli("run", str(path))
    assert result.returncode == 1
    assert "[bad] Process completed with exit code 3." in result.stdout
    assert "never" not in result.stdout.replace("Run echo never", "")
    assert result.stdout.splitlines()[-1] == "Job failed"


def test_failing_background_step_fails_the_job_at_the_end(
    run_cli: Run, workflow: Write
) -> None:
    """R2.4.3: an uncompleted background failure reaches the job at the end."""
    path = workflow(
        HEAD
        + "      - {id: flaky, run: 'sleep 0.2; exit 1', background: true}\n"
        + "      - {id: main, run: echo main}\n"
    )
    result = run_cli("run", str(path))
    assert result.returncode == 1
    assert "[main] main" in result.stdout
    assert "implicit-wait-all" in result.stdout


def test_job_timeout_exits_130(run_cli: Run, workflow: Write) -> None:
    """R6.1: the job timeout cancels the job; the CLI exits 130."""
    path = workflow(
        "on: push\njobs:\n  build:\n    timeout-minutes: 0.01\n    steps:\n"
        "      - {id: slow, run: sleep 30}\n"
        "      - {id: after, if: always(), run: echo cleanup}\n"
    )
    started = time.monotonic()
    result = run_cli(
        "run", str(path), "--interrupt-grace", "1", "--terminate-grace", "1"
    )
    assert result.returncode == 130, result.stdout + result.stderr
    assert time.monotonic() - started < 20
    assert "[after] cleanup" in result.stdout


def test_invalid_workflow_exits_2_and_runs_nothing(
    run_cli: Run, workflow: Write, tmp_path: Path
) -> None:
    path = workflow(
        HEAD + "      - run: touch ran.txt\n      - wait: ghost\n      - bogus: 1\n"
    )
    result = run_cli("run", str(path))
    assert result.returncode == 2
    assert not (tmp_path / "ran.txt").exists()
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}:7:15: 'ghost' is not the id of a background step declared before "
        "this step",
        f"{path}:8:9: unknown key 'bogus' in a step; known keys: background, cancel, "
        "continue-on-error, env, id, if, name, parallel, run, shell, timeout-minutes, "
        "uses, wait, wait-all, with, working-directory",
    ]


@pytest.mark.parametrize(
    ("text", "location", "fragment"),
    [
        ("on: push\njobs:\n  a:\n    steps:\n      - run: [\n", "6:1", "invalid YAML"),
        ("on: push\njobs:\n  a:\n    steps:\n\t- run: x\n", "5:1", "tab character"),
        ("on: push\non: pull\n", "2:1", "duplicate key 'on'"),
        (HEAD + "      - just a string\n", "6:9", "a step must be a mapping"),
        (HEAD + "      - run: x\n        timeout-minutes: soon\n", "7:26", "number"),
    ],
)
def test_bad_input_exits_2_with_a_position(
    run_cli: Run, workflow: Write, text: str, location: str, fragment: str
) -> None:
    path = workflow(text)
    result = run_cli("run", str(path))
    assert result.returncode == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}:{location}: ")
    assert fragment in first


def test_missing_file_exits_2(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("run", str(tmp_path / "nope.yml"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{tmp_path / 'nope.yml'}:1:1: no such file")


def test_unknown_job_lists_the_jobs(run_cli: Run, workflow: Write) -> None:
    path = workflow(
        "on: push\njobs:\n  lint:\n    steps: [{run: 'true'}]\n"
        "  test:\n    steps: [{run: 'true'}]\n"
    )
    result = run_cli("run", str(path), "--job", "deploy")
    assert result.returncode == 2
    assert "no job 'deploy' in this workflow; its jobs are: lint, test" in result.stderr
    # Without --job every job runs (rules §15, R15.2): no longer an error.
    several = run_cli("run", str(path))
    assert several.returncode == 0
    assert "[lint] job started" in several.stdout
    assert "[test] job started" in several.stdout
    chosen = run_cli("run", str(path), "--job", "test")
    assert chosen.returncode == 0


def test_bad_option_values_exit_2(run_cli: Run, workflow: Write) -> None:
    path = workflow(HEAD + "      - run: echo\n")
    for args in (
        ["--env", "NOEQUALS"],
        ["--max-background", "0"],
        ["--interrupt-grace", "-1"],
        ["--trace", "trace.txt"],
    ):
        result = run_cli("run", str(path), *args)
        assert result.returncode == 2, args
        assert "error:" in result.stderr


def test_env_precedence_secrets_and_vars(run_cli: Run, workflow: Write) -> None:
    """Rules §13: the environment (incl. --env) < workflow < job < step env."""
    path = workflow(
        "on: push\nenv: {A: workflow, B: workflow}\njobs:\n  build:\n"
        "    env: {B: job, C: job, T: '${{ secrets.TOKEN }}'}\n    steps:\n"
        "      - id: show\n"
        "        run: echo \"$A $B $C $D $E $T\"; echo 'var=${{ vars.COLOUR }}'\n"
        "        env: {C: step}\n"
    )
    result = run_cli(
        "run",
        str(path),
        "--env",
        "A=cli",
        "--env",
        "D=cli",
        "--secret",
        "TOKEN=hunter2",
        "--var",
        "COLOUR=blue",
        env=cli_env(E="outer", D="outer"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[show] workflow job step cli outer ***" in result.stdout
    assert "[show] var=blue" in result.stdout
    assert "hunter2" not in result.stdout


def test_event_and_github_context(run_cli: Run, workflow: Write) -> None:
    path = workflow(
        HEAD
        + "      - id: ctx\n        run: echo '${{ github.event_name }} ${{ github.workspace }}'\n"
    )
    result = run_cli("run", str(path), "--event", "pull_request")
    assert result.returncode == 0, result.stderr
    assert f"[ctx] pull_request {path.parent.resolve()}" in result.stdout


def test_parallel_and_max_background(run_cli: Run, workflow: Write) -> None:
    path = workflow(
        HEAD
        + "      - parallel:\n"
        + "          - {id: one, run: echo one}\n"
        + "          - {id: two, run: echo two}\n"
        + "          - {id: three, run: echo three}\n"
    )
    result = run_cli("run", str(path), "--max-background", "1")
    assert result.returncode == 0, result.stderr
    for word in ("one", "two", "three"):
        assert f"[{word}] {word}" in result.stdout
    assert "parallel" in result.stdout  # the kind column


def test_trace_and_log_dir(run_cli: Run, workflow: Write, tmp_path: Path) -> None:
    path = workflow(HEAD + "      - {id: hi, run: echo hi}\n")
    result = run_cli("run", str(path), "--trace", "trace.jsonl", "--log-dir", "logs")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "logs" / "hi.log").read_text() == "hi\n"
    events = [
        json.loads(line) for line in (tmp_path / "trace.jsonl").read_text().splitlines()
    ]
    assert events
    assert "job-finished" in json.dumps(events)


def test_skip_unsupported(run_cli: Run, workflow: Write) -> None:
    path = workflow(
        HEAD
        + "      - {id: node, uses: docker://alpine:3}\n"
        + "      - {id: after, run: echo after}\n"
    )
    refused = run_cli("run", str(path))
    assert refused.returncode == 2
    assert "--skip-unsupported" in refused.stderr
    result = run_cli("run", str(path), "--skip-unsupported")
    assert result.returncode == 0, result.stderr
    assert f"{path}:6:26: warning: 'uses: docker://alpine:3' runs a Docker image" in (
        result.stderr
    )
    assert "[node] skipped" in result.stdout
    assert "[after] after" in result.stdout


def test_validate(run_cli: Run, workflow: Write) -> None:
    good = workflow(HEAD + "      - run: echo\n", "good.yml")
    bad = workflow(HEAD + "      - wait: []\n      - cancel: [x]\n", "bad.yml")
    assert run_cli("validate", str(good)).returncode == 0
    result = run_cli("validate", str(good), str(bad))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{bad}:6:15: wait: [] waits for nothing; list at least one step id, or use "
        "'wait-all: true'",
        f"{bad}:7:17: cancel must name one step id, not a list; use one cancel step "
        "per step to cancel",
    ]
    assert result.stdout == ""


def test_console_script_and_module_agree(workflow: Write, tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "trio-steps"
    if not script.exists():
        pytest.skip("the trio-steps script is not installed")
    path = workflow(HEAD + "      - {id: hi, run: echo hi}\n")
    result = subprocess.run(
        [str(script), "run", str(path)],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0
    assert "[hi] hi" in result.stdout


def _sigint_workflow(marker: str, *, trap: bool = False) -> str:
    # The marker is in the command line of every process the job starts.
    ignore = (
        "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN); " if trap else ""
    )
    sleeper = (
        f"python3 -c \"{ignore}import time; print('up', flush=True); time.sleep(300)\""
    )
    return (
        HEAD
        + f"      - id: bg\n        run: {sleeper} bg-{marker}\n        background: true\n"
        + f"      - id: fg\n        run: {sleeper} fg-{marker}\n"
        + "      - id: never\n        run: echo never-ran\n"
        + "      - id: cleanup\n        if: always()\n        run: echo cleaned-up\n"
    )


def _assert_no_process_left(marker: str) -> None:
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(marker) == []


def test_ctrl_c_cancels_the_job(workflow: Write, spawn_cli: Spawn) -> None:
    """R6.1: the first SIGINT cancels; always() steps still run; exit 130."""
    marker = uuid.uuid4().hex
    path = workflow(_sigint_workflow(marker))
    proc = spawn_cli(["run", str(path)])
    seen: list[str] = []
    wait_for_line(proc, "[fg] up", seen)
    assert processes_with(f"fg-{marker}")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=TIMEOUT)
    output = "".join(seen) + out
    assert proc.returncode == 130, output + err
    assert "[cleanup] cleaned-up" in output
    assert "[never] never-ran" not in output
    assert "Cancelling the job" in err
    assert output.splitlines()[-1] == "Job cancelled"
    _assert_no_process_left(marker)


@pytest.mark.slow
def test_second_ctrl_c_stops_at_once(workflow: Write, spawn_cli: Spawn) -> None:
    """R6.2: a second SIGINT hard-stops: no further step, nothing left behind."""
    marker = uuid.uuid4().hex
    path = workflow(_sigint_workflow(marker, trap=True))
    proc = spawn_cli(
        ["run", str(path), "--interrupt-grace", "2", "--terminate-grace", "1"]
    )
    seen: list[str] = []
    wait_for_line(proc, "[fg] up", seen)
    proc.send_signal(signal.SIGINT)
    wait_for_line(proc, "sent SIGINT", seen)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=TIMEOUT)
    output = "".join(seen) + out
    assert proc.returncode == 130, output + err
    assert "Stopping every step now" in err
    # The steps ignore SIGINT: they end on the SIGTERM rung, and the
    # hard stop starts no further step (not even an always() one).
    assert "[cleanup] cleaned-up" not in output
    assert "Job cancelled" in output
    _assert_no_process_left(marker)


def test_sigint_to_the_process_group_like_a_terminal(
    workflow: Write, tmp_path: Path
) -> None:
    """A terminal's Ctrl-C reaches the whole foreground group; steps run in
    their own process groups, so only trio-steps receives it and the steps are
    stopped through the ladder, once."""
    marker = uuid.uuid4().hex
    path = workflow(_sigint_workflow(marker))
    proc = subprocess.Popen(
        cli_command("run", str(path)),
        cwd=tmp_path,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        seen: list[str] = []
        wait_for_line(proc, "[fg] up", seen)
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 130
        assert "[cleanup] cleaned-up" in "".join(seen) + out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    _assert_no_process_left(marker)
