"""The two semantics side by side: what changes for one job (rules §17)."""

from __future__ import annotations

from typing import Final

import attrs

from .._job import Job
from .._results import JobReport, Result, StepReport
from .._semantics import Semantics, targets_matching_case
from .._steps import StepKind
from ._invariants import COMPARED_FIELDS, run_on_mock_clock
from ._model import simulate

__all__ = ["SemanticsDifference", "compare_semantics"]


@attrs.frozen(kw_only=True)
class SemanticsDifference:
    """One thing that differs between the two semantics' reports of a job.

    Attributes:
        step: The step's id, or ``None`` for the job (``result``, ``env``,
            ``path``).
        field: The :class:`~trio_steps.StepReport` field (or job field).
        trio_steps: Its value under :attr:`~trio_steps.Semantics.TRIO_STEPS`.
        github_runner: Its value under
            :attr:`~trio_steps.Semantics.GITHUB_RUNNER`.
        rule: The rule of ``rules.rst`` that explains it (``R17.3``).
        sentence: The difference in one sentence that cites the rule.
    """

    step: str | None
    field: str
    trio_steps: object
    github_runner: object
    rule: str
    sentence: str

    def __str__(self) -> str:
        return self.sentence


_TIMES: Final = ("queued_at", "started_at", "finished_at")


def _show(value: object) -> str:
    if isinstance(value, Result):
        return value.name
    if value is None:
        return "nothing"
    return repr(value)


_CASE: Final = (
    "R17.9",
    "the runner compares wait and cancel ids with case, and a target here is "
    "written in another case than its step declares: unknown to the runner, "
    "it is neither cancelled nor waited for",
)


def _case_mismatches(job: Job) -> set[str]:
    """Control steps and targets that R17.9 makes strangers to each other."""
    found: set[str] = set()
    for planned in job.plan:
        matching = targets_matching_case(planned)
        if matching != planned.targets:
            found.add(planned.id)
            found.update(t for t in planned.targets if t not in matching)
    return found


def _explain_step(
    field: str,
    ours: StepReport,
    theirs: StepReport,
    github: JobReport,
    job_differs: bool,
    case: set[str],
) -> tuple[str, str]:
    """(rule, reason) for one field of one step."""
    kind = ours.kind
    never = any(s.never_completed for s in github.steps.values())
    if ours.id in case:
        return _CASE
    if theirs.never_completed:
        return (
            "R17.4",
            "the runner never completes a step stopped while it waits for a "
            "slot, or launched after the job was cancelled",
        )
    if kind == StepKind.CANCEL:
        return (
            "R17.4",
            "the cancel step stopped a step in the queue; in the runner it "
            "then ends CANCELED and completes none of its targets",
        )
    if kind != StepKind.RUN and field in ("outcome", "conclusion"):
        if ours.outcome is theirs.outcome:
            return "R17.3", "the runner ignores continue-on-error on a wait"
        return (
            "R17.3",
            "the runner's wait merges every target's result, a CANCELED "
            "one that a cancel step named included",
        )
    if field == "completed_by" or (kind != StepKind.RUN and never):
        return (
            "R17.4",
            "the runner does not wait for a step that never completes, and a "
            "cancel step that stopped one completes none of its targets",
        )
    if field == "outputs" and ours.background:
        return (
            "R17.8",
            "a background step reads steps (and the path) when it gets its "
            "slot, not at its launch",
        )
    if field == "outputs":
        if any(
            s.background and s.kind == StepKind.RUN and s.queued_at is None
            for s in github.steps.values()
        ):
            return (
                "R17.6",
                "a background step that was not launched never appears in the "
                "runner's steps context",
            )
        if never:
            return (
                "R17.4",
                "the runner's flush shows a step that never completed as a success",
            )
        if case:
            return _CASE
        return "R17.5", "every wait of the runner flushes its steps' env again"
    if Result.SKIPPED in (ours.outcome, theirs.outcome) or (
        field in _TIMES and job_differs
    ):
        return (
            "R17.3",
            "its condition saw another job status: the runner's wait merges a "
            "cancelled target's CANCELED instead of failing the job there",
        )
    return (
        "R17.8" if ours.background else "R17.4",
        "a consequence of the differences before it: steps start and end at "
        "other times under the runner",
    )


def _differences(
    job: Job, ours: JobReport, theirs: JobReport
) -> list[SemanticsDifference]:
    found: list[SemanticsDifference] = []
    case = _case_mismatches(job)
    job_differs = False
    for id, a in ours.steps.items():
        b = theirs.steps[id]
        for field in COMPARED_FIELDS:
            x, y = getattr(a, field), getattr(b, field)
            if field == "outputs":
                x, y = dict(x), dict(y)
            if x == y:
                continue
            if a.kind != StepKind.RUN and field in ("outcome", "conclusion"):
                job_differs = True
            rule, reason = _explain_step(field, a, b, theirs, job_differs, case)
            found.append(
                SemanticsDifference(
                    step=id,
                    field=field,
                    trio_steps=x,
                    github_runner=y,
                    rule=rule,
                    sentence=(
                        f"{id}: {field} is {_show(x)} under trio-steps and "
                        f"{_show(y)} under GitHub's runner, because {reason} "
                        f"({rule})."
                    ),
                )
            )
    if ours.result is not theirs.result:
        found.append(
            SemanticsDifference(
                step=None,
                field="result",
                trio_steps=ours.result,
                github_runner=theirs.result,
                rule="R17.7",
                sentence=(
                    f"job: result is {_show(ours.result)} under trio-steps and "
                    f"{_show(theirs.result)} under GitHub's runner, because the "
                    "runner fails the job where its waits fail (R17.3) and "
                    "merges every background result again at the end (R17.7)."
                ),
            )
        )
    for field in ("env", "path"):
        x, y = getattr(ours, field), getattr(theirs, field)
        if field == "env":
            x, y = dict(x), dict(y)
        else:
            x, y = tuple(x), tuple(y)
        if x != y:
            found.append(
                SemanticsDifference(
                    step=None,
                    field=field,
                    trio_steps=x,
                    github_runner=y,
                    rule="R17.5",
                    sentence=(
                        f"job: final {field} is {x!r} under trio-steps and "
                        f"{y!r} under GitHub's runner, because every wait "
                        "flushes its steps' changes again (R17.5)."
                    ),
                )
            )
    return found


def compare_semantics(job: Job, *, engine: bool = False) -> list[SemanticsDifference]:
    """The differences between the two semantics' reports of ``job``.

    Step by step, in plan order, then the job's result, env and path; each
    with both values and a sentence citing the rule of §17 that explains it
    (a time that moved because something before it changed says so).

    Args:
        job: The job. With ``engine=False``, its run steps are scripted
            (:func:`~trio_steps.testing.ScriptedStep`) and the reference
            model computes both reports.
        engine: Run the engine on a :class:`~trio.testing.MockClock` under
            each semantics instead (steps that are Python callables too).

    Returns:
        The differences; empty when the job cannot tell the two apart.
    """
    if engine:
        ours = run_on_mock_clock(job, semantics=Semantics.TRIO_STEPS).report
        theirs = run_on_mock_clock(job, semantics=Semantics.GITHUB_RUNNER).report
    else:
        ours = simulate(job, semantics=Semantics.TRIO_STEPS)
        theirs = simulate(job, semantics=Semantics.GITHUB_RUNNER)
    return _differences(job, ours, theirs)
