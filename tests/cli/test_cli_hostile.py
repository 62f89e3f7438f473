"""Bad input and broken outputs from the command line (issue 12, items 7-14).

Bad input: a message naming where it is, exit status 2, never a traceback,
and nothing runs. Broken outputs (a closed pipe, a full disk): the job runs
to its end and its trace is written. Subprocesses on the real clock.
"""

from __future__ import annotations

import errno
import io
import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

import trio_steps as ts
from trio_steps._cli._main import main

from .cli_helpers import TIMEOUT, cli_command, cli_env

Run = Callable[..., subprocess.CompletedProcess[str]]
Write = Callable[..., Path]

HEAD = "on: push\njobs:\n  build:\n    steps:\n"


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Exception ignored" not in result.stderr, result.stderr


# -- items 7 and 9: workflow files ------------------------------------------


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize(
    "text", ["a: " + "[" * 300 + "]" * 300, "{x: " * 3000], ids=["lists", "maps"]
)
def test_deep_yaml_exits_2(
    run_cli: Run, workflow: Write, command: str, text: str
) -> None:
    path = workflow(text)
    result = run_cli(command, str(path))
    _no_traceback(result)
    assert result.returncode == 2
    assert result.stderr.startswith(f"{path}:1:")
    assert "nest deeper than 64 levels" in result.stderr


@pytest.mark.parametrize("command", ["validate", "run"])
def test_endless_input_exits_2(run_cli: Run, command: str) -> None:
    result = run_cli(command, "/dev/zero")
    _no_traceback(result)
    assert result.returncode == 2
    assert result.stderr.startswith("/dev/zero:1:1: the workflow is larger than")


def test_hostile_files_exit_2(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "loop.yml").symlink_to(tmp_path / "loop.yml")
    (tmp_path / "binary.yml").write_bytes(bytes(range(256)))
    (tmp_path / "utf16.yml").write_bytes(
        (HEAD + "      - run: echo\n").encode("utf-16")
    )
    (tmp_path / "huge-int.yml").write_text(
        HEAD.replace("steps:", f"timeout-minutes: {'9' * 5000}\n    steps:")
        + "      - run: echo\n"
    )
    for name in ("loop.yml", "binary.yml", "utf16.yml", "huge-int.yml", "."):
        result = run_cli("validate", name)
        _no_traceback(result)
        assert result.returncode == 2, name
        assert result.stderr.startswith(f"{name}:"), result.stderr


# -- items 8 and 12: traces ----------------------------------------------------


def _good_trace(run_cli: Run, workflow: Write, name: str) -> Path:
    path = workflow(HEAD + "      - {id: hi, run: echo hi}\n")
    result = run_cli("run", str(path), "--trace", name)
    assert result.returncode == 0, result.stderr
    return path.parent / name


@pytest.mark.parametrize("command", ["stats", "timeline"])
@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        pytest.param('"data":{', '"data":{"x":' + "[" * 5000, "nest", id="deep"),
        pytest.param('"time":', '"time":NaN,"was":', "NaN", id="nan"),
        pytest.param('"time":', '"time":Infinity,"was":', "Infinity", id="inf"),
    ],
)
def test_bad_traces_exit_2(
    run_cli: Run, workflow: Write, command: str, old: str, new: str, fragment: str
) -> None:
    trace = _good_trace(run_cli, workflow, "trace.jsonl")
    lines = trace.read_text().split("\n")
    lines[1] = lines[1].replace(old, new, 1)
    trace.write_text("\n".join(lines))
    result = run_cli(command, str(trace))
    _no_traceback(result)
    assert result.returncode == 2
    assert result.stderr.startswith(f"trio-steps: {trace}:2: ")
    assert fragment in result.stderr
    assert result.stdout == ""


# -- items 10 and 11: odd text in names and output ----------------------------


def test_a_lone_surrogate_in_a_step_name(run_cli: Run, workflow: Write) -> None:
    """Item 10: the printer raised UnicodeEncodeError and the run died."""
    # YAML "...\"\\ud800\"..." is fromJSON('"\ud800"'): half a surrogate pair.
    name = r""""half ${{ fromJSON('\"\\ud800\"') }}" """
    path = workflow(
        HEAD + f"      - name: {name}\n        id: odd\n        run: echo ran\n"
    )
    result = run_cli("run", str(path), "--trace", "trace.jsonl")
    _no_traceback(result)
    assert result.returncode == 0
    assert "[odd] started: half \\ud800" in result.stdout
    assert "[odd] ran" in result.stdout
    report = ts.load_trace(path.parent / "trace.jsonl")
    assert report.steps["odd"].name == "half \ud800"


@pytest.mark.parametrize("picture", ["t.svg", "t.html"])
def test_a_lone_surrogate_in_a_step_name_in_a_timeline(
    run_cli: Run, workflow: Write, tmp_path: Path, picture: str
) -> None:
    """Item 10: the run was fine, ``timeline -o`` then died writing the file."""
    name = r""""half ${{ fromJSON('\"\\ud800\"') }}" """
    path = workflow(
        HEAD + f"      - name: {name}\n        id: odd\n        run: echo ran\n"
    )
    assert run_cli("run", str(path), "--trace", "trace.jsonl").returncode == 0
    result = run_cli("timeline", "trace.jsonl", "-o", picture)
    _no_traceback(result)
    assert result.returncode == 0
    assert "half \\ud800" in (tmp_path / picture).read_text(encoding="utf-8")


def test_unicode_line_breaks_in_output_read_back(run_cli: Run, workflow: Write) -> None:
    """Item 11: U+0085/U+2028/U+2029 in a step's output broke the .jsonl trace."""
    path = workflow(
        HEAD + "      - id: odd\n"
        "        run: printf 'a\\302\\205b\\342\\200\\250c\\342\\200\\251d\\n'\n"
    )
    result = run_cli("run", str(path), "--trace", "trace.jsonl")
    assert result.returncode == 0, result.stderr
    assert ts.load_trace(path.parent / "trace.jsonl").steps["odd"].log == (
        "a\x85b\u2028c\u2029d",
    )
    stats = run_cli("stats", "trace.jsonl")
    _no_traceback(stats)
    assert stats.returncode == 0


# -- item 13: where the files go -------------------------------------------------

RUNS = HEAD + "      - {id: a, run: touch ran}\n"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--log-dir", "a-file"], "--log-dir a-file: exists and is not a folder"),
        (["--log-dir", "a-file/logs"], "--log-dir a-file/logs: cannot create it"),
        (["--trace", "nowhere/trace.json"], "there is no folder nowhere"),
        (["--trace", ".json"], "needs a name before its suffix, such as trace.json"),
        (["--trace", "logs.json"], "--trace logs.json: is a folder"),
        (["--trace", "fifo.json"], "--trace fifo.json: cannot write it"),
    ],
)
def test_unwritable_outputs_exit_2_before_anything_runs(
    run_cli: Run, workflow: Write, tmp_path: Path, args: list[str], fragment: str
) -> None:
    (tmp_path / "a-file").write_text("")
    (tmp_path / "logs.json").mkdir()
    os.mkfifo(tmp_path / "fifo.json")  # no reader: writing would block
    path = workflow(RUNS)
    result = run_cli("run", str(path), *args)
    _no_traceback(result)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert not (tmp_path / "ran").exists()
    assert not (tmp_path / "nowhere").exists()


def test_the_trace_check_leaves_no_file(
    run_cli: Run, workflow: Write, tmp_path: Path
) -> None:
    path = workflow(HEAD + "      - {id: a, run: test ! -e trace.json}\n")
    result = run_cli("run", str(path), "--trace", "trace.json")
    assert result.returncode == 0, result.stdout
    assert ts.load_trace(tmp_path / "trace.json").result is ts.Result.SUCCEEDED


def test_a_full_disk_for_the_log_files(
    run_cli: Run, workflow: Write, tmp_path: Path
) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.log").symlink_to("/dev/full")
    path = workflow(
        HEAD + "      - {id: a, run: echo one}\n      - {id: b, run: echo two}\n"
    )
    result = run_cli("run", str(path), "--log-dir", "logs", "--trace", "trace.jsonl")
    _no_traceback(result)
    assert result.returncode == 0
    assert result.stdout.count("Cannot write the log file") == 1
    assert "[b] two" in result.stdout
    report = ts.load_trace(tmp_path / "trace.jsonl")
    assert [s.conclusion for s in report.steps.values()] == [ts.Result.SUCCEEDED] * 2


# -- item 14: a closed standard output -------------------------------------------


def test_a_closed_stdout_loses_neither_the_job_nor_the_trace(
    workflow: Write, tmp_path: Path
) -> None:
    """``trio-steps run … | head -1``: the job goes on to its end."""
    path = workflow(
        HEAD + "      - {id: first, run: echo first}\n"
        "      - id: more\n"
        "        timeout-minutes: 1\n"
        "        run: |\n"
        "          while [ ! -e go ]; do sleep 0.02; done\n"
        "          seq 1 2000\n"
        "      - {id: fails, run: exit 3}\n"
        "      - {id: last, if: always(), run: touch last-ran}\n"
    )
    with (tmp_path / "stderr").open("w") as err:
        proc = subprocess.Popen(
            cli_command("run", str(path), "--trace", "trace.jsonl"),
            cwd=tmp_path,
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # what `head -1` reads, then it exits
        proc.stdout.close()
        (tmp_path / "go").touch()
        assert proc.wait(timeout=TIMEOUT) == 1  # the job's status: it failed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = (tmp_path / "stderr").read_text()
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert (tmp_path / "last-ran").exists()
    report = ts.load_trace(tmp_path / "trace.jsonl")
    assert report.steps["more"].log[-1] == "2000"
    assert [s.conclusion for s in report.steps.values()] == [
        ts.Result.SUCCEEDED,
        ts.Result.SUCCEEDED,
        ts.Result.FAILED,
        ts.Result.SUCCEEDED,
    ]


@pytest.mark.parametrize("closed", [">&-", "2>&-", ">&- 2>&-"])
def test_a_closed_descriptor_loses_neither_the_job_nor_the_trace(
    workflow: Write, tmp_path: Path, closed: str
) -> None:
    """``trio-steps run … >&-``: Python's sys.stdout was None, and the run died."""
    path = workflow(
        HEAD + "      - {id: loud, run: 'seq 1 3000; echo oops >&2'}\n"
        "      - {id: last, run: touch last-ran}\n"
    )
    command = cli_command("run", str(path), "--trace", "trace.jsonl")
    result = subprocess.run(
        ["sh", "-c", f'exec "$@" {closed}', "sh", *command],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    _no_traceback(result)  # when standard error is open
    assert result.returncode == 0
    assert (tmp_path / "last-ran").exists()
    report = ts.load_trace(tmp_path / "trace.jsonl")
    assert {"3000", "oops"} <= set(report.steps["loud"].log)


def test_stats_with_no_stdout(
    run_cli: Run, workflow: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No standard output at all (``sys.stdout is None``): like /dev/null."""
    _good_trace(run_cli, workflow, "trace.jsonl")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdout", None)
    assert main(["stats", "trace.jsonl"]) == 0


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


@pytest.mark.parametrize(
    "argv", [["stats", "trace.jsonl"], ["timeline", "trace.jsonl"]]
)
def test_trace_tools_on_a_closed_pipe(
    run_cli: Run,
    workflow: Write,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: Sequence[str],
) -> None:
    """``trio-steps stats … | head -1``: nothing raises, the status is 0."""
    _good_trace(run_cli, workflow, "trace.jsonl")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    assert main(argv) == 0


def test_stats_into_a_full_disk_exits_2(
    run_cli: Run, workflow: Write, tmp_path: Path
) -> None:
    _good_trace(run_cli, workflow, "trace.jsonl")
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            cli_command("stats", "trace.jsonl"),
            cwd=tmp_path,
            env=cli_env(),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    _no_traceback(result)
    assert result.returncode == 2
    assert result.stderr == (
        "trio-steps: cannot write to the standard output (No space left on "
        "device); the rest of it is dropped\n"
    )
