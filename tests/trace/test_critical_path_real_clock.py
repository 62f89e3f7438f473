"""The critical path follows causes, not equal times (issue 12, item 21).

On a real clock a slot handed over "at once" is taken microseconds after it
was released, and a stop request comes microseconds after the cancel step's
turn: the path must not depend on equal times. Reports from the autojump
clock are re-timed with tiny increasing epsilons (what a real clock gives)
and must give the same path; one job runs on the real clock. An abandoned
step whose task runs past the rest is where the path ends: it reaches the
makespan.
"""

from __future__ import annotations

import itertools
import random

import attrs
import pytest
import trio
import trio.testing

import trio_steps as ts
from trio_steps._results import CaseInsensitiveMapping
from trio_steps._trace._stats import JobStatistics, job_statistics

from .trace_fixtures import handmade_report, work


def _shape(stats: JobStatistics) -> list[tuple[str, str]]:
    return [(link.step_id, link.via) for link in stats.critical_path]


def _perturbed(report: ts.JobReport, seed: int) -> ts.JobReport:
    """The report with every event a little later than the one before it.

    Step times are taken from their events, as the engine takes both from
    one clock reading.
    """
    rng = random.Random(seed)
    shift = 0.0
    events: list[ts.Event] = []
    for event in report.events:
        shift += rng.uniform(1e-9, 1e-6)
        events.append(attrs.evolve(event, time=event.time + shift))
    times: dict[tuple[str, str], float] = {}
    for event in events:
        if event.step_id is not None:
            times.setdefault((event.step_id, str(event.kind)), event.time)
    steps = {}
    for step in report.steps.values():

        def at(kind: str, old: float | None, step_id: str = step.id) -> float | None:
            return None if old is None else times[(step_id, kind)]

        steps[step.id] = attrs.evolve(
            step,
            queued_at=at("step-launched", step.queued_at),
            started_at=at("step-started", step.started_at),
            finished_at=at("step-finished", step.finished_at),
        )
    return ts.JobReport(
        result=report.result,
        steps=CaseInsensitiveMapping(steps),
        events=tuple(events),
        env=report.env,
        path=report.path,
    )


def _assert_same_path(report: ts.JobReport) -> None:
    exact = job_statistics(report)
    for seed in range(5):
        perturbed = job_statistics(_perturbed(report, seed))
        assert _shape(perturbed) == _shape(exact), seed
        for moved, link in zip(
            perturbed.critical_path, exact.critical_path, strict=True
        ):
            assert moved.start == pytest.approx(link.start, abs=1e-3)
            assert moved.end == pytest.approx(link.end, abs=1e-3)
            assert moved.start <= moved.end


def test_handmade_report_with_real_clock_times() -> None:
    _assert_same_path(handmade_report())


async def test_queued_steps_and_wait_all(
    autojump_clock: trio.testing.MockClock,
) -> None:
    job = ts.Job(
        [
            *(ts.Step(work(1), id=f"s{i}", background=True) for i in range(4)),
            ts.WaitAll(id="all"),
        ],
        max_background=1,
    )
    report = await ts.run_job(job)
    assert _shape(job_statistics(report)) == [
        ("s0", "job-start"),
        ("s1", "slot"),
        ("s2", "slot"),
        ("s3", "slot"),
        ("all", "completion"),
    ]
    _assert_same_path(report)


async def test_two_slots_at_one_instant(autojump_clock: trio.testing.MockClock) -> None:
    job = ts.Job(
        [ts.Step(work(1 + i % 2), id=f"s{i}", background=True) for i in range(6)],
        max_background=2,
    )
    report = await ts.run_job(job)
    _assert_same_path(report)


async def test_cancel_stop_and_post_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    job = ts.Job(
        [
            ts.Step(work(100, ignore_stop=1.5), id="server", background=True),
            ts.Step(work(2), id="tests"),
            ts.Cancel("server", id="stop"),
            ts.Parallel([ts.Step(work(1), id="a"), ts.Step(work(3), id="b")]),
        ],
        post_steps=[ts.Step(work(0.5), id="cleanup")],
    )
    report = await ts.run_job(job)
    assert [v for _, v in _shape(job_statistics(report))] == [
        "job-start",
        "sequence",
        "stop",
        "completion",
        "sequence",
        "completion",
        "sequence",
    ]
    _assert_same_path(report)


async def test_timeout_and_foreground_chain(
    autojump_clock: trio.testing.MockClock,
) -> None:
    job = ts.Job(
        [
            ts.Step(work(1), id="a"),
            ts.Step(work(10), id="slow", background=True, timeout=2),
            ts.Step(work(1), id="b"),
            ts.Wait("slow", id="w", continue_on_error=True),
        ]
    )
    report = await ts.run_job(job)
    _assert_same_path(report)


async def _stubborn(ctx: ts.StepContext) -> None:
    with trio.CancelScope(shield=True):
        await trio.sleep(100)


async def test_an_abandoned_step_that_runs_past_the_rest_ends_the_path(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """R6.4: given up at 3 s, its task ends at 100 s; so does the job."""
    job = ts.Job(
        [
            ts.Step(_stubborn, id="x", background=True),
            ts.Step(work(1), id="t"),
            ts.Cancel("x", id="stop"),
        ],
        interrupt_grace=1,
        terminate_grace=1,
    )
    report = await ts.run_job(job)
    assert report.steps["x"].abandoned
    assert report.steps["x"].finished_at == 3.0
    assert report.events[-1].data["abandoned_last"] == "x"
    stats = job_statistics(report)
    assert stats.end == 100.0
    assert [
        (link.step_id, link.start, link.end, link.via) for link in stats.critical_path
    ] == [
        ("t", 0.0, 1.0, "job-start"),
        ("stop", 1.0, 1.0, "sequence"),
        ("x", 1.0, 100.0, "stop"),
    ]
    _assert_same_path(report)


async def test_an_abandoned_step_that_ended_early_is_not_the_end(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def briefly_stubborn(ctx: ts.StepContext) -> None:
        with trio.CancelScope(shield=True):
            await trio.sleep(4)

    job = ts.Job(
        [ts.Step(briefly_stubborn, id="x", background=True), ts.Cancel("x", id="c")],
        post_steps=[ts.Step(work(10), id="post")],
        interrupt_grace=1,
        terminate_grace=1,
    )
    report = await ts.run_job(job)
    assert report.steps["x"].abandoned
    assert "abandoned_last" not in report.events[-1].data
    stats = job_statistics(report)
    assert stats.end == 12.0
    assert stats.critical_path[-1].step_id == "post"
    assert stats.critical_path[-1].end == 12.0


async def test_on_the_real_clock() -> None:
    """Three background steps, one slot, then a wait-all: each took the slot
    the one before it released, microseconds after it was released."""

    async def short(ctx: ts.StepContext) -> None:
        await trio.sleep(0.02)

    job = ts.Job(
        [
            *(ts.Step(short, id=name, background=True) for name in "abc"),
            ts.WaitAll(id="all"),
        ],
        max_background=1,
    )
    with trio.fail_after(30):
        report = await ts.run_job(job)
    stats = job_statistics(report)
    assert _shape(stats) == [
        ("a", "job-start"),
        ("b", "slot"),
        ("c", "slot"),
        ("all", "completion"),
    ]
    links = stats.critical_path
    assert links[0].start == report.steps["a"].queued_at  # launched at once
    for before, after in itertools.pairwise(links):
        assert before.end == after.start
    assert links[-1].end == report.steps["all"].finished_at
