"""What later steps see, and what ``${{ }}`` evaluates against.

:class:`JobContexts` holds the job's published state (R4.1, R5.2): the
steps published so far, the job env and the job path. From it, and from the
job's definition, it builds the expression contexts (``github``, ``runner``,
``steps``, ``env`` …), evaluates step conditions (R3.1-R3.5), expands
``${{ }}`` in a step's fields (R3.6) and in the job env, and computes the
``hashFiles()`` calls an evaluation deferred, one at a time in a worker
thread. It also owns the job's ``RUNNER_TEMP`` directory.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, final

import trio

from .._errors import JobDefinitionError
from .._job import Job
from .._masking import Masker
from .._results import Result
from .._status import CONTEXT_NAMES, Status, StepsView, success
from .._steps import Step, parse_duration
from ._github import github_context
from ._records import _NO_OUTPUTS

if TYPE_CHECKING:
    from ..expressions._errors import Fault
    from ..expressions._hashfiles import HashKey
    from ._records import _Record

__all__ = ["JobContexts"]

#: A step's expanded fields: env, script, working directory, shell.
Fields = tuple[Mapping[str, str], str | None, str | None, str | None]


def _default_github(job: Job, workspace: str) -> dict[str, object]:
    github: dict[str, object] = dict(
        github_context(workspace=workspace, job=job.name or "")
    )
    github.setdefault("event", {})
    github.update(job.github)
    return github


def _step_context(
    outputs: Mapping[str, str], outcome: Result, conclusion: Result
) -> dict[str, object]:
    """One step's entry in the ``steps`` context."""
    return {
        "outputs": dict(outputs),
        "outcome": outcome.github,
        "conclusion": conclusion.github,
    }


def _runner_context(temp: str) -> Mapping[str, object]:
    """The ``runner`` context of a job whose ``RUNNER_TEMP`` is ``temp``."""
    context: dict[str, object] = {
        "os": {"linux": "Linux", "darwin": "macOS", "win32": "Windows"}.get(
            sys.platform, sys.platform
        ),
        "arch": "X64" if os.uname().machine in ("x86_64", "AMD64") else "ARM64",
        "name": "trio-steps",
        "temp": temp,
        "tool_cache": tempfile.gettempdir(),
        "environment": "self-hosted",
        "debug": "",
    }
    # Shared by every evaluation: read-only.
    return MappingProxyType(context)


def _has_expressions(job: Job) -> bool:
    """Whether running ``job`` evaluates any expression (``${{ }}``, ``if:``)."""
    if any("${{" in value for value in job.env.values()):
        return True
    return any(
        plan.templated
        or (plan.step is not None and isinstance(plan.step.condition, str))
        for plan in job.plan
    )


@final
class JobContexts:
    """What later steps see (R4.1, R5.2) and what expressions evaluate against.

    Args:
        job: The job.
        workspace: The job's workspace directory.
        masker: The job's masked values (names and errors are masked).
    """

    __slots__ = (
        "_env_proxy",
        "_env_proxy_of",
        "_env_shared",
        "_github",
        "_runner",
        "_runner_temp",
        "_steps",
        "before_instant",
        "clock",
        "env",
        "expressions",
        "hashes",
        "hashing",
        "instant",
        "job",
        "masker",
        "path",
        "publications",
        "published",
        "workspace",
    )

    def __init__(self, job: Job, workspace: str, masker: Masker) -> None:
        self.job = job
        self.workspace = workspace
        self.masker = masker
        #: Published records by folded id, and how many were published.
        self.published: dict[str, _Record] = {}
        self.publications = 0
        #: R17.8: the instant of the latest publication, and the publications
        #: and path as they were before it (``clock`` reads the time).
        self.clock: Callable[[], float] | None = None
        self.instant = -math.inf
        self.before_instant: tuple[int, tuple[str, ...]] = (0, ())
        #: The job env, copied on write once a launched step holds it.
        self.env: dict[str, str] = dict(job.env)
        self._env_shared = False
        self._env_proxy_of: Mapping[str, str] | None = None
        self._env_proxy: Mapping[str, str] = MappingProxyType({})
        #: The job path, highest precedence first.
        self.path: tuple[str, ...] = ()
        #: Whether running the job evaluates any expression at all.
        self.expressions = _has_expressions(job)
        if self.expressions:
            from . import _hashing  # noqa: F401 - loaded now, not in the loop
        #: hashFiles() results of the latest turn (for R6.1's re-evaluation),
        #: and the scope of a hashFiles() being computed, if any.
        self.hashes: dict[HashKey, str | Fault] = {}
        self.hashing: trio.CancelScope | None = None
        self._github: dict[str, object] | None = None
        self._runner: Mapping[str, object] | None = None
        self._runner_temp: str | None = None
        # The ``steps`` context of every step published so far, once needed.
        self._steps: dict[str, object] | None = None

    # ------------------------------------------------- published state (R5)

    def publish(self, r: _Record, *, keep_writes: bool = False) -> None:
        """Make the step's state visible to later steps (R4.1, R5.2).

        With ``keep_writes`` the env and path it wrote are kept for
        :meth:`republish` (R17.5).
        """
        self._mark_instant()
        produced = r.produced
        outputs: Mapping[str, str] = _NO_OUTPUTS
        if produced is not None:
            written, env_changes, path_added = produced
            if written:
                outputs = MappingProxyType(written)
            self._apply_writes(env_changes, path_added)
            if keep_writes and (env_changes or path_added):
                r.written = (dict(env_changes), list(path_added))
            r.produced = None
        r.outputs = outputs
        self.publications += 1
        r.published_seq = self.publications
        self.published[r.plan.id.casefold()] = r
        if self._steps is not None:
            view = r.view()
            self._steps[r.plan.id] = _step_context(
                outputs, view.outcome, view.conclusion
            )

    def republish(self, r: _Record) -> None:
        """R17.5: apply a published step's env and path writes once more.

        Its outputs, outcome and conclusion are what they were; only the env
        and path can have been overwritten since.
        """
        written = r.written
        if written is not None:
            self._mark_instant()
            self._apply_writes(*written)

    def _mark_instant(self) -> None:
        clock = self.clock
        if clock is not None:
            now = clock()
            if now != self.instant:
                self.instant = now
                self.before_instant = (self.publications, self.path)

    def seen_at_slot(self, now: float) -> tuple[int, tuple[str, ...]]:
        """R17.8: the publications and path a step getting a slot at ``now`` sees.

        What was published before this instant: which of two things that
        happen at one instant comes first is a race in the runner, and the
        engine and the model resolve it the same way by leaving the instant
        out.
        """
        if self.instant == now:
            return self.before_instant
        return (self.publications, self.path)

    def _apply_writes(
        self, env_changes: Mapping[str, str], path_added: list[str]
    ) -> None:
        if env_changes:
            if self._env_shared:
                self.env = dict(self.env)
                self._env_shared = False
            self.env.update(env_changes)
        if path_added:
            path = list(self.path)
            for entry in path_added:
                if entry in path:
                    path.remove(entry)
                path.insert(0, entry)
            self.path = tuple(path)

    def job_env_snapshot(self) -> Mapping[str, str]:
        """The job env as it is now; later changes copy it first."""
        self._env_shared = True
        return self.env

    def step_env(self, step: Step, job_env: Mapping[str, str]) -> Mapping[str, str]:
        """The env a step runs with: ``job_env`` with the step's own on top."""
        if not step.env:
            if job_env is self._env_proxy_of:
                return self._env_proxy
            # A snapshot is never changed in place (copy on write), so its
            # read-only view can be shared by every step that got it.
            proxy = MappingProxyType(
                dict(job_env) if not isinstance(job_env, dict) else job_env
            )
            self._env_proxy_of, self._env_proxy = job_env, proxy
            return proxy
        merged = dict(job_env)
        merged.update(step.env)
        return MappingProxyType(merged)

    def status(self, job_status: Result | None, env: Mapping[str, str]) -> Status:
        """What a condition sees: the job status, the published steps, ``env``."""
        return Status(
            job_status=job_status if job_status is not None else Result.SUCCEEDED,
            steps=StepsView(self.published, self.publications),
            env=env,
        )

    # ------------------------------------------------------- RUNNER_TEMP

    def runner_temp(self) -> str:
        """The job's ``RUNNER_TEMP``: made on first use, removed at the end."""
        if self._runner_temp is None:
            # The pid in the name: see _guardian.remove_owned_directories.
            self._runner_temp = tempfile.mkdtemp(
                prefix=f"trio-steps-runner-{os.getpid()}-"
            )
        return self._runner_temp

    def remove_runner_temp(self) -> None:
        """Remove the job's ``RUNNER_TEMP``, if it was made."""
        if self._runner_temp is not None:
            shutil.rmtree(self._runner_temp, ignore_errors=True)
            self._runner_temp = None

    # ------------------------------------------------------- expressions

    def evaluation(self, status: Status, env: Mapping[str, str]) -> dict[str, object]:
        """The contexts an expression is evaluated against."""
        if self._github is None:
            self._github = _default_github(self.job, self.workspace)
        if self._runner is None:
            self._runner = _runner_context(self.runner_temp())
        # The steps published so far: built in full once, then publish() adds
        # each step as it is published (a view of an older publication, which
        # the engine never asks for, is built in full).
        upto = status.steps.upto if isinstance(status.steps, StepsView) else -1
        steps = self._steps
        if steps is None or len(steps) != upto:
            steps = {}
            for id in status.steps:
                view = status.steps[id]
                steps[id] = _step_context(view.outputs, view.outcome, view.conclusion)
            if upto == self.publications:
                self._steps = steps
        job = self.job
        return {
            "steps": steps,
            "env": dict(env),
            "job": {"status": status.job_status.github},
            "github": self._github,
            "runner": self._runner,
            "vars": dict(job.vars),
            "secrets": dict(job.secrets),
            "inputs": dict(job.inputs),
            # A job of a workflow (R15.6): needs, matrix, strategy.
            "needs": {},
            "matrix": {},
            "strategy": {},
            **job.contexts,
        }

    def condition_holds(self, r: _Record, status: Status) -> bool:
        """Evaluate the step's condition (R3.1-R3.5); may raise."""
        step = r.plan.step
        assert step is not None
        condition = step.condition
        if condition is None:
            return True if r.plan.post else success(status)
        if isinstance(condition, str):
            assert step.compiled_condition is not None
            from ..expressions import truthy

            value = step.compiled_condition.evaluate(
                self.evaluation(status, status.env)
            )
            return truthy(value)
        return bool(condition(status))

    def holds_after_cancel(self, r: _Record, status: Status) -> bool:
        """R6.1's second look at a condition: one that raises is false."""
        if not self.expressions:
            try:
                return self.condition_holds(r, status)
            except Exception:
                return False
        from ..expressions._hashfiles import HashFilesPending, deferred_hash_files

        try:
            # A hashFiles() call not made at the step's turn cannot be
            # computed here (this is no place to wait): an error.
            with deferred_hash_files(self.hashes):
                return self.condition_holds(r, status)
        except (Exception, HashFilesPending):
            return False

    def expand_step_env(
        self, step: Step, job_env: Mapping[str, str], job_status: Result | None
    ) -> Mapping[str, str]:
        """The env a step runs with, its own ``${{ }}`` expanded (§14).

        Every value of the step's ``env`` is evaluated against the same
        contexts, whose ``env`` is ``job_env`` (the workflow and job env and
        what ``GITHUB_ENV`` added): ``env.X`` in the step's own ``X`` reads
        the job's ``X``. As the runner's ``StepsRunner.RunAsync`` does
        before it evaluates the step's condition (actions/runner,
        ``src/Runner.Worker/StepsRunner.cs``).

        Raises:
            ExpressionError: An expression failed to evaluate.
        """
        if not any("${{" in value for value in step.env.values()):
            return self.step_env(step, job_env)
        from ..expressions import compile_template

        contexts = self.evaluation(self.status(job_status, job_env), job_env)
        env = dict(job_env)
        for key, value in step.env.items():
            if "${{" in value:
                value = compile_template(value, names=CONTEXT_NAMES).render(contexts)
            env[key] = value
        return MappingProxyType(env)

    def interpolate(self, r: _Record, status: Status) -> Fields:
        """Expand ``${{ }}`` in the step's fields at its turn (R3.6).

        ``status.env`` is the step's env already expanded
        (:meth:`expand_step_env`); ``run``, ``name``, ``working_directory``
        and ``shell`` see it in the ``env`` context, as on GitHub. The name,
        ``timeout-minutes`` and ``continue-on-error`` go to the record.

        Raises:
            ExpressionError: An expression failed to evaluate.
        """
        from ..expressions import compile_template, truthy

        step = r.plan.step
        assert step is not None
        env = status.env
        contexts = self.evaluation(status, env)

        def expand(text: str | None) -> str | None:
            if text is None or "${{" not in text:
                return text
            return compile_template(text, names=CONTEXT_NAMES).render(contexts)

        script = expand(step.run) if isinstance(step.run, str) else None
        name = expand(step.name)
        if name is not None:
            r.name = self.masker.mask(name)
        if step.timeout_template is not None:
            rendered = expand(step.timeout_template)
            assert rendered is not None
            try:
                r.timeout = parse_duration(rendered)
            except ValueError as exc:
                raise ValueError(f"timeout: {exc}") from None
        if step.continue_on_error_template is not None:
            r.coe = truthy(
                compile_template(
                    step.continue_on_error_template, names=CONTEXT_NAMES
                ).evaluate(contexts)
            )
        return (
            env if isinstance(env, MappingProxyType) else MappingProxyType(dict(env)),
            script,
            expand(step.working_directory),
            expand(step.shell),
        )

    def reinterpolate(
        self, r: _Record, fields: Fields, job_status: Result | None, seq: int
    ) -> Fields:
        """R17.8: expand ``run``, working directory and shell again, now.

        GitHub's runner evaluates a step's inputs when the step runs, against
        the live ``steps`` context; the env stays the one fixed at launch.
        ``hashFiles()`` results are the ones of the step's turn.

        Raises:
            ExpressionError: An expression failed to evaluate.
            HashFilesPending: A ``hashFiles()`` call not made at its turn.
        """
        from ..expressions import compile_template
        from ..expressions._hashfiles import deferred_hash_files

        step = r.plan.step
        assert step is not None
        env = fields[0]
        status = Status(
            job_status=job_status if job_status is not None else Result.SUCCEEDED,
            steps=StepsView(self.published, seq),
            env=env,
        )
        contexts = self.evaluation(status, env)

        def expand(text: str | None) -> str | None:
            if text is None or "${{" not in text:
                return text
            return compile_template(text, names=CONTEXT_NAMES).render(contexts)

        with deferred_hash_files(self.hashes):
            script = expand(step.run) if isinstance(step.run, str) else None
            return (
                env,
                script,
                expand(step.working_directory),
                expand(step.shell),
            )

    async def expand_job_env(self) -> None:
        """Expand ``${{ }}`` in the job env once, when the job starts.

        Job-level env may use ``github``, ``secrets``, ``vars``, ``inputs``,
        ``runner`` and the env entries before it, as on GitHub. A
        ``hashFiles()`` call is computed, then the env is expanded again.

        Raises:
            JobDefinitionError: An expression failed to evaluate; nothing ran.
        """
        if not self.expressions:
            return
        from ..expressions._hashfiles import HashFilesPending, deferred_hash_files

        hashes: dict[HashKey, str | Fault] = {}
        while True:
            try:
                with deferred_hash_files(hashes):
                    self._expand_job_env()
            except HashFilesPending as pending:
                await self.hash_files(pending.key, hashes)
            else:
                return

    def _expand_job_env(self) -> None:
        if not any("${{" in value for value in self.env.values()):
            return
        from ..expressions import ExpressionError, compile_template

        status = self.status(None, self.env)
        expanded: dict[str, str] = {}
        problems: list[str] = []
        for key, value in self.env.items():
            if "${{" in value:
                contexts = self.evaluation(status, expanded)
                try:
                    value = compile_template(value, names=CONTEXT_NAMES).render(
                        contexts
                    )
                except ExpressionError as exc:
                    problems.append(f"job env {key!r}: {self.masker.mask(str(exc))}")
            expanded[key] = value
        if problems:
            raise JobDefinitionError(problems)
        self.env = expanded

    async def hash_files(
        self, key: HashKey, hashes: dict[HashKey, str | Fault]
    ) -> None:
        """Compute one ``hashFiles()`` call in a worker thread.

        Job cancellation (R6.1) interrupts it through :attr:`hashing`, so
        that the caller evaluates again under the new job status; a hard
        stop (R6.2) propagates.
        """
        from ._hashing import hash_files_in_thread

        with trio.CancelScope() as scope:
            self.hashing = scope
            try:
                hashes[key] = await hash_files_in_thread(key)
            finally:
                self.hashing = None
