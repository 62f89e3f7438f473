"""Concurrency statistics: makespan, critical path, queueing, slot use."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import trio
import trio.testing

import trio_steps as ts
from trio_steps import write_trace
from trio_steps._trace._load import load_trace
from trio_steps._trace._stats import (
    CriticalLink,
    format_statistics,
    job_statistics,
    statistics_to_json,
)

from .trace_fixtures import handmade_report, work


def _path(stats: object) -> list[tuple[str, float, float, str]]:
    return [
        (link.step_id, link.start, link.end, link.via)
        for link in stats.critical_path  # type: ignore[attr-defined]
    ]


def test_handmade_report() -> None:
    stats = job_statistics(handmade_report())
    assert (stats.start, stats.end, stats.makespan) == (0.0, 4.5, 4.5)
    assert dict(stats.queued) == {"server": 0.0, "lint": 1.5}
    assert stats.total_queued == 1.5
    assert stats.slot_usage == ((0.0, 1), (4.5, 0))
    assert stats.peak_concurrency == 1
    assert stats.max_background == 1
    assert stats.mean_concurrency == 1.0
    assert stats.utilisation == 1.0
    # wait finished when lint did; lint got the slot server released; server
    # ended 0.5 s after the cancel step asked it to stop; the cancel step's
    # turn came after test, which came after build
    assert _path(stats) == [
        ("build", 0.0, 2.0, "job-start"),
        ("test", 2.0, 3.0, "sequence"),
        ("stop", 3.0, 3.0, "sequence"),
        ("server", 3.0, 3.5, "stop"),
        ("lint", 3.5, 4.5, "slot"),
        ("wait", 4.5, 4.5, "completion"),
    ]
    assert stats.critical_steps == ("build", "test", "stop", "server", "lint", "wait")


async def test_two_slots_four_one_second_steps(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """R4.2: launched steps get slots in launch order; I2: never more than 2."""
    job = ts.Job(
        [ts.Step(work(1), id=f"s{i}", background=True) for i in range(4)],
        max_background=2,
    )
    report = await ts.run_job(job)
    stats = job_statistics(report)
    assert stats.makespan == 2.0
    assert stats.peak_concurrency == 2
    assert dict(stats.queued) == {"s0": 0.0, "s1": 0.0, "s2": 1.0, "s3": 1.0}
    assert stats.slot_usage == ((0.0, 2), (2.0, 0))
    assert stats.utilisation == 1.0
    path = _path(stats)
    assert [link[3] for link in path] == ["job-start", "slot", "completion"]
    assert path[-1] == ("__implicit_wait_all", 2.0, 2.0, "completion")
    first, second = path[0], path[1]
    assert first[0] in {"s0", "s1"}
    assert first[1:3] == (0.0, 1.0)
    assert second[0] in {"s2", "s3"}
    assert second[1:3] == (1.0, 2.0)
    # the slot link follows the slot actually handed over: the n-th step to
    # finish at 1 s freed the slot of the n-th step started then (launch order)
    finished = [
        e.step_id for e in report.events if e.kind == "step-finished" and e.time == 1.0
    ]
    assert finished.index(first[0]) == ["s2", "s3"].index(second[0])


async def test_foreground_chain(autojump_clock: trio.testing.MockClock) -> None:
    """R4.1: each foreground step's turn comes when the one before it ends."""
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(1), id="a"),
                ts.Step(work(1), id="skip", condition=ts.failure),
                ts.Step(work(2), id="b"),
            ]
        )
    )
    stats = job_statistics(report)
    assert stats.makespan == 3.0
    assert _path(stats) == [("a", 0.0, 1.0, "job-start"), ("b", 1.0, 3.0, "sequence")]
    assert stats.peak_concurrency == 0
    assert stats.slot_usage == ((0.0, 0),)
    assert dict(stats.queued) == {}
    assert stats.utilisation == 0.0


async def test_cancel_step_stop_is_on_the_critical_path(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """R4.6/R6.3: the cancel step waits while its target takes 1.5 s to stop."""
    job = ts.Job(
        [
            ts.Step(work(100, ignore_stop=1.5), id="server", background=True),
            ts.Step(work(2), id="tests"),
            ts.Cancel("server", id="stop"),
        ]
    )
    report = await ts.run_job(job)
    stats = job_statistics(report)
    assert stats.makespan == 3.5
    assert _path(stats) == [
        ("tests", 0.0, 2.0, "job-start"),
        ("stop", 2.0, 2.0, "sequence"),
        ("server", 2.0, 3.5, "stop"),
        ("stop", 3.5, 3.5, "completion"),
    ]
    assert stats.slot_usage == ((0.0, 1), (3.5, 0))
    assert stats.mean_concurrency == 1.0
    assert stats.utilisation == pytest.approx(1 / 10)


async def test_parallel_group_and_post_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """R4.9 and R4.8: the post step starts after the parallel wait."""
    job = ts.Job(
        [
            ts.Step(work(1), id="setup"),
            ts.Parallel([ts.Step(work(1), id="a"), ts.Step(work(3), id="b")]),
        ],
        post_steps=[ts.Step(work(0.5), id="cleanup")],
    )
    report = await ts.run_job(job)
    stats = job_statistics(report)
    assert stats.makespan == 4.5
    wait_id = next(s.id for s in report.steps.values() if s.kind == "wait")
    assert _path(stats) == [
        ("setup", 0.0, 1.0, "job-start"),
        ("b", 1.0, 4.0, "sequence"),
        (wait_id, 4.0, 4.0, "completion"),
        ("cleanup", 4.0, 4.5, "sequence"),
    ]
    assert stats.peak_concurrency == 2
    assert stats.slot_usage == ((0.0, 0), (1.0, 2), (2.0, 1), (4.0, 0))
    assert stats.mean_concurrency == pytest.approx((2 * 1 + 1 * 2) / 4.5)


async def test_statistics_survive_a_trace_round_trip(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    job = ts.Job(
        [ts.Step(work(1), id=f"s{i}", background=True) for i in range(3)],
        max_background=2,
    )
    report = await ts.run_job(job)
    path = tmp_path / "t.jsonl"
    write_trace(report, path)
    assert job_statistics(load_trace(path)) == job_statistics(report)


def test_report_without_events_uses_step_times() -> None:
    report = handmade_report()
    bare = ts.JobReport(result=report.result, steps=report.steps)
    stats = job_statistics(bare)
    assert (stats.start, stats.end) == (0.0, 4.5)
    assert stats.max_background is None
    assert stats.utilisation is None
    # without events there is no stop request: server's start is its cause
    assert [link.via for link in stats.critical_path][-2:] == ["slot", "completion"]


def test_critical_link_duration() -> None:
    assert CriticalLink(step_id="x", start=1.0, end=3.5, via="sequence").duration == 2.5


def test_format_and_json() -> None:
    report = handmade_report()
    text = format_statistics(report)
    assert "Makespan: 4.500 s" in text
    assert "peak 1 of 1 slots" in text
    assert re.search(r"^  lint +1\.500 s$", text, re.MULTILINE)
    assert "slot        lint (Lint)" in text
    encoded = statistics_to_json(job_statistics(report))
    assert json.loads(json.dumps(encoded)) == encoded
    assert encoded["queued"] == {"server": 0.0, "lint": 1.5}
    assert encoded["slot_usage"] == [[0.0, 1], [4.5, 0]]
