"""Running a whole workflow: the graph of jobs on Trio (rules §15).

Each job of the :class:`~trio_steps.Workflow` is a Trio task that waits for
the jobs it needs, evaluates its ``if:`` (R15.2), expands its matrix
(R15.4) and runs one :class:`JobRunner` per combination, under the
workflow's job limit and the matrix's ``max-parallel`` (R15.5). A failed
matrix job cancels its siblings when ``fail-fast`` holds (R15.5);
:meth:`WorkflowRunner.cancel` cancels every job as GitHub's cancel button
does (R15.8); cancelling the scope around :meth:`WorkflowRunner.run`
hard-stops every job (R6.2).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final

import attrs
import trio

from .._errors import JobDefinitionError
from .._face import public
from .._matrix import MatrixError, combination_label, expand_matrix
from .._results import CaseInsensitiveMapping, Result
from .._semantics import Semantics, coerce_semantics
from .._workflows import (
    JOB_IF_NAMES,
    JOB_MATRIX_NAMES,
    JOB_OUTPUT_NAMES,
    Workflow,
    WorkflowJob,
    WorkflowJobReport,
    WorkflowReport,
    combine_results,
)
from ._runner import JobRunner

if TYPE_CHECKING:
    from .._events import Event
    from .._results import JobReport

__all__ = ["WorkflowRunner", "run_workflow"]

_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_.-]+")


@attrs.define(eq=False)
class _Group:
    """The jobs one workflow job made (one, or one per combination)."""

    wjob: WorkflowJob
    limit: int
    units: list[_Unit] = attrs.field(factory=list)
    running: int = 0
    left: int = 0


@attrs.define(eq=False)
class _Unit:
    """One job of the run: a job, or one combination of its matrix."""

    key: str
    wjob: WorkflowJob
    matrix: dict[str, object]
    strategy: dict[str, object]
    needs: dict[str, object]
    queued_at: float
    group: _Group
    runner: JobRunner | None = None
    cancel_reason: str | None = None
    started_at: float | None = None
    done: bool = False


class WorkflowRunner:
    """Runs every job of a workflow, each as :class:`JobRunner` runs one.

    Args:
        workflow: The workflow.
        max_jobs: How many jobs may run at once (default: the CPU count).
        on_event: Called with the job's key (see
            :attr:`WorkflowJobReport.key`) and every :class:`Event` of its
            steps, synchronously, as they happen.
        on_job: Called with each :class:`WorkflowJobReport` as the job ends
            (skipped jobs included). Neither callback may block; an
            exception raised by one hard-stops every job (R6.2) and is then
            raised from :meth:`run`, in an :class:`ExceptionGroup`.
        log_dir: A directory that receives one sub-directory of step logs
            per job (named after its key).
        semantics: The semantics every job runs under (see
            :class:`JobRunner`, rules §17).

    Raises:
        JobDefinitionError: ``workflow`` is not a :class:`Workflow`, or
            ``max_jobs`` is not an integer >= 1.
        ValueError: ``semantics`` names no :class:`Semantics`.
    """

    def __init__(
        self,
        workflow: Workflow,
        *,
        max_jobs: int | None = None,
        on_event: Callable[[str, Event], object] | None = None,
        on_job: Callable[[WorkflowJobReport], object] | None = None,
        log_dir: str | os.PathLike[str] | None = None,
        semantics: Semantics | str = Semantics.TRIO_STEPS,
    ) -> None:
        if not isinstance(workflow, Workflow):
            raise JobDefinitionError(
                f"WorkflowRunner needs a Workflow, not {type(workflow).__name__}"
            )
        if max_jobs is None:
            max_jobs = os.cpu_count() or 1
        if isinstance(max_jobs, bool) or not isinstance(max_jobs, int) or max_jobs < 1:
            raise JobDefinitionError(
                f"max_jobs must be an integer >= 1, not {max_jobs!r}"
            )
        self.workflow = workflow
        self.max_jobs = max_jobs
        #: The semantics every job runs under (rules §17).
        self.semantics = coerce_semantics(semantics)
        self._on_event = on_event
        self._on_job = on_job
        self._log_dir = log_dir
        # Jobs whose needs have not all ended, in file order; combinations
        # waiting for a slot, in the order their jobs became ready (R15.2).
        self._pending: list[WorkflowJob] = list(workflow.jobs)
        self._queue: list[_Unit] = []
        self._running = 0
        self._nursery: trio.Nursery | None = None
        self._halted = False  # hard-stopped: nothing more starts
        self._results: dict[str, Result] = {}
        self._outputs: dict[str, dict[str, str]] = {}
        self._reports: dict[str, WorkflowJobReport] = {}
        self._units: list[_Unit] = []
        self._keys: set[str] = set()
        self._index: dict[str, int] = {}  # key -> index in its matrix
        self._cancelled = False
        self._started = False
        self._github: dict[str, object] | None = None

    # ------------------------------------------------------------------ API

    async def run(self) -> WorkflowReport:
        """Run every job to the end and return the workflow's report.

        If the surrounding scope is cancelled, every running job is
        hard-stopped (R6.2) and :class:`trio.Cancelled` propagates once they
        ended; :attr:`report` then holds what happened.

        Raises:
            RuntimeError: The runner was already used.
        """
        if self._started:
            raise RuntimeError("a WorkflowRunner runs its workflow once")
        self._started = True
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self._advance()
        return self.report

    def cancel(self) -> None:
        """Cancel the workflow (R15.8): every job as by :meth:`JobRunner.cancel`.

        Queued jobs never start; jobs not reached yet run only if their
        ``if:`` holds under ``cancelled()`` (``always()``, ``cancelled()``).
        """
        if self._cancelled:
            return
        self._cancelled = True
        for unit in list(self._units):
            self._cancel_unit(unit, "the workflow was cancelled")

    def job_runner(self, key: str) -> JobRunner | None:
        """The :class:`JobRunner` of the job with this key, once it started."""
        for unit in self._units:
            if unit.key == key:
                return unit.runner
        return None

    @property
    def report(self) -> WorkflowReport:
        """The report so far; final once :meth:`run` has returned."""
        jobs = dict(self._reports)
        for unit in self._units:
            if unit.key not in jobs and unit.runner is not None:
                live = unit.runner.report
                jobs[unit.key] = self._job_report(
                    unit, live.result, live.result, report=live
                )
        # File order, and each matrix's jobs in matrix order.
        order = {job.id: n for n, job in enumerate(self.workflow.jobs)}
        jobs = dict(
            sorted(
                jobs.items(),
                key=lambda item: (order[item[1].id], self._index.get(item[0], 0)),
            )
        )
        failed = any(j.result is Result.FAILED for j in jobs.values())
        result = (
            Result.FAILED
            if failed
            else Result.CANCELED
            if self._cancelled
            else Result.SUCCEEDED
        )
        return WorkflowReport(
            result=result,
            jobs=CaseInsensitiveMapping(jobs),
            cancelled=self._cancelled,
        )

    # ------------------------------------------------------------ one job

    def _now(self) -> float:
        return trio.current_time()

    def _github_context(self, wjob: WorkflowJob) -> dict[str, object]:
        if self._github is None:
            from ._github import github_context

            self._github = dict(
                github_context(
                    workspace=wjob.job.workspace, workflow=self.workflow.name or ""
                )
            )
            self._github.setdefault("event", {})
        github = dict(self._github)
        github.update(wjob.job.github)
        github["job"] = wjob.id
        return github

    def _status(self, wjob: WorkflowJob) -> str:
        """The job status the status functions of a job's ``if:`` read."""
        if self._cancelled:
            return "cancelled"
        results = [self._results[a] for a in self.workflow.ancestors(wjob.id)]
        if Result.FAILED in results:
            return "failure"
        if all(r.github == "success" for r in results):
            return "success"
        return "skipped"

    def _advance(self) -> None:
        """Decide every job whose needs ended, then start what may start.

        Synchronous, in file order: which job runs first never depends on
        the order Trio wakes tasks in.
        """
        if self._halted:
            return
        progress = True
        while progress:
            progress = False
            for wjob in list(self._pending):
                needs = self.workflow.needs_of(wjob.id)
                if all(need in self._results for need in needs):
                    self._pending.remove(wjob)
                    self._decide(wjob, needs)
                    progress = True
        self._dispatch()

    def _dispatch(self) -> None:
        """Start queued combinations while the limits allow (R15.2, R15.5)."""
        assert self._nursery is not None
        for unit in list(self._queue):
            if self._running >= self.max_jobs:
                return
            if unit.group.running >= unit.group.limit:
                continue
            self._queue.remove(unit)
            self._running += 1
            unit.group.running += 1
            self._nursery.start_soon(self._unit_task, unit)

    def _decide(self, wjob: WorkflowJob, needs: tuple[str, ...]) -> None:
        from ..expressions import (
            ExpressionError,
            compile_condition,
            compile_template,
            truthy,
        )

        now = self._now()
        needs_context: dict[str, object] = {
            need: {"result": self._results[need].github, "outputs": self._outputs[need]}
            for need in needs
        }
        base = wjob.job
        contexts: dict[str, object] = {
            "github": self._github_context(wjob) if _uses_github(wjob) else {},
            "needs": needs_context,
            "vars": dict(base.vars),
            "inputs": dict(base.inputs),
            "job": {"status": self._status(wjob)},
        }
        name = base.name or wjob.id
        try:
            condition = compile_condition(wjob.condition or "", names=JOB_IF_NAMES)
            holds = truthy(condition.evaluate(contexts))
        except ExpressionError as exc:
            self._end_job(wjob, name, Result.FAILED, now, f"if: {exc}")
            return
        if not holds:
            if self._cancelled:
                self._end_job(
                    wjob, name, Result.CANCELED, now, "the workflow was cancelled"
                )
            else:
                self._end_job(
                    wjob, name, Result.SKIPPED, now, f"if: {condition.source} was false"
                )
            return
        matrix = wjob.matrix
        try:
            if isinstance(matrix, str):
                value = compile_template(matrix, names=JOB_IF_NAMES).evaluate(contexts)
                if not isinstance(value, Mapping):
                    raise MatrixError(
                        "strategy.matrix must evaluate to a mapping, "
                        f"not {type(value).__name__}"
                    )
                combinations = expand_matrix(value)
            elif matrix is not None:
                combinations = expand_matrix(
                    {
                        key: compile_template(value, names=JOB_IF_NAMES).evaluate(
                            contexts
                        )
                        if isinstance(value, str) and "${{" in value
                        else value
                        for key, value in matrix.items()
                    }
                )
            else:
                combinations = [{}]
        except (ExpressionError, MatrixError) as exc:
            self._end_job(wjob, name, Result.FAILED, now, f"strategy.matrix: {exc}")
            return
        total = len(combinations)
        group = _Group(wjob=wjob, limit=min(wjob.max_parallel or total, total))
        for index, combination in enumerate(combinations):
            key = combination_label(wjob.id, combination) if matrix else wjob.id
            while key in self._keys:
                key += "'"
            self._keys.add(key)
            self._index[key] = index
            strategy: dict[str, object] = {
                "fail-fast": wjob.fail_fast,
                "job-index": index,
                "job-total": total,
                "max-parallel": wjob.max_parallel or total,
            }
            unit = _Unit(
                key=key,
                wjob=wjob,
                matrix=combination,
                strategy=strategy,
                needs=needs_context,
                queued_at=now,
                group=group,
            )
            group.units.append(unit)
        group.left = total
        self._units.extend(group.units)
        self._queue.extend(group.units)

    def _group_ended(self, group: _Group) -> None:
        """Every combination of a job ended: its result and outputs (R15.3)."""
        units = group.units
        self._results[group.wjob.id] = combine_results(
            self._reports[u.key].result for u in units
        )
        outputs: dict[str, str] = {}
        for unit in units:  # every combination's outputs; the last wins
            outputs.update(self._reports[unit.key].outputs)
        self._outputs[group.wjob.id] = outputs

    def _end_job(
        self, wjob: WorkflowJob, name: str, result: Result, now: float, reason: str
    ) -> None:
        """A job that runs no step: skipped, cancelled or failed up front."""
        key = wjob.id
        while key in self._keys:
            key += "'"
        self._keys.add(key)
        report = WorkflowJobReport(
            key=key,
            id=wjob.id,
            name=name if "${{" not in name else wjob.id,
            needs=self.workflow.needs_of(wjob.id),
            outcome=result,
            result=result,
            runs_on=wjob.runs_on,
            reason=reason,
            queued_at=now,
            finished_at=now,
        )
        self._record(report)
        self._results[wjob.id] = result
        self._outputs[wjob.id] = {}

    def _record(self, report: WorkflowJobReport) -> None:
        self._reports[report.key] = report
        if self._on_job is not None:
            self._on_job(report)

    # ----------------------------------------------------- one combination

    def _cancel_unit(self, unit: _Unit, reason: str) -> None:
        if unit.done or unit.cancel_reason is not None:
            return
        unit.cancel_reason = reason
        if unit.runner is not None:
            unit.runner.cancel()
        elif unit in self._queue:  # queued: it never starts
            self._queue.remove(unit)
            self._finish_unit(unit, Result.CANCELED, reason=reason)
            if self._nursery is not None:
                self._advance()
        # else: started, its runner not made yet; _run_unit cancels it

    def _fail_fast(self, failed: _Unit) -> None:
        for unit in failed.group.units:
            if unit is not failed:
                self._cancel_unit(unit, f"fail-fast: {failed.key} failed")

    async def _unit_task(self, unit: _Unit) -> None:
        try:
            await self._run_unit(unit)
        finally:
            self._running -= 1
            unit.group.running -= 1
            if not unit.done:  # an error of ours: never leave a job open
                self._finish_unit(unit, Result.FAILED, reason="internal error")
            self._advance()

    def _templates(self, unit: _Unit) -> dict[str, object]:
        wjob = unit.wjob
        return {
            "github": self._github_context(wjob) if _uses_github(wjob) else {},
            "needs": unit.needs,
            "strategy": unit.strategy,
            "matrix": unit.matrix,
            "vars": dict(wjob.job.vars),
            "inputs": dict(wjob.job.inputs),
        }

    def _prepare(self, unit: _Unit) -> tuple[str, bool, float | None, object]:
        """The job's name, continue-on-error, timeout and runs-on (R15.7)."""
        from ..expressions import compile_template, truthy

        wjob = unit.wjob
        contexts = self._templates(unit)

        def render(text: str) -> object:
            return compile_template(text, names=JOB_MATRIX_NAMES).evaluate(contexts)

        name = wjob.job.name or wjob.id
        if "${{" in name:
            name = str(compile_template(name, names=JOB_MATRIX_NAMES).render(contexts))
        elif wjob.matrix is not None:
            name = combination_label(name, unit.matrix)
        continue_on_error = wjob.continue_on_error
        if isinstance(continue_on_error, str):
            continue_on_error = truthy(render(continue_on_error))
        timeout = wjob.job.timeout
        if timeout is None and wjob.timeout_minutes is not None:
            minutes = render(wjob.timeout_minutes)
            try:
                number = float(minutes)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                number = math.nan
            if not (math.isfinite(number) and number > 0):
                raise MatrixError(
                    f"timeout-minutes must be a positive number, not {minutes!r}"
                )
            timeout = number * 60
        runs_on = wjob.runs_on
        if isinstance(runs_on, str) and "${{" in runs_on:
            runs_on = render(runs_on)
        return name, bool(continue_on_error), timeout, runs_on

    async def _run_unit(self, unit: _Unit) -> None:
        from ..expressions import ExpressionError

        wjob = unit.wjob
        unit.started_at = self._now()
        try:
            name, continue_on_error, timeout, runs_on = self._prepare(unit)
        except (ExpressionError, MatrixError) as exc:
            self._finish_unit(unit, Result.FAILED, reason=str(exc))
            if wjob.fail_fast and wjob.matrix is not None:
                self._fail_fast(unit)
            return
        job = wjob.job.evolve(
            name=name,
            timeout=timeout,
            # github.job is the job id, as on GitHub (not the display name).
            github={**wjob.job.github, "job": wjob.id},
            contexts={
                "needs": unit.needs,
                "matrix": unit.matrix,
                "strategy": unit.strategy,
            },
        )
        log_dir = None
        if self._log_dir is not None:
            log_dir = os.path.join(self._log_dir, _UNSAFE.sub("_", unit.key))
        on_event = self._on_event
        key = unit.key
        runner = JobRunner(
            job,
            on_event=None if on_event is None else lambda event: on_event(key, event),
            log_dir=log_dir,
            semantics=self.semantics,
        )
        unit.runner = runner
        if unit.cancel_reason is not None:
            runner.cancel()
        try:
            report = await runner.run()
        except JobDefinitionError as exc:
            self._finish_unit(unit, Result.FAILED, name=name, reason=str(exc))
            return
        except BaseException:
            # A hard stop (R6.2) or an error: keep what happened.
            self._halted = True
            live = runner.report
            self._finish_unit(
                unit, live.result, name=name, report=live, runs_on=runs_on
            )
            raise
        outcome = report.result
        outputs: dict[str, str] = {}
        reason = unit.cancel_reason if outcome is Result.CANCELED else None
        if wjob.outputs:
            try:
                outputs = self._outputs_of(unit, report, runner)
            except ExpressionError as exc:
                outcome, reason = Result.FAILED, f"outputs: {runner.mask(str(exc))}"
        result = outcome
        if outcome is Result.FAILED and continue_on_error:
            result = Result.SUCCEEDED
        self._finish_unit(
            unit,
            outcome,
            result=result,
            name=name,
            report=report,
            outputs=outputs,
            runs_on=runs_on,
            reason=reason,
        )
        if result is Result.FAILED and wjob.fail_fast and wjob.matrix is not None:
            self._fail_fast(unit)

    def _outputs_of(
        self, unit: _Unit, report: JobReport, runner: JobRunner
    ) -> dict[str, str]:
        from ..expressions import compile_template

        steps: dict[str, object] = {}
        for id, step in report.steps.items():
            if id.startswith("__") or step.outcome is None or step.conclusion is None:
                continue
            steps[id] = {
                "outputs": dict(step.outputs),
                "outcome": step.outcome.github,
                "conclusion": step.conclusion.github,
            }
        job = unit.wjob.job
        contexts = {
            **self._templates(unit),
            "steps": steps,
            "env": dict(report.env),
            "job": {"status": report.result.github},
            "runner": {},
            "secrets": dict(job.secrets),
        }
        return {
            name: runner.mask(
                compile_template(text, names=JOB_OUTPUT_NAMES).render(contexts)
            )
            for name, text in unit.wjob.outputs.items()
        }

    def _job_report(
        self,
        unit: _Unit,
        outcome: Result,
        result: Result,
        *,
        name: str | None = None,
        report: JobReport | None = None,
        outputs: Mapping[str, str] | None = None,
        runs_on: object = None,
        reason: str | None = None,
    ) -> WorkflowJobReport:
        wjob = unit.wjob
        if name is None:
            name = wjob.job.name or wjob.id
            if "${{" in name:
                name = unit.key
            elif wjob.matrix is not None:
                name = combination_label(name, unit.matrix)
        return WorkflowJobReport(
            key=unit.key,
            id=wjob.id,
            name=name,
            matrix=unit.matrix,
            needs=self.workflow.needs_of(wjob.id),
            outcome=outcome,
            result=result,
            outputs=outputs or {},
            report=report,
            runs_on=runs_on if runs_on is not None else wjob.runs_on,
            reason=reason,
            queued_at=unit.queued_at,
            started_at=unit.started_at,
            finished_at=self._now(),
        )

    def _finish_unit(
        self,
        unit: _Unit,
        outcome: Result,
        *,
        result: Result | None = None,
        **fields: object,
    ) -> None:
        unit.done = True
        unit.group.left -= 1
        self._record(
            self._job_report(
                unit,
                outcome,
                outcome if result is None else result,
                **fields,  # type: ignore[arg-type]
            )
        )
        if unit.group.left == 0:
            self._group_ended(unit.group)


def _uses_github(wjob: WorkflowJob) -> bool:
    """Whether a job's own fields read the ``github`` context (built lazily)."""
    texts = [
        wjob.condition,
        wjob.matrix if isinstance(wjob.matrix, str) else None,
        wjob.job.name,
        wjob.timeout_minutes,
        wjob.continue_on_error if isinstance(wjob.continue_on_error, str) else None,
        wjob.runs_on if isinstance(wjob.runs_on, str) else None,
        *wjob.outputs.values(),
    ]
    return any(text is not None and "github" in text.casefold() for text in texts)


async def run_workflow(
    workflow: Workflow,
    *,
    max_jobs: int | None = None,
    on_event: Callable[[str, Event], object] | None = None,
    on_job: Callable[[WorkflowJobReport], object] | None = None,
    log_dir: str | os.PathLike[str] | None = None,
    semantics: Semantics | str = Semantics.TRIO_STEPS,
) -> WorkflowReport:
    """Run every job of ``workflow``: ``WorkflowRunner(workflow, **kw).run()``.

    Args:
        workflow: The workflow.
        max_jobs: See :class:`WorkflowRunner`.
        on_event: See :class:`WorkflowRunner`.
        on_job: See :class:`WorkflowRunner`.
        log_dir: See :class:`WorkflowRunner`.
        semantics: See :class:`WorkflowRunner`.

    Returns:
        The final :class:`WorkflowReport`.
    """
    return await WorkflowRunner(
        workflow,
        max_jobs=max_jobs,
        on_event=on_event,
        on_job=on_job,
        log_dir=log_dir,
        semantics=semantics,
    ).run()


public(WorkflowRunner, run_workflow)
