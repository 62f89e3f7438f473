"""Workflows: jobs, the graph of their ``needs``, and what happened (rules §15).

A :class:`Workflow` is a set of :class:`WorkflowJob` — a :class:`Job` with
what GitHub adds around a job in a workflow file: ``needs``, a job-level
``if:``, ``outputs``, ``strategy`` (matrix, fail-fast, max-parallel),
``continue-on-error``, a ``timeout-minutes`` expression and ``runs-on``.
Constructing one checks the graph (R15.1): unique ids, known ``needs``, no
cycle. :class:`WorkflowReport` is what running it produced (R15.9).
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import attrs

from ._errors import JobDefinitionError
from ._face import public
from ._job import Job
from ._matrix import MatrixError, expand_matrix
from ._results import CaseInsensitiveMapping, JobReport, Result

__all__ = [
    "JOB_IF_NAMES",
    "Workflow",
    "WorkflowJob",
    "WorkflowJobReport",
    "WorkflowReport",
    "find_cycle",
]

#: The contexts a job-level ``if:`` and ``strategy`` may use (GitHub's table).
JOB_IF_NAMES: Final = ("github", "needs", "vars", "inputs")
#: The contexts of ``name``, ``runs-on``, ``continue-on-error`` and
#: ``timeout-minutes`` of a job.
JOB_MATRIX_NAMES: Final = ("github", "needs", "strategy", "matrix", "vars", "inputs")
#: The contexts of a job's ``outputs``.
JOB_OUTPUT_NAMES: Final = (
    "github",
    "needs",
    "strategy",
    "matrix",
    "job",
    "runner",
    "env",
    "vars",
    "secrets",
    "steps",
    "inputs",
)

_EMPTY: Final[Mapping[str, str]] = types.MappingProxyType({})


def _tuple_of_str(value: Iterable[str] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _frozen_outputs(value: Mapping[str, str]) -> Mapping[str, str]:
    return types.MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class WorkflowJob:
    """One job of a workflow: a :class:`Job` and what surrounds it (R15.1).

    Attributes:
        id: The job id (unique in the workflow, ignoring case).
        job: What runs: steps, env, defaults, ``timeout`` and ``name`` (the
            name may hold ``${{ }}`` over ``github``, ``needs``,
            ``strategy``, ``matrix``, ``vars`` and ``inputs``).
        needs: Ids of the jobs that must end before this one starts.
        condition: The job-level ``if:`` (``None``: ``success()``), over
            ``github``, ``needs``, ``vars``, ``inputs`` and the status
            functions (R15.6).
        outputs: Output name → template over the job's ``steps`` context.
        matrix: A literal matrix (vectors, ``include``, ``exclude``), a
            ``${{ }}`` expression that gives one, or ``None``.
        fail_fast: Whether a failed matrix job cancels the others (R15.5).
        max_parallel: How many jobs of the matrix may run at once.
        continue_on_error: ``True``/``False`` or a ``${{ }}`` template: a
            failed job then concludes ``success`` (R15.7).
        timeout_minutes: A ``${{ }}`` template for the job timeout, used
            when ``job.timeout`` is ``None``.
        runs_on: ``runs-on`` as written; reported, never acted on.
    """

    id: str
    job: Job
    needs: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)
    condition: str | None = None
    outputs: Mapping[str, str] = attrs.field(default=_EMPTY, converter=_frozen_outputs)
    matrix: Mapping[str, object] | str | None = None
    fail_fast: bool = True
    max_parallel: int | None = None
    continue_on_error: bool | str = False
    timeout_minutes: str | None = None
    runs_on: object = None

    def __attrs_post_init__(self) -> None:
        problems = _job_problems(self)
        if problems:
            raise JobDefinitionError(problems)


def _job_problems(job: WorkflowJob) -> list[str]:
    where = f"job {job.id!r}"
    problems: list[str] = []
    if not isinstance(job.job, Job):
        problems.append(f"{where}: job must be a Job")
    if (
        job.condition is None
        and not job.outputs
        and job.matrix is None
        and job.max_parallel is None
        and not isinstance(job.continue_on_error, str)
        and job.timeout_minutes is None
    ):
        return problems  # a plain job: no expression language to load
    from .expressions import ExpressionError, compile_condition, compile_template

    if job.condition is not None:
        try:
            compile_condition(job.condition, names=JOB_IF_NAMES)
        except ExpressionError as exc:
            problems.append(f"{where}: invalid if: {exc}")
    for name, text in job.outputs.items():
        try:
            compile_template(text, names=JOB_OUTPUT_NAMES)
        except ExpressionError as exc:
            problems.append(f"{where}: invalid output {name!r}: {exc}")
    if isinstance(job.matrix, Mapping):
        deferred = False
        for key, value in job.matrix.items():
            if isinstance(value, str) and "${{" in value:
                deferred = True
                try:
                    compile_template(value, names=JOB_IF_NAMES)
                except ExpressionError as exc:
                    problems.append(f"{where}: invalid matrix {key}: {exc}")
        if not deferred:
            try:
                expand_matrix(job.matrix)
            except MatrixError as exc:
                problems.append(f"{where}: {exc}")
    elif isinstance(job.matrix, str):
        try:
            compile_template(job.matrix, names=JOB_IF_NAMES)
        except ExpressionError as exc:
            problems.append(f"{where}: invalid matrix: {exc}")
    if job.max_parallel is not None and (
        isinstance(job.max_parallel, bool)
        or not isinstance(job.max_parallel, int)
        or job.max_parallel < 1
    ):
        problems.append(f"{where}: max_parallel must be an integer >= 1")
    templates: tuple[tuple[str, object], ...] = (
        ("continue_on_error", job.continue_on_error),
        ("timeout_minutes", job.timeout_minutes),
    )
    for what, template in templates:
        if isinstance(template, str):
            try:
                compile_template(template, names=JOB_MATRIX_NAMES)
            except ExpressionError as exc:
                problems.append(f"{where}: invalid {what}: {exc}")
    return problems


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle of ``graph`` (node → the nodes it needs), or ``None``.

    The cycle is returned as the nodes along it, the first repeated last
    (``["a", "b", "a"]``); edges to unknown nodes are ignored.
    """
    state: dict[str, int] = {}  # 1: on the path, 2: done
    for start in graph:
        if state.get(start):
            continue
        path: list[str] = [start]
        edges = [iter(graph[start])]
        state[start] = 1
        while edges:
            node = next(edges[-1], None)
            if node is None:
                state[path.pop()] = 2
                edges.pop()
                continue
            if node not in graph:
                continue
            if state.get(node) == 1:
                return [*path[path.index(node) :], node]
            if not state.get(node):
                state[node] = 1
                path.append(node)
                edges.append(iter(graph[node]))
    return None


@attrs.frozen(init=False)
class Workflow:
    """Jobs and the graph of their ``needs`` (R15.1).

    Args:
        jobs: The jobs, in file order.
        name: The workflow's name.

    Raises:
        JobDefinitionError: Two jobs share an id (ignoring case), a ``needs``
            names no job, or the ``needs`` form a cycle; every problem listed.
    """

    jobs: tuple[WorkflowJob, ...]
    name: str | None = None
    # Derived from the jobs, never passed in: id -> the ids it needs, as
    # declared, and the ancestors found so far.
    _needs: Mapping[str, tuple[str, ...]] = attrs.field(
        init=False, repr=False, eq=False, alias="_needs"
    )
    _ancestors: dict[str, frozenset[str]] = attrs.field(
        init=False, repr=False, eq=False, alias="_ancestors"
    )

    def __init__(self, jobs: Iterable[WorkflowJob], *, name: str | None = None) -> None:
        listed = tuple(jobs)
        problems: list[str] = []
        seen: dict[str, str] = {}
        for job in listed:
            if not isinstance(job, WorkflowJob):
                problems.append(f"jobs must be WorkflowJob, not {type(job).__name__}")
                continue
            folded = job.id.casefold()
            if folded in seen:
                problems.append(f"job id {job.id!r} is used twice")
            seen[folded] = job.id
        graph: dict[str, list[str]] = {}
        for job in listed:
            if not isinstance(job, WorkflowJob):
                continue
            graph[job.id] = []
            for need in job.needs:
                if need.casefold() not in seen:
                    problems.append(
                        f"job {job.id!r} needs {need!r}, which is not a job of the "
                        f"workflow"
                    )
                else:
                    graph[job.id].append(seen[need.casefold()])
        cycle = find_cycle(graph)
        if cycle is not None:
            problems.append(f"the needs form a cycle: {' -> '.join(cycle)}")
        if problems:
            raise JobDefinitionError(problems)
        self.__attrs_init__(jobs=listed, name=name)
        object.__setattr__(
            self,
            "_needs",
            types.MappingProxyType({k: tuple(v) for k, v in graph.items()}),
        )
        object.__setattr__(self, "_ancestors", {})

    def job(self, id: str) -> WorkflowJob:
        """The job with this id (ignoring case); ``KeyError`` if none."""
        for job in self.jobs:
            if job.id.casefold() == id.casefold():
                return job
        raise KeyError(id)

    def needs_of(self, id: str) -> tuple[str, ...]:
        """The ids a job needs, spelled as the jobs declare their ids."""
        needs = self._needs.get(id)
        return needs if needs is not None else self._needs[self.job(id).id]

    def ancestors(self, id: str) -> frozenset[str]:
        """Every job ``id`` needs, directly or through other jobs."""
        id = id if id in self._needs else self.job(id).id
        known = self._ancestors.get(id)
        if known is not None:
            return known
        found: set[str] = set()
        todo = list(self._needs[id])
        while todo:
            need = todo.pop()
            if need not in found:
                found.add(need)
                done = self._ancestors.get(need)
                if done is not None:
                    found |= done
                else:
                    todo.extend(self._needs[need])
        result = self._ancestors[id] = frozenset(found)
        return result

    def select(self, id: str) -> Workflow:
        """The workflow of job ``id`` and every job it needs (``--job ID``).

        Raises:
            KeyError: No job has this id.
        """
        chosen = self.job(id).id
        keep = self.ancestors(chosen) | {chosen}
        return Workflow([j for j in self.jobs if j.id in keep], name=self.name)


@attrs.frozen(kw_only=True)
class WorkflowJobReport:
    """What happened to one job of a workflow, or one job of a matrix.

    Attributes:
        key: Unique in the report: the job id, or ``id (values…)`` for a
            matrix job.
        id: The job id.
        name: The name GitHub would show (``test (3.12, a)``).
        matrix: This job's matrix values (empty without a matrix).
        needs: The ids of the jobs it needed.
        outcome: The result before ``continue-on-error``.
        result: The conclusion: what ``needs.<id>.result`` says.
        outputs: The job outputs, masked.
        report: The :class:`JobReport` of its steps; ``None`` when it never
            started (skipped, or cancelled while queued).
        runs_on: ``runs-on``, as evaluated.
        reason: Why it was skipped or cancelled, or what failed before any
            step ran; ``None`` otherwise.
        queued_at: When its needs were met (Trio clock).
        started_at: When it started running steps, or ``None``.
        finished_at: When it ended.
    """

    key: str
    id: str
    name: str
    matrix: Mapping[str, object] = attrs.field(factory=dict)
    needs: tuple[str, ...] = ()
    outcome: Result
    result: Result
    outputs: Mapping[str, str] = _EMPTY
    report: JobReport | None = None
    runs_on: object = None
    reason: str | None = None
    queued_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None


@attrs.frozen(kw_only=True)
class WorkflowReport:
    """What happened to a whole workflow (R15.9).

    Attributes:
        result: ``FAILED`` if any job concluded ``failure``, ``CANCELED`` if
            the workflow was cancelled, else ``SUCCEEDED``.
        jobs: :attr:`WorkflowJobReport.key` → report, in file order (the
            jobs of a matrix in matrix order); lookups ignore case.
        cancelled: Whether the workflow was cancelled (Ctrl-C, ``cancel()``).
    """

    result: Result
    jobs: CaseInsensitiveMapping[WorkflowJobReport]
    cancelled: bool = False

    def results(self) -> dict[str, Result]:
        """Job id → its result as ``needs.<id>.result`` sees it (R15.3)."""
        grouped: dict[str, list[Result]] = {}
        for job in self.jobs.values():
            grouped.setdefault(job.id, []).append(job.result)
        return {id: combine_results(found) for id, found in grouped.items()}


def combine_results(results: Iterable[Result]) -> Result:
    """The result of a job made of matrix jobs (R15.3).

    ``failure`` if any failed, else ``cancelled`` if any was cancelled, else
    ``skipped`` if all were skipped, else ``success``.
    """
    found = {r.github for r in results}
    if "failure" in found:
        return Result.FAILED
    if "cancelled" in found:
        return Result.CANCELED
    if found == {"skipped"}:
        return Result.SKIPPED
    return Result.SUCCEEDED


public(Workflow, WorkflowJob, WorkflowJobReport, WorkflowReport)
