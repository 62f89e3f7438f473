"""Whole workflows on Trio's autojump MockClock, with exact times (rules §15)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
import trio
import trio.testing

import trio_steps as ts

from .engine_helpers import forever, work

S, F, C, K = (
    ts.Result.SUCCEEDED,
    ts.Result.FAILED,
    ts.Result.CANCELED,
    ts.Result.SKIPPED,
)


def wj(
    id: str,
    *steps: ts.Step,
    env: Mapping[str, str] | None = None,
    post: tuple[ts.Step, ...] = (),
    **kw: object,
) -> ts.WorkflowJob:
    return ts.WorkflowJob(
        id=id,
        job=ts.Job(steps or [ts.Step(work(1))], env=env, post_steps=post),
        **kw,  # type: ignore[arg-type]
    )


async def by_env(ctx: ts.StepContext) -> None:
    """Sleeps ``T`` seconds, then fails if ``FAIL`` is ``1``."""
    try:
        await trio.sleep(float(ctx.env["T"]))
    except trio.Cancelled:
        ctx.log("stopped")
        raise
    if ctx.env.get("FAIL") == "1":
        raise RuntimeError("failed on purpose")


def span(report: ts.WorkflowReport, key: str) -> tuple[float | None, float | None]:
    job = report.jobs[key]
    return (job.started_at, job.finished_at)


# ------------------------------------------------------------------ R15.2


async def test_r15_2_needs_order_and_concurrency(
    autojump_clock: trio.testing.MockClock,
) -> None:
    workflow = ts.Workflow(
        [
            wj("a", ts.Step(work(1))),
            wj("b", ts.Step(work(2)), needs="a"),
            wj("c", ts.Step(work(5))),
            wj("d", ts.Step(work(1)), needs=["b", "c"]),
        ]
    )
    report = await ts.run_workflow(workflow, max_jobs=4)
    assert span(report, "a") == (0, 1)
    assert span(report, "b") == (1, 3)
    assert span(report, "c") == (0, 5)
    assert span(report, "d") == (5, 6)
    assert report.result is S
    assert list(report.jobs) == ["a", "b", "c", "d"]
    assert report.jobs["b"].report is not None
    assert report.jobs["b"].report.result is S


async def test_r15_2_max_jobs_limits_running_jobs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    workflow = ts.Workflow([wj(x, ts.Step(work(2))) for x in "abc"])
    report = await ts.run_workflow(workflow, max_jobs=2)
    assert span(report, "a") == (0, 2)
    assert span(report, "b") == (0, 2)
    assert span(report, "c") == (2, 4)
    assert report.jobs["c"].queued_at == 0


async def test_r15_2_default_max_jobs_is_the_cpu_count() -> None:
    import os

    runner = ts.WorkflowRunner(ts.Workflow([wj("a")]))
    assert runner.max_jobs == (os.cpu_count() or 1)
    with pytest.raises(ts.JobDefinitionError):
        ts.WorkflowRunner(ts.Workflow([wj("a")]), max_jobs=0)


async def test_r15_2_failed_need_skips_unless_if_says_otherwise(
    autojump_clock: trio.testing.MockClock,
) -> None:
    workflow = ts.Workflow(
        [
            wj("a", ts.Step(work(1, fail=True))),
            wj("plain", needs="a"),
            wj("always", needs="a", condition="always()"),
            wj("on_failure", needs="a", condition="${{ failure() }}"),
            wj("not_cancelled", needs="a", condition="!cancelled()"),
            wj("result", needs="a", condition="needs.a.result == 'failure'"),
            wj("grandchild", needs="plain", condition="failure()"),
            wj("after_skip", needs="plain"),
        ]
    )
    report = await ts.run_workflow(workflow, max_jobs=8)
    assert report.jobs["a"].result is F
    assert report.jobs["plain"].result is K
    assert report.jobs["plain"].report is None
    assert report.jobs["plain"].reason == "if: success() was false"
    for ran in ("always", "on_failure", "not_cancelled"):
        assert report.jobs[ran].result is S
        assert span(report, ran) == (1, 2)
    # Without a status function, the condition means success() && (...).
    assert report.jobs["result"].result is K
    # failure() looks at every ancestor, not just the direct needs.
    assert report.jobs["grandchild"].result is S
    assert report.jobs["after_skip"].result is K
    assert report.result is F


async def test_r15_3_needs_outputs_and_result_reach_later_jobs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: dict[str, str] = {}

    async def read(ctx: ts.StepContext) -> None:
        seen.update(ctx.env)

    workflow = ts.Workflow(
        [
            wj(
                "a",
                ts.Step(work(1, outputs={"tag": "v1"}), id="t"),
                outputs={
                    "tag": "${{ steps.t.outputs.tag }}-x",
                    "outcome": "${{ steps.t.outcome }}",
                    "secret": "token=${{ secrets.TOKEN }}",
                },
            ),
            wj(
                "b",
                ts.Step(read),
                needs="a",
                env={
                    "TAG": "${{ needs.a.outputs.tag }}",
                    "RESULT": "${{ needs.a.result }}",
                    "SECRET": "${{ needs.a.outputs.secret }}",
                },
            ),
        ]
    )
    a = workflow.jobs[0]
    workflow = ts.Workflow(
        [
            ts.WorkflowJob(
                id="a",
                job=a.job.evolve(secrets={"TOKEN": "hunter2"}),
                outputs=a.outputs,
            ),
            workflow.jobs[1],
        ]
    )
    report = await ts.run_workflow(workflow)
    assert report.jobs["a"].outputs == {
        "tag": "v1-x",
        "outcome": "success",
        "secret": "token=***",
    }
    assert seen["TAG"] == "v1-x"
    assert seen["RESULT"] == "success"
    assert seen["SECRET"] == "token=***"
    assert "hunter2" not in repr(report)


async def test_r15_3_a_failing_output_expression_fails_the_job(
    autojump_clock: trio.testing.MockClock,
) -> None:
    workflow = ts.Workflow([wj("a", outputs={"x": "${{ fromJSON('{') }}"})])
    report = await ts.run_workflow(workflow)
    assert report.jobs["a"].result is F
    assert report.jobs["a"].reason is not None
    assert report.jobs["a"].reason.startswith("outputs: ")
    assert report.result is F


async def test_r15_2_if_error_fails_the_job_and_nothing_runs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    workflow = ts.Workflow(
        [wj("a", condition="fromJSON('{')"), wj("b", needs="a", condition="always()")]
    )
    report = await ts.run_workflow(workflow)
    assert report.jobs["a"].result is F
    assert report.jobs["a"].report is None
    assert report.jobs["b"].result is S


# ------------------------------------------------------------------ R15.4 / 5


async def test_r15_4_matrix_jobs_see_their_values(
    autojump_clock: trio.testing.MockClock,
) -> None:
    workflow = ts.Workflow(
        [
            wj(
                "test",
                ts.Step(by_env),
                env={"T": "${{ matrix.t }}", "I": "${{ strategy.job-index }}"},
                matrix={"t": [3, 1], "os": ["a"]},
            )
        ]
    )
    report = await ts.run_workflow(workflow)
    assert span(report, "test (3, a)") == (0, 3)
    assert span(report, "test (1, a)") == (0, 1)
    assert report.jobs["test (3, a)"].name == "test (3, a)"
    assert report.jobs["test (1, a)"].matrix == {"t": 1, "os": "a"}
    job_report = report.jobs["test (1, a)"].report
    assert job_report is not None
    assert job_report.env["I"] == "1"
    assert list(report.jobs) == ["test (3, a)", "test (1, a)"]  # matrix order


async def test_r15_5_fail_fast_cancels_running_and_queued_promptly(
    autojump_clock: trio.testing.MockClock,
) -> None:
    always = ts.Step(work(2), id="cleanup", condition="always()")
    workflow = ts.Workflow(
        [
            wj(
                "m",
                ts.Step(by_env, id="main"),
                always,
                env={"T": "${{ matrix.t }}", "FAIL": "${{ matrix.fail }}"},
                matrix={
                    "t": [10, 3, 10, 10],
                    "include": [{"t": 3, "fail": 1}],
                },
                max_parallel=3,
            ),
            wj("after", needs="m", condition="always()"),
        ]
    )
    report = await ts.run_workflow(workflow, max_jobs=8)
    failed = report.jobs["m (3, 1)"]
    assert failed.result is F
    assert (failed.started_at, failed.finished_at) == (0, 5)  # 3 + cleanup 2
    # Fail-fast acts when the failed job ends (t=5): the two running
    # siblings are cancelled then, run their always() cleanup (2s) and end
    # at t=7; the queued one never starts.
    running = [
        k
        for k, j in report.jobs.items()
        if j.id == "m" and j.report is not None and k != failed.key
    ]
    assert len(running) == 2
    for key in running:
        job = report.jobs[key]
        assert job.result is C
        assert job.reason == "fail-fast: m (3, 1) failed"
        assert job.report is not None
        assert job.report.steps["main"].finished_at == 5
        assert job.report.steps["cleanup"].conclusion is S
        assert job.finished_at == 7
    queued = [j for j in report.jobs.values() if j.id == "m" and j.report is None]
    assert len(queued) == 1
    assert queued[0].result is C
    assert queued[0].finished_at == 5
    assert report.jobs["after"].started_at == 7
    assert report.results() == {"m": F, "after": S}


async def test_r15_5_without_fail_fast_siblings_finish(
    autojump_clock: trio.testing.MockClock,
) -> None:
    workflow = ts.Workflow(
        [
            wj(
                "m",
                ts.Step(by_env),
                env={"T": "${{ matrix.t }}", "FAIL": "${{ matrix.fail }}"},
                matrix={"t": [1, 4], "include": [{"t": 1, "fail": 1}]},
                fail_fast=False,
            )
        ]
    )
    report = await ts.run_workflow(workflow)
    assert report.jobs["m (4)"].result is S
    assert span(report, "m (4)") == (0, 4)
    assert report.jobs["m (1, 1)"].result is F


async def test_r15_5_max_parallel(autojump_clock: trio.testing.MockClock) -> None:
    workflow = ts.Workflow(
        [
            wj(
                "m",
                ts.Step(by_env),
                env={"T": "2"},
                matrix={"x": [1, 2, 3]},
                max_parallel=1,
            )
        ]
    )
    report = await ts.run_workflow(workflow, max_jobs=8)
    assert [span(report, f"m ({x})") for x in (1, 2, 3)] == [(0, 2), (2, 4), (4, 6)]


async def test_r15_7_continue_on_error_from_matrix(
    autojump_clock: trio.testing.MockClock,
) -> None:
    workflow = ts.Workflow(
        [
            wj(
                "m",
                ts.Step(by_env),
                env={"T": "1", "FAIL": "1"},
                matrix={"exp": [True, False]},
                continue_on_error="${{ matrix.exp }}",
                fail_fast=False,
            ),
            wj("after", needs="m", condition="always()"),
        ]
    )
    report = await ts.run_workflow(workflow)
    allowed = report.jobs["m (true)"]
    assert (allowed.outcome, allowed.result) == (F, S)
    assert (report.jobs["m (false)"].outcome, report.jobs["m (false)"].result) == (F, F)
    assert report.result is F


async def test_r15_7_continue_on_error_does_not_fail_the_workflow(
    autojump_clock: trio.testing.MockClock,
) -> None:
    workflow = ts.Workflow(
        [
            wj("a", ts.Step(work(1, fail=True)), continue_on_error=True),
            wj("b", needs="a"),
        ]
    )
    report = await ts.run_workflow(workflow)
    assert (report.jobs["a"].outcome, report.jobs["a"].result) == (F, S)
    assert report.jobs["b"].result is S
    assert report.result is S


async def test_r15_4_matrix_from_expression_of_needs_outputs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    workflow = ts.Workflow(
        [
            wj(
                "setup",
                ts.Step(work(1, outputs={"m": '{"t": [1, 2]}'}), id="s"),
                outputs={"m": "${{ steps.s.outputs.m }}"},
            ),
            wj(
                "test",
                ts.Step(by_env),
                env={"T": "${{ matrix.t }}"},
                needs="setup",
                matrix="${{ fromJSON(needs.setup.outputs.m) }}",
            ),
            wj("bad", matrix="${{ fromJSON('[1]') }}"),
        ]
    )
    report = await ts.run_workflow(workflow)
    assert span(report, "test (1)") == (1, 2)
    assert span(report, "test (2)") == (1, 3)
    assert report.jobs["bad"].result is F
    assert report.jobs["bad"].reason == (
        "strategy.matrix: strategy.matrix must evaluate to a mapping, not list"
    )


async def test_r15_7_timeout_minutes_from_an_expression(
    autojump_clock: trio.testing.MockClock,
) -> None:
    workflow = ts.Workflow(
        [
            wj(
                "m",
                ts.Step(work(600)),
                matrix={"minutes": [1, "x"]},
                timeout_minutes="${{ matrix.minutes }}",
                fail_fast=False,
            )
        ]
    )
    report = await ts.run_workflow(workflow)
    timed = report.jobs["m (1)"]
    assert timed.result is C
    assert timed.finished_at == 60
    assert report.jobs["m (x)"].result is F
    assert report.jobs["m (x)"].reason == (
        "timeout-minutes must be a positive number, not 'x'"
    )


# ------------------------------------------------------------------ R15.8


async def test_r15_8_cancel_runs_always_steps_and_if_always_jobs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    workflow = ts.Workflow(
        [
            wj(
                "a",
                ts.Step(forever(), id="service", background=True),
                ts.Step(work(100), id="main"),
                ts.Step(work(1), id="cleanup", condition="cancelled()"),
            ),
            wj("b", needs="a"),
            wj("c", needs="a", condition="always()"),
            wj("d", ts.Step(work(1))),
            wj("e", needs="d", condition="cancelled()"),
        ]
    )
    runner = ts.WorkflowRunner(workflow, max_jobs=1)
    async with trio.open_nursery() as nursery:

        async def run() -> None:
            runner_report = await runner.run()
            assert runner_report.result is C

        nursery.start_soon(run)
        await trio.sleep(10)
        runner.cancel()
        runner.cancel()  # a second call does nothing
    report = runner.report
    a = report.jobs["a"]
    assert a.result is C
    assert a.finished_at == 11
    assert a.report is not None
    assert a.report.steps["cleanup"].conclusion is S
    assert a.report.steps["service"].conclusion is C
    assert report.jobs["b"].result is C
    assert report.jobs["b"].report is None
    # e became ready (and queued) at t=10, before c: it runs first.
    assert span(report, "e") == (11, 12)
    assert span(report, "c") == (12, 13)
    # d was queued behind a (max_jobs=1): it never starts.
    assert report.jobs["d"].result is C
    assert report.jobs["d"].report is None
    assert report.cancelled


async def test_r15_8_hard_stop_keeps_the_reports(
    autojump_clock: trio.testing.MockClock,
) -> None:
    workflow = ts.Workflow([wj("a", ts.Step(work(100), id="main")), wj("b", needs="a")])
    runner = ts.WorkflowRunner(workflow)
    with trio.move_on_after(5):
        await runner.run()
    report = runner.report
    assert report.jobs["a"].result is C
    assert report.jobs["a"].finished_at == 5
    assert "b" not in report.jobs


async def test_r15_8_runner_runs_once(autojump_clock: trio.testing.MockClock) -> None:
    runner = ts.WorkflowRunner(ts.Workflow([wj("a")]))
    await runner.run()
    with pytest.raises(RuntimeError):
        await runner.run()


async def test_r15_9_events_and_job_reports_by_key(
    autojump_clock: trio.testing.MockClock,
) -> None:
    events: list[tuple[str, str]] = []
    ended: list[str] = []
    workflow = ts.Workflow(
        [wj("a", matrix={"x": [1, 2]}), wj("b", needs="a", condition="false")]
    )
    await ts.run_workflow(
        workflow,
        on_event=lambda key, event: events.append((key, str(event.kind))),
        on_job=lambda job: ended.append(job.key),
    )
    assert ("a (1)", "job-started") in events
    assert ("a (2)", "job-finished") in events
    assert {key for key, _ in events} == {"a (1)", "a (2)"}
    assert sorted(ended[:2]) == ["a (1)", "a (2)"]
    assert ended[2] == "b"


async def test_r15_9_log_dir_per_job(
    autojump_clock: trio.testing.MockClock, tmp_path: object
) -> None:
    import pathlib

    assert isinstance(tmp_path, pathlib.Path)
    workflow = ts.Workflow(
        [wj("a", ts.Step(work(1, lines=1), id="s"), matrix={"x": [1]})]
    )
    await ts.run_workflow(workflow, log_dir=tmp_path)
    assert (tmp_path / "a_1_" / "s.log").read_text() == "line 0\n"


async def test_r15_7_runs_on_is_evaluated_and_reported(
    autojump_clock: trio.testing.MockClock,
) -> None:
    workflow = ts.Workflow(
        [
            wj("m", matrix={"os": ["linux"]}, runs_on="${{ matrix.os }}-latest"),
            wj("plain", runs_on=["self-hosted", "x64"]),
        ]
    )
    report = await ts.run_workflow(workflow)
    assert report.jobs["m (linux)"].runs_on == "linux-latest"
    assert report.jobs["plain"].runs_on == ["self-hosted", "x64"]


async def test_r15_2_a_job_env_that_fails_fails_only_its_job(
    autojump_clock: trio.testing.MockClock,
) -> None:
    workflow = ts.Workflow(
        [
            wj("a", env={"X": "${{ fromJSON('{') }}"}),
            wj("b", needs="a", condition="failure()"),
        ]
    )
    report = await ts.run_workflow(workflow)
    assert report.jobs["a"].result is F
    assert report.jobs["a"].report is None
    assert report.jobs["a"].reason is not None
    assert "job env 'X'" in report.jobs["a"].reason
    assert span(report, "b") == (0, 1)


async def test_r15_6_job_name_from_matrix_has_no_suffix(
    autojump_clock: trio.testing.MockClock,
) -> None:
    workflow = ts.Workflow(
        [
            ts.WorkflowJob(
                id="t",
                job=ts.Job([ts.Step(work(1))], name="test on ${{ matrix.os }}"),
                matrix={"os": ["a", "b"]},
            )
        ]
    )
    report = await ts.run_workflow(workflow)
    assert [j.name for j in report.jobs.values()] == ["test on a", "test on b"]
    assert list(report.jobs) == ["t (a)", "t (b)"]


async def test_r15_6_job_if_sees_github_and_vars(
    autojump_clock: trio.testing.MockClock,
) -> None:
    job = ts.Job(
        [ts.Step(work(1))],
        github={"event_name": "pull_request"},
        vars={"DEPLOY": "yes"},
    )
    workflow = ts.Workflow(
        [
            ts.WorkflowJob(id="push", job=job, condition="github.event_name == 'push'"),
            ts.WorkflowJob(
                id="pr", job=job, condition="github.event_name == 'pull_request'"
            ),
            ts.WorkflowJob(id="var", job=job, condition="${{ vars.DEPLOY == 'yes' }}"),
        ]
    )
    report = await ts.run_workflow(workflow, max_jobs=3)
    assert report.results() == {"push": K, "pr": S, "var": S}


async def test_r15_9_a_callback_that_raises_hard_stops_every_job(
    autojump_clock: trio.testing.MockClock,
) -> None:
    def on_job(job: ts.WorkflowJobReport) -> None:
        if job.key == "quick":
            raise ValueError("printer broke")

    workflow = ts.Workflow(
        [wj("quick", ts.Step(work(1))), wj("slow", ts.Step(work(100)))]
    )
    runner = ts.WorkflowRunner(workflow, on_job=on_job, max_jobs=2)
    with pytest.RaisesGroup(pytest.RaisesExc(ValueError, match="printer broke")):
        await runner.run()
    slow = runner.report.jobs["slow"]
    assert slow.result is C
    assert slow.finished_at == 1
    assert trio.current_time() == 1


async def test_r15_6_github_job_is_the_job_id(
    autojump_clock: trio.testing.MockClock,
) -> None:
    workflow = ts.Workflow(
        [
            ts.WorkflowJob(
                id="build",
                job=ts.Job(
                    [ts.Step(work(1))], name="Build it", env={"J": "${{ github.job }}"}
                ),
                matrix={"x": [1]},
            )
        ]
    )
    report = await ts.run_workflow(workflow)
    job = report.jobs["build (1)"]
    assert job.name == "Build it (1)"
    assert job.report is not None
    assert job.report.env["J"] == "build"
