"""The shell executor with real processes and the real clock (rules §12, R6.3).

These tests call :func:`trio_steps._shell._execution.run_shell` directly with a fake
sink (see ``conftest.py``); ``test_shell_engine.py`` runs shell steps through
the engine.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from pathlib import Path

import pytest
import trio

from trio_steps._context import StepFailed
from trio_steps._shell._execution import DRAIN_TIMEOUT, MAX_LINE_CHARS

from .shell_helpers import ShellRunner, pgrp_members


def exists(path: str) -> bool:
    return os.path.exists(path)


def real_path(path: str) -> str:
    return os.path.realpath(path)


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return False
    return data[data.rfind(b")") + 2 :].split()[0] not in (b"Z", b"X")


# --- exit codes -------------------------------------------------------------


async def test_exit_zero_succeeds_spec_12(shell: ShellRunner) -> None:
    result = await shell("echo hello")
    assert result.error is None
    assert result.run.exit_code == 0
    assert result.sink.stream("stdout") == ["hello"]


async def test_non_zero_exit_fails_with_github_message_spec_12_r2_2(
    shell: ShellRunner,
) -> None:
    result = await shell("echo before; exit 3; echo after")
    assert isinstance(result.error, StepFailed)
    assert result.error.message == "Process completed with exit code 3."
    assert result.error.exit_code == 3
    assert result.run.exit_code == 3
    assert result.sink.stream("stdout") == ["before"]


async def test_default_shell_is_bash_with_errexit_without_pipefail_spec_12(
    shell: ShellRunner,
) -> None:
    errexit = await shell("false\necho unreachable")
    assert isinstance(errexit.error, StepFailed)
    assert errexit.run.exit_code == 1
    assert errexit.sink.stream("stdout") == []
    # GitHub's default is ``bash -e {0}``: a failing pipe stage is ignored.
    no_pipefail = await shell("false | true\necho after")
    assert no_pipefail.error is None
    assert no_pipefail.sink.stream("stdout") == ["after"]
    options = await shell('echo "$-" "$BASH_VERSION"; set -o | grep pipefail')
    flags, version = options.sink.stream("stdout")[0].split(" ", 1)
    assert "e" in flags and version != ""
    assert options.sink.stream("stdout")[1].split() == ["pipefail", "off"]


async def test_default_shell_without_bash_is_sh_e_spec_12(
    shell: ShellRunner, tmp_path: Path
) -> None:
    only_sh = tmp_path / "only-sh"
    only_sh.mkdir()
    (only_sh / "sh").symlink_to(real_path("/bin/sh"))
    result = await shell(
        'false | true\necho "$-"\nfalse\necho unreachable',
        env={"PATH": str(only_sh)},
    )
    assert isinstance(result.error, StepFailed)
    assert result.run.exit_code == 1
    [flags] = result.sink.stream("stdout")
    assert "e" in flags


async def test_explicit_bash_has_pipefail_and_no_profile_spec_12(
    shell: ShellRunner,
) -> None:
    pipefail = await shell("false | true\necho after", shell="bash")
    assert isinstance(pipefail.error, StepFailed)
    assert pipefail.sink.stream("stdout") == []
    options = await shell("set -o | grep pipefail", shell="bash")
    assert options.sink.stream("stdout")[0].split() == ["pipefail", "on"]


async def test_sh_shell_has_errexit_but_no_pipefail_spec_12(shell: ShellRunner) -> None:
    result = await shell("false | true\necho reached", shell="sh")
    assert result.error is None
    assert result.sink.stream("stdout") == ["reached"]
    failing = await shell("false\necho unreachable", shell="sh")
    assert isinstance(failing.error, StepFailed)


async def test_death_by_signal_is_128_plus_n_spec_12(shell: ShellRunner) -> None:
    result = await shell("kill -KILL $$")
    assert isinstance(result.error, StepFailed)
    assert result.run.exit_code == 128 + signal.SIGKILL
    assert result.error.message == "Process completed with exit code 137."


# --- shells -----------------------------------------------------------------


async def test_python_shell_spec_12(shell: ShellRunner) -> None:
    result = await shell(
        "import sys\nprint('py', sys.argv[0].endswith('.py'))", shell="python"
    )
    assert result.error is None
    assert result.sink.stream("stdout") == ["py True"]


async def test_python_falls_back_to_python3_spec_12(
    shell: ShellRunner, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python3 = bin_dir / "python3"
    python3.symlink_to(real_path(sys.executable))
    result = await shell("print('three')", shell="python", env={"PATH": str(bin_dir)})
    assert result.error is None
    assert result.sink.stream("stdout") == ["three"]


async def test_default_shell_falls_back_to_sh_spec_12(
    shell: ShellRunner, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sh").symlink_to("/bin/sh")
    script = 'if [ -n "$BASH_VERSION" ]; then echo bash; else echo not-bash; fi\nfalse | true'
    if real_path("/bin/sh").endswith("bash"):
        pytest.fail("this test needs a /bin/sh that is not bash (dash on Debian)")
    result = await shell(script, env={"PATH": str(bin_dir)})
    assert result.error is None
    assert result.sink.stream("stdout") == ["not-bash"]


async def test_custom_template_spec_12(shell: ShellRunner) -> None:
    result = await shell(
        'echo "args: $1 $2"', shell="bash --noprofile {0} 'one two' three"
    )
    assert result.error is None
    assert result.sink.stream("stdout") == ["args: one two three"]


@pytest.mark.parametrize(
    ("shell_name", "env", "needle"),
    [
        ("pwsh", None, "Unknown shell 'pwsh'"),
        ("no-such-program-xyz {0}", None, "'no-such-program-xyz'"),
        ("bash", {"PATH": "/nonexistent-dir"}, "Shell 'bash' was not found"),
        (None, {"PATH": "/nonexistent-dir"}, "neither 'bash' nor 'sh'"),
        ("python", {"PATH": "/nonexistent-dir"}, "neither 'python' nor 'python3'"),
        ("bash 'unclosed {0}", None, "Invalid shell template"),
    ],
)
async def test_missing_or_unknown_shell_fails_naming_it_spec_12(
    shell: ShellRunner, shell_name: str | None, env: dict[str, str] | None, needle: str
) -> None:
    result = await shell("echo never", shell=shell_name, env=env)
    assert isinstance(result.error, StepFailed)
    assert needle in result.error.message
    assert result.sink.lines == []


# --- directories ------------------------------------------------------------


async def test_working_directory_relative_to_workspace_spec_12(
    shell: ShellRunner, tmp_path: Path
) -> None:
    (tmp_path / "sub").mkdir()
    default = await shell("pwd")
    assert default.sink.stream("stdout") == [str(tmp_path)]
    sub = await shell("pwd", working_directory="sub")
    assert sub.sink.stream("stdout") == [str(tmp_path / "sub")]


async def test_missing_working_directory_fails_naming_it_spec_12(
    shell: ShellRunner, tmp_path: Path
) -> None:
    result = await shell("echo never", working_directory="missing")
    assert isinstance(result.error, StepFailed)
    assert str(tmp_path / "missing") in result.error.message
    assert "does not exist" in result.error.message


@pytest.mark.parametrize("tmpdir_env", [True, False])
async def test_unusable_temp_dir_fails_naming_it_spec_12(
    shell: ShellRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmpdir_env: bool,
) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    bad = str(not_a_dir / "tmp")
    monkeypatch.setattr(tempfile, "tempdir", bad)
    if tmpdir_env:  # control files go to $TMPDIR too
        monkeypatch.setenv("TMPDIR", bad)
    else:
        monkeypatch.delenv("TMPDIR", raising=False)
    result = await shell("echo never")
    assert isinstance(result.error, StepFailed)
    assert result.error.message.startswith("Cannot create the step's ")
    assert bad in result.error.message
    assert result.sink.lines == []


async def test_control_files_on_tmpfs_unless_tmpdir_is_set_spec_12(
    shell: ShellRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    result = await shell('echo "$GITHUB_OUTPUT"; echo "$RUNNER_TEMP"')
    output, runner_temp = result.sink.stream("stdout")
    assert output.startswith(f"{tmp_path}/trio-steps-")
    assert runner_temp.startswith(f"{tmp_path}/trio-steps-temp-")
    monkeypatch.delenv("TMPDIR")
    result = await shell('echo "$GITHUB_OUTPUT"')
    if os.access("/dev/shm", os.W_OK):
        assert result.sink.stream("stdout")[0].startswith("/dev/shm/trio-steps-")


async def test_step_files_are_removed_runner_temp_is_shared_spec_12(
    shell: ShellRunner,
) -> None:
    first = await shell(
        'echo "$GITHUB_OUTPUT"; echo "$RUNNER_TEMP"; touch "$RUNNER_TEMP/kept"'
    )
    output, runner_temp = first.sink.stream("stdout")
    assert not exists(output)
    assert not exists(os.path.dirname(output))
    # RUNNER_TEMP is shared by the steps, like GitHub's per-job one.
    second = await shell(
        'echo "$RUNNER_TEMP"; test -f "$RUNNER_TEMP/kept"; rm "$RUNNER_TEMP/kept"'
    )
    assert second.error is None
    assert second.sink.stream("stdout") == [runner_temp]


# --- environment ------------------------------------------------------------


async def test_env_layering_spec_12(
    shell: ShellRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("T_INHERITED", "T_JOB", "T_STEP"):
        monkeypatch.setenv(name, "inherited")
    monkeypatch.setenv("CI", "false")
    monkeypatch.setenv("GITHUB_OUTPUT", "/bogus")
    monkeypatch.setenv("PATH", "/inherited/bin:/usr/bin:/bin")
    result = await shell(
        'echo "$T_INHERITED $T_JOB $T_STEP"\n'
        'echo "$CI $GITHUB_ACTIONS $GITHUB_WORKSPACE"\n'
        'echo "$PATH"\n'
        'test -d "$RUNNER_TEMP" && test -w "$RUNNER_TEMP" && echo temp-ok\n'
        'for f in "$GITHUB_OUTPUT" "$GITHUB_ENV" "$GITHUB_PATH" "$GITHUB_STEP_SUMMARY"; do\n'
        '  test -f "$f" && test ! -s "$f" && echo "file-ok $(basename "$f")"\n'
        "done",
        # run.env is the job env overlaid with the step env (the engine's job).
        env={"T_JOB": "job", "T_STEP": "step", "CI": "overridden"},
        path=("/job/first", "/job/second"),
    )
    assert result.error is None
    assert result.sink.stream("stdout") == [
        "inherited job step",
        f"true true {tmp_path}",
        "/job/first:/job/second:/inherited/bin:/usr/bin:/bin",
        "temp-ok",
        "file-ok output",
        "file-ok env",
        "file-ok path",
        "file-ok summary",
    ]


async def test_step_env_path_is_the_base_for_job_path_spec_12(
    shell: ShellRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    result = await shell(
        'echo "$PATH"', env={"PATH": "/env/bin:/usr/bin:/bin"}, path=("/p",)
    )
    assert result.sink.stream("stdout") == ["/p:/env/bin:/usr/bin:/bin"]


async def test_files_are_never_shared_between_concurrent_steps_spec_12(
    shell: ShellRunner,
) -> None:
    results = []

    async def one(tag: str) -> None:
        results.append(
            await shell(
                f'echo "$GITHUB_OUTPUT $GITHUB_ENV $GITHUB_PATH $GITHUB_STEP_SUMMARY"\n'
                "sleep 0.2\n"
                f'echo "who={tag}" >> "$GITHUB_OUTPUT"'
            )
        )

    async with trio.open_nursery() as nursery:
        nursery.start_soon(one, "a")
        nursery.start_soon(one, "b")
    paths = [set(r.sink.stream("stdout")[0].split()) for r in results]
    assert len(paths[0]) == 4
    assert not paths[0] & paths[1]
    assert sorted(r.run.outputs["who"] for r in results) == ["a", "b"]


# --- file commands ----------------------------------------------------------


async def test_every_file_command_form_spec_12(shell: ShellRunner) -> None:
    result = await shell(
        'echo "plain=1" >> "$GITHUB_OUTPUT"\n'
        'printf "multi<<EOF\\nline 1\\n\\nline 3\\nEOF\\n" >> "$GITHUB_OUTPUT"\n'
        'echo "E1=one" >> "$GITHUB_ENV"\n'
        'printf "E2<<X\\na\\nb\\nX\\n" >> "$GITHUB_ENV"\n'
        'echo "/first" >> "$GITHUB_PATH"\n'
        'echo "/second" >> "$GITHUB_PATH"\n'
        'echo "k=v" >> "$GITHUB_STATE"\n'
        'echo "# Summary" >> "$GITHUB_STEP_SUMMARY"\n'
    )
    assert result.error is None
    run = result.run
    assert run.outputs == {"plain": "1", "multi": "line 1\n\nline 3"}
    assert run.env_changes == {"E1": "one", "E2": "a\nb"}
    assert run.path_added == ["/first", "/second"]
    assert run.state == {"k": "v"}
    assert run.summary == "# Summary\n"


@pytest.mark.parametrize(
    ("script", "file", "line"),
    [
        (
            'echo "ok=1" >> "$GITHUB_OUTPUT"; echo "junk" >> "$GITHUB_OUTPUT"',
            "GITHUB_OUTPUT",
            2,
        ),
        (
            'printf "a=1\\n\\nx<<EOF\\nnever closed\\n" >> "$GITHUB_OUTPUT"',
            "GITHUB_OUTPUT",
            3,
        ),
        ('echo "=v" >> "$GITHUB_ENV"', "GITHUB_ENV", 1),
        ("printf 'A=1\\nB=\\377\\376\\n' >> \"$GITHUB_ENV\"", "GITHUB_ENV", 2),
        ("printf '/ok\\n/bad\\377\\n' >> \"$GITHUB_PATH\"", "GITHUB_PATH", 2),
        (
            "head -c 64 /dev/urandom | tr -d '\\n' > \"$GITHUB_OUTPUT\"; printf '\\377\\n' >> \"$GITHUB_OUTPUT\"",
            "GITHUB_OUTPUT",
            1,
        ),
    ],
)
async def test_malformed_file_fails_the_step_naming_file_and_line_spec_12(
    shell: ShellRunner, script: str, file: str, line: int
) -> None:
    result = await shell(script)
    assert isinstance(result.error, StepFailed)
    assert result.error.message.startswith(f"{file} line {line}: ")
    assert result.error.exit_code == 0
    assert ("error", result.error.message) in result.run.annotations


async def test_malformed_file_keeps_earlier_pairs_and_other_files_spec_12(
    shell: ShellRunner,
) -> None:
    result = await shell(
        'echo "before=1" >> "$GITHUB_OUTPUT"\n'
        'echo "broken" >> "$GITHUB_OUTPUT"\n'
        'echo "after=1" >> "$GITHUB_OUTPUT"\n'
        'echo "E=1" >> "$GITHUB_ENV"\n'
        'echo "/p" >> "$GITHUB_PATH"\n'
        'printf "H<<EOF\\nunclosed\\n" >> "$GITHUB_STATE"\n'
    )
    assert isinstance(result.error, StepFailed)
    assert result.error.message == (
        "GITHUB_OUTPUT line 2: expected 'name=value' or 'name<<DELIMITER' (and 1 more)"
    )
    assert result.run.outputs == {"before": "1"}
    assert result.run.env_changes == {"E": "1"}
    assert result.run.path_added == ["/p"]
    levels = [level for level, _ in result.run.annotations]
    assert levels == ["error", "error"]


async def test_exit_code_message_wins_over_file_errors_spec_12(
    shell: ShellRunner,
) -> None:
    result = await shell('echo junk >> "$GITHUB_OUTPUT"; exit 4')
    assert isinstance(result.error, StepFailed)
    assert result.error.message == "Process completed with exit code 4."
    assert result.run.annotations == [
        ("error", "GITHUB_OUTPUT line 1: expected 'name=value' or 'name<<DELIMITER'")
    ]


async def test_files_deleted_by_the_script_are_ignored_spec_12(
    shell: ShellRunner,
) -> None:
    result = await shell('rm "$GITHUB_OUTPUT" "$GITHUB_ENV" "$GITHUB_PATH"')
    assert result.error is None
    assert result.run.outputs == {}


async def test_oversized_summary_fails_the_step_spec_12(
    shell: ShellRunner,
) -> None:
    result = await shell(
        'head -c 1048577 /dev/zero | tr "\\0" x > "$GITHUB_STEP_SUMMARY"'
    )
    assert result.error is not None  # issue 12, item 19: an error, not read
    assert result.run.summary is None
    assert [level for level, _ in result.run.annotations] == ["error"]


# --- output and workflow commands -------------------------------------------


async def test_stdout_and_stderr_lines_in_order_per_stream_spec_12(
    shell: ShellRunner,
) -> None:
    result = await shell("seq 1 3000; seq 1 3000 >&2; printf 'no newline'")
    numbers = [str(i) for i in range(1, 3001)]
    assert result.sink.stream("stdout") == [*numbers, "no newline"]
    assert result.sink.stream("stderr") == numbers


async def test_non_utf8_output_is_replaced_spec_12(shell: ShellRunner) -> None:
    result = await shell("printf 'ok \\377\\376 end\\n'; printf '\\303(\\n' >&2")
    assert result.error is None
    assert result.sink.stream("stdout") == ["ok \ufffd\ufffd end"]
    assert result.sink.stream("stderr") == ["\ufffd("]


async def test_long_line_split_at_64_kib_spec_12(shell: ShellRunner) -> None:
    result = await shell("head -c 200000 /dev/zero | tr '\\0' x; echo; echo next")
    lengths = [len(line) for line in result.sink.stream("stdout")]
    assert lengths == [MAX_LINE_CHARS] * 3 + [200000 - 3 * MAX_LINE_CHARS, 4]


async def test_script_text_is_not_logged_spec_12(shell: ShellRunner) -> None:
    result = await shell("# a-distinctive-comment\necho out")
    assert all("distinctive" not in line for line, _ in result.sink.lines)


async def test_add_mask_before_any_later_line_and_never_logged_spec_12(
    shell: ShellRunner,
) -> None:
    result = await shell(
        'echo "::add-mask::s3cr%25t"\necho "value s3cr%t"\necho "::add-mask::"'
    )
    assert result.sink.masks == ["s3cr%t"]
    assert result.sink.lines[0] == ("<mask 1>", "mask")
    assert result.sink.lines[1] == ("value s3cr%t", "stdout")  # the engine masks it
    assert result.sink.stream("stdout") == ["value s3cr%t"]
    assert all("s3cr%25t" not in line for line, _ in result.sink.lines)
    assert [level for level, _ in result.run.annotations] == ["warning"]


async def test_annotations_with_properties_spec_12(shell: ShellRunner) -> None:
    result = await shell(
        'echo "::error file=app.py,line=3,col=5,title=Bad%3A thing::broke%0Ahere"\n'
        'echo "::warning::careful"\n'
        'echo "  ::notice file=n.txt::note" >&2\n'
    )
    assert result.error is None  # an error annotation does not fail the step
    # stdout and stderr are read concurrently: only the order within each
    # stream is defined.
    annotations = result.run.annotations
    assert [a for a in annotations if a[0] != "notice"] == [
        ("error", "app.py:3:5: Bad: thing: broke\nhere"),
        ("warning", "careful"),
    ]
    assert [a for a in annotations if a[0] == "notice"] == [("notice", "n.txt: note")]
    assert result.sink.stream("stdout") == []


async def test_set_output_save_state_group_debug_spec_12(shell: ShellRunner) -> None:
    result = await shell(
        'echo "::set-output name=out::a%0Ab"\n'
        'echo "::save-state name=st::kept"\n'
        'echo "::group::Title"\n'
        'echo "inside"\n'
        'echo "::endgroup::"\n'
        'echo "::debug::hidden"\n'
        'echo "::unknown-command::shown"\n'
    )
    assert result.error is None
    assert result.run.outputs == {"out": "a\nb"}
    assert result.run.state == {"st": "kept"}
    assert result.sink.stream("stdout") == [
        "##[group]Title",
        "inside",
        "##[endgroup]",
        "::unknown-command::shown",
    ]


async def test_debug_shown_with_step_debug_spec_12(shell: ShellRunner) -> None:
    result = await shell('echo "::debug::visible"', env={"ACTIONS_STEP_DEBUG": "true"})
    assert "##[debug]visible" in result.sink.stream("stdout")


async def test_stop_commands_spec_12(shell: ShellRunner) -> None:
    result = await shell(
        'echo "::stop-commands::pause-token-1"\n'
        'echo "::set-output name=a::ignored"\n'
        'echo "::pause-token-1::"\n'
        'echo "::set-output name=b::seen"\n'
    )
    assert result.error is None
    assert result.run.outputs == {"b": "seen"}
    assert result.sink.stream("stdout") == ["::set-output name=a::ignored"]


async def test_invalid_stop_commands_token_fails_spec_12(shell: ShellRunner) -> None:
    result = await shell('echo "::stop-commands::warning"')
    assert isinstance(result.error, StepFailed)
    assert "stop-commands" in result.error.message


@pytest.mark.parametrize("command", ["::set-env name=X::1", "::add-path::/p"])
async def test_unsecure_commands_disabled_fail_the_step_spec_12(
    shell: ShellRunner, command: str
) -> None:
    result = await shell(f'echo "{command}"; echo "still running"')
    name = command[2:].split(" ")[0].split(":")[0]
    assert isinstance(result.error, StepFailed)
    assert result.error.message.startswith(f"The `{name}` command is disabled.")
    assert result.run.env_changes == {}
    assert result.run.path_added == []
    assert result.sink.stream("stdout") == ["still running"]


async def test_unsecure_commands_allowed_spec_12(shell: ShellRunner) -> None:
    result = await shell(
        'echo "::set-env name=X::1"; echo "::add-path::/p"',
        env={"ACTIONS_ALLOW_UNSECURE_COMMANDS": "true"},
    )
    assert result.error is None
    assert result.run.env_changes == {"X": "1"}
    assert result.run.path_added == ["/p"]


async def test_echo_on_logs_commands_but_not_masks_spec_12(shell: ShellRunner) -> None:
    result = await shell(
        'echo "::echo::on"\necho "::warning::w"\necho "::add-mask::hidden1"\n'
        'echo "::echo::off"\necho "::warning::w2"'
    )
    assert result.sink.stream("stdout") == ["::warning::w", "::echo::off"]


async def test_set_output_without_name_fails_spec_12(shell: ShellRunner) -> None:
    result = await shell('echo "::set-output::value"')
    assert isinstance(result.error, StepFailed)
    assert "'name'" in result.error.message


# --- stopping (R6.3) --------------------------------------------------------


async def test_trapped_sigint_exits_cleanly_only_sigint_r6_3(
    shell: ShellRunner,
) -> None:
    result = await shell(
        "trap 'echo caught; exit 0' INT\necho ready\nwhile true; do sleep 0.05; done",
        cancel_after=0.3,
        interrupt_grace=5,
        terminate_grace=5,
    )
    assert isinstance(result.error, trio.Cancelled)
    # Only SIGINT from the ladder; a ``sleep`` forked at that instant may be
    # killed as a leftover when the shell exits.
    assert result.sink.signals() in (["SIGINT"], ["SIGINT", "SIGKILL"])
    assert result.sink.stream("stdout") == ["ready", "caught"]
    assert result.elapsed < 3
    assert result.run.exit_code == 0


@pytest.mark.parametrize(
    ("script", "expected", "stdout"),
    [
        # SIGINT at its default in the step: a trap can catch it.
        (
            "trap 'echo caught; exit 0' INT\necho ready\n"
            "while true; do sleep 0.05; done",
            ["SIGINT"],
            ["ready", "caught"],
        ),
        # SIGTERM at its default: the step ends at the second rung, no SIGKILL.
        ("trap '' INT\necho ready\nwhile true; do sleep 0.05; done", [], ["ready"]),
    ],
    ids=["sigint", "sigterm"],
)
async def test_a_runner_started_with_the_ladder_ignored_still_stops_steps_r6_3(
    shell: ShellRunner, script: str, expected: list[str], stdout: list[str]
) -> None:
    """``nohup``, or ``&`` in a script, starts the runner with SIGINT (and
    here SIGTERM) ignored; ``exec`` passes that on unless the step is given
    them back at their default, and then every stop waits out its graces."""
    before = {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM)}
    try:
        for number in before:
            signal.signal(number, signal.SIG_IGN)
        result = await shell(
            script, cancel_after=0.3, interrupt_grace=0.5, terminate_grace=5
        )
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
    assert isinstance(result.error, trio.Cancelled)
    signals = result.sink.signals()
    if expected:
        # A ``sleep`` forked at that instant may be killed as a leftover.
        assert signals in (expected, [*expected, "SIGKILL"])
    else:
        assert signals[:2] == ["SIGINT", "SIGTERM"]
        kinds = [kind for kind, _, _ in result.sink.events]
        assert "grace-expired" in kinds
        assert ("grace-expired", "terminate") not in [
            (kind, what) for kind, what, _ in result.sink.events
        ]
    assert result.sink.stream("stdout") == stdout
    assert result.elapsed < 3


async def test_ignoring_sigint_and_sigterm_is_killed_after_both_graces_r6_3(
    shell: ShellRunner,
) -> None:
    result = await shell(
        "trap '' INT TERM\necho $$\nwhile true; do sleep 0.05; done",
        cancel_after=0.2,
        interrupt_grace=0.4,
        terminate_grace=1.2,
    )
    assert isinstance(result.error, trio.Cancelled)
    kinds = [(kind, what) for kind, what, _ in result.sink.events]
    assert kinds == [
        ("signal-sent", "SIGINT"),
        ("grace-expired", "interrupt"),
        ("signal-sent", "SIGTERM"),
        ("grace-expired", "terminate"),
        ("signal-sent", "SIGKILL"),
    ]
    times = [t for _, _, t in result.sink.events]
    # Distinct graces, so that swapping them cannot pass.
    assert 0.38 <= times[2] - times[0] < 1.0
    assert 1.18 <= times[4] - times[2] < 2.0
    assert result.run.exit_code == 137
    assert pgrp_members(int(result.sink.stream("stdout")[0])) == []


async def test_exits_at_sigterm_rung_r6_3(shell: ShellRunner) -> None:
    result = await shell(
        "trap '' INT\nwhile true; do sleep 0.05; done",
        cancel_after=0.2,
        interrupt_grace=0.3,
        terminate_grace=5,
    )
    assert isinstance(result.error, trio.Cancelled)
    signals = result.sink.signals()
    assert signals[:2] == ["SIGINT", "SIGTERM"]
    # A ``sleep`` forked just as SIGTERM arrived may outlive the shell for
    # an instant; it is then killed as a leftover, not by the SIGKILL rung:
    # the step ended long before terminate_grace (5 s) ran out.
    assert signals[2:] in ([], ["SIGKILL"])
    assert result.elapsed < 3


async def test_grandchildren_are_killed_after_normal_exit_spec_12(
    shell: ShellRunner,
) -> None:
    result = await shell(
        "sleep 1000 &\necho $!\n(sleep 1000 &)\necho $$\nsleep 0.1\nexit 0"
    )
    assert result.error is None
    child, pgid = map(int, result.sink.stream("stdout"))
    assert result.sink.signals() == ["SIGKILL"]
    assert not pid_alive(child)
    assert pgrp_members(pgid) == []


async def test_no_signal_when_nothing_is_left_spec_12(shell: ShellRunner) -> None:
    result = await shell("sleep 0.05 & wait")
    assert result.sink.signals() == []


async def test_cancel_with_background_children_kills_the_group_r6_3(
    shell: ShellRunner,
) -> None:
    # `&` children of a non-interactive shell ignore SIGINT; the shell itself
    # exits at SIGINT, and what is left gets SIGKILL at once.
    result = await shell(
        "sleep 1000 &\nsleep 1000 &\necho $$\nwait",
        cancel_after=0.3,
        interrupt_grace=5,
        terminate_grace=5,
    )
    assert isinstance(result.error, trio.Cancelled)
    assert result.sink.signals() == ["SIGINT", "SIGKILL"]
    assert pgrp_members(int(result.sink.stream("stdout")[0])) == []
    assert result.elapsed < 3


async def test_cancelled_step_keeps_what_it_wrote_r5_3(shell: ShellRunner) -> None:
    result = await shell(
        'echo "early=1" >> "$GITHUB_OUTPUT"\n'
        'echo "E=1" >> "$GITHUB_ENV"\n'
        'trap \'echo "late=2" >> "$GITHUB_OUTPUT"; exit 1\' INT\n'
        "while true; do sleep 0.05; done",
        cancel_after=0.3,
    )
    assert isinstance(result.error, trio.Cancelled)
    assert result.run.outputs == {"early": "1", "late": "2"}
    assert result.run.env_changes == {"E": "1"}


async def test_cancelled_step_with_malformed_file_still_cancelled_r5_3(
    shell: ShellRunner,
) -> None:
    result = await shell(
        'echo "ok=1" >> "$GITHUB_OUTPUT"; echo junk >> "$GITHUB_OUTPUT"; sleep 30',
        cancel_after=0.3,
    )
    assert isinstance(result.error, trio.Cancelled)
    assert result.run.outputs == {"ok": "1"}
    assert [level for level, _ in result.run.annotations] == ["error"]


async def test_stopped_before_start_never_spawns_r6_3(
    shell: ShellRunner, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    result = await shell(f"touch {marker}", cancel_first=True)
    assert isinstance(result.error, trio.Cancelled)
    assert result.sink.events == []
    assert result.run.exit_code is None
    assert not exists(str(marker))


async def test_zero_graces_go_straight_through_the_ladder_r6_3(
    shell: ShellRunner,
) -> None:
    result = await shell(
        "trap '' INT TERM\nwhile true; do sleep 0.05; done",
        cancel_after=0.2,
        interrupt_grace=0,
        terminate_grace=0,
    )
    assert isinstance(result.error, trio.Cancelled)
    assert result.sink.signals() == ["SIGINT", "SIGTERM", "SIGKILL"]


async def test_escaped_process_holding_the_pipe_is_detached_spec_12(
    shell: ShellRunner, tmp_path: Path
) -> None:
    ready = tmp_path / "escaped"
    # Wait until the child has left the group: before that, it is killed
    # with the rest of the group.
    result = await shell(
        f"setsid sh -c 'touch {ready}; sleep 30' &\n"
        "echo $!\n"
        f"while [ ! -e {ready} ]; do sleep 0.01; done\n",
        limit=10,
    )
    escaped = int(result.sink.stream("stdout")[0])
    try:
        assert result.error is None
        assert result.sink.signals() == []
        assert DRAIN_TIMEOUT <= result.elapsed < DRAIN_TIMEOUT + 2
    finally:
        os.killpg(escaped, signal.SIGKILL)
