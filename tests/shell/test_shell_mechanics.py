"""How the shell executor does its work cheaply, without changing what it does.

The per-step directory and its files, the environment taken from
``os.environ`` as bytes, and the choice of where the process is spawned (in
the event loop's thread when no other shell process runs, else in a worker
thread). Real processes, real clock.
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path
from typing import Any

import pytest
import trio

from trio_steps._context import StepFailed
from trio_steps._shell import _process
from trio_steps._shell._process import _RUNNING
from trio_steps._shell._workspace import _EmptyFiles

from .shell_helpers import ShellRunner


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


@pytest.fixture
def control(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private control directory (``$TMPDIR``), to list before and after."""
    directory = tmp_path / "control"
    directory.mkdir()
    monkeypatch.setenv("TMPDIR", str(directory))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() caches it
    return directory


# --- the per-step directory -------------------------------------------------


async def test_step_directory_is_removed_whatever_the_script_did_spec_12(
    shell: ShellRunner, control: Path
) -> None:
    # The first run makes the shared RUNNER_TEMP there too; it stays.
    first = await shell('echo "$GITHUB_OUTPUT"')
    assert first.sink.stream("stdout")[0].startswith(f"{control}/trio-steps-")
    before = sorted(os.listdir(control))
    assert [name for name in before if not name.startswith("trio-steps-temp-")] == []
    scripts = [
        "true",  # writes nothing
        'echo "a=1" >> "$GITHUB_OUTPUT"; echo "# hi" >> "$GITHUB_STEP_SUMMARY"',
        'rm "$GITHUB_OUTPUT" "$GITHUB_ENV" "$GITHUB_PATH" "$GITHUB_STATE"',
        'rm "$GITHUB_OUTPUT"; echo "b=2" >> "$GITHUB_OUTPUT"',  # recreated
        'touch "$(dirname "$GITHUB_OUTPUT")/extra"',  # rmdir fails: rmtree
        "exit 3",
    ]
    for script in scripts:
        await shell(script)
    await shell("sleep 10", cancel_after=0.2)
    assert sorted(os.listdir(control)) == before


async def test_command_files_exist_empty_and_private_spec_12(
    shell: ShellRunner, control: Path
) -> None:
    # Created empty before the script runs, as GitHub's runner does: tools
    # such as @actions/core refuse to append to a missing file.
    result = await shell(
        'for f in "$GITHUB_OUTPUT" "$GITHUB_ENV" "$GITHUB_PATH" "$GITHUB_STATE" '
        '"$GITHUB_STEP_SUMMARY"; do\n'
        '  test -f "$f" && test ! -s "$f" && test -w "$f" && echo ok\n'
        "done\n"
        'dir=$(dirname "$GITHUB_OUTPUT")\n'
        'stat -c %a "$dir"\n'
        'test "$(dirname "$GITHUB_ENV")" = "$dir" && echo same\n'
        'case "$dir" in "$TMPDIR"/trio-steps-*) echo under-tmpdir;; esac'
    )
    assert result.error is None
    assert result.sink.stream("stdout") == ["ok"] * 5 + ["700", "same", "under-tmpdir"]


async def test_script_that_never_writes_a_file_command_succeeds_spec_12(
    shell: ShellRunner,
) -> None:
    result = await shell("echo quiet")
    assert result.error is None
    assert result.run.outputs == {}
    assert result.run.env_changes == {}
    assert result.run.path_added == []
    assert result.run.state == {}
    assert result.run.summary is None


async def test_output_appended_with_redirection_is_read_spec_12(
    shell: ShellRunner,
) -> None:
    result = await shell(
        'echo "first=1" >> "$GITHUB_OUTPUT"\n'
        'printf "second<<EOF\\ntwo\\nEOF\\n" >> "$GITHUB_OUTPUT"\n'
        'echo "S=1" >> "$GITHUB_STATE"'
    )
    assert result.error is None
    assert result.run.outputs == {"first": "1", "second": "two"}
    assert result.run.state == {"S": "1"}


async def test_files_are_created_where_mknod_is_refused_spec_12(
    shell: ShellRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: str, mode: int = 0, device: int = 0) -> None:
        raise PermissionError(1, "Operation not permitted", path)

    monkeypatch.setattr(os, "mknod", refuse)
    monkeypatch.setattr(_EmptyFiles, "mknod", True)
    result = await shell(
        'test -f "$GITHUB_OUTPUT" && test -f "$GITHUB_STEP_SUMMARY" && echo ok\n'
        'echo "x=1" >> "$GITHUB_OUTPUT"'
    )
    assert result.error is None
    assert result.sink.stream("stdout") == ["ok"]
    assert result.run.outputs == {"x": "1"}
    assert _EmptyFiles.mknod is False  # not tried again


# --- environment ------------------------------------------------------------


async def test_changes_to_os_environ_reach_the_next_step_spec_12(
    shell: ShellRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T_CHANGING", "one")
    first = await shell('echo "$T_CHANGING"')
    monkeypatch.setenv("T_CHANGING", "two")
    second = await shell('echo "$T_CHANGING"')
    monkeypatch.delenv("T_CHANGING")
    third = await shell('echo "${T_CHANGING-unset}"')
    outputs = [r.sink.stream("stdout") for r in (first, second, third)]
    assert outputs == [["one"], ["two"], ["unset"]]


async def test_environment_bytes_pass_through_unchanged_spec_12(
    shell: ShellRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(os.environb, b"T_RAW", b"caf\xe9")  # not UTF-8
    out = tmp_path / "out"
    result = await shell(
        f'printf %s "$T_RAW" > {out}.raw; printf %s "$T_JOB" > {out}.job',
        env={"T_JOB": "naïve ✓", "T_RAW_OVERRIDE": "x"},
    )
    assert result.error is None
    assert read_bytes(f"{out}.raw") == b"caf\xe9"
    assert read_bytes(f"{out}.job") == "naïve ✓".encode()


async def test_unsecure_commands_allowed_from_os_environ_spec_12(
    shell: ShellRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACTIONS_ALLOW_UNSECURE_COMMANDS", " TRUE ")
    result = await shell('echo "::set-env name=E::v"')
    assert result.error is None
    assert result.run.env_changes == {"E": "v"}


# --- where the process is spawned -------------------------------------------


async def test_concurrent_steps_spawn_in_the_loop_thread_and_count_down_spec_12(
    shell: ShellRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spawns happen in the event loop's thread, never in a worker thread,
    and the count of running processes goes back to zero."""
    threaded: list[object] = []
    real_run_sync = trio.to_thread.run_sync

    async def counting_run_sync(fn: Any, *args: Any, **kwargs: Any) -> Any:
        threaded.append(fn)
        return await real_run_sync(fn, *args, **kwargs)

    monkeypatch.setattr(trio.to_thread, "run_sync", counting_run_sync)
    results = []

    async def one(i: int) -> None:
        script = f"echo {i}; sleep 0.1" if i % 3 else f"echo {i}; exit {i}"
        results.append((i, await shell(script)))

    async with trio.open_nursery() as nursery:
        for i in range(8):
            nursery.start_soon(one, i)
    assert len(results) == 8
    for i, result in results:
        assert result.sink.stream("stdout") == [str(i)]
        if i % 3:
            assert result.error is None
        else:
            assert result.run.exit_code == i
    assert _RUNNING == []
    assert threaded == []


async def test_running_count_recovers_after_cancel_and_spawn_failure_spec_12(
    shell: ShellRunner, tmp_path: Path
) -> None:
    cancelled = await shell("sleep 10", cancel_after=0.1)
    assert isinstance(cancelled.error, trio.Cancelled)
    assert _RUNNING == []
    broken = tmp_path / "runner"  # executable, but its interpreter is missing
    broken.write_text("#!/nonexistent/interpreter\n")
    broken.chmod(0o755)
    failed = await shell("true", shell=f"{broken} {{0}}")
    assert isinstance(failed.error, StepFailed)
    assert failed.error.message.startswith("Cannot start the shell ")
    assert _RUNNING == []
    stopped = await shell("true", cancel_first=True)
    assert isinstance(stopped.error, trio.Cancelled)
    assert _RUNNING == []


# --- what is checked, and when ----------------------------------------------


async def test_shell_program_replaced_after_lookup_is_found_again_spec_12(
    shell: ShellRunner, tmp_path: Path
) -> None:
    # The program found for a shell is remembered, not checked before each
    # step: when it cannot be executed any more, it is looked up once more.
    first, second = tmp_path / "first", tmp_path / "second"
    for directory, word in ((first, "first"), (second, "second")):
        directory.mkdir()
        program = directory / "myshell"
        program.write_text(f'#!/bin/sh\necho {word}\nexec sh "$1"\n')
        program.chmod(0o755)
    path = os.pathsep.join((str(first), str(second), os.environ.get("PATH", "")))
    env = {"PATH": path}
    before = await shell("echo ran", shell="myshell {0}", env=env)
    assert before.sink.stream("stdout") == ["first", "ran"]
    (first / "myshell").unlink()
    after = await shell("echo ran", shell="myshell {0}", env=env)
    assert after.error is None
    assert after.sink.stream("stdout") == ["second", "ran"]
    (second / "myshell").unlink()
    gone = await shell("echo ran", shell="myshell {0}", env=env)
    assert isinstance(gone.error, StepFailed)
    assert "was not found" in gone.error.message


async def test_missing_working_directory_is_reported_before_other_failures_spec_12(
    shell: ShellRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It is checked when the spawn fails on it, or when something checked
    # later failed first: the message is the one of the first check.
    unusable = tmp_path / "file"
    unusable.write_text("")
    monkeypatch.setenv("TMPDIR", str(unusable / "tmp"))
    monkeypatch.setattr(tempfile, "tempdir", None)
    for kwargs in ({"shell": "no-such-shell {0}"}, {}):
        result = await shell("echo never", working_directory="missing", **kwargs)
        assert isinstance(result.error, StepFailed)
        assert result.error.message == (
            f"The working directory {str(tmp_path / 'missing')!r} does not exist "
            "or is not a directory."
        )
    monkeypatch.delenv("TMPDIR")
    monkeypatch.setattr(tempfile, "tempdir", None)
    result = await shell("echo never", working_directory="file")
    assert isinstance(result.error, StepFailed)
    assert "does not exist or is not a directory" in result.error.message


async def test_output_ends_with_the_process_not_with_its_pipes_spec_12(
    shell: ShellRunner,
) -> None:
    # The parent holds the pipes' write ends until the process has exited,
    # so a quiet step wakes the event loop once; a process that closes its
    # output early is still waited for, and what it wrote before is kept.
    result = await shell(
        "echo out; echo err >&2; exec >&- 2>&-; sleep 0.3; exit 4", limit=10
    )
    assert isinstance(result.error, StepFailed)
    assert result.run.exit_code == 4
    assert result.sink.stream("stdout") == ["out"]
    assert result.sink.stream("stderr") == ["err"]
    assert result.elapsed >= 0.3


def _status_fields(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


async def test_process_starts_clean_whichever_way_it_is_spawned_spec_12(
    shell: ShellRunner, spawn_method: str, tmp_path: Path
) -> None:
    """posix_spawn and Popen give the step the same start (§12, R6.3).

    Its own session and process group, stdin from /dev/null, no signal
    ignored or blocked that Python ignores (SIGPIPE, SIGXFSZ), and no
    descriptor of ours beyond 0, 1 and 2.
    """
    result = await shell(
        'echo "pid=$$"\n'
        'echo "stdin=$(readlink /proc/$$/fd/0)"\n'
        "read -r stat < /proc/$$/stat\n"
        "set -- ${stat##*) }\n"
        'echo "pgrp=$3"\n'
        'echo "session=$4"\n'
        # The masks of the process the step's process execs.
        "exec grep -E '^(SigIgn|SigBlk):' /proc/self/status\n"
    )
    assert result.error is None, result.sink.lines
    fields = dict(
        line.split("=", 1) for line in result.sink.stream("stdout") if "=" in line
    )
    pid = fields["pid"]
    assert fields["stdin"] == "/dev/null"
    assert fields["pgrp"] == pid and fields["session"] == pid
    masks = dict(
        line.split(":\t") for line in result.sink.stream("stdout") if ":\t" in line
    )
    ignored = int(masks["SigIgn"], 16)
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        assert not ignored & (1 << (sig - 1)), (spawn_method, sig)
    assert int(masks["SigBlk"], 16) == 0
    # What the process inherits (bash marks its own descriptors close-on-exec;
    # 3 is the directory ls reads): not a descriptor we were given inheritable.
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, True)
    try:
        result = await shell("exec ls /proc/self/fd")
    finally:
        os.close(read_end)
        os.close(write_end)
    assert result.error is None, result.sink.lines
    assert sorted(result.sink.stream("stdout"), key=int) == ["0", "1", "2", "3"]


async def test_exit_status_and_signal_death_whichever_way_spec_12(
    shell: ShellRunner,
) -> None:
    """The exit code of the main process, and 128+N for a death by signal N."""
    result = await shell("exit 7")
    assert result.run.exit_code == 7
    result = await shell("kill -TERM $$")
    assert result.run.exit_code == 128 + signal.SIGTERM


async def test_working_directory_elsewhere_uses_popen_spec_12(
    shell: ShellRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process in another directory than ours is started with Popen's chdir."""
    spawned: list[list[str]] = []
    real = _process._posix_spawn

    def counting(*args: Any, **kwargs: Any) -> int:
        spawned.append(list(args[1]))
        assert real is not None
        return real(*args, **kwargs)

    if real is not None:
        monkeypatch.setattr(_process, "_posix_spawn", counting)
    (tmp_path / "sub").mkdir()
    result = await shell("pwd", working_directory="sub")
    assert result.sink.stream("stdout") == [str(tmp_path / "sub")]
    assert spawned == []
    result = await shell("pwd")
    assert result.sink.stream("stdout") == [str(tmp_path)]
    assert len(spawned) == (1 if real is not None else 0)
