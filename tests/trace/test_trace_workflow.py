"""Workflow traces, statistics and timelines (rules §15, R15.10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio
import trio.testing

import trio_steps as ts
from trio_steps._trace._workflow import (
    WORKFLOW_KEY,
    format_workflow_statistics,
    is_workflow_trace,
    load_workflow_trace,
    render_workflow_timeline,
    workflow_chrome_trace,
    workflow_statistics,
    write_workflow_trace,
)


async def _report() -> ts.WorkflowReport:
    def job(id: str, seconds: float, **kw: object) -> ts.WorkflowJob:
        async def step(ctx: ts.StepContext) -> None:
            await trio.sleep(seconds)

        return ts.WorkflowJob(
            id=id,
            job=ts.Job(
                [
                    ts.Step(step, id="bg", background=True),
                    ts.Step(step, id="main"),
                ]
            ),
            **kw,  # type: ignore[arg-type]
        )

    workflow = ts.Workflow(
        [
            job("a", 1),
            job("b", 4),
            job("c", 2, needs=["a", "b"]),
            job("d", 1, needs="a"),
            job("e", 1, needs="c", condition="false"),
            job("m", 1, needs="d", matrix={"x": [1, 2]}),
        ]
    )
    return await ts.run_workflow(workflow, max_jobs=2)


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
async def test_r15_10_round_trip(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, suffix: str
) -> None:
    report = await _report()
    path = tmp_path / f"trace{suffix}"
    write_workflow_trace(report, path)
    assert is_workflow_trace(path)
    back = load_workflow_trace(path)
    assert back.result is report.result
    assert list(back.jobs) == list(report.jobs)
    for key, job in report.jobs.items():
        other = back.jobs[key]
        assert (other.result, other.needs, other.matrix) == (
            job.result,
            job.needs,
            job.matrix,
        )
        assert (other.started_at, other.finished_at) == (
            job.started_at,
            job.finished_at,
        )
        if job.report is None:
            assert other.report is None
        else:
            assert other.report is not None
            assert other.report.steps == job.report.steps
            assert other.report.events == job.report.events
    # A one-job reader says it is not a job trace.
    with pytest.raises(ts.TraceError):
        ts.load_trace(path)


async def test_r15_10_chrome_jobs_are_processes_on_one_clock(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await _report()
    trace = workflow_chrome_trace(report)
    events = trace["traceEvents"]
    assert isinstance(events, list)
    names = {
        e["pid"]: e["args"]["name"] for e in events if e.get("name") == "process_name"
    }
    ran = [j for j in report.jobs.values() if j.report is not None]
    assert sorted(names.values()) == sorted(f"job: {j.name}" for j in ran)
    assert len(set(names)) == len(ran)
    # c started at t=4 (after b): its job-started instant is at 4 s.
    c_pid = next(pid for pid, name in names.items() if name == "job: c")
    starts = [
        e["ts"]
        for e in events
        if e.get("pid") == c_pid
        and e.get("name") == "job-started"
        and e.get("ph") == "i"
    ]
    assert starts == [4_000_000.0]
    assert WORKFLOW_KEY in trace
    json.dumps(trace, allow_nan=False)


async def test_r15_10_statistics_critical_path_across_jobs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await _report()
    # max_jobs=2: a 0-1, b 0-4, d 1-2, m (1) 2-3, m (2) 3-4, c 4-6, e skipped at 6.
    assert (report.jobs["c"].started_at, report.jobs["c"].finished_at) == (4, 6)
    stats = workflow_statistics(report)
    assert stats.makespan == 6
    assert stats.critical_path == ("b", "c")  # e, skipped at 6, took no time
    assert stats.peak_jobs == 2
    assert set(stats.jobs) == {"a", "b", "c", "d", "m (1)", "m (2)"}
    assert stats.jobs["b"].makespan == 4
    text = format_workflow_statistics(report, stats)
    assert "critical path (jobs): b -> c" in text
    assert "job e: skipped, -" in text


async def test_r15_10_critical_path_through_a_freed_slot(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def wait(ctx: ts.StepContext) -> None:
        await trio.sleep(float(ctx.env["T"]))

    workflow = ts.Workflow(
        [
            ts.WorkflowJob(id=id, job=ts.Job([ts.Step(wait)], env={"T": t}))
            for id, t in (("a", "3"), ("b", "1"), ("c", "5"))
        ]
    )
    report = await ts.run_workflow(workflow, max_jobs=2)
    # c waited for b's slot: b (0-1) then c (1-6).
    assert workflow_statistics(report).critical_path == ("b", "c")


async def test_r15_10_timeline_has_a_lane_per_job(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await _report()
    svg = render_workflow_timeline(report)
    assert svg.count('<rect class="job"') == 6  # e was skipped: no bar
    for job in report.jobs.values():
        assert f">{job.name}</text>" in svg
    html = render_workflow_timeline(report, format="html")
    assert html.startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError, match="format"):
        render_workflow_timeline(report, format="png")  # type: ignore[arg-type]


def test_r15_10_damaged_workflow_trace(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"trio_steps_workflow": {"format": "nope"}}\n', encoding="utf-8")
    with pytest.raises(ts.TraceError, match="not a trio-steps workflow trace"):
        load_workflow_trace(path)
    path.write_text('{"trio_steps_workflow": ', encoding="utf-8")
    with pytest.raises(ts.TraceError, match="not JSON"):
        load_workflow_trace(path)
    with pytest.raises(ValueError, match="suffix"):
        write_workflow_trace(
            ts.WorkflowReport(
                result=ts.Result.SUCCEEDED, jobs=ts.CaseInsensitiveMapping()
            ),
            tmp_path / "x.txt",
        )
