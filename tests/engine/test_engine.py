"""The engine on Trio's autojump MockClock: every rule with exact times.

Test names and docstrings cite the rule of docs/source/rules.rst they check.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import trio
import trio.testing

import trio_steps as ts
from trio_steps._engine._contexts import JobContexts

from .engine_helpers import forever, kinds, results, times, work

S, F, C, K = (
    ts.Result.SUCCEEDED,
    ts.Result.FAILED,
    ts.Result.CANCELED,
    ts.Result.SKIPPED,
)


# --------------------------------------------------------------- R2.2 / R2.3


async def test_r2_2_return_succeeds_raise_fails_with_error_in_log(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(1), id="ok"),
                ts.Step(work(2, fail=True, name="bad"), id="bad"),
            ]
        )
    )
    assert results(report, "ok") == (S, S)
    assert results(report, "bad") == (F, F)
    assert report.steps["bad"].error == "RuntimeError: bad failed on purpose"
    assert "RuntimeError: bad failed on purpose" in report.steps["bad"].log
    assert times(report, "bad") == (None, 1.0, 3.0)
    assert report.result is F


async def test_r2_2_own_timeout_fails_with_timed_out(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(ts.Job([ts.Step(work(10), id="slow", timeout=3)]))
    step = report.steps["slow"]
    assert (step.outcome, step.timed_out, step.finished_at) == (F, True, 3.0)
    assert step.error == "The step timed out after 3 s"
    assert report.result is F


async def test_r2_3_continue_on_error_changes_only_the_conclusion(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job([ts.Step(work(1, fail=True), id="a", continue_on_error=True)])
    )
    assert results(report, "a") == (F, S)
    assert report.result is S


async def test_r2_3_canceled_is_never_converted(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(forever(), id="svc", background=True, continue_on_error=True),
                ts.Step(work(1)),
                ts.Cancel("svc"),
            ]
        )
    )
    assert results(report, "svc") == (C, C)


async def test_r2_3_timeout_with_continue_on_error_is_converted(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job([ts.Step(work(5), id="t", timeout=1, continue_on_error=True)])
    )
    assert results(report, "t") == (F, S)
    assert report.steps["t"].timed_out
    assert report.result is S


# ----------------------------------------------- the continue-on-error table


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([(F, False, None), (S, False, None)], F),
        ([(F, False, None), (S, False, lambda s: ts.success(s) or ts.failure(s))], F),
        ([(F, False, None), (S, False, ts.always)], F),
        ([(F, True, None), (F, False, None)], F),
        ([(F, True, None), (S, False, None)], S),
        ([(F, True, None), (F, True, None)], S),
        ([(S, False, None)], S),
        ([(S, False, None), (F, False, None)], F),
        ([(S, False, None), (S, False, None)], S),
    ],
    ids=[
        "F,S",
        "F,s||f",
        "F,always",
        "Fcoe,F",
        "Fcoe,S",
        "Fcoe,Fcoe",
        "S",
        "S,F",
        "S,S",
    ],
)
async def test_continue_on_error_table(
    autojump_clock: trio.testing.MockClock,
    steps: list[tuple[ts.Result, bool, Callable[[ts.Status], bool] | None]],
    expected: ts.Result,
) -> None:
    """GitHub's continue-on-error table (R2.3, R2.4, R3.2)."""
    job = ts.Job(
        [
            ts.Step(
                work(1, fail=r is F), id=f"s{i}", continue_on_error=coe, condition=cond
            )
            for i, (r, coe, cond) in enumerate(steps)
        ]
    )
    assert (await ts.run_job(job)).result is expected


# ------------------------------------------------------------ R2.4 / R2.5


async def test_r2_4_background_failure_reaches_the_job_once_via_the_wait(
    autojump_clock: trio.testing.MockClock,
) -> None:
    events: list[ts.Event] = []
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(2, fail=True), id="bg", background=True),
                ts.Wait("bg", id="w"),
                ts.Step(work(1), id="after", condition=ts.always),
            ]
        ),
        on_event=events.append,
    )
    assert results(report, "w") == (F, F)
    assert report.steps["bg"].completed_by == "w"
    assert report.result is F
    assert not report.steps.__contains__("__implicit_wait_all")
    assert events == list(report.events)


async def test_r2_4_unwaited_background_failure_merges_at_the_end(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(3, fail=True), id="bg", background=True),
                ts.Step(work(1), id="fg"),
                ts.Step(work(1), id="fg2"),
            ]
        )
    )
    # The failure is invisible to the main sequence (R5.1): fg2 ran.
    assert results(report, "fg2") == (S, S)
    assert report.steps["__implicit_wait_all"].completed_by is None
    assert report.steps["bg"].completed_by == "__implicit_wait_all"
    assert results(report, "__implicit_wait_all") == (F, F)
    assert report.result is F


async def test_r2_5_skipped_step_has_skipped_outcome_and_conclusion(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job([ts.Step(work(1), id="never", condition=ts.failure)])
    )
    assert results(report, "never") == (K, K)
    assert times(report, "never") == (None, None, None)
    assert report.result is S
    assert kinds(report, "never") == ["step-skipped", "step-finished"]


# --------------------------------------------------------------------- R3


async def test_r3_1_post_steps_default_to_always(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job([ts.Step(work(1, fail=True))], post_steps=[ts.Step(work(1), id="post")])
    )
    assert results(report, "post") == (S, S)
    assert report.result is F


async def test_r3_2_own_canceled_result_does_not_make_cancelled_true(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(forever(), id="svc", background=True),
                ts.Cancel("svc"),
                ts.Step(work(1), id="on_cancel", condition=ts.cancelled),
                ts.Step(work(1), id="on_success"),
            ]
        )
    )
    assert results(report, "on_cancel") == (K, K)
    assert results(report, "on_success") == (S, S)
    assert report.result is S


async def test_r3_3_background_condition_is_evaluated_at_launch_not_at_slot(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: list[ts.Result] = []

    def record(status: ts.Status) -> bool:
        seen.append(status.job_status)
        return True

    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(5), id="hog", background=True),
                ts.Step(work(1), id="queued", background=True, condition=record),
                ts.Step(work(1, fail=True), id="fails"),
                ts.WaitAll(),
            ],
            max_background=1,
        )
    )
    assert seen == [S]  # evaluated once, at launch, before the failure
    assert times(report, "queued") == (0.0, 5.0, 6.0)
    assert results(report, "queued") == (S, S)


async def test_r3_4_condition_that_raises_fails_step_and_job_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    def boom(status: ts.Status) -> bool:
        raise ZeroDivisionError("no")

    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(1), id="a"),
                ts.Step(work(1), id="bg", background=True, condition=boom),
                ts.Step(work(1), id="fg", condition=boom, continue_on_error=True),
                ts.Step(work(1), id="later"),
            ]
        )
    )
    for id in ("bg", "fg"):
        step = report.steps[id]
        assert (step.outcome, step.conclusion) == (F, F)  # coe does not apply
        assert (step.queued_at, step.started_at, step.completed_by) == (
            None,
            None,
            None,
        )
        assert step.error is not None and "ZeroDivisionError: no" in step.error
        assert "step-flushed" not in kinds(report, id)
    assert results(report, "later") == (K, K)
    assert report.result is F
    # I9 is structural: bg is declared and never waited for.
    assert report.steps["__implicit_wait_all"].outcome is S


async def test_r3_status_sees_visible_steps_and_env(
    autojump_clock: trio.testing.MockClock,
) -> None:
    captured: list[ts.Status] = []

    def look(status: ts.Status) -> bool:
        captured.append(status)
        return True

    await ts.run_job(
        ts.Job(
            [
                ts.Step(work(1, outputs={"x": "1"}), id="first"),
                ts.Step(work(1), id="second", condition=look, env={"E": "e"}),
            ],
            env={"J": "j"},
        )
    )
    (status,) = captured
    assert status.steps["FIRST"].outputs == {"x": "1"}
    assert status.steps["first"].conclusion is S
    assert "second" not in status.steps
    assert dict(status.env) == {"J": "j", "E": "e"}


# --------------------------------------------------------------------- R4


async def test_r4_1_foreground_runs_while_background_step_goes_on(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(10), id="bg", background=True),
                ts.Step(work(2), id="fg1"),
                ts.Step(work(3), id="fg2"),
                ts.Wait("bg", id="w"),
            ]
        )
    )
    assert times(report, "bg") == (0.0, 0.0, 10.0)
    assert times(report, "fg1") == (None, 0.0, 2.0)
    assert times(report, "fg2") == (None, 2.0, 5.0)
    assert times(report, "w") == (None, 5.0, 10.0)


async def test_r4_1_foreground_state_is_visible_at_once_and_path_goes_first(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: dict[str, object] = {}

    async def look(ctx: ts.StepContext) -> None:
        seen["out"] = ctx.steps["a"].outputs["k"]
        seen["env"] = ctx.env.get("NEW")
        seen["path"] = ctx.path

    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(
                    work(1, outputs={"k": "v"}, env={"NEW": "1"}, path=("/x", "/y")),
                    id="a",
                ),
                ts.Step(work(1, path=("/x",)), id="b"),
                ts.Step(look, id="c"),
            ]
        )
    )
    assert seen == {"out": "v", "env": "1", "path": ("/x", "/y")}
    assert report.path == ("/x", "/y")
    assert report.env["NEW"] == "1"


async def test_each_step_gets_a_fresh_env_and_later_steps_see_earlier_outputs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    envs: list[dict[str, str]] = []

    async def capture(ctx: ts.StepContext) -> None:
        envs.append(dict(ctx.env))
        ctx.set_output("n", str(len(envs)))

    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(capture, id="one", env={"ONLY_ONE": "x"}),
                ts.Step(capture, id="two"),
            ],
            env={"JOB": "j"},
        )
    )
    assert envs == [{"JOB": "j", "ONLY_ONE": "x"}, {"JOB": "j"}]
    assert report.steps["two"].outputs == {"n": "2"}


async def test_r4_2_background_sees_state_frozen_at_launch(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: dict[str, object] = {}

    async def late_look(ctx: ts.StepContext) -> None:
        await trio.sleep(5)
        seen["has_fg"] = "fg" in ctx.steps
        seen["env"] = ctx.env.get("FROM_FG")

    await ts.run_job(
        ts.Job(
            [
                ts.Step(late_look, id="bg", background=True),
                ts.Step(work(1, outputs={"o": "1"}, env={"FROM_FG": "1"}), id="fg"),
            ]
        )
    )
    assert seen == {"has_fg": False, "env": None}


async def test_r4_2_eleventh_background_step_queues_until_a_slot_frees(
    autojump_clock: trio.testing.MockClock,
) -> None:
    steps: list[ts.Step | ts.WaitAll] = [
        ts.Step(work(1 + i), id=f"b{i}", background=True) for i in range(11)
    ]
    report = await ts.run_job(ts.Job([*steps, ts.WaitAll()]))
    for i in range(10):
        assert times(report, f"b{i}") == (0.0, 0.0, 1.0 + i)
    assert times(report, "b10") == (0.0, 1.0, 12.0)  # b0's slot, at 1 s


async def test_r4_2_slots_go_in_launch_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(2), id="hog", background=True),
                ts.Step(work(1), id="q1", background=True),
                ts.Step(work(1), id="q2", background=True),
                ts.Step(work(1), id="q3", background=True),
                ts.WaitAll(),
            ],
            max_background=1,
        )
    )
    assert [report.steps[i].started_at for i in ("q1", "q2", "q3")] == [2.0, 3.0, 4.0]


async def test_r4_3_background_timeout_counts_from_the_slot(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(4), id="hog", background=True),
                ts.Step(work(10), id="late", background=True, timeout=3),
                ts.WaitAll(),
            ],
            max_background=1,
        )
    )
    assert times(report, "late") == (0.0, 4.0, 7.0)
    assert report.steps["late"].timed_out


async def test_r4_4_wait_blocks_until_its_target_finished(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(4, outputs={"x": "y"}), id="bg", background=True),
                ts.Wait("bg", id="w"),
                ts.Step(work(1), id="next"),
            ]
        )
    )
    assert times(report, "w") == (None, 0.0, 4.0)
    assert times(report, "next") == (None, 4.0, 5.0)
    assert list(kinds(report, "bg"))[-1] == "step-flushed"


async def test_r4_4_wait_outcome_ignores_skipped_and_cancel_targeted_canceled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(1), id="skipped", background=True, condition=ts.failure),
                ts.Step(forever(), id="svc", background=True),
                ts.Step(work(2), id="ok", background=True),
                ts.Cancel("svc"),
                ts.Wait(["skipped", "svc", "ok"], id="w"),
            ]
        )
    )
    assert results(report, "w") == (S, S)
    assert results(report, "svc") == (C, C)
    # svc was completed by the cancel step; the wait completes only ok.
    assert report.steps["svc"].completed_by == "__cancel_4"
    assert report.steps["ok"].completed_by == "w"
    assert report.steps["skipped"].completed_by is None


async def test_r4_4_wait_merges_in_listed_order_and_flushes_in_listed_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(1, env={"V": "a"}), id="a", background=True),
                ts.Step(work(2, env={"V": "b"}), id="b", background=True),
                ts.Wait(["b", "a"], id="w"),
            ]
        )
    )
    flushed = [e.step_id for e in report.events if e.kind == "step-flushed"]
    assert flushed == ["b", "a"]
    assert report.env["V"] == "a"  # R5.4: the later flush wins


async def test_r4_4_wait_outcome_of_job_cancelled_target_is_canceled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    runner_holder: list[ts.JobRunner] = []

    async def cancel_job(ctx: ts.StepContext) -> None:
        await trio.sleep(1)
        runner_holder[0].cancel()

    job = ts.Job(
        [
            ts.Step(forever(), id="svc", background=True),
            ts.Step(cancel_job, id="trigger"),
            ts.Wait("svc", id="w"),
        ]
    )
    runner = ts.JobRunner(job)
    runner_holder.append(runner)
    report = await runner.run()
    assert results(report, "w") == (C, C)
    assert report.result is C


async def test_r4_5_wait_all_waits_for_all_in_launch_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(3), id="a", background=True),
                ts.Step(work(1, fail=True), id="b", background=True),
                ts.WaitAll(id="all"),
                ts.WaitAll(id="again"),
            ]
        )
    )
    assert times(report, "all") == (None, 0.0, 3.0)
    assert results(report, "all") == (F, F)
    assert [e.step_id for e in report.events if e.kind == "step-flushed"] == ["a", "b"]
    assert results(report, "again") == (S, S)
    assert "Nothing left to wait for" in report.steps["again"].log
    assert times(report, "again") == (None, 3.0, 3.0)


async def test_r4_6_cancel_stops_running_and_queued_targets(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(forever(port="1"), id="svc", background=True),
                ts.Step(work(1), id="queued", background=True),
                ts.Step(work(2), id="fg"),
                ts.Cancel(["svc", "queued"], id="stop"),
                ts.Step(work(1), id="after"),
            ],
            max_background=1,
        )
    )
    svc, queued = report.steps["svc"], report.steps["queued"]
    assert (svc.outcome, svc.finished_at, svc.completed_by) == (C, 2.0, "stop")
    assert svc.explicitly_canceled
    assert svc.outputs == {"port": "1"}  # R5.3: what it wrote is flushed
    assert (queued.outcome, queued.started_at, queued.finished_at) == (C, None, 2.0)
    assert results(report, "stop") == (S, S)
    assert report.result is S
    assert times(report, "after") == (None, 2.0, 3.0)


async def test_r4_6_target_that_already_finished_is_flushed_not_stopped(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(1, fail=True), id="bg", background=True),
                ts.Step(work(2)),
                ts.Cancel("bg", id="c"),
            ]
        )
    )
    bg = report.steps["bg"]
    assert (bg.outcome, bg.explicitly_canceled, bg.completed_by) == (F, True, "c")
    assert "cancel-requested" not in kinds(report, "bg")
    # A step that already FAILED and is then cancelled still fails the job (I8).
    assert report.result is F


async def test_r4_6_target_ending_at_the_cancel_instant_is_not_stopped(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """timing.rst: natural activity at an instant comes before decisions."""
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(2), id="bg", background=True),
                ts.Step(work(2)),
                ts.Cancel("bg"),
            ]
        )
    )
    assert results(report, "bg") == (S, S)


async def test_cancelling_a_running_step_gives_canceled_and_job_succeeds(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(forever(), id="svc", background=True),
                ts.Step(work(1)),
                ts.Cancel("svc"),
            ]
        )
    )
    assert results(report, "svc") == (C, C)
    assert report.result is S


async def test_control_steps_run_after_a_failure(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(forever(), id="svc", background=True),
                ts.Step(work(1), id="b2", background=True),
                ts.Step(work(1, fail=True), id="boom"),
                ts.Step(work(1), id="skipped"),
                ts.Cancel("svc", id="c"),
                ts.Wait("b2", id="w"),
                ts.WaitAll(id="wa"),
            ]
        )
    )
    for id in ("c", "w", "wa"):
        assert report.steps[id].outcome is S
    assert results(report, "skipped") == (K, K)
    assert report.result is F


async def test_always_steps_run_after_a_cancelled_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(forever(), id="svc", background=True),
                ts.Cancel("svc"),
                ts.Step(work(1), id="alw", condition=ts.always),
            ]
        )
    )
    assert results(report, "alw") == (S, S)


@pytest.mark.parametrize(
    ("declared", "implicit"),
    [
        ([ts.Step(work(1), id="a", background=True)], True),
        ([ts.Step(work(1), id="a", background=True), ts.Wait("a")], False),
        ([ts.Step(work(1), id="a", background=True), ts.Cancel("a")], False),
        ([ts.Step(work(1), id="a", background=True), ts.WaitAll()], False),
        ([ts.WaitAll(), ts.Step(work(1), id="a", background=True)], True),
        ([ts.Parallel([ts.Step(work(1))])], False),
        ([ts.Step(work(1), id="a", background=True, condition=ts.failure)], True),
        ([ts.Step(work(1))], False),
    ],
)
async def test_r4_7_implicit_wait_all_reported_iff_something_is_left(
    autojump_clock: trio.testing.MockClock, declared: list[ts.Step], implicit: bool
) -> None:
    """R4.7 / I9."""
    report = await ts.run_job(ts.Job(declared))
    assert ("__implicit_wait_all" in report.steps) is implicit
    if implicit:
        step = report.steps["__implicit_wait_all"]
        assert (step.kind, step.name) == (
            "implicit-wait-all",
            "Wait for all background steps",
        )


async def test_r4_7_and_r4_8_post_steps_run_after_every_background_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [ts.Step(work(5), id="bg", background=True), ts.Step(work(1))],
            post_steps=[ts.Step(work(1), id="post")],
        )
    )
    assert times(report, "post") == (None, 5.0, 6.0)
    assert list(report.steps)[-1] == "post"


async def test_r4_7_end_flush_without_implicit_wait_all_after_hard_work(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A cancel-completed FAILED step merges at the end (R2.4.3, I8)."""
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(1, fail=True), id="bg", background=True),
                ts.Step(work(2)),
                ts.Cancel("bg"),
            ]
        )
    )
    assert "__implicit_wait_all" not in report.steps
    assert report.result is F


async def test_r4_9_parallel_is_launch_each_then_wait(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Parallel([ts.Step(work(2), id="p1"), ts.Step(work(3))], name="both"),
                ts.Step(work(1), id="after"),
            ],
            max_background=1,
        )
    )
    group = report.steps["p1"].group
    assert group == "__parallel_1"
    assert report.steps["__parallel_1_2"].group == group
    assert report.steps["__parallel_1_wait"].name == "both"
    assert times(report, "p1") == (0.0, 0.0, 2.0)
    assert times(report, "__parallel_1_2") == (0.0, 2.0, 5.0)
    assert times(report, "after") == (None, 5.0, 6.0)
    assert report.steps["p1"].completed_by == "__parallel_1_wait"


async def test_r4_10_second_wait_merges_again_but_does_not_flush_again(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(1, fail=True), id="bg", background=True),
                ts.Wait("bg", id="w1", continue_on_error=True),
                ts.Wait("bg", id="w2"),
            ]
        )
    )
    assert results(report, "w1") == (F, S)
    assert results(report, "w2") == (F, F)
    assert kinds(report, "bg").count("step-flushed") == 1
    assert report.steps["bg"].completed_by == "w1"


async def test_r4_11_control_steps_say_what_they_do(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(1), id="a", name="Alpha", background=True),
                ts.Step(forever(), id="b", name="Beta", background=True),
                ts.Wait("a", id="w"),
                ts.Cancel("b", id="c"),
            ]
        )
    )
    assert report.steps["w"].log == ("Waiting for: Alpha", "Alpha: success")
    assert report.steps["c"].log == ("Cancelling: Beta", "Beta: cancelled")


# --------------------------------------------------------------------- R5


async def test_r5_1_background_state_is_held_back_until_flushed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: list[tuple[bool, str | None]] = []

    async def look(ctx: ts.StepContext) -> None:
        seen.append(("bg" in ctx.steps, ctx.env.get("BG")))

    await ts.run_job(
        ts.Job(
            [
                ts.Step(
                    work(1, outputs={"o": "1"}, env={"BG": "1"}),
                    id="bg",
                    background=True,
                ),
                ts.Step(work(2)),
                ts.Step(look),
                ts.Wait("bg"),
                ts.Step(look),
            ]
        )
    )
    assert seen == [(False, None), (True, "1")]


async def test_r5_2_flush_publishes_outputs_env_path_then_results(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(0, path=("/a",)), id="fg"),
                ts.Step(
                    work(1, outputs={"o": "x"}, env={"E": "1"}, path=("/b", "/a")),
                    id="bg",
                    background=True,
                ),
                ts.Wait("bg"),
            ]
        )
    )
    assert report.path == ("/a", "/b")  # /a moved to the front
    assert report.env["E"] == "1"
    assert report.steps["bg"].outputs == {"o": "x"}


# --------------------------------------------------------------------- R6


async def test_r6_1_job_cancellation_reevaluates_the_running_foreground_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    holder: list[ts.JobRunner] = []

    async def cancel_soon(ctx: ts.StepContext) -> None:
        await trio.sleep(1)
        holder[0].cancel()
        await trio.sleep(3)

    job = ts.Job(
        [
            ts.Step(forever(), id="svc", background=True),
            ts.Step(cancel_soon, id="stopped"),
            ts.Step(work(1), id="skipped"),
            ts.Step(work(1), id="on_cancel", condition=ts.cancelled),
            ts.Step(work(1), id="late_bg", background=True, condition=ts.always),
            ts.Wait("late_bg", id="w"),
        ],
        post_steps=[ts.Step(work(1), id="post")],
    )
    runner = ts.JobRunner(job)
    holder.append(runner)
    report = await runner.run()
    assert report.result is C
    assert results(report, "svc") == (C, C)
    assert times(report, "svc") == (0.0, 0.0, 1.0)
    assert results(report, "stopped") == (C, C)
    assert results(report, "skipped") == (K, K)
    assert times(report, "on_cancel") == (None, 1.0, 2.0)
    # §11.9: launched after the cancellation, its condition holds: it runs.
    assert times(report, "late_bg") == (2.0, 2.0, 3.0)
    assert results(report, "late_bg") == (S, S)
    assert times(report, "post") == (None, 3.0, 4.0)
    assert [
        e.data["reason"] for e in report.events if e.kind == "job-cancel-requested"
    ] == ["cancel"]


async def test_r6_1_running_always_step_goes_on_after_job_cancellation(
    autojump_clock: trio.testing.MockClock,
) -> None:
    holder: list[ts.JobRunner] = []

    async def cancel_then_work(ctx: ts.StepContext) -> None:
        holder[0].cancel()
        await trio.sleep(2)

    runner = ts.JobRunner(
        ts.Job([ts.Step(cancel_then_work, id="a", condition=ts.always)])
    )
    holder.append(runner)
    report = await runner.run()
    assert results(report, "a") == (S, S)
    assert times(report, "a") == (None, 0.0, 2.0)
    assert report.result is C


async def test_r6_1_job_timeout_cancels_the_job(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(10), id="long"),
                ts.Step(work(1), id="cleanup", condition=ts.always),
            ],
            timeout=4,
            post_steps=[ts.Step(work(1), id="post")],
        )
    )
    assert report.result is C
    assert times(report, "long") == (None, 0.0, 4.0)
    assert times(report, "cleanup") == (None, 4.0, 5.0)
    assert times(report, "post") == (None, 5.0, 6.0)


async def test_r6_1_job_timeout_does_not_limit_post_steps(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job([ts.Step(work(1))], timeout=2, post_steps=[ts.Step(work(5), id="post")])
    )
    assert report.result is S
    assert results(report, "post") == (S, S)


async def test_r6_1_job_cancelled_before_run(
    autojump_clock: trio.testing.MockClock,
) -> None:
    runner = ts.JobRunner(
        ts.Job(
            [ts.Step(work(1), id="a"), ts.Step(work(1), id="b", condition=ts.cancelled)]
        )
    )
    runner.cancel()
    report = await runner.run()
    assert results(report, "a") == (K, K)
    assert results(report, "b") == (S, S)
    assert report.result is C


async def test_r6_2_hard_stop_finalises_the_report_then_propagates(
    autojump_clock: trio.testing.MockClock,
) -> None:
    job = ts.Job(
        [
            ts.Step(work(10, ignore_stop=1), id="bg", background=True),
            ts.Step(work(1), id="queued", background=True),
            ts.Step(work(10), id="fg"),
            ts.Step(work(1), id="never"),
        ],
        post_steps=[ts.Step(work(1), id="post")],
        max_background=1,
    )
    runner = ts.JobRunner(job)
    with trio.move_on_after(3) as scope:
        await runner.run()
    assert scope.cancelled_caught
    assert trio.current_time() == 4.0  # bg took 1 s to stop
    report = runner.report
    assert report.finished
    assert report.result is C
    assert times(report, "bg") == (0.0, 0.0, 4.0)
    assert results(report, "bg") == (C, C)
    assert times(report, "queued") == (0.0, None, 3.0)
    assert results(report, "queued") == (C, C)
    assert results(report, "fg") == (C, C)
    assert results(report, "never") == (K, K)
    assert results(report, "post") == (K, K)
    assert report.events[-1].kind == "job-finished"


async def test_r6_3_queued_step_stopped_ends_canceled_without_starting(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """§11.1: the runner never completes a step cancelled while queued."""
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(5), id="hog", background=True),
                ts.Step(work(1), id="q", background=True),
                ts.Cancel("q", id="c"),
            ],
            max_background=1,
        )
    )
    assert times(report, "q") == (0.0, None, 0.0)
    assert results(report, "q") == (C, C)
    assert "step-started" not in kinds(report, "q")
    assert times(report, "c") == (None, 0.0, 0.0)


async def test_r6_3_slot_held_until_the_stopped_step_really_ended(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(100, ignore_stop=2), id="slow_stop", background=True),
                ts.Step(work(1), id="next", background=True),
                ts.Step(work(1)),
                ts.Cancel("slow_stop", id="c"),
                ts.Wait("next"),
            ],
            max_background=1,
        )
    )
    assert times(report, "slow_stop") == (0.0, 0.0, 3.0)
    assert times(report, "c") == (None, 1.0, 3.0)
    assert times(report, "next") == (0.0, 3.0, 4.0)


async def test_r6_4_step_that_ignores_the_stop_is_abandoned_and_frees_its_slot(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """§11.2: abandoned after both graces; run() still waits for the task."""
    finished: list[float] = []

    async def stubborn(ctx: ts.StepContext) -> None:
        try:
            await trio.sleep_forever()
        finally:
            with trio.CancelScope(shield=True):
                await trio.sleep(20)
                finished.append(trio.current_time())

    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(stubborn, id="stubborn", background=True),
                ts.Step(work(1), id="next", background=True),
                ts.Cancel("stubborn", id="c"),
                ts.Wait("next", id="w"),
            ],
            max_background=1,
            interrupt_grace=2,
            terminate_grace=1,
        )
    )
    step = report.steps["stubborn"]
    assert (step.outcome, step.abandoned, step.finished_at) == (C, True, 3.0)
    assert times(report, "c") == (None, 0.0, 3.0)
    assert times(report, "next") == (0.0, 3.0, 4.0)
    assert finished == [20.0]
    assert trio.current_time() == 20.0
    assert report.events[-1].time == 20.0
    assert kinds(report, "stubborn").count("grace-expired") == 1


@pytest.mark.parametrize("grace", [0.0, 3.0])
async def test_r6_4_step_ending_at_the_give_up_instant_is_not_abandoned(
    autojump_clock: trio.testing.MockClock, grace: float
) -> None:
    """R6.4 determinism: code ending at the give-up instant wins."""

    async def ends_at_the_instant(ctx: ts.StepContext) -> None:
        try:
            await trio.sleep_forever()
        finally:
            with trio.CancelScope(shield=True):
                await trio.sleep(grace)
                for _ in range(5):
                    await trio.lowlevel.checkpoint()

    for _ in range(3):
        report = await ts.run_job(
            ts.Job(
                [
                    ts.Step(ends_at_the_instant, id="s", background=True),
                    ts.Cancel("s"),
                ],
                interrupt_grace=grace / 2,
                terminate_grace=grace / 2,
            )
        )
        assert not report.steps["s"].abandoned
        assert results(report, "s") == (C, C)


async def test_r6_4_abandoned_foreground_step_lets_the_main_sequence_move_on(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def shielded(ctx: ts.StepContext) -> None:
        with trio.CancelScope(shield=True):
            await trio.sleep(30)

    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(shielded, id="fg", timeout=5),
                ts.Step(work(1), id="after", condition=ts.always),
            ],
            interrupt_grace=1,
            terminate_grace=1,
        )
    )
    fg = report.steps["fg"]
    assert (fg.outcome, fg.timed_out, fg.abandoned, fg.finished_at) == (
        F,
        True,
        True,
        7.0,
    )
    assert times(report, "after") == (None, 7.0, 8.0)
    assert trio.current_time() == 30.0


async def test_r6_5_keyboard_interrupt_is_never_swallowed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def interrupt(ctx: ts.StepContext) -> None:
        await trio.sleep(1)
        raise KeyboardInterrupt

    runner = ts.JobRunner(
        ts.Job(
            [
                ts.Step(work(10), id="bg", background=True),
                ts.Step(interrupt, id="ki"),
                ts.Step(work(1), id="never"),
            ]
        )
    )
    caught: list[BaseException] = []
    try:
        await runner.run()
    except* KeyboardInterrupt as group:
        caught.append(group)
    assert caught, "KeyboardInterrupt was swallowed"
    report = runner.report
    assert report.finished
    assert report.result is C
    assert results(report, "bg") == (C, C)
    assert results(report, "ki") == (C, C)
    assert results(report, "never") == (K, K)


async def test_r6_6_timeout_and_cancel_at_the_same_instant_timeout_wins(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """timing.rst: decisions due together apply in registration order."""
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(10), id="bg", background=True, timeout=2),
                ts.Step(work(2)),
                ts.Cancel("bg"),
            ]
        )
    )
    bg = report.steps["bg"]
    assert (bg.outcome, bg.timed_out, bg.explicitly_canceled) == (F, True, True)
    assert report.result is F  # an explicitly cancelled step that FAILED (I8)


# ------------------------------------------------------------ §11 and more


async def test_11_8_ids_match_case_insensitively(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [ts.Step(work(1), id="Build", background=True), ts.Wait("BUILD", id="w")]
        )
    )
    assert report.steps["build"].completed_by == "w"


async def test_11_7_continue_on_error_on_wait_all_is_honoured(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(1, fail=True), background=True),
                ts.WaitAll(id="wa", continue_on_error=True),
            ]
        )
    )
    assert results(report, "wa") == (F, S)
    assert report.result is S


async def test_a_step_writing_a_non_string_output_fails_even_if_it_catches(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def sneaky(ctx: ts.StepContext) -> None:
        try:
            ctx.set_output("n", 3)  # type: ignore[arg-type]
        except TypeError:
            pass

    report = await ts.run_job(ts.Job([ts.Step(sneaky, id="s")]))
    assert results(report, "s") == (F, F)
    assert report.steps["s"].error == "output 'n' value must be a string, not int"


async def test_a_sync_function_fails_the_step_with_a_clear_message(
    autojump_clock: trio.testing.MockClock,
) -> None:
    def not_async(ctx: ts.StepContext) -> None:
        return None

    report = await ts.run_job(ts.Job([ts.Step(not_async, id="s")]))  # type: ignore[arg-type]
    assert results(report, "s") == (F, F)
    assert "use 'async def'" in (report.steps["s"].error or "")


async def test_step_tasks_started_with_start_soon_are_supervised(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ended: list[float] = []

    async def helper() -> None:
        try:
            await trio.sleep_forever()
        finally:
            ended.append(trio.current_time())

    async def with_helper(ctx: ts.StepContext) -> None:
        ctx.start_soon(helper)
        await trio.sleep_forever()

    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(with_helper, id="h", background=True),
                ts.Step(work(2)),
                ts.Cancel("h"),
            ]
        )
    )
    assert ended == [2.0]
    assert results(report, "h") == (C, C)


async def test_events_are_delivered_live_and_kept_in_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    live: list[ts.Event] = []

    async def peek(ctx: ts.StepContext) -> None:
        assert runner.report.steps["a"].conclusion is S
        assert not runner.report.finished
        ctx.log("hello")

    runner = ts.JobRunner(
        ts.Job([ts.Step(work(1), id="a"), ts.Step(peek, id="b")]), on_event=live.append
    )
    report = await runner.run()
    assert live == list(report.events)
    assert [str(e.kind) for e in report.events] == [
        "job-started",
        "step-started",
        "step-finished",
        "step-started",
        "step-output",
        "step-finished",
        "job-finished",
    ]
    assert report.events[4].data == {"line": "hello", "stream": "log"}
    assert all(isinstance(e, ts.Event) for e in report.events)
    assert report.steps["b"].log == ("hello",)


async def test_on_event_errors_are_raised_after_the_job(
    autojump_clock: trio.testing.MockClock,
) -> None:
    calls: list[str] = []

    def bad(event: ts.Event) -> None:
        calls.append(str(event.kind))
        raise ValueError("subscriber bug")

    runner = ts.JobRunner(ts.Job([ts.Step(work(1), id="a")]), on_event=bad)
    with pytest.raises(ValueError, match="subscriber bug"):
        await runner.run()
    assert calls == ["job-started"]
    assert runner.report.steps["a"].conclusion is S


async def test_secrets_are_masked_in_logs_events_and_errors(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def leak(ctx: ts.StepContext) -> None:
        ctx.log("token is hunter2!")
        raise RuntimeError("bad hunter2")

    report = await ts.run_job(
        ts.Job([ts.Step(leak, id="s")], secrets={"TOKEN": "hunter2"})
    )
    log = report.steps["s"].log  # with the traceback (issue 12, item 23)
    assert (log[0], log[1], log[-1]) == (
        "token is ***!",
        "Traceback (most recent call last):",
        "RuntimeError: bad ***",
    )
    assert not any("hunter2" in line for line in log)
    assert report.steps["s"].error == "RuntimeError: bad ***"
    assert not any("hunter2" in str(e.data) for e in report.events)


async def test_log_tail_is_bounded(autojump_clock: trio.testing.MockClock) -> None:
    from trio_steps._engine._recorder import LOG_TAIL

    lines: list[str] = []

    async def chatty(ctx: ts.StepContext) -> None:
        for i in range(LOG_TAIL + 50):
            ctx.log(f"line {i}")

    report = await ts.run_job(
        ts.Job([ts.Step(chatty, id="c")]),
        on_event=lambda e: (
            lines.append(str(e.data["line"])) if e.kind == "step-output" else None
        ),
    )
    assert len(lines) == LOG_TAIL + 50
    assert len(report.steps["c"].log) == LOG_TAIL
    assert report.steps["c"].log[0] == "line 50"
    assert sum(1 for e in report.events if e.kind == "step-output") == LOG_TAIL


async def test_log_dir_keeps_every_line(
    autojump_clock: trio.testing.MockClock, tmp_path: object
) -> None:
    import pathlib

    assert isinstance(tmp_path, pathlib.Path)

    async def chatty(ctx: ts.StepContext) -> None:
        for i in range(1500):
            ctx.log(f"line {i}")

    await ts.run_job(ts.Job([ts.Step(chatty, id="c")]), log_dir=tmp_path)
    text = (tmp_path / "c.log").read_text().splitlines()
    assert text[0] == "line 0" and text[-1] == "line 1499" and len(text) == 1500


async def test_a_runner_runs_once(autojump_clock: trio.testing.MockClock) -> None:
    runner = ts.JobRunner(ts.Job([ts.Step(work(0))]))
    await runner.run()
    with pytest.raises(RuntimeError):
        await runner.run()


async def test_i10_same_job_same_report(autojump_clock: trio.testing.MockClock) -> None:
    def job() -> ts.Job:
        return ts.Job(
            [
                ts.Step(work(3, fail=True), id="a", background=True),
                ts.Step(work(3, ignore_stop=5), id="b", background=True, timeout=1),
                ts.Parallel([ts.Step(work(1)), ts.Step(work(2, fail=True))]),
                ts.Cancel("a"),
            ],
            max_background=2,
            interrupt_grace=0.5,
            terminate_grace=0.5,
        )

    reports = []
    for _ in range(5):
        start = trio.current_time()
        report = await ts.run_job(job())
        shifted = {
            id: (
                s.outcome,
                s.conclusion,
                s.completed_by,
                s.abandoned,
                s.timed_out,
                *tuple(
                    None if t is None else t - start
                    for t in (s.queued_at, s.started_at, s.finished_at)
                ),
            )
            for id, s in report.steps.items()
        }
        reports.append((report.result, shifted))
    assert all(r == reports[0] for r in reports)
    result, steps = reports[0]
    assert steps["b"][:5] == (F, F, "__implicit_wait_all", True, True)
    assert result is F


async def test_11_6_skipped_background_step_is_visible_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """§11.6: the runner never sets a skipped background step's outcome."""
    seen: list[tuple[ts.Result, ts.Result]] = []

    async def look(ctx: ts.StepContext) -> None:
        view = ctx.steps["bg"]
        seen.append((view.outcome, view.conclusion))

    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(1), id="bg", background=True, condition=ts.failure),
                ts.Step(look, id="next"),
            ]
        )
    )
    assert seen == [(K, K)]
    assert "step-flushed" not in kinds(report, "bg")
    assert report.steps["bg"].completed_by is None


async def test_11_10_wait_with_no_ids_is_a_definition_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with pytest.raises(ts.JobDefinitionError, match="at least one step id"):
        ts.Wait([])


async def test_an_error_of_the_engine_itself_propagates_not_hangs(
    autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in the engine raises out of run(); it must never hang the job."""

    def broken(self: object, r: object) -> None:
        raise RuntimeError("engine bug")

    monkeypatch.setattr(JobContexts, "publish", broken)
    # b is never reached: finishing the job skips (and so publishes) it,
    # which fails again while the job is being finalised.
    runner = ts.JobRunner(ts.Job([ts.Step(work(1), id="a"), ts.Step(work(1), id="b")]))
    hung = False

    async def watchdog() -> None:
        nonlocal hung
        await trio.sleep(60)
        # run() waits for the job's end shielded: release it, then fail.
        hung = True
        runner._finished_event.set()

    with pytest.RaisesGroup(
        pytest.RaisesExc(RuntimeError, match="engine bug"), flatten_subgroups=True
    ):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watchdog)
            try:
                await runner.run()
            finally:
                nursery.cancel_scope.cancel()
    assert not hung
