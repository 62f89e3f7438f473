"""Checks of rules §10 that read the same under every semantics (§17).

Shared by :mod:`._invariants` (§10) and :mod:`._github_invariants` (§17).
"""

from __future__ import annotations

import math

from .._job import Job, PlannedStep
from .._results import JobReport, Result, StepReport
from .._steps import Cancel, Parallel, Step, StepKind, Wait, WaitAll

__all__ = [
    "implicit_wait_all_expected",
]


def _fail(invariant: str, step: str | None, message: str) -> None:
    where = f" step {step!r}" if step is not None else ""
    raise AssertionError(f"{invariant}{where}: {message}")


def _step(report: JobReport, planned: PlannedStep) -> StepReport:
    if planned.id not in report.steps:
        _fail("I1", planned.id, "is missing from the report")
    return report.steps[planned.id]


def _condition_raised(planned: PlannedStep, step: StepReport) -> bool:
    """R3.4: FAILED without running; continue-on-error does not apply."""
    return (
        planned.kind == StepKind.RUN
        and step.outcome is Result.FAILED
        and step.started_at is None
        and step.queued_at is None
    )


def _background(job: Job, report: JobReport) -> list[tuple[PlannedStep, StepReport]]:
    return [
        (p, report.steps[p.id])
        for p in job.plan
        if p.kind == StepKind.RUN and p.background
    ]


def _check_i2(job: Job, report: JobReport) -> None:
    """I2: at no instant more than max_background background steps run."""
    edges: list[tuple[float, int, str]] = []
    for planned, step in _background(job, report):
        if step.started_at is None:
            continue
        end = step.finished_at if step.finished_at is not None else math.inf
        if end > step.started_at:
            edges.append((step.started_at, 1, planned.id))
            edges.append((end, -1, planned.id))
    running = 0
    for _, delta, id in sorted(edges, key=lambda e: (e[0], e[1])):
        running += delta
        if running > job.max_background:
            _fail(
                "I2",
                id,
                f"{running} background steps run at once (max {job.max_background})",
            )


def _check_i3(job: Job, report: JobReport) -> None:
    """I3: background steps start in launch order."""
    last: tuple[float, str] | None = None
    for planned, step in _background(job, report):
        if step.started_at is None:
            continue
        if last is not None and step.started_at < last[0]:
            _fail(
                "I3",
                planned.id,
                f"started at {step.started_at} before {last[1]!r} launched earlier started at {last[0]}",
            )
        last = (step.started_at, planned.id)


def _seen_ids(text: str) -> set[str]:
    steps = text.split(";", 1)[0].removeprefix("steps=")
    return {item.split(":", 1)[0] for item in steps.split(" ") if item}


def _check_i7(job: Job, report: JobReport) -> None:
    """I7: every launched background step is flushed exactly once, before post steps."""
    post_start = min(
        (report.steps[p.id].started_at or math.inf for p in job.plan if p.post),
        default=math.inf,
    )
    flushes: dict[str, list[float]] = {}
    for event in report.events:
        if event.kind == "step-flushed" and event.step_id is not None:
            flushes.setdefault(event.step_id.casefold(), []).append(event.time)
    for planned, step in _background(job, report):
        launched = step.queued_at is not None
        if report.events:
            times = flushes.get(planned.id.casefold(), [])
            if len(times) != (1 if launched else 0):
                _fail("I7", planned.id, f"flushed {len(times)} times")
            if times and times[0] > post_start:
                _fail("I7", planned.id, "flushed after the first post step started")
        if launched and step.completed_by is not None:
            by = report.steps[step.completed_by]
            if by.finished_at is None or by.finished_at > post_start:
                _fail("I7", planned.id, "completed after the first post step started")
        if not launched and step.completed_by is not None:
            _fail("I7", planned.id, "never launched but completed")


def implicit_wait_all_expected(job: Job) -> bool:
    """R4.7 recomputed from the declared steps (not from the plan)."""
    named: set[str] = set()
    before_wait_all: set[str] = set()
    background: list[str] = []
    for entry in job.steps:
        if isinstance(entry, Step) and entry.background:
            background.append((entry.id or "").casefold())
        elif isinstance(entry, Parallel):
            return_ids = [m.id for m in entry.steps]
            named.update(("" if i is None else i).casefold() for i in return_ids)
            background.extend(("" if i is None else i).casefold() for i in return_ids)
        elif isinstance(entry, Wait | Cancel):
            named.update(t.casefold() for t in entry.ids)
        elif isinstance(entry, WaitAll):
            before_wait_all.update(background)
    return any(b not in named and b not in before_wait_all for b in background)


def _check_i9(job: Job, report: JobReport) -> None:
    """I9: __implicit_wait_all is reported iff R4.7 says so."""
    expected = implicit_wait_all_expected(job)
    if ("__implicit_wait_all" in report.steps) is not expected:
        _fail(
            "I9",
            "__implicit_wait_all",
            f"reported: {not expected}, R4.7 says {expected}",
        )
