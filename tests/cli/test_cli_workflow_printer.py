"""The printer of several jobs, in process on the MockClock (rules §15, R15.11)."""

from __future__ import annotations

import argparse
import io

import trio
import trio.testing

import trio_steps as ts
from trio_steps._cli._workflows import _WorkflowPrinter, configure, runs_as_one_job
from trio_steps._workflow._read import read_workflow


async def _service(ctx: ts.StepContext) -> None:
    ctx.log("serving")
    await trio.sleep(3)  # the implicit wait-all waits for it (R4.7)


async def _fail(ctx: ts.StepContext) -> None:
    await trio.sleep(1)
    raise RuntimeError(f"broke with {ctx.env['TOKEN']}")


async def _print(workflow: ts.Workflow) -> tuple[str, ts.WorkflowReport]:
    stream = io.StringIO()
    printer = _WorkflowPrinter(workflow, color=False, stream=stream)
    runner: ts.WorkflowRunner

    def on_event(key: str, event: ts.Event) -> None:
        job_runner = runner.job_runner(key)
        assert job_runner is not None
        printer.on_event(key, event, job_runner.job, job_runner.mask)

    runner = ts.WorkflowRunner(
        workflow, max_jobs=4, on_event=on_event, on_job=printer.job_ended
    )
    printer.start()
    report = await runner.run()
    printer.stop()
    printer.summary(report)
    return stream.getvalue(), report


async def test_r15_11_plain_lines_name_job_then_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    job = ts.Job(
        [
            ts.Step(_service, id="svc", background=True),
            ts.Step(_fail, id="main"),
        ],
        name="unit",
        secrets={"TOKEN": "hunter2"},
        env={"TOKEN": "${{ secrets.TOKEN }}"},
    )
    workflow = ts.Workflow(
        [
            ts.WorkflowJob(id="t", job=job, matrix={"py": ["3.12"]}),
            ts.WorkflowJob(id="after", job=ts.Job([ts.Step("true")]), needs="t"),
        ]
    )
    out, report = await _print(workflow)
    lines = out.splitlines()
    assert lines[0] == "[unit (3.12)] job started"
    assert "[unit (3.12)] [svc] serving" in lines
    assert "[unit (3.12)] [main] RuntimeError: broke with ***" in lines
    assert "[unit (3.12)] job finished: failure" in lines
    assert "[after] job finished: skipped (if: success() was false)" in lines
    assert "hunter2" not in out
    table = lines[lines.index("Job          Result   Duration  Reason") :]
    assert table == [
        "Job          Result   Duration  Reason",
        "unit (3.12)  failure  3.00s",
        "after        skipped  -         if: success() was false",
        "Workflow failed",
    ]
    assert "\nunit (3.12):\n" in out  # the job's own step table
    assert report.result is ts.Result.FAILED


def test_r15_11_one_plain_job_keeps_the_one_job_output() -> None:
    plain = ts.Workflow([ts.WorkflowJob(id="a", job=ts.Job([ts.Step("true")]))])
    assert runs_as_one_job(plain)
    for changes in (
        {"matrix": {"x": [1]}},
        {"condition": "always()"},
        {"continue_on_error": True},
        {"timeout_minutes": "${{ 1 }}"},
    ):
        job = ts.WorkflowJob(
            id="a",
            job=ts.Job([ts.Step("true")]),
            **changes,
        )
        assert not runs_as_one_job(ts.Workflow([job])), changes
    two = ts.Workflow(
        [
            ts.WorkflowJob(id="a", job=ts.Job([ts.Step("true")])),
            ts.WorkflowJob(id="b", job=ts.Job([ts.Step("true")])),
        ]
    )
    assert not runs_as_one_job(two)


def test_r15_11_configure_applies_the_command_line_to_every_job() -> None:
    loaded = read_workflow(
        "name: W\non: push\njobs:\n  a:\n    steps: [{run: 'true'}]\n"
        "  b:\n    needs: a\n    steps: [{run: 'true'}]\n"
    )
    assert loaded.workflow is not None
    args = argparse.Namespace(
        event="pull_request",
        secret=[("S", "v")],
        var=[("V", "w")],
        max_background=3,
        interrupt_grace=1.0,
        terminate_grace=0.5,
    )
    configured = configure(loaded.workflow, loaded, args)
    for wjob in configured.jobs:
        job = wjob.job
        assert job.github["event_name"] == "pull_request"
        assert job.github["job"] == wjob.id
        assert job.github["workflow"] == "W"
        assert dict(job.secrets) == {"S": "v"}
        assert dict(job.vars) == {"V": "w"}
        assert (job.max_background, job.interrupt_grace, job.terminate_grace) == (
            3,
            1.0,
            0.5,
        )
    assert configured.jobs[1].needs == ("a",)
