"""The workflow around each job: ``needs``, ``if``, ``outputs``, ``strategy``.

The job loader (``_jobs.py``) builds each job's :class:`~trio_steps.Job`;
this loader reads what a workflow adds around it (rules §15) — ``needs``,
the job-level ``if:``, ``outputs``, ``strategy`` (``matrix`` with
``include``/``exclude`` or from an expression, ``fail-fast``,
``max-parallel``), ``continue-on-error``, a ``timeout-minutes`` expression,
``runs-on`` and ``concurrency`` — and checks the graph: an unknown
``needs`` id and a cycle are problems at ``file:line:column`` (R15.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from .._matrix import MatrixError, expand_matrix
from .._workflows import (
    JOB_IF_NAMES,
    JOB_MATRIX_NAMES,
    JOB_OUTPUT_NAMES,
    Workflow,
    WorkflowJob,
    find_cycle,
)
from ._nodes import (
    _is_map,
    _is_seq,
    _item_pos,
    _key_pos,
    _scalar_text,
    _type_name,
    _value_pos,
)

if TYPE_CHECKING:
    from .._job import Job
    from ._nodes import Node, Pos
    from ._source import _Source

__all__ = ["is_expression", "plain"]

_STRATEGY_KEYS: Final = frozenset({"matrix", "fail-fast", "max-parallel"})


def is_expression(value: object) -> bool:
    """Whether a YAML value is a string holding ``${{ }}``."""
    return isinstance(value, str) and "${{" in value


def plain(node: Node) -> object:
    """A YAML node as plain Python values (dicts, lists, scalars)."""
    if _is_map(node):
        return {str(_scalar_text(k) or k): plain(v) for k, v in node.items()}
    if _is_seq(node):
        return [plain(item) for item in node]
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node  # pragma: no cover - YAML makes no other values


class _GraphLoader:
    """Reads the workflow part of every job and checks the graph."""

    def __init__(self, source: _Source) -> None:
        self.source = source
        #: Job id → the ids it needs, with the position of each.
        self.needs: dict[str, list[tuple[str, Pos]]] = {}
        self.job_pos: dict[str, Pos] = {}
        self.jobs: list[WorkflowJob] = []

    def timeout_template(self, node: Node) -> str | None:
        """A ``timeout-minutes`` expression, checked; ``None`` for a number."""
        value = node.get("timeout-minutes")
        if not is_expression(value):
            return None
        self.source.template(
            node, "timeout-minutes", value, JOB_MATRIX_NAMES, "timeout-minutes"
        )
        return str(value)

    def job(self, node: Node, job_id: str, pos: Pos, job: Job | None) -> None:
        """Read one job's workflow keys; keep a :class:`WorkflowJob` if valid."""
        before = len(self.source.problems)
        self.job_pos[job_id] = pos
        self.needs[job_id] = self.read_needs(node)
        condition = self.read_if(node)
        outputs = self.read_outputs(node)
        matrix, fail_fast, max_parallel = self.read_strategy(node)
        continue_on_error: bool | str = False
        if "continue-on-error" in node:
            value = node["continue-on-error"]
            if is_expression(value):
                self.source.template(
                    node,
                    "continue-on-error",
                    value,
                    JOB_MATRIX_NAMES,
                    "continue-on-error",
                )
                continue_on_error = str(value)
            else:
                continue_on_error = bool(
                    self.source.boolean(node, "continue-on-error", "continue-on-error")
                )
        runs_on = plain(node.get("runs-on"))
        if isinstance(runs_on, str):
            self.source.template(node, "runs-on", runs_on, JOB_MATRIX_NAMES, "runs-on")
        timeout_minutes = self.timeout_template(node)
        if job is None or len(self.source.problems) > before:
            return
        self.jobs.append(
            WorkflowJob(
                id=job_id,
                job=job,
                needs=[need for need, _ in self.needs[job_id]],
                condition=condition,
                outputs=outputs,
                matrix=matrix,
                fail_fast=fail_fast,
                max_parallel=max_parallel,
                continue_on_error=continue_on_error,
                timeout_minutes=timeout_minutes,
                runs_on=runs_on,
            )
        )

    def read_needs(self, node: Node) -> list[tuple[str, Pos]]:
        if "needs" not in node:
            return []
        value = node["needs"]
        if isinstance(value, str):
            return [(str(value), _value_pos(node, "needs"))]
        if not _is_seq(value):
            self.source.error(
                _value_pos(node, "needs")
                if value is not None
                else _key_pos(node, "needs"),
                f"needs must be a job id or a list of job ids, not {_type_name(value)}",
            )
            return []
        found: list[tuple[str, Pos]] = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.source.error(
                    _item_pos(value, index),
                    f"needs must list job ids, not {_type_name(item)}",
                )
                continue
            found.append((str(item), _item_pos(value, index)))
        return found

    def read_if(self, node: Node) -> str | None:
        if "if" not in node:
            return None
        text = _scalar_text(node["if"])
        if text is None:
            self.source.error(
                _value_pos(node, "if"),
                f"if must be an expression, not {_type_name(node['if'])}",
            )
            return None
        from .. import expressions

        try:
            expressions.compile_condition(text, names=JOB_IF_NAMES)
        except expressions.ExpressionError as exc:
            offset = (exc.template_position or 1) - 1
            self.source.error(
                self.source.offset_pos(_value_pos(node, "if"), text, offset),
                f"invalid expression in the job's if: {exc.message}",
            )
            return None
        return text

    def read_outputs(self, node: Node) -> dict[str, str]:
        if "outputs" not in node or node["outputs"] is None:
            return {}
        value = node["outputs"]
        if not _is_map(value):
            self.source.error(
                _value_pos(node, "outputs"),
                f"outputs must be a mapping of names to values, not {_type_name(value)}",
            )
            return {}
        outputs: dict[str, str] = {}
        for key in value:
            name = _scalar_text(key) or ""
            text = self.source.string(value, key, f"output {name!r}", allow_empty=True)
            if text is None:
                continue
            self.source.template(value, key, text, JOB_OUTPUT_NAMES, f"output {name}")
            outputs[name] = text
        return outputs

    def read_strategy(
        self, node: Node
    ) -> tuple[Mapping[str, object] | str | None, bool, int | None]:
        if "strategy" not in node or node["strategy"] is None:
            return None, True, None
        value = node["strategy"]
        if not _is_map(value):
            self.source.error(
                _value_pos(node, "strategy"),
                f"strategy must be a mapping with a matrix, not {_type_name(value)}",
            )
            return None, True, None
        self.source.check_keys(value, _STRATEGY_KEYS, _STRATEGY_KEYS, "strategy")
        fail_fast = True
        if "fail-fast" in value:
            fail_fast = (
                self.source.boolean(value, "fail-fast", "fail-fast") is not False
            )
        max_parallel: int | None = None
        if "max-parallel" in value:
            number = value["max-parallel"]
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                self.source.error(
                    _value_pos(value, "max-parallel"),
                    f"max-parallel must be a whole number >= 1, not {_type_name(number)}"
                    if not isinstance(number, int) or isinstance(number, bool)
                    else f"max-parallel must be >= 1, not {number}",
                )
            else:
                max_parallel = int(number)
        if "matrix" not in value:
            self.source.error(
                _key_pos(node, "strategy"), "strategy needs a matrix; add one"
            )
            return None, fail_fast, max_parallel
        return self.read_matrix(value), fail_fast, max_parallel

    def read_matrix(self, strategy: Node) -> Mapping[str, object] | str | None:
        node = strategy["matrix"]
        pos = _value_pos(strategy, "matrix")
        if is_expression(node):
            self.source.template(strategy, "matrix", node, JOB_IF_NAMES, "matrix")
            return str(node)
        if not _is_map(node):
            self.source.error(
                pos if node is not None else _key_pos(strategy, "matrix"),
                f"matrix must be a mapping of names to lists, or an expression, "
                f"not {_type_name(node)}",
            )
            return None
        deferred = False
        for key in node:
            item = node[key]
            if is_expression(item):
                self.source.template(node, key, item, JOB_IF_NAMES, f"matrix {key}")
                deferred = True
            elif key in ("include", "exclude"):
                if not _is_seq(item) or not all(_is_map(e) for e in item):
                    self.source.error(
                        _value_pos(node, key),
                        f"matrix {key} must be a list of mappings",
                    )
                    return None
            elif not _is_seq(item) or not item:
                self.source.error(
                    _value_pos(node, key) if item is not None else _key_pos(node, key),
                    f"matrix vector {_scalar_text(key)!r} must be a non-empty list "
                    f"of values, not {_type_name(item)}",
                )
                return None
        matrix = plain(node)
        assert isinstance(matrix, dict)
        if not deferred:
            try:
                expand_matrix(matrix)
            except MatrixError as exc:
                self.source.error(pos, str(exc))
                return None
        return matrix

    def finish(self, jobs_node: Node, name: str | None) -> Workflow | None:
        """Check ``needs`` and cycles over every job; build the workflow."""
        folded = {id.casefold(): id for id in self.needs}
        graph: dict[str, list[str]] = {}
        for job_id, needs in self.needs.items():
            graph[job_id] = []
            for need, pos in needs:
                if need.casefold() == job_id.casefold():
                    self.source.error(pos, f"job {job_id!r} needs itself")
                elif need.casefold() not in folded:
                    known = ", ".join(i for i in self.needs if i != job_id)
                    self.source.error(
                        pos,
                        f"job {job_id!r} needs {need!r}, which is not a job of this "
                        f"workflow; its jobs are: {known}",
                    )
                else:
                    graph[job_id].append(folded[need.casefold()])
        cycle = find_cycle(graph)
        if cycle is not None:
            first = cycle[0]
            self.source.error(
                self.job_pos[first],
                f"the needs of the jobs form a cycle: {' -> '.join(cycle)}; "
                "a job cannot need itself through others",
            )
        if self.source.problems:
            return None
        runnable = {job.id for job in self.jobs}
        kept = []
        for job in self.jobs:
            if all(need in runnable for need in self.needs_closure(job.id, graph)):
                kept.append(job)
            else:
                self.source.warn(
                    self.job_pos[job.id],
                    f"job {job.id!r} needs a job that calls a reusable workflow, "
                    "which trio-steps cannot run: it will not run either",
                )
        return Workflow(kept, name=name)

    def needs_closure(self, job_id: str, graph: Mapping[str, list[str]]) -> set[str]:
        found: set[str] = set()
        todo = list(graph.get(job_id, ()))
        while todo:
            need = todo.pop()
            if need not in found:
                found.add(need)
                todo.extend(graph.get(need, ()))
        return found
