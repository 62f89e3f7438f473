"""The invariants of rules §10 as assertions, and the differential check.

Every check raises :class:`AssertionError` with a message that starts with
the invariant (``I3``) and names the step it is about.
"""

from __future__ import annotations

from typing import Final

import attrs
import trio
import trio.testing

from .._engine._runner import run_job
from .._job import Job, PlannedStep
from .._results import JobReport, Result, merge_results
from .._semantics import Semantics, coerce_semantics
from .._steps import CONTROL_KINDS, Parallel, Step, StepKind
from ._common_checks import (
    _background,
    _check_i2,
    _check_i3,
    _check_i7,
    _check_i9,
    _condition_raised,
    _fail,
    _seen_ids,
    _step,
)
from ._findings import (
    DEFAULT_MOCK_DEADLINE,
    DEFAULT_WALL_DEADLINE,
    EngineCrash,
    Finding,
    run_guarded,
)
from ._model import JobNeverEnds, simulate
from ._python import job_text
from ._scripted import OBSERVATION_OUTPUT, Script

__all__ = [
    "COMPARED_FIELDS",
    "EngineRun",
    "check_against_model",
    "check_deterministic",
    "check_invariants",
    "check_job",
    "diff_reports",
    "run_on_mock_clock",
]

#: The per-step fields the differential check compares (rules §10, and more).
COMPARED_FIELDS: Final = (
    "outcome",
    "conclusion",
    "queued_at",
    "started_at",
    "finished_at",
    "completed_by",
    "explicitly_canceled",
    "timed_out",
    "abandoned",
    "never_completed",
    "outputs",
)

_TERMINAL: Final = frozenset(Result)


def _check_i1(job: Job, report: JobReport) -> None:
    """I1: every step ends with a terminal outcome and conclusion, once."""
    if len(report.steps) != len(job.plan):
        _fail(
            "I1", None, f"{len(report.steps)} steps reported, plan has {len(job.plan)}"
        )
    for planned in job.plan:
        step = _step(report, planned)
        if step.outcome not in _TERMINAL or step.conclusion not in _TERMINAL:
            _fail(
                "I1",
                planned.id,
                f"outcome {step.outcome!r}, conclusion {step.conclusion!r}",
            )
        expected = step.outcome
        if step.outcome is Result.FAILED and planned.continue_on_error:
            expected = Result.SUCCEEDED
        if step.conclusion is not expected and not _condition_raised(planned, step):
            _fail(
                "I1",
                planned.id,
                f"conclusion {step.conclusion} for outcome {step.outcome} (R2.3)",
            )
    finished: dict[str | None, int] = {}
    for event in report.events:
        if event.kind == "step-finished":
            finished[event.step_id] = finished.get(event.step_id, 0) + 1
    for id, count in finished.items():
        if count > 1:
            _fail("I1", id, f"finished {count} times")


def _control_outcome(job: Job, report: JobReport, planned: PlannedStep) -> Result:
    """R4.4/R4.5 recomputed from the report."""
    if planned.kind == StepKind.WAIT:
        targets = [report.steps[t] for t in planned.targets]
    else:
        targets = [
            s for p, s in _background(job, report) if s.completed_by == planned.id
        ]
    cancelled_before = {
        t.casefold()
        for p in job.plan
        if p.kind == StepKind.CANCEL and p.index < planned.index
        for t in p.targets
    }
    merged: Result | None = None
    for target in targets:
        if target.queued_at is None:
            continue  # never launched
        if (
            target.id.casefold() in cancelled_before
            and target.conclusion is Result.CANCELED
        ):
            continue  # I8: a cancel step targeted it before this wait
        assert target.conclusion is not None
        merged = merge_results(merged, target.conclusion)
    return Result.SUCCEEDED if merged is None else merged


def expected_job_result(job: Job, report: JobReport, *, cancelled: bool) -> Result:
    """R2.4 recomputed from the report (I4), given whether the job was cancelled.

    Contributions in time order: main steps (R2.4.1, R3.4), the end of the
    main steps (R2.4.3), then post steps (R2.4.1). Job cancellation (R6.1)
    happens before the post steps and makes the result ``CANCELED`` for good.
    """
    if cancelled:
        return Result.CANCELED
    result: Result | None = None

    def foreground(planned: PlannedStep) -> None:
        nonlocal result
        step = report.steps[planned.id]
        if planned.kind in CONTROL_KINDS or not planned.background:
            if step.conclusion is Result.FAILED:
                result = merge_results(result, Result.FAILED)  # R2.4.1
        elif _condition_raised(planned, step):
            result = merge_results(result, Result.FAILED)  # R3.4

    for planned in job.plan:
        if not planned.post:
            foreground(planned)
    for _planned, step in _background(job, report):  # R2.4.3
        if step.queued_at is None:
            continue
        by = step.completed_by
        if by is not None and report.steps[by].kind != StepKind.CANCEL:
            continue
        if step.explicitly_canceled and step.conclusion is Result.CANCELED:
            continue
        assert step.conclusion is not None
        result = merge_results(result, step.conclusion)
    for planned in job.plan:
        if planned.post:
            foreground(planned)
    return Result.SUCCEEDED if result is None else result


def _check_i4(job: Job, report: JobReport, cancelled: bool | None) -> None:
    """I4: the job result equals R2.4 recomputed from the report."""
    for planned in job.plan:
        if planned.kind in ("wait", "wait-all", "implicit-wait-all"):
            outcome = _control_outcome(job, report, planned)
            if report.steps[planned.id].outcome is not outcome:
                _fail(
                    "I4",
                    planned.id,
                    f"outcome {report.steps[planned.id].outcome}, R4.4 gives {outcome}",
                )
        elif (
            planned.kind == StepKind.CANCEL
            and report.steps[planned.id].outcome is not Result.SUCCEEDED
        ):
            _fail("I4", planned.id, "a cancel step always SUCCEEDED (R4.6)")
    if cancelled is None:
        cancelled = _job_cancelled(report)
    options = [False, True] if cancelled is None else [cancelled]
    allowed = {expected_job_result(job, report, cancelled=option) for option in options}
    if report.result not in allowed:
        _fail("I4", None, f"job result {report.result}, R2.4 gives {sorted(allowed)}")


def _visible_ids(job: Job, report: JobReport, viewer: PlannedStep) -> set[str]:
    """I6: the run steps published before ``viewer`` started or was launched."""
    index = {p.id: p.index for p in job.plan}
    visible = set()
    for planned in job.plan:
        if (
            planned.kind != StepKind.RUN
            or planned.index >= viewer.index
            or planned.id.startswith("__")
        ):
            continue
        step = report.steps[planned.id]
        if planned.background and step.queued_at is not None:
            by = step.completed_by
            if by is None or index[by] >= viewer.index:
                continue
        visible.add(planned.id)
    return visible


def _check_i6(job: Job, report: JobReport) -> None:
    """I6: a step sees another's outputs iff they were published before."""
    run_ids = {p.id for p in job.plan if p.kind == StepKind.RUN}
    for planned in job.plan:
        seen = report.steps[planned.id].outputs.get(OBSERVATION_OUTPUT)
        if planned.kind != StepKind.RUN or seen is None:
            continue
        actual = _seen_ids(seen) & run_ids
        expected = _visible_ids(job, report, planned)
        if actual != expected:
            _fail(
                "I6",
                planned.id,
                f"saw {sorted(actual)}, R4.1/R5 publish {sorted(expected)}",
            )


def _check_i8(job: Job, report: JobReport) -> None:
    """I8: an explicitly cancelled step changes the job result only if it FAILED."""
    for planned, step in _background(job, report):
        if not step.explicitly_canceled or step.conclusion is Result.FAILED:
            continue
        if step.conclusion is Result.CANCELED:
            # Its CANCELED must be ignored by every wait that lists it (R4.4).
            for control in job.plan:
                if control.kind == StepKind.WAIT and planned.id in control.targets:
                    outcome = _control_outcome(job, report, control)
                    if report.steps[control.id].outcome is not outcome:
                        _fail(
                            "I8", planned.id, f"changed the outcome of {control.id!r}"
                        )


def check_invariants(
    job: Job,
    report: JobReport,
    *,
    job_cancelled: bool | None = None,
    semantics: Semantics | str = Semantics.TRIO_STEPS,
) -> None:
    """Assert rules §10's invariants I1–I4 and I6–I9 on one report.

    I5 (nothing outlives the run) is checked by :func:`run_on_mock_clock`,
    I10 (same job, same report) by :func:`check_deterministic`. Checks that
    need events (steps finished once, flush counts) use them when the report
    has them.

    Args:
        job: The job that ran.
        report: Its report (from the engine or from
            :func:`trio_steps.testing.simulate`).
        job_cancelled: Whether the job was cancelled (R6.1); ``None`` reads
            it from the events, or accepts either when there are none.
        semantics: The semantics the report was made under. Under
            ``GITHUB_RUNNER`` the invariants GitHub's runner keeps are
            checked, some of them in its own terms (rules §17; see
            ``testing/_github_invariants.py``).

    Raises:
        AssertionError: An invariant does not hold; the message starts with
            its name (``I3``) and names the step.
        ValueError: ``semantics`` names no semantics.
    """
    if coerce_semantics(semantics) is Semantics.GITHUB_RUNNER:
        from ._github_invariants import check_github_invariants

        if job_cancelled is None:
            job_cancelled = _job_cancelled(report)
        check_github_invariants(job, report, job_cancelled=job_cancelled)
        return
    _check_i1(job, report)
    _check_i2(job, report)
    _check_i3(job, report)
    _check_i4(job, report, job_cancelled)
    _check_i6(job, report)
    _check_i7(job, report)
    _check_i8(job, report)
    _check_i9(job, report)


@attrs.frozen(kw_only=True)
class EngineRun:
    """One run of the engine on a :class:`trio.testing.MockClock`.

    Attributes:
        report: The job report.
        returned_at: The clock when :func:`~trio_steps.run_job` returned.
    """

    report: JobReport
    returned_at: float


def run_on_mock_clock(
    job: Job,
    *,
    semantics: Semantics | str = Semantics.TRIO_STEPS,
    mock_deadline: float | None = None,
    wall_deadline: float | None = None,
) -> EngineRun:
    """Run ``job`` in a fresh :func:`trio.run` on an autojump clock, checking I5.

    With a deadline, the run happens in a helper thread and a job that does
    not end in time is a :class:`JobHangs` finding instead of a hung caller
    (give one when the job may contain a step that shields itself forever).

    Args:
        job: The job.
        semantics: The semantics to run it under (rules §17).
        mock_deadline: Virtual seconds before the job counts as hung.
        wall_deadline: Real seconds before the job counts as hung.

    Returns:
        The report and the clock when the run returned.

    Raises:
        AssertionError: A task of the job is still alive after the run (I5).
        EngineCrash: :func:`~trio_steps.run_job` raised.
        JobHangs: A deadline passed before the run returned.
    """

    async def main() -> EngineRun:
        before = trio.lowlevel.current_statistics().tasks_living
        try:
            report = await run_job(job, semantics=semantics)
        except Exception as exc:
            raise EngineCrash(exc) from exc
        after = trio.lowlevel.current_statistics().tasks_living
        if after != before:
            _fail(
                "I5", None, f"{after - before} tasks still alive after run_job returned"
            )
        return EngineRun(report=report, returned_at=trio.current_time())

    if mock_deadline is None and wall_deadline is None:
        return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    result = run_guarded(
        main,
        mock_deadline=DEFAULT_MOCK_DEADLINE if mock_deadline is None else mock_deadline,
        wall_deadline=DEFAULT_WALL_DEADLINE if wall_deadline is None else wall_deadline,
    )
    assert isinstance(result, EngineRun)
    return result


def _comparable(report: JobReport) -> tuple[object, ...]:
    # I10 as the engine reads it (docs/source/timing.rst): the same events,
    # with the same times and data, in the same order, R18.8 fixing the
    # order of the events of one instant.
    events = [(e.kind, e.step_id, e.time, dict(e.data)) for e in report.events]
    times = [e.time for e in report.events]
    assert times == sorted(times), "I10: events are not in time order"
    steps = tuple(report.steps.items())
    return (report.result, steps, dict(report.env), report.path, events)


def check_deterministic(
    job: Job, *, semantics: Semantics | str = Semantics.TRIO_STEPS
) -> JobReport:
    """I10: run ``job`` twice on a MockClock; assert the same report.

    Events are compared without their wall-clock times, in order: the
    events of one instant come in the canonical order of rules R18.8.

    Args:
        job: The job.
        semantics: The semantics to run it under (rules §17).

    Returns:
        The first report.

    Raises:
        AssertionError: The two runs differ.
    """
    first = run_on_mock_clock(job, semantics=semantics).report
    second = run_on_mock_clock(job, semantics=semantics).report
    if _comparable(first) != _comparable(second):
        _fail("I10", None, "two runs of the same job gave different reports")
    return first


def diff_reports(expected: JobReport, actual: JobReport) -> list[str]:
    """List the differences that matter between two reports of one job.

    Compares the job result, final env and path, and per step
    the fields in ``COMPARED_FIELDS``.

    Args:
        expected: Usually :func:`trio_steps.testing.simulate`'s report.
        actual: Usually the engine's.

    Returns:
        One line per difference; empty when they agree.
    """
    problems = []
    if expected.result is not actual.result:
        problems.append(
            f"job result: model {expected.result!r}, engine {actual.result!r}"
        )
    for id, want in expected.steps.items():
        if id not in actual.steps:
            problems.append(f"step {id!r}: missing from the engine's report")
            continue
        got = actual.steps[id]
        for field in COMPARED_FIELDS:
            a, b = getattr(want, field), getattr(got, field)
            if field == "outputs":
                a, b = dict(a), dict(b)
            if a != b:
                problems.append(f"step {id!r} {field}: model {a!r}, engine {b!r}")
    extra = [id for id in actual.steps if id not in expected.steps]
    if extra:
        problems.append(f"steps only the engine reports: {extra}")
    if dict(expected.env) != dict(actual.env):
        problems.append(
            f"env: model {dict(expected.env)!r}, engine {dict(actual.env)!r}"
        )
    if tuple(expected.path) != tuple(actual.path):
        problems.append(f"path: model {expected.path!r}, engine {actual.path!r}")
    return problems


def check_against_model(
    job: Job,
    *,
    semantics: Semantics | str = Semantics.TRIO_STEPS,
    mock_deadline: float | None = None,
    wall_deadline: float | None = None,
) -> JobReport:
    """Run ``job`` on the engine and assert it matches the model and I1–I9.

    Args:
        job: A job of scripted steps.
        semantics: The semantics both run it under (rules §17); the
            invariants are checked as that semantics keeps them.
        mock_deadline: Virtual seconds before the job counts as hung
            (:class:`JobHangs`); see :func:`run_on_mock_clock`.
        wall_deadline: Real seconds before the job counts as hung.

    Returns:
        The engine's report.

    Raises:
        AssertionError: The engine disagrees with
            :func:`trio_steps.testing.simulate`, or an invariant fails.
        EngineCrash: The engine raised.
        JobHangs: The engine's run did not end before a deadline; when the
            model says the job never ends, the run gets the default
            deadlines if none are given.
    """
    try:
        expected = simulate(job, semantics=semantics)
    except JobNeverEnds as never:
        run_on_mock_clock(
            job,
            semantics=semantics,
            mock_deadline=mock_deadline or DEFAULT_MOCK_DEADLINE,
            wall_deadline=wall_deadline or DEFAULT_WALL_DEADLINE,
        )
        raise AssertionError(
            f"the model says the job never ends ({never}), the engine's run "
            f"returned\n{job_text(job)}"
        ) from None
    run = run_on_mock_clock(
        job,
        semantics=semantics,
        mock_deadline=mock_deadline,
        wall_deadline=wall_deadline,
    )
    problems = diff_reports(expected, run.report)
    if problems:
        raise AssertionError(
            "engine and model disagree:\n  "
            + "\n  ".join(problems)
            + "\n"
            + job_text(job)
        )
    check_invariants(job, run.report, semantics=semantics)
    if coerce_semantics(semantics) is not Semantics.TRIO_STEPS:
        check_invariants(
            job,
            expected,
            job_cancelled=_job_cancelled(run.report),
            semantics=semantics,
        )
    # Under trio-steps' own semantics the invariants read only fields
    # diff_reports compared (and the events, which only the engine's report
    # has): once the reports agree, the model's report satisfies them
    # exactly when the engine's does.
    return run.report


def _all_scripted(job: Job) -> bool:
    return all(
        isinstance(step.run, Script)
        for entry in (*job.steps, *job.post_steps)
        for step in (entry.steps if isinstance(entry, Parallel) else (entry,))
        if isinstance(step, Step)
    )


def check_job(
    job: Job,
    *,
    semantics: Semantics | str = Semantics.TRIO_STEPS,
    mock_deadline: float = DEFAULT_MOCK_DEADLINE,
    wall_deadline: float = DEFAULT_WALL_DEADLINE,
) -> JobReport:
    """Check any job the way the fuzzer does: model where it can, invariants always.

    A job of scripted steps goes through :func:`check_against_model`; a job
    with other steps too (from ``jobs(extra_steps=...)``) runs on the engine
    and its report must satisfy I1–I4 and I6–I9 (and I5). Either way the run
    has deadlines: a job that does not end is a :class:`JobHangs` finding,
    an exception from the engine an :class:`EngineCrash`. A failure's
    message ends with the job, as Python when
    :func:`~trio_steps.testing.job_to_python` can write it, else as a
    compact listing.

    Args:
        job: The job.
        semantics: The semantics to run and check it under (rules §17).
        mock_deadline: Virtual seconds before the job counts as hung.
        wall_deadline: Real seconds before the job counts as hung.

    Returns:
        The engine's report.

    Raises:
        AssertionError: A disagreement or a broken invariant.
        EngineCrash: The engine raised.
        JobHangs: The engine's run did not end before a deadline.
    """
    try:
        if _all_scripted(job):
            return check_against_model(
                job,
                semantics=semantics,
                mock_deadline=mock_deadline,
                wall_deadline=wall_deadline,
            )
        run = run_on_mock_clock(
            job,
            semantics=semantics,
            mock_deadline=mock_deadline,
            wall_deadline=wall_deadline,
        )
    except Finding as finding:
        finding.add_note(job_text(job))
        raise
    try:
        check_invariants(job, run.report, semantics=semantics)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{job_text(job)}") from None
    return run.report


def _job_cancelled(report: JobReport) -> bool | None:
    if not report.events:
        return None
    return any(e.kind == "job-cancel-requested" for e in report.events)
