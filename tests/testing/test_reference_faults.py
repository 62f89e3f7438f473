"""The property test can fail: injected engine faults are found and shrunk.

Each fault is a realistic bug, monkeypatched into the engine. The same
differential + invariant check the property test uses (``check_against_model``)
must find, within its example budget, a job that fails with the fault and
passes without it; the shrunk job is printed as Python (run with ``-s``).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

import attrs
import pytest
from hypothesis import HealthCheck, Phase, find, settings

import trio_steps as ts
from trio_steps import _job
from trio_steps._engine import _records, _runner, _slots
from trio_steps.testing import jobs
from trio_steps.testing._invariants import check_against_model
from trio_steps.testing._python import job_to_python

from .testing_helpers import examples

Fault = Callable[[pytest.MonkeyPatch], None]


def failure_wins_merge(mp: pytest.MonkeyPatch) -> None:
    """R2.1 broken: a commutative "worst result wins" merge where FAILED beats CANCELED."""
    severity = {ts.Result.CANCELED: 1.5}  # below FAILED

    def merge(current: ts.Result | None, coming: ts.Result) -> ts.Result:
        if current is None:
            return coming
        return max(current, coming, key=lambda r: severity.get(r, float(r)))

    mp.setattr(_runner, "merge_results", merge)


def flushed_twice(mp: pytest.MonkeyPatch) -> None:
    """R4.10/I7 broken: a flushed step forgets it was flushed."""
    original = _runner.JobRunner._flush

    def flush(self: _runner.JobRunner, r: _records._Record, *args: object) -> None:
        original(self, r, *args)  # type: ignore[arg-type]
        r.flushed = False

    mp.setattr(_runner.JobRunner, "_flush", flush)


def cancelled_step_merged(mp: pytest.MonkeyPatch) -> None:
    """R2.4.3/I8 broken: the end merge forgets a cancel targeted the step."""

    class Record(_records._Record):  # type: ignore[misc]
        __slots__ = ("_explicit",)

        @property
        def explicitly_canceled(self) -> bool:
            # The end merge (R2.4.3), wherever the engine keeps it.
            if sys._getframe(1).f_code.co_name in (
                "_end_of_main",
                "_merge_unwaited_results",
            ):
                return False
            return getattr(self, "_explicit", False)

        @explicitly_canceled.setter
        def explicitly_canceled(self, value: bool) -> None:
            self._explicit = value

    mp.setattr(_runner, "_Record", Record)


def lifo_slots(mp: pytest.MonkeyPatch) -> None:
    """R4.2/I3 broken: a freed slot goes to the last queued step."""

    def release(self: _slots.Slots[object], record: object) -> None:  # type: ignore[type-var]
        self._limiter.release_on_behalf_of(record)
        while self._queue and self._limiter.available_tokens:
            following = self._queue.pop()
            if following.queued:  # type: ignore[attr-defined]
                self._limiter.acquire_on_behalf_of_nowait(following)
                self._start(following)

    mp.setattr(_slots.Slots, "release", release)


def implicit_wait_all_always(mp: pytest.MonkeyPatch) -> None:
    """R4.7/I9 broken: the plan always gets an implicit wait-all."""
    original = _job._make_plan

    def make_plan(*args: object) -> tuple[tuple[_job.PlannedStep, ...], bool]:
        plan, implicit = original(*args)  # type: ignore[arg-type]
        if implicit:
            return plan, implicit
        main = [p for p in plan if not p.post]
        extra = _job.PlannedStep(
            id=_job.IMPLICIT_WAIT_ALL_ID,
            name="Wait for all background steps",
            kind="implicit-wait-all",
        )
        steps = [*main, extra, *(p for p in plan if p.post)]
        return tuple(attrs.evolve(p, index=i) for i, p in enumerate(steps)), True

    mp.setattr(_job, "_make_plan", make_plan)


FAULTS: dict[str, Fault] = {
    "failure-wins-merge": failure_wins_merge,
    "flushed-twice": flushed_twice,
    "cancelled-step-merged": cancelled_step_merged,
    "lifo-slots": lifo_slots,
    "implicit-wait-all-always": implicit_wait_all_always,
}


@contextlib.contextmanager
def injected(fault: Fault) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        fault(mp)
        yield


def fails(job: ts.Job) -> bool:
    try:
        check_against_model(job)
    except AssertionError:
        return True
    return False


def rebuild(job: ts.Job) -> ts.Job:
    """Build the job again, so that a patched plan builder takes effect."""
    return job.evolve()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FAULTS))
def test_property_check_finds_injected_fault(name: str) -> None:
    fault = FAULTS[name]

    def caught(job: ts.Job) -> bool:
        with injected(fault):
            broken = fails(rebuild(job))
        return broken and not fails(rebuild(job))

    budget = examples(ci=1000, dev=1000)
    minimal = find(
        jobs(),
        caught,
        settings=settings(
            max_examples=budget,
            database=None,
            derandomize=True,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        ),
    )
    print(f"\n# fault {name}: shrunk counterexample\n{job_to_python(minimal)}")
    assert len(minimal.steps) + len(minimal.post_steps) <= 6
