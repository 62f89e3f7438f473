"""The cancellation sweep: cancel a job, or one step, at every boundary (R18.6).

:func:`sweep_cancellation` runs the reference model once as declared, takes
every instant at which something happened (a step launched, started or
ended) and every instant halfway between two of them, and runs the model
again for each such instant: once cancelling the job there, and once per
step that was queued or running there, stopping that step. Every report is
checked against the invariants of rules §10.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import attrs
import trio
import trio.testing

from .._engine._runner import JobRunner
from .._errors import JobDefinitionError
from .._job import Job
from .._results import JobReport
from .._semantics import Semantics, coerce_semantics
from ._invariants import check_invariants, diff_reports
from ._model import JobNeverEnds, _Decision, _scripts_of, _Simulation, simulate

__all__ = ["Cut", "Sweep", "sweep_cancellation"]


@attrs.frozen(kw_only=True)
class Cut:
    """One cancellation of a sweep and what came of it.

    Attributes:
        at: The instant of the cancellation.
        step: The step that was stopped, or ``None``: the job was cancelled.
        report: The report of the job cancelled there.
    """

    at: float
    step: str | None
    report: JobReport


@attrs.frozen(kw_only=True)
class Sweep:
    """What :func:`sweep_cancellation` did.

    Attributes:
        job: The swept job.
        baseline: The report of the job left alone.
        instants: The instants at which it cancelled, in time order.
        cuts: Every cancellation, in time order, the job's before its steps'.
    """

    job: Job
    baseline: JobReport
    instants: tuple[float, ...]
    cuts: tuple[Cut, ...]

    def distinct_results(self) -> dict[str | None, frozenset[str]]:
        """Per cut target (``None``: the job), the job results it led to."""
        found: dict[str | None, set[str]] = {}
        for cut in self.cuts:
            found.setdefault(cut.step, set()).add(cut.report.result.name)
        return {k: frozenset(v) for k, v in found.items()}


class _Cutting(_Simulation):
    """The model, with one outside cancellation at ``at`` (R18.6).

    The cancellation is registered when the instant ``at`` begins, before
    the natural activity of that instant: after every decision registered
    earlier, before those registered at that instant. It is applied after
    the instant's natural activity, as the engine applies
    :meth:`~trio_steps.JobRunner.cancel`.
    """

    def __init__(
        self, job: Job, at: float, step: str | None, semantics: Semantics
    ) -> None:
        super().__init__(job, semantics)
        self.cut_at = at
        self.cut_step = step
        self.armed = False
        self.job_cancelled = False

    def cancel_job(self) -> None:
        # R6.1 happens once: the job timeout falling due after an outside
        # cancellation changes nothing (as JobRunner: a second call is a
        # no-op), so steps launched in between keep running.
        if self.job_cancelled:
            return
        self.job_cancelled = True
        super().cancel_job()

    def next_instant(self) -> float:
        if self.armed:
            return super().next_instant()
        try:
            upcoming = super().next_instant()
        except JobNeverEnds:
            return self.cut_at
        return min(upcoming, self.cut_at)

    def settle(self) -> None:
        if not self.armed and self.now >= self.cut_at:
            self.armed = True
            target = self.steps[self.cut_step] if self.cut_step is not None else None
            self.register("cut", self.cut_at - self.now, target)
        super().settle()

    def apply(self, decision: _Decision) -> None:
        if decision.kind != "cut":
            super().apply(decision)
        elif decision.step is None:
            self.cancel_job()  # R6.1, as JobRunner.cancel()
        else:
            self.stop(decision.step, "cancel")  # R6.3, as a stop request


def _instants(report: JobReport) -> tuple[tuple[float, ...], frozenset[float]]:
    """The instants something happened at, with the halves between them."""
    found = {0.0}
    for step in report.steps.values():
        for t in (step.queued_at, step.started_at, step.finished_at):
            if t is not None:
                found.add(t)
    points = sorted(found)
    halves = {(a + b) / 2 for a, b in itertools.pairwise(points)}
    return tuple(sorted(found | halves)), frozenset(halves - found)


def _live_at(report: JobReport, id: str, at: float) -> bool:
    """Whether run step ``id`` was queued or running at ``at`` (ends included)."""
    step = report.steps[id]
    begin = step.queued_at if step.queued_at is not None else step.started_at
    if begin is None or step.finished_at is None:
        return False
    return begin <= at <= step.finished_at


def cancel_on_engine(
    job: Job, at: float, *, semantics: Semantics | str = Semantics.TRIO_STEPS
) -> JobReport:
    """Run ``job`` on the engine (autojump ``MockClock``), cancelled at ``at``.

    :meth:`~trio_steps.JobRunner.cancel` is called by a task that sleeps
    until ``at``; nothing of the job outlives the run.

    Args:
        job: The job.
        at: When to cancel it.
        semantics: The semantics the engine runs it under.

    Returns:
        The engine's report.
    """

    async def main() -> JobReport:
        runner = JobRunner(job, semantics=semantics)

        async def cutter() -> None:
            await trio.sleep_until(at)
            runner.cancel()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(cutter)
            report = await runner.run()
            nursery.cancel_scope.cancel()
        return report

    return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


def sweep_cancellation(
    job: Job,
    *,
    semantics: Semantics | str = Semantics.TRIO_STEPS,
    check: Callable[[Job, JobReport, bool], None] | None = None,
    engine: bool = False,
) -> Sweep:
    """Cancel ``job``, and each of its steps, at every event boundary (R18.6).

    Args:
        job: A job whose run steps are all
            :func:`~trio_steps.testing.ScriptedStep` steps.
        semantics: The semantics the model (and the engine) follow: this
            project's (the default) or GitHub's runner (rules §17); the
            invariants checked are those of that semantics.
        check: Called with ``(job, report, job_cancelled)`` for every cut
            (default: :func:`~trio_steps.testing.check_invariants`).
        engine: Also cancel the job on the engine at each instant halfway
            between two boundaries (:meth:`~trio_steps.JobRunner.cancel` on
            an autojump ``MockClock``; at a boundary
            itself the engine may end the job before it applies the
            cancellation) and assert that its report matches
            the model's (:func:`~trio_steps.testing.diff_reports`) and
            satisfies the invariants.

    Returns:
        The :class:`Sweep`.

    Raises:
        JobDefinitionError: A run step is not scripted.
        JobNeverEnds: The job left alone never ends.
        AssertionError: An invariant does not hold after some cut, or the
            engine disagrees with the model; the message says which cut.
    """
    if not isinstance(job, Job):
        raise JobDefinitionError(
            f"sweep_cancellation() needs a Job, not {type(job).__name__}"
        )
    _scripts_of(job)
    semantics = coerce_semantics(semantics)
    baseline = simulate(job, semantics=semantics)
    instants, halves = _instants(baseline)
    run_ids = [p.id for p in job.plan if p.step is not None]
    cuts: list[Cut] = []

    def verify(job: Job, report: JobReport, cancelled: bool) -> None:
        check_invariants(job, report, job_cancelled=cancelled, semantics=semantics)

    checker = verify if check is None else check
    for at in instants:
        targets: list[str | None] = [None]
        targets += [id for id in run_ids if _live_at(baseline, id, at)]
        for target in targets:
            run = _Cutting(job, at, target, semantics)
            report = run.run()
            what = "the job" if target is None else f"step {target!r}"
            try:
                checker(job, report, run.job_cancelled)
                if engine and target is None and at in halves:
                    actual = cancel_on_engine(job, at, semantics=semantics)
                    problems = diff_reports(report, actual)
                    if problems:
                        raise AssertionError(
                            "engine and model disagree:\n  " + "\n  ".join(problems)
                        )
                    checker(job, actual, True)
            except AssertionError as exc:
                raise AssertionError(f"cancelling {what} at t={at:g}: {exc}") from exc
            cuts.append(Cut(at=at, step=target, report=report))
    return Sweep(job=job, baseline=baseline, instants=instants, cuts=tuple(cuts))
