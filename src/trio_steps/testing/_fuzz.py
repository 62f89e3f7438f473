"""Differential fuzzing outside pytest: engine vs. reference model."""

from __future__ import annotations

import sys
import time
from typing import TextIO

import attrs
from hypothesis import HealthCheck, Phase, given, seed, settings

from .._job import Job
from .._semantics import Semantics
from ._invariants import check_against_model
from ._python import job_to_python
from ._strategies import jobs

__all__ = ["FuzzResult", "fuzz"]


@attrs.frozen(kw_only=True)
class FuzzResult:
    """What a fuzzing run found.

    Attributes:
        runs: How many jobs were run (generated and shrinking together).
        seconds: How long it took.
        failure: The assertion message of the minimal failing job, if any.
        job: The minimal failing job, if any.
    """

    runs: int
    seconds: float
    failure: str | None = None
    job: Job | None = None

    @property
    def rate(self) -> float:
        """Runs per second."""
        return self.runs / self.seconds if self.seconds > 0 else 0.0


def fuzz(
    examples: int,
    *,
    seed_value: int = 0,
    max_background: int | None = None,
    max_steps: int = 8,
    progress: TextIO | None = sys.stderr,
    every: float = 5.0,
    semantics: Semantics | str = Semantics.TRIO_STEPS,
) -> FuzzResult:
    """Compare the engine with the model on ``examples`` generated jobs.

    Hypothesis draws the jobs from :func:`~trio_steps.testing.jobs` with the
    given seed, runs each in a fresh :func:`trio.run` on a
    :class:`~trio.testing.MockClock`, and on a disagreement or a broken
    invariant shrinks it to a minimal job.

    Args:
        examples: How many jobs to generate.
        seed_value: The Hypothesis seed (same seed, same jobs).
        max_background: Fix ``max_background``; ``None`` draws 1..12.
        max_steps: Most main entries per job.
        progress: Where to write progress lines (``None``: nowhere).
        every: Seconds between progress lines.
        semantics: The semantics engine and model both run under (§17).

    Returns:
        The number of runs, the time taken, and the minimal failing job.
    """
    runs = 0
    last: Job | None = None
    start = time.monotonic()
    shown = start

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate, Phase.shrink],
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @seed(seed_value)
    @given(jobs(max_background=max_background, max_steps=max_steps))
    def check(job: Job) -> None:
        nonlocal runs, last, shown
        runs += 1
        last = job
        now = time.monotonic()
        if progress is not None and now - shown >= every:
            shown = now
            rate = runs / (now - start)
            print(f"{runs} runs, {rate:.0f} jobs/s", file=progress, flush=True)
        if semantics == Semantics.TRIO_STEPS or semantics == "trio-steps":
            check_against_model(job)
        else:
            check_against_model(job, semantics=semantics)

    try:
        check()
    except AssertionError as exc:
        # Hypothesis replays the minimal example last, so `last` is it.
        return FuzzResult(
            runs=runs, seconds=time.monotonic() - start, failure=str(exc), job=last
        )
    return FuzzResult(runs=runs, seconds=time.monotonic() - start)


def describe(result: FuzzResult) -> str:
    """The report ``python -m trio_steps.testing fuzz`` prints at the end."""
    head = f"{result.runs} runs in {result.seconds:.1f} s ({result.rate:.0f} jobs/s)"
    if result.job is None:
        return f"{head}: engine and model agree"
    return (
        f"{head}: FAILED\n{result.failure}\n\n"
        f"# minimal job:\n{job_to_python(result.job)}"
    )
