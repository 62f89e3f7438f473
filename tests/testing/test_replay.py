"""``job_from_trace``: a recorded run as a job of scripted steps (R18.7)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import trio_steps as ts
from trio_steps.testing import (
    JobNeverEnds,
    ScriptedStep,
    Write,
    explore,
    job_from_trace,
    jobs,
    run_on_mock_clock,
    simulate,
)
from trio_steps.testing._invariants import COMPARED_FIELDS
from trio_steps.testing._replay import RecordedCondition

from .testing_helpers import examples

R = ts.Result
TIMING = ("queued_at", "started_at", "finished_at")


def _same_run(recorded: ts.JobReport, replayed: ts.JobReport) -> list[str]:
    """Differences in what R18.7 replays: results, flags, times, outputs."""
    problems = []
    if recorded.result is not replayed.result:
        problems.append(f"job {recorded.result} != {replayed.result}")
    if list(recorded.steps) != list(replayed.steps):
        problems.append(f"steps {list(recorded.steps)} != {list(replayed.steps)}")
        return problems
    for id, want in recorded.steps.items():
        got = replayed.steps[id]
        for field in COMPARED_FIELDS:
            a, b = getattr(want, field), getattr(got, field)
            if field == "outputs":
                a = {k: v for k, v in a.items() if k != "seen"}
                b = {k: v for k, v in b.items() if k != "seen"}
            if a != b:
                problems.append(f"{id}.{field}: {a!r} != {b!r}")
    return problems


def _job() -> ts.Job:
    return ts.Job(
        [
            ScriptedStep(
                3,
                id="svc",
                background=True,
                writes=[Write(at=1, kind="output", name="port", value="80")],
            ),
            ScriptedStep(
                2, id="slow", background=True, timeout=1.5, continue_on_error=True
            ),
            ScriptedStep(1, id="build", ending="fail", continue_on_error=True),
            ScriptedStep(1, id="skipped", condition=ts.failure),
            ts.Wait(["slow"]),
            ts.Parallel([ScriptedStep(0.5, id="p1"), ScriptedStep(1, id="p2")]),
            ts.Cancel(["svc"]),
            ScriptedStep(1, id="late", background=True, ending="fail"),
        ],
        post_steps=[ScriptedStep(0.25, id="cleanup")],
        max_background=3,
        interrupt_grace=0.5,
        terminate_grace=0.5,
    )


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_an_engine_run_replays_in_the_model_with_its_timings(
    tmp_path: Path, suffix: str
) -> None:
    recorded = run_on_mock_clock(_job()).report
    path = tmp_path / f"run{suffix}"
    ts.write_trace(recorded, path)
    job = job_from_trace(path)
    assert [p.id for p in job.plan] == list(recorded.steps)
    assert _same_run(recorded, simulate(job)) == []
    # ... and on the engine again.
    assert _same_run(recorded, run_on_mock_clock(job).report) == []


def test_what_the_replayed_job_holds() -> None:
    recorded = run_on_mock_clock(_job()).report
    job = job_from_trace(recorded)
    steps = {p.id: p for p in job.plan}
    svc = steps["svc"].step
    assert svc is not None and isinstance(svc.run, ts.testing.Script)
    # svc ran from 0 until the cancel step stopped it at 2.5; its output
    # is written by then, and on its own it would have run on.
    assert (recorded.steps["svc"].finished_at, recorded.result) == (2.5, R.FAILED)
    assert (svc.run.duration, svc.run.stop_delay) == (3.5, 0.0)
    assert svc.run.writes == (Write(at=2.5, kind="output", name="port", value="80"),)
    assert svc.condition == RecordedCondition(True, True)
    slow = steps["slow"].step
    assert slow is not None and slow.timeout_seconds == 1.5
    build = steps["build"].step
    assert build is not None and build.continue_on_error is True
    assert isinstance(build.run, ts.testing.Script) and build.run.ending == "fail"
    assert steps["p1"].group == steps["p2"].group is not None
    skipped = steps["skipped"].step
    assert skipped is not None and skipped.condition is not None
    assert callable(skipped.condition)
    assert skipped.condition(ts.Status(job_status=R.FAILED)) is False
    assert [p.id for p in job.plan if p.post] == ["cleanup"]
    assert (job.max_background, job.interrupt_grace, job.terminate_grace) == (
        3,
        0.5,
        0.5,
    )
    assert job.timeout is None


def test_a_cancelled_run_replays_with_a_job_timeout_at_that_instant() -> None:
    job = ts.Job(
        [ScriptedStep(5, id="a", background=True), ScriptedStep(5, id="b")],
        timeout=2,
    )
    recorded = run_on_mock_clock(job).report
    replay = job_from_trace(recorded)
    assert replay.timeout == 2.0
    assert _same_run(recorded, simulate(replay)) == []


def test_a_replayed_run_can_be_explored() -> None:
    recorded = run_on_mock_clock(
        ts.Job(
            [
                ScriptedStep(2, id="a", background=True),
                ScriptedStep(1, id="b"),
                ts.Cancel(["a"]),
            ]
        )
    ).report
    assert recorded.steps["a"].conclusion is R.CANCELED
    found = explore(job_from_trace(recorded))
    assert found.results_of("a") == {R.SUCCEEDED, R.CANCELED}


def test_a_report_without_events_is_refused() -> None:
    report = simulate(ts.Job([ScriptedStep(1, id="a")]))
    with pytest.raises(ts.JobDefinitionError, match="events"):
        job_from_trace(report)


@settings(
    max_examples=examples(ci=100, dev=30),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(jobs(max_steps=6))
def test_every_engine_run_replays(job: ts.Job) -> None:
    try:
        simulate(job)
    except JobNeverEnds:
        return
    recorded = run_on_mock_clock(job).report
    assert _same_run(recorded, simulate(job_from_trace(recorded))) == []


def test_a_run_under_github_runner_replays_under_it() -> None:
    """The trace says which semantics it ran under (R17.1); replay under it."""
    recorded = run_on_mock_clock(_job(), semantics="github-runner").report
    started = recorded.events[0]
    assert started.kind == "job-started"
    assert started.data["semantics"] == "github-runner"
    job = job_from_trace(recorded)
    assert _same_run(recorded, simulate(job, semantics="github-runner")) == []
