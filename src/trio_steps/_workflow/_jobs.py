"""The job loader: a workflow's keys, env, defaults and jobs (rules §13).

Reads the workflow mapping and each job mapping: the keys trio-steps reads
or ignores, the ``env`` and ``defaults.run`` layers (workflow, then job),
job ids and names; each job's ``steps:`` list goes to the step loader
(``_steps.py``). The result, :class:`LoadedWorkflow`, is what choosing a
job (``_read.py``) works from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

import attrs

from .._actions._definition import ActionSettings
from .._errors import JobDefinitionError
from .._job import Job
from ._actions import ActionResolver
from ._graph import _GraphLoader, is_expression
from ._nodes import (
    Problem,
    _is_map,
    _is_seq,
    _key_pos,
    _node_pos,
    _scalar_text,
    _type_name,
    _value_pos,
)
from ._steps import ID_RE, _StepLoader

if TYPE_CHECKING:
    from .._steps import MainStep
    from .._workflows import Workflow
    from ._nodes import Node, Pos
    from ._source import _Source

__all__ = ["LoadedWorkflow"]

# Keys GitHub knows and trio-steps reads or deliberately ignores.
_WORKFLOW_KEYS: Final = frozenset(
    {"name", "run-name", "on", "permissions", "env", "defaults", "concurrency", "jobs"}
)
_JOB_KEYS_USED: Final = frozenset(
    {"name", "steps", "env", "defaults", "timeout-minutes"}
)
_JOB_KEYS_IGNORED: Final = frozenset(
    {
        "permissions",
        "needs",
        "if",
        "runs-on",
        "snapshot",
        "environment",
        "concurrency",
        "outputs",
        "strategy",
        "continue-on-error",
        "container",
        "services",
        "uses",
        "with",
        "secrets",
    }
)
# Ignored keys that change what a job does on GitHub: say so when they appear.
_JOB_KEYS_NOTED: Final = frozenset({"container", "services"})
_DEFAULTS_RUN_KEYS: Final = frozenset({"shell", "working-directory"})

# The contexts each place may name (GitHub's context availability table,
# restricted to the contexts trio-steps provides).
_WORKFLOW_ENV_NAMES: Final = ("github", "secrets", "inputs", "vars")
_JOB_NAME_NAMES: Final = ("github", "inputs", "vars", "needs", "strategy", "matrix")
_JOB_ENV_NAMES: Final = (*_WORKFLOW_ENV_NAMES, "needs", "strategy", "matrix")
_DEFAULTS_NAMES: Final = ("env", "github", "inputs", "vars")


@attrs.frozen(kw_only=True)
class LoadedWorkflow:
    """Every job of a valid workflow file, and the warnings loading it gave.

    Attributes:
        file: The file name shown in messages.
        name: The workflow's ``name``, if it has one.
        jobs: Job id → :class:`Job`, in file order (jobs that cannot run
            locally, like reusable-workflow calls, are absent).
        warnings: Things that will not behave as on GitHub (an ignored
            ``services:``, a skipped unsupported step), with positions.
        workflow: The jobs with their ``needs``, matrix and outputs (R15.1).
    """

    file: str
    name: str | None
    jobs: Mapping[str, Job]
    job_ids: tuple[str, ...]
    jobs_pos: Pos
    warnings: tuple[Problem, ...] = ()
    workflow: Workflow | None = None


class _JobLoader:
    """Builds every job of a workflow mapping, reporting to a source.

    Args:
        source: The file being loaded; every problem goes there.
        skip_unsupported: Turn unsupported ``uses:`` steps into skipped
            steps (with a warning) instead of errors.
        actions: Where remote actions come from (rules §16).
    """

    def __init__(
        self,
        source: _Source,
        *,
        skip_unsupported: bool,
        actions: ActionSettings | None = None,
    ) -> None:
        self.source = source
        self.steps = _StepLoader(
            source,
            skip_unsupported=skip_unsupported,
            actions=ActionResolver(actions),
        )
        self.graph = _GraphLoader(source)

    # -- the workflow ------------------------------------------------------

    def workflow(self, root: Node) -> LoadedWorkflow | None:
        if root is None:
            if not self.source.problems:
                self.source.error(
                    (0, 0), "the workflow file is empty; it needs 'on' and 'jobs'"
                )
            return None
        if not _is_map(root):
            self.source.error(
                _node_pos(root),
                f"a workflow must be a mapping with 'on' and 'jobs', "
                f"not {_type_name(root)}",
            )
            return None
        self.source.check_keys(root, _WORKFLOW_KEYS, _WORKFLOW_KEYS, "a workflow")
        if "on" not in root:
            self.source.error(
                _node_pos(root),
                "the workflow has no 'on' key; add one, for example 'on: push'",
            )
        name: str | None = None
        if "name" in root:
            name = self.source.string(root, "name", "the workflow name")
        env: dict[str, str] = {}
        if "env" in root:
            env = self.source.env(root, "env", _WORKFLOW_ENV_NAMES)
        defaults = self.defaults(root)
        jobs_pos = _node_pos(root)
        jobs: dict[str, Job] = {}
        job_ids: list[str] = []
        workflow = None
        if "jobs" not in root:
            self.source.error(
                _node_pos(root), "the workflow has no 'jobs' key; add a job with steps"
            )
        else:
            jobs_pos = _key_pos(root, "jobs")
            node = root["jobs"]
            if not _is_map(node) or not node:
                self.source.error(
                    _value_pos(root, "jobs") if node is not None else jobs_pos,
                    "jobs must be a mapping of job ids to jobs, with at least one job",
                )
            else:
                folded: dict[str, str] = {}
                for job_id in node:
                    text = _scalar_text(job_id) or ""
                    if not ID_RE.match(text):
                        self.source.error(
                            _key_pos(node, job_id),
                            f"job id {text!r} must start with a letter or '_' and "
                            "contain only letters, digits, '_' and '-'",
                        )
                    elif text.casefold() in folded:
                        self.source.error(
                            _key_pos(node, job_id),
                            f"job id {text!r} is used twice (ids ignore case; first "
                            f"as {folded[text.casefold()]!r}); rename one",
                        )
                    folded.setdefault(text.casefold(), text)
                    job_ids.append(text)
                    job = self.job(node, job_id, text, env, defaults)
                    if job is not None:
                        jobs[text] = job
                workflow = self.graph.finish(node, name)
        return LoadedWorkflow(
            file=self.source.file,
            name=name,
            jobs=jobs,
            job_ids=tuple(job_ids),
            jobs_pos=jobs_pos,
            warnings=tuple(sorted(self.source.warnings)),
            workflow=workflow,
        )

    def defaults(
        self, node: Node, inherited: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        result = dict(inherited or {})
        if "defaults" not in node:
            return result
        value = node["defaults"]
        if value is None:
            return result
        if not _is_map(value):
            self.source.error(
                _value_pos(node, "defaults"),
                f"defaults must be a mapping with a 'run' mapping, not {_type_name(value)}",
            )
            return result
        self.source.check_keys(value, {"run"}, {"run"}, "defaults")
        run = value.get("run")
        if run is None:
            return result
        if not _is_map(run):
            self.source.error(
                _value_pos(value, "run"),
                f"defaults.run must be a mapping with shell and/or "
                f"working-directory, not {_type_name(run)}",
            )
            return result
        self.source.check_keys(
            run, _DEFAULTS_RUN_KEYS, _DEFAULTS_RUN_KEYS, "defaults.run"
        )
        for key in _DEFAULTS_RUN_KEYS:
            if key in run:
                text = self.source.string(run, key, f"defaults.run.{key}")
                if text is None:
                    continue
                self.source.template(
                    run, key, text, _DEFAULTS_NAMES, f"defaults.run.{key}"
                )
                if key == "shell":
                    self.source.check_shell(run, key, text)
                result[key] = text
        return result

    # -- one job -----------------------------------------------------------

    def job(
        self,
        jobs: Node,
        key: object,
        job_id: str,
        workflow_env: Mapping[str, str],
        workflow_defaults: Mapping[str, str],
    ) -> Job | None:
        node = jobs[key]
        job_pos = _key_pos(jobs, key)
        if not _is_map(node):
            self.source.error(
                _value_pos(jobs, key) if node is not None else job_pos,
                f"job {job_id!r} must be a mapping with 'steps', not {_type_name(node)}",
            )
            return None
        known = _JOB_KEYS_USED | _JOB_KEYS_IGNORED
        self.source.check_keys(node, known, known, f"job {job_id!r}")
        for noted in sorted(_JOB_KEYS_NOTED & set(node)):
            self.source.warn(
                _key_pos(node, noted),
                f"'{noted}' is ignored by trio-steps: job {job_id!r} runs on this "
                "machine, once",
            )
        before = len(self.source.problems)
        if "uses" in node and "steps" not in node:
            # A call to a reusable workflow: valid on GitHub, not runnable here.
            self.source.warn(
                _key_pos(node, "uses"),
                f"job {job_id!r} calls a reusable workflow, which trio-steps "
                "cannot run",
            )
            self.graph.job(node, job_id, job_pos, None)
            return None
        name: str | None = job_id
        if "name" in node:
            name = self.source.string(node, "name", "the job name")
            if name is not None:
                self.source.template(
                    node, "name", name, _JOB_NAME_NAMES, "the job name"
                )
        env = dict(workflow_env)
        if "env" in node:
            env.update(self.source.env(node, "env", _JOB_ENV_NAMES))
        defaults = self.defaults(node, workflow_defaults)
        timeout: float | None = None
        if "timeout-minutes" in node and not is_expression(node["timeout-minutes"]):
            timeout = self.source.minutes(node, "timeout-minutes")
        steps: list[MainStep] = []
        if "steps" not in node:
            self.source.error(
                job_pos, f"job {job_id!r} has no 'steps'; add a list of steps"
            )
        elif not _is_seq(node["steps"]) or not node["steps"]:
            value = node["steps"]
            self.source.error(
                _value_pos(node, "steps")
                if value is not None
                else _key_pos(node, "steps"),
                f"steps must be a non-empty list of steps, not {_type_name(value)}",
            )
        else:
            steps = self.steps.load(node["steps"], defaults)
        built: Job | None = None
        if len(self.source.problems) == before:
            try:
                # R16.6, R16.7: pre steps first, posts in reverse order.
                built = Job(
                    [*self.steps.pre_steps, *steps],
                    post_steps=reversed(self.steps.post_steps),
                    env=env,
                    timeout=timeout,
                    name=name,
                )
            except JobDefinitionError as exc:  # every rule was checked above
                for problem in exc.problems:  # pragma: no cover - a missed rule
                    self.source.error(job_pos, problem)
        self.graph.job(node, job_id, job_pos, built)
        return built
