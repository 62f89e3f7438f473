"""Shell steps through the engine: ``ts.run_job`` with real processes (rules §12)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_steps as ts


async def run(steps: Sequence[Any], tmp_path: Path, **job: Any) -> ts.JobReport:
    job.setdefault("interrupt_grace", 1.0)
    job.setdefault("terminate_grace", 1.0)
    with trio.fail_after(30):
        return await ts.run_job(ts.Job(steps, workspace=str(tmp_path), **job))


def lines(report: ts.JobReport, step_id: str, stream: str = "stdout") -> list[str]:
    return [
        str(e.data["line"])
        for e in report.events
        if e.kind == "step-output"
        and e.step_id == step_id
        and e.data["stream"] == stream
    ]


def kinds(report: ts.JobReport, step_id: str, *wanted: str) -> list[tuple[str, object]]:
    return [
        (str(e.kind), e.data.get("signal", e.data.get("grace")))
        for e in report.events
        if e.step_id == step_id and e.kind in wanted
    ]


async def test_exit_code_reaches_the_report_r2_2(tmp_path: Path) -> None:
    report = await run([ts.Step("echo out; exit 3", id="s")], tmp_path)
    step = report.steps["s"]
    assert step.outcome == ts.Result.FAILED
    assert step.exit_code == 3
    assert step.error == "Process completed with exit code 3."
    assert report.result == ts.Result.FAILED
    assert lines(report, "s") == ["out"]


async def test_env_layering_job_then_step_then_spec_variables_spec_12(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("L_INHERITED", "L_JOB", "L_STEP", "GITHUB_ENV"):
        monkeypatch.setenv(name, "inherited")
    report = await run(
        [
            ts.Step(
                'echo "$L_INHERITED $L_JOB $L_STEP $CI"; test "$GITHUB_ENV" != inherited',
                id="s",
                env={"L_STEP": "step", "CI": "no"},
            )
        ],
        tmp_path,
        env={"L_JOB": "job", "L_STEP": "job"},
    )
    assert report.steps["s"].outcome == ts.Result.SUCCEEDED
    assert lines(report, "s") == ["inherited job step true"]


async def test_foreground_file_commands_visible_to_next_step_r4_1(
    tmp_path: Path,
) -> None:
    (tmp_path / "bin").mkdir()
    tool = tmp_path / "bin" / "my-tool-xyz"
    tool.write_text("#!/bin/sh\necho tool ran\n")
    tool.chmod(0o755)
    report = await run(
        [
            ts.Step(
                'echo "v=1" >> "$GITHUB_OUTPUT"; echo "E=from-a" >> "$GITHUB_ENV"\n'
                f'echo "{tmp_path / "bin"}" >> "$GITHUB_PATH"',
                id="a",
            ),
            ts.Step('echo "$E"; my-tool-xyz', id="b"),
        ],
        tmp_path,
    )
    assert report.steps["a"].outputs == {"v": "1"}
    assert lines(report, "b") == ["from-a", "tool ran"]
    assert report.env["E"] == "from-a"


async def test_background_shell_outputs_invisible_until_wait_r5_1(
    tmp_path: Path,
) -> None:
    seen: dict[str, object] = {}

    def look(label: str) -> Callable[[ts.StepContext], Awaitable[object]]:
        async def step(ctx: ts.StepContext) -> None:
            seen[label] = (ctx.steps.get("bg") is not None, ctx.env.get("BG_ENV"))

        return step

    report = await run(
        [
            ts.Step(
                'echo "out=1" >> "$GITHUB_OUTPUT"; echo "BG_ENV=set" >> "$GITHUB_ENV"',
                id="bg",
                background=True,
            ),
            # Long enough for the background step to have finished.
            ts.Step("sleep 0.5", id="pause"),
            ts.Step(look("before"), id="before"),
            ts.Step('echo "[$BG_ENV]"', id="shell_before"),
            ts.Wait("bg"),
            ts.Step(look("after"), id="after"),
            ts.Step('echo "[$BG_ENV]"', id="shell_after"),
        ],
        tmp_path,
    )
    assert report.steps["bg"].finished_at is not None
    assert report.steps["bg"].finished_at < report.steps["before"].started_at  # type: ignore[operator]
    assert seen == {"before": (False, None), "after": (True, "set")}
    assert lines(report, "shell_before") == ["[]"]
    assert lines(report, "shell_after") == ["[set]"]
    assert report.steps["bg"].outputs == {"out": "1"}


async def test_cancel_step_sigint_trap_only_sigint_and_keeps_outputs_r4_6_r5_3(
    tmp_path: Path,
) -> None:
    report = await run(
        [
            ts.Step(
                'echo "early=1" >> "$GITHUB_OUTPUT"\n'
                "trap 'exit 0' INT\necho ready\nwhile true; do sleep 0.05; done",
                id="svc",
                background=True,
            ),
            ts.Step("sleep 0.3", id="pause"),
            ts.Cancel("svc", id="stop"),
        ],
        tmp_path,
        interrupt_grace=5,
        terminate_grace=5,
    )
    svc = report.steps["svc"]
    assert svc.outcome == ts.Result.CANCELED
    assert svc.outputs == {"early": "1"}
    # Only SIGINT from the ladder (a ``sleep`` forked at that instant may be
    # killed as a leftover when the shell exits).
    assert kinds(report, "svc", "signal-sent", "grace-expired") in (
        [("signal-sent", "SIGINT")],
        [("signal-sent", "SIGINT"), ("signal-sent", "SIGKILL")],
    )
    assert report.result == ts.Result.SUCCEEDED
    stop = report.steps["stop"]
    assert stop.finished_at is not None
    assert stop.started_at is not None
    assert stop.finished_at - stop.started_at < 2


async def test_ignoring_sigint_and_sigterm_all_three_signals_r6_3(
    tmp_path: Path,
) -> None:
    report = await run(
        [
            ts.Step(
                "trap '' INT TERM\nwhile true; do sleep 0.05; done",
                id="stubborn",
                background=True,
            ),
            ts.Step("sleep 0.2", id="pause"),
            ts.Cancel("stubborn", id="stop"),
        ],
        tmp_path,
        interrupt_grace=0.3,
        terminate_grace=0.3,
    )
    assert report.steps["stubborn"].outcome == ts.Result.CANCELED
    assert kinds(report, "stubborn", "signal-sent", "grace-expired") == [
        ("signal-sent", "SIGINT"),
        ("grace-expired", "interrupt"),
        ("signal-sent", "SIGTERM"),
        ("grace-expired", "terminate"),
        ("signal-sent", "SIGKILL"),
    ]
    stop = report.steps["stop"]
    assert stop.finished_at is not None
    assert stop.started_at is not None
    assert 0.55 <= stop.finished_at - stop.started_at < 2


async def test_shell_step_timeout_r4_3_r6_6(tmp_path: Path) -> None:
    report = await run(
        [ts.Step("sleep 30", id="slow", timeout=0.3), ts.Step("echo after", id="next")],
        tmp_path,
    )
    slow = report.steps["slow"]
    assert slow.outcome == ts.Result.FAILED
    assert slow.timed_out
    assert slow.finished_at is not None
    assert slow.started_at is not None
    assert 0.3 <= slow.finished_at - slow.started_at < 2
    assert kinds(report, "slow", "signal-sent") == [("signal-sent", "SIGINT")]
    assert report.steps["next"].outcome == ts.Result.SKIPPED


async def test_background_timeout_counts_from_slot_r4_3(tmp_path: Path) -> None:
    report = await run(
        [
            ts.Step("sleep 0.4", id="first", background=True),
            ts.Step("sleep 30", id="second", background=True, timeout=0.3),
            ts.WaitAll(),
        ],
        tmp_path,
        max_background=1,
    )
    second = report.steps["second"]
    assert second.timed_out
    assert second.started_at is not None
    assert second.finished_at is not None
    assert report.steps["first"].finished_at is not None
    assert second.started_at >= report.steps["first"].finished_at
    assert 0.3 <= second.finished_at - second.started_at < 2


async def test_add_mask_masks_events_and_report_spec_12(tmp_path: Path) -> None:
    report = await run(
        [
            ts.Step(
                'echo "::add-mask::hunter2"; echo "pw is hunter2"; echo "::error::hunter2 leaked"',
                id="s",
            )
        ],
        tmp_path,
    )
    assert lines(report, "s") == ["pw is ***"]
    texts = [str(e.data) for e in report.events]
    assert not any("hunter2" in text for text in texts)


async def test_job_cancellation_stops_running_shell_step_r6_1(tmp_path: Path) -> None:
    runner = ts.JobRunner(
        ts.Job(
            [ts.Step("echo $$; sleep 1000 & wait", id="s")],
            workspace=str(tmp_path),
            interrupt_grace=2,
            terminate_grace=2,
        )
    )

    async def cancel_soon() -> None:
        await trio.sleep(0.3)
        runner.cancel()

    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(cancel_soon)
            report = await runner.run()
    assert report.result == ts.Result.CANCELED
    assert report.steps["s"].outcome == ts.Result.CANCELED
    pgid = int(lines(report, "s")[0])
    assert not any(_in_group(pid, pgid) for pid in _pids())


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _in_group(pid: int, pgid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return False
    return int(fields[2]) == pgid and fields[0] not in (b"Z", b"X")


# -------------------------------------------- step directories reused (§12)

_SHOW_DIR = 'dirname "$GITHUB_OUTPUT"; test ! -s "$GITHUB_OUTPUT"; ls "$(dirname "$GITHUB_OUTPUT")" | sort | tr "\\n" " "; echo'


async def test_a_clean_step_directory_is_reused_and_removed_at_the_end_spec_12(
    tmp_path: Path,
) -> None:
    """A later step gets a finished step's directory only if it was left clean.

    Clean: the five file-command files empty, as a new step finds them. A
    step that wrote an output, or replaced its output file by a link, leaves
    a directory that is removed instead. Nothing is left after the job.
    """
    report = await run(
        [
            ts.Step(_SHOW_DIR, id="a"),
            ts.Step(_SHOW_DIR, id="b"),
            ts.Step(_SHOW_DIR + '\necho x=1 >> "$GITHUB_OUTPUT"', id="c"),
            ts.Step(_SHOW_DIR, id="d"),
            ts.Step(
                _SHOW_DIR + f'\nln -sf {tmp_path}/elsewhere "$GITHUB_OUTPUT"', id="e"
            ),
            ts.Step(_SHOW_DIR, id="f"),
        ],
        tmp_path,
    )
    assert report.result == ts.Result.SUCCEEDED, [
        s.error for s in report.steps.values()
    ]
    dirs = {step: lines(report, step)[0] for step in "abcdef"}
    listing = {step: lines(report, step)[1] for step in "abcdef"}
    assert dirs["a"] == dirs["b"] == dirs["c"]  # a and b left it clean
    assert dirs["d"] != dirs["c"]  # c wrote an output
    assert dirs["e"] == dirs["d"]
    assert dirs["f"] != dirs["e"]  # e replaced a file by a link
    for step in "abcdef":
        assert listing[step] == "env output path script.sh state summary ", step
    assert report.steps["c"].outputs == {"x": "1"}
    assert not (tmp_path / "elsewhere").exists()
    for directory in dirs.values():
        assert not os.path.exists(directory)  # noqa: ASYNC240


async def test_concurrent_steps_never_share_a_directory_spec_12(tmp_path: Path) -> None:
    """Background steps running together each have their own directory."""
    steps: list[Any] = [
        ts.Step(f'dirname "$GITHUB_OUTPUT"; sleep 0.{n}', id=f"s{n}", background=True)
        for n in range(1, 6)
    ]
    steps += [ts.WaitAll(), ts.Step('dirname "$GITHUB_OUTPUT"', id="after")]
    report = await run(steps, tmp_path, max_background=5)
    assert report.result == ts.Result.SUCCEEDED
    running = [lines(report, f"s{n}")[0] for n in range(1, 6)]
    assert len(set(running)) == 5
    # Once they are done, a later step reuses one of them.
    assert lines(report, "after")[0] in running
    for directory in running:
        assert not os.path.exists(directory)  # noqa: ASYNC240


async def test_a_step_stopped_by_a_cancel_leaves_no_directory_for_reuse_spec_12(
    tmp_path: Path,
) -> None:
    """A stopped step's directory is removed, not reused (its group was killed)."""
    report = await run(
        [
            ts.Step(
                'dirname "$GITHUB_OUTPUT"; exec sleep 30', id="bg", background=True
            ),
            ts.Step("sleep 0.3", id="pause"),
            ts.Cancel("bg"),
            ts.Step('dirname "$GITHUB_OUTPUT"', id="next"),
        ],
        tmp_path,
    )
    assert report.steps["bg"].conclusion == ts.Result.CANCELED
    stopped, following = lines(report, "bg")[0], lines(report, "next")[0]
    assert following != stopped
    assert not os.path.exists(stopped)  # noqa: ASYNC240
    assert not os.path.exists(following)  # noqa: ASYNC240


async def test_descriptors_given_inheritable_do_not_reach_steps_spec_12(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pipe we hold inheritable is closed in every step's process.

    A leftover daemon holding such a pipe could keep whoever reads it (a CI
    harness, say) waiting; Popen closes them, and so does the spawn, with
    the descriptors looked up once per job.
    """
    monkeypatch.chdir(tmp_path)  # the workspace: processes are spawned
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, True)
    try:
        report = await run(
            [ts.Step("exec ls /proc/self/fd", id=f"s{n}") for n in range(3)],
            tmp_path,
        )
    finally:
        os.close(read_end)
        os.close(write_end)
    for n in range(3):
        assert sorted(lines(report, f"s{n}"), key=int) == ["0", "1", "2", "3"]


async def test_what_a_step_did_to_its_script_never_reaches_the_next_spec_12(
    tmp_path: Path,
) -> None:
    """A reused directory gets a new script file: a hard link the last step
    made to its script keeps that script; a script replaced by a directory
    makes the next step start in a new directory."""
    first = 'ln "$0" "$0.keep"'
    report = await run(
        [
            ts.Step(first, id="a"),
            ts.Step('cat "$0.keep"; echo; cat "$0"', id="b"),
            ts.Step('rm "$0"; mkdir "$0"', id="c"),
            ts.Step("echo d", id="d"),
        ],
        tmp_path,
    )
    assert report.result == ts.Result.SUCCEEDED, [
        s.error for s in report.steps.values()
    ]
    # b ran in a's directory, from a new file: a's script is intact.
    assert lines(report, "b") == [first, 'cat "$0.keep"; echo; cat "$0"']
    assert lines(report, "d") == ["d"]


async def test_runner_temp_context_is_the_jobs_runner_temp_spec_12(
    tmp_path: Path,
) -> None:
    """``${{ runner.temp }}`` names the job's ``RUNNER_TEMP``, removed at the end."""
    report = await run(
        [
            ts.Step(
                'echo "${{ runner.temp }}"; echo "$RUNNER_TEMP"; test -d "$RUNNER_TEMP"',
                id="s",
            )
        ],
        tmp_path,
    )
    assert report.result == ts.Result.SUCCEEDED, report.steps["s"].error
    from_context, from_env = lines(report, "s")
    assert from_context == from_env
    assert not os.path.exists(from_env)  # noqa: ASYNC240


async def test_a_bad_job_env_leaves_no_runner_temp_r3_6(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job env that fails to expand runs nothing and leaves nothing."""
    made: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(*args: Any, **kwargs: Any) -> str:
        directory: str = real_mkdtemp(*args, **kwargs)
        made.append(directory)
        return directory

    monkeypatch.setattr(tempfile, "mkdtemp", recording_mkdtemp)
    job = ts.Job(
        [ts.Step("echo never", id="s")],
        env={"T": "${{ runner.temp }}", "BAD": "${{ fromJSON('{') }}"},
        workspace=str(tmp_path),
    )
    with pytest.raises(ts.JobDefinitionError, match="BAD"):
        await ts.run_job(job)
    assert made, "runner.temp was asked for: the directory was made"
    assert not any(os.path.exists(d) for d in made)  # noqa: ASYNC240
