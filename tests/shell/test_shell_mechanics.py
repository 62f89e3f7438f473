"""How the shell executor does its work cheaply, without changing what it does.

The per-step directory and its files, the environment taken from
``os.environ`` as bytes, and the choice of where the process is spawned (in
the event loop's thread when no other shell process runs, else in a worker
thread). Real processes, real clock.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import trio
from shell_helpers import ShellRunner

from trio_steps._context import StepFailed
from trio_steps._shell import _RUNNING, _EmptyFiles


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


async def test_concurrent_steps_spawn_in_threads_and_count_down_spec_12(
    shell: ShellRunner,
) -> None:
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
