"""Which invariants of rules §10 GitHub's runner keeps (rules §17).

Under :attr:`~trio_steps.Semantics.GITHUB_RUNNER` the engine and the model
reproduce the runner as it is, so some invariants of §10 no longer hold. Per
invariant:

* **I1 relaxed** (R17.4): a step the runner never completes has no outcome,
  conclusion or end. Checked instead: every other step ends once, and a step
  that never completed is a launched background step that never started.
  Control steps ignore ``continue-on-error`` (R17.3).
* **I2, I3 hold**: the runner's slots are a FIFO semaphore.
* **I4 in GitHub's terms** (R17.3, R17.7): a wait merges every target's
  result, CANCELED ones a cancel named included; the end merges every
  background result again; a cancel step is CANCELED only when a target it
  stopped never completed.
* **I5 holds**: the engine still leaves nothing behind; §11.2 is not
  reproduced (R17.10).
* **I6 relaxed** (R17.6, R17.8): a background step reads ``steps`` when it
  gets its slot, not at launch, so only what foreground steps see is
  checked; a background step that was not launched is never published.
* **I7 holds** for the first flush (one ``step-flushed`` event each, before
  the post steps); later waits publish the env again (R17.5) without an
  event.
* **I8 relaxed** (R17.3): a cancelled target's CANCELED does change the
  outcome of a wait that lists it; it still never changes the job result,
  which I4 above checks.
* **I9 holds**: the runner adds the implicit wait-all on the same condition.
* **I10 holds**: same job, same report (:func:`check_deterministic`).
"""

from __future__ import annotations

from .._job import Job, PlannedStep
from .._results import JobReport, Result, merge_results
from .._semantics import targets_matching_case
from .._steps import CONTROL_KINDS, StepKind
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
from ._scripted import OBSERVATION_OUTPUT

__all__ = ["RELAXED", "check_github_invariants"]

#: Invariant -> why GitHub's runner does not keep it as §10 states it.
RELAXED = {
    "I1": "R17.4: a step stopped in the queue never completes",
    "I4": "R17.3/R17.7: waits merge cancelled targets; the end merges every result",
    "I6": "R17.8: a background step reads steps when it gets its slot",
    "I8": "R17.3: a cancelled target's CANCELED changes the waits that list it",
}

_WAITS = (StepKind.WAIT, StepKind.WAIT_ALL, StepKind.IMPLICIT_WAIT_ALL)


def _check_i1(job: Job, report: JobReport) -> None:
    if len(report.steps) != len(job.plan):
        _fail(
            "I1", None, f"{len(report.steps)} steps reported, plan has {len(job.plan)}"
        )
    for planned in job.plan:
        step = _step(report, planned)
        if step.never_completed:
            if not (planned.background and planned.kind == StepKind.RUN):
                _fail("I1", planned.id, "only a background step can never complete")
            if step.queued_at is None or step.started_at is not None:
                _fail("I1", planned.id, "never completed, yet not queued-only")
            if (step.outcome, step.conclusion, step.finished_at) != (None, None, None):
                _fail("I1", planned.id, "never completed, yet has a result or end")
            continue
        if step.outcome is None or step.conclusion is None:
            _fail("I1", planned.id, "has no outcome and is not never_completed")
        expected = step.outcome
        coe = planned.continue_on_error and planned.kind not in _WAITS
        if step.outcome is Result.FAILED and coe:
            expected = Result.SUCCEEDED
        if step.conclusion is not expected and not _condition_raised(planned, step):
            _fail(
                "I1",
                planned.id,
                f"conclusion {step.conclusion} for outcome {step.outcome} (R2.3, R17.3)",
            )
    finished: dict[str | None, int] = {}
    for event in report.events:
        if event.kind == "step-finished":
            finished[event.step_id] = finished.get(event.step_id, 0) + 1
    for id, count in finished.items():
        if count > 1:
            _fail("I1", id, f"finished {count} times")


def _wait_outcome(job: Job, report: JobReport, planned: PlannedStep) -> Result:
    """R17.3: every launched target with a result, in order."""
    if planned.kind == StepKind.WAIT:
        targets = [report.steps[t] for t in targets_matching_case(planned)]
    else:
        targets = [
            s for _, s in _background(job, report) if s.completed_by == planned.id
        ]
    merged: Result | None = None
    for target in targets:
        if target.queued_at is None or target.never_completed:
            continue
        assert target.conclusion is not None
        merged = merge_results(merged, target.conclusion)
    return Result.SUCCEEDED if merged is None else merged


def expected_github_job_result(
    job: Job, report: JobReport, *, cancelled: bool
) -> Result:
    """The job result as GitHub's runner computes it (R2.4.1, R3.4, R17.7)."""
    if cancelled:
        return Result.CANCELED
    result: Result | None = None

    def foreground(planned: PlannedStep) -> None:
        nonlocal result
        step = report.steps[planned.id]
        if planned.kind in CONTROL_KINDS or not planned.background:
            if step.conclusion is Result.FAILED:
                result = merge_results(result, Result.FAILED)
        elif _condition_raised(planned, step):
            result = merge_results(result, Result.FAILED)

    for planned in job.plan:
        if not planned.post:
            foreground(planned)
    merged: Result | None = None
    for _, step in _background(job, report):  # R17.7: every result, again
        if step.queued_at is None or step.never_completed:
            continue
        if step.explicitly_canceled and step.conclusion is Result.CANCELED:
            continue
        assert step.conclusion is not None
        merged = merge_results(merged, step.conclusion)
    if merged is not None and merged is not Result.SUCCEEDED:
        result = merge_results(result, merged)
    for planned in job.plan:
        if planned.post:
            foreground(planned)
    return Result.SUCCEEDED if result is None else result


def _check_i4(job: Job, report: JobReport, cancelled: bool | None) -> None:
    for planned in job.plan:
        step = report.steps[planned.id]
        if planned.kind in _WAITS:
            outcome = _wait_outcome(job, report, planned)
            if step.outcome is not outcome:
                _fail(
                    "I4", planned.id, f"outcome {step.outcome}, R17.3 gives {outcome}"
                )
        elif planned.kind == StepKind.CANCEL:
            dropped = any(report.steps[t].never_completed for t in planned.targets)
            allowed = (
                {Result.SUCCEEDED, Result.CANCELED} if dropped else {Result.SUCCEEDED}
            )
            if step.outcome not in allowed:
                _fail("I4", planned.id, f"a cancel step ended {step.outcome} (R17.4)")
    options = [False, True] if cancelled is None else [cancelled]
    allowed_results = {
        expected_github_job_result(job, report, cancelled=option) for option in options
    }
    if report.result not in allowed_results:
        _fail(
            "I4",
            None,
            f"job result {report.result}, R17.7 gives {sorted(allowed_results)}",
        )


def _check_i6_foreground(job: Job, report: JobReport) -> None:
    """I6 for foreground viewers: what R4.1, R17.5 and R17.6 published."""
    index = {p.id: p.index for p in job.plan}
    run_ids = {p.id for p in job.plan if p.kind == StepKind.RUN}
    for viewer in job.plan:
        seen = report.steps[viewer.id].outputs.get(OBSERVATION_OUTPUT)
        if viewer.kind != StepKind.RUN or viewer.background or seen is None:
            continue
        expected = set()
        for planned in job.plan:
            if (
                planned.kind != StepKind.RUN
                or planned.index >= viewer.index
                or planned.id.startswith("__")
            ):
                continue
            step = report.steps[planned.id]
            if planned.background:
                if step.queued_at is None:
                    continue  # R17.6: never published
                by = step.completed_by
                if by is None or index[by] >= viewer.index:
                    continue
            expected.add(planned.id)
        actual = _seen_ids(seen) & run_ids
        if actual != expected:
            _fail(
                "I6",
                viewer.id,
                f"saw {sorted(actual)}, R4.1/R17.5/R17.6 publish {sorted(expected)}",
            )


def check_github_invariants(
    job: Job, report: JobReport, *, job_cancelled: bool | None = None
) -> None:
    """Assert the invariants GitHub's runner keeps, in its terms (see above).

    Args:
        job: The job that ran.
        report: Its report under ``GITHUB_RUNNER`` (engine or model).
        job_cancelled: Whether the job was cancelled; ``None`` accepts
            either.

    Raises:
        AssertionError: An invariant does not hold; the message starts with
            its name and names the step.
    """
    _check_i1(job, report)
    _check_i2(job, report)
    _check_i3(job, report)
    _check_i4(job, report, job_cancelled)
    _check_i6_foreground(job, report)
    _check_i7(job, report)
    _check_i9(job, report)
