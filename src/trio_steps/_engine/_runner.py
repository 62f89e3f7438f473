"""The engine: the main sequence, job status, stopping and flushing.

One :class:`JobRunner` runs one job. The main sequence is a single task
that walks the plan (rules §4); every step's code runs in a task of its own,
inside its own :class:`trio.CancelScope`, in the job's nursery, so that a
stop (R6.3) is a cancel of that scope and nothing of the job outlives
:meth:`JobRunner.run` (I5). Timed decisions go through a
:class:`~trio_steps._engine._timekeeper.Timekeeper` so that simultaneous
events are resolved in a fixed order (``docs/source/timing.rst``).

The runner decides; two collaborators keep what it decides about:

* :class:`~trio_steps._engine._recorder.Recorder`: the events, the steps'
  logs and log files, masking, and the reports built from them;
* :class:`~trio_steps._engine._contexts.JobContexts`: what later steps see
  (published steps, job env, job path) and what ``${{ }}`` evaluates
  against.

Stopping (R6.1-R6.4) stays here: every stop reads the main sequence's state
(the job result, the current step, the running background steps, the main
scope) and ends in the step's lifecycle (``_finish``). Each executor gets,
besides the step's :class:`~trio_steps._context.StepRun`, what only it needs:
``run_python(run, function)``, ``run_shell(run, shell_job)``,
``run_action(run, call, contexts, shell_job, actions)`` (rules §16).
"""

from __future__ import annotations

import array
import math
import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, final

import trio

from .._actions._definition import ActionCall
from .._actions._run import ActionJob, run_action
from .._context import StepFailed, StepRun, shorten_error
from .._errors import JobDefinitionError
from .._events import Event, EventKind
from .._face import public
from .._job import Job
from .._masking import Masker
from .._results import (
    JobReport,
    Result,
    merge_results,
)
from .._semantics import Semantics, coerce_semantics, targets_matching_case
from .._shell._execution import run_shell
from .._shell._workspace import ShellJob
from .._status import Status, StepsView
from .._steps import StepKind
from ._contexts import Fields, JobContexts
from ._python_step import run_python
from ._recorder import _FINISHED, _STARTED, Recorder
from ._records import _Reason, _Record, _State
from ._semantics import variant_for
from ._slots import Slots
from ._timekeeper import Timekeeper, Timer, is_real_clock

if TYPE_CHECKING:
    from ..expressions._errors import Fault
    from ..expressions._hashfiles import HashKey
    from ._recorder import _Data

__all__ = ["JobRunner", "run_job"]
_SUCCESS = (None, Result.SUCCEEDED, Result.SUCCEEDED_WITH_ISSUES)
_WAIT_KINDS = frozenset({StepKind.WAIT, StepKind.WAIT_ALL, StepKind.IMPLICIT_WAIT_ALL})


def _describe_exception(exc: BaseException) -> str:
    """One line naming what went wrong, groups flattened."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe_exception(e) for e in exc.exceptions)
    if isinstance(exc, StepFailed):
        return exc.message
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _find_step_failed(exc: BaseException) -> StepFailed | None:
    if isinstance(exc, StepFailed):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _find_step_failed(inner)
            if found is not None:
                return found
    return None


def _is_fatal(exc: BaseException) -> bool:
    """Whether ``exc`` is (or contains) KeyboardInterrupt/SystemExit (R6.5)."""
    if isinstance(exc, KeyboardInterrupt | SystemExit):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(_is_fatal(e) for e in exc.exceptions)
    return False


@final
class JobRunner:
    """Runs one job: foreground and background steps, control and post steps.

    Args:
        job: The job to run.
        on_event: Called synchronously with every :class:`Event` as it
            happens. It must not block; if it raises, it is not called again
            and the exception is raised from :meth:`run` once the job ended.
        log_dir: A directory that receives every line of every step's log,
            one file per step (``<id>.log``); the report itself keeps only a
            tail of each step's log, bounded in lines and bytes per step and
            in bytes per job (see :ref:`log-bounds`). When a log file cannot
            be written (a full disk), the step it belongs to gets one log line
            saying so, no more log files are written, and the job goes on.
        semantics: Whose semantics the job runs under: this project's
            (the default) or GitHub's runner as it is (rules §17); the
            value's string (``"github-runner"``) is accepted too.

    Raises:
        JobDefinitionError: ``job`` is not a :class:`Job`.
        ValueError: ``semantics`` names no :class:`Semantics`.
    """

    def __init__(
        self,
        job: Job,
        *,
        on_event: Callable[[Event], object] | None = None,
        log_dir: str | os.PathLike[str] | None = None,
        semantics: Semantics | str = Semantics.TRIO_STEPS,
    ) -> None:
        if not isinstance(job, Job):
            raise JobDefinitionError(f"JobRunner needs a Job, not {type(job).__name__}")
        self.job = job
        #: The semantics the job runs under (rules §17).
        self.semantics = coerce_semantics(semantics)
        self._variant = variant_for(self.semantics)
        # Times and publication numbers of the records (see _Moment).
        self._moments = array.array("d", [math.nan]) * (3 * len(job.plan))
        self._published_seqs = array.array("q", bytes(8 * len(job.plan)))
        self._records = [_Record(self, p) for p in job.plan]
        self._by_id: dict[str, _Record] = {
            r.plan.id.casefold(): r for r in self._records
        }
        self._main_records = [r for r in self._records if not r.plan.post]
        self._post_records = [r for r in self._records if r.plan.post]
        # The abandoned step whose task ended after every step finished, and
        # when. Tasks that end at one instant run in an order Trio picks at
        # random, so for the same report in every run (I10): of abandoned
        # tasks ending together, the one latest in the plan; and one that
        # ends at the instant the last step finishes did not run past it.
        self._ran_past: str | None = None
        self._ran_past_key: tuple[float, int] = (-math.inf, -1)
        self._last_finished_at = -math.inf
        self._result: Result | None = None
        self._job_cancelled = False
        self._hard_stopped = False
        self._cancel_early = False
        self._started = False
        self._finished = False
        self._finished_event = trio.Event()
        self._fatal: BaseException | None = None
        self._recorder = recorder = Recorder(
            self._records,
            Masker(job.secrets.values()),
            on_event=on_event,
            log_dir=log_dir,
        )
        # Bound once: every event and every log line goes through these.
        self._emit = recorder.emit
        self._output = recorder.output
        self._workspace = job.workspace or os.getcwd()
        # What later steps see (R4.1, R5.2), and what expressions see.
        self._contexts = JobContexts(job, self._workspace, recorder.masker)
        self._slots: Slots[_Record] = Slots(job.max_background, self._start_background)
        self._launched: list[_Record] = []
        self._active: dict[_Record, None] = {}  # background: queued or running
        self._unfinished = 0  # records in RUNNING state
        self._all_finished: trio.Event | None = None
        self._current: _Record | None = None
        self._timekeeper = Timekeeper()
        self._timekeeper_scope = trio.CancelScope()
        self._job_timer: Timer | None = None
        self._nursery: trio.Nursery | None = None
        self._main_scope: trio.CancelScope | None = None
        # The Trio clock's reading, bound once (read for every event).
        self._now: Callable[[], float] = recorder.now
        self._shell_state: ShellJob | None = None
        self._action_state: ActionJob | None = None
        # R18.8: on a clock that is not the real one, code ends wait here
        # and are handled together, in plan order, by the timekeeper.
        self._canonical = False
        self._ended: list[tuple[_Record, str | None, StepRun]] = []

    # ------------------------------------------------------------------ API

    async def run(self) -> JobReport:
        """Run the job to the end and return its report.

        If the surrounding Trio scope is cancelled, the job is hard-stopped
        (R6.2): every step is stopped within its graces, the report is
        finalised, and then :class:`trio.Cancelled` propagates.

        Returns:
            The final :class:`JobReport`.

        Raises:
            RuntimeError: The runner was already used.
            JobDefinitionError: An expression of the job env failed to
                evaluate (each problem listed, secrets masked); nothing ran.
            KeyboardInterrupt: Raised inside a step (R6.5), after the job
                was hard-stopped and its report finalised.
        """
        if self._started:
            raise RuntimeError("a JobRunner runs its job once")
        self._started = True
        clock = trio.lowlevel.current_clock()
        self._now = self._recorder.now = clock.current_time
        self._canonical = not is_real_clock(clock)
        if not self._variant.frozen_at_launch:
            self._contexts.clock = self._now  # R17.8
        try:
            await self._contexts.expand_job_env()
        except BaseException:
            self._contexts.remove_runner_temp()  # nothing ran: nothing is left
            raise
        async with trio.open_nursery() as outer:
            outer.start_soon(self._engine)
            try:
                await self._finished_event.wait()
            except trio.Cancelled:
                self._hard_stop()
                with trio.CancelScope(shield=True):
                    await self._finished_event.wait()
                raise
        if self._fatal is not None:
            raise self._fatal
        if self._recorder.on_event_error is not None:
            raise self._recorder.on_event_error
        return self.report

    def cancel(self) -> None:
        """Cancel the job (R6.1): ``always()``/``cancelled()`` steps still run.

        Safe to call at any time from Trio code; a second call does nothing.
        """
        if self._finished or self._job_cancelled:
            return
        if self._nursery is None:
            self._cancel_early = True
            return
        self._timekeeper.at(self._now(), lambda: self._cancel_job("cancel"))

    @property
    def report(self) -> JobReport:
        """The report so far; final once :meth:`run` has returned."""
        return self._recorder.report(
            result=self._result if self._result is not None else Result.SUCCEEDED,
            env=self._contexts.env,
            path=self._contexts.path,
            finished=self._finished,
        )

    def mask(self, text: str) -> str:
        """Mask the job's secrets and ``::add-mask::`` values in ``text``.

        Every value known so far is replaced by ``***`` (overlapping values
        as one). The engine masks its events and reports itself; this is for
        what a caller prints from elsewhere (see ``docs/source/cli.rst``).

        Args:
            text: The text to mask.

        Returns:
            ``text`` with every masked value replaced by ``***``.
        """
        return self._recorder.masker.mask(text)

    # ---------------------------------------------------------- the engine

    async def _engine(self) -> None:
        # Shielded: an outer cancellation reaches run(), which hard-stops the
        # job through R6.3 instead of tearing the tasks down (R6.2).
        with trio.CancelScope(shield=True):
            try:
                async with trio.open_nursery() as nursery:
                    self._nursery = nursery
                    nursery.start_soon(self._run_timekeeper)
                    started: _Data = (
                        ("name", self._job_name()),
                        ("max_background", self.job.max_background),
                        ("interrupt_grace", self.job.interrupt_grace),
                        ("terminate_grace", self.job.terminate_grace),
                    )
                    if self._variant.github:  # a trace says which (R17.1)
                        started += (("semantics", self.semantics.value),)
                    self._emit(EventKind.JOB_STARTED, None, started)
                    if self.job.timeout is not None:
                        self._job_timer = self._timekeeper.at(
                            self._now() + self.job.timeout,
                            lambda: self._cancel_job("timeout"),
                        )
                    if self._cancel_early:
                        self._cancel_job("cancel")
                    await self._main()
                    # Decisions may still be needed (giving up on stopped
                    # steps); then only abandoned tasks remain.
                    while self._unfinished:
                        self._all_finished = trio.Event()
                        await self._all_finished.wait()
                    self._timekeeper_scope.cancel()
            finally:
                try:
                    if self._shell_state is not None:
                        # Daemons that left their step's process group.
                        await self._shell_state.end_processes()
                    self._finish_job()
                finally:
                    # Even after an error of ours: run() waits for it.
                    self._finished_event.set()

    async def _run_timekeeper(self) -> None:
        with self._timekeeper_scope:
            await self._timekeeper.run()

    def _job_name(self) -> str | None:
        name = self.job.name
        return name if name is None else self._recorder.masker.mask(name)

    def _shell_job(self) -> ShellJob:
        """What the job's shell steps share (closed when the job ends)."""
        if self._shell_state is None:
            self._shell_state = ShellJob()
        return self._shell_state

    def _actions(self) -> ActionJob:
        """What the job's action steps share (rules §16)."""
        if self._action_state is None:
            from ._hashing import hash_files_in_thread

            # hashFiles() in an action's expressions: off the loop as well.
            self._action_state = ActionJob(hash_files_in_thread)
        return self._action_state

    def _action_contexts(self, run: StepRun) -> Mapping[str, object]:
        """What ``${{ }}`` in an action's ``with:`` sees: the step's view."""
        status = Status(
            job_status=self._result if self._result is not None else Result.SUCCEEDED,
            steps=run.steps,
            env=run.env,
        )
        return self._contexts.evaluation(status, run.env)

    def _finish_job(self) -> None:
        if self._shell_state is not None:
            self._shell_state.close()
        self._contexts.remove_runner_temp()
        for r in self._records:
            if r.state is _State.WAITING:
                self._skip(r, reason="not reached")
            self._recorder.close_log_file(r, report=False)
        self._finished = True
        result = self._result if self._result is not None else Result.SUCCEEDED
        data: _Data = (("result", result.name),)
        if self._ran_past is not None:
            data += (("abandoned_last", self._ran_past),)
        self._emit(EventKind.JOB_FINISHED, None, data)
        self._finished_event.set()

    async def _main(self) -> None:
        with trio.CancelScope() as self._main_scope:
            for r in self._main_records:
                await self._turn(r)
            await self._end_of_main()
            for r in self._post_records:
                await self._turn(r)
        current = self._current
        if (
            self._main_scope.cancelled_caught
            and current is not None
            and current.plan.kind != StepKind.RUN
            and current.state is _State.RUNNING
        ):
            self._finish(current, Result.CANCELED, error="the job was hard-stopped")

    async def _turn(self, r: _Record) -> None:
        self._current = r
        kind = r.plan.kind
        if kind == StepKind.RUN:
            await self._run_step(r)
        elif kind == StepKind.CANCEL:
            await self._cancel_step(r)
        else:
            await self._wait_step(r)

    # ------------------------------------------------------- job status

    def _status(self, env: Mapping[str, str]) -> Status:
        return self._contexts.status(self._result, env)

    def _merge_job(self, coming: Result) -> None:
        self._result = merge_results(self._result, coming)

    # ------------------------------------------------------- run steps

    async def _run_step(self, r: _Record) -> None:
        step = r.plan.step
        assert step is not None
        if (
            isinstance(step.run, ActionCall)
            and step.run.phase == "post"
            and not self._actions().main_ran(step.run.key)
        ):
            # R16.7: an action's post phase belongs to a main that started.
            self._skip(r, reason="its main step did not run")
            return
        contexts = self._contexts
        job_env = contexts.job_env_snapshot()
        fields = None
        if step.condition is None and not r.plan.templated:
            # The common case, without building a Status (R3.1).
            holds = r.plan.post or self._result in _SUCCESS
        else:
            # hashFiles() results of this turn: each call is computed in a
            # worker thread, then the step's expressions are evaluated again.
            from ..expressions._hashfiles import HashFilesPending

            hashes: dict[HashKey, str | Fault] = {}
            contexts.hashes = hashes
            while True:
                try:
                    prepared = self._prepare(r, job_env, hashes)
                except HashFilesPending as pending:
                    await contexts.hash_files(pending.key, hashes)
                else:
                    break
            if prepared is None:
                return
            holds, fields = prepared
        if not holds:
            self._skip(r, reason="condition")
            return
        r.frozen = (job_env, contexts.publications, contexts.path, fields)
        if r.plan.background:
            self._launch(r)
            return
        # R4.1: a foreground step runs to the end, then is published.
        self._begin(r)
        self._nursery_start(r)
        await r.done_event().wait()
        contexts.publish(r)
        if r.conclusion is Result.FAILED:
            self._merge_job(Result.FAILED)

    def _prepare(
        self,
        r: _Record,
        job_env: Mapping[str, str],
        hashes: dict[HashKey, str | Fault],
    ) -> tuple[bool, Fields | None] | None:
        """Evaluate the step's condition, then its fields (R3.3-R3.6).

        Returns:
            Whether the condition holds and the expanded fields, or ``None``
            when an expression raised (the step has failed, R3.4/R3.6).

        Raises:
            HashFilesPending: A ``hashFiles()`` call must be computed first.
        """
        from ..expressions._hashfiles import deferred_hash_files

        step = r.plan.step
        assert step is not None
        contexts = self._contexts
        try:
            # The step's env first, then its condition sees it (§14).
            with deferred_hash_files(hashes):
                env = contexts.expand_step_env(step, job_env, self._result)
        except Exception as exc:  # R3.6
            self._condition_failed(
                r, f"Interpolation failed: {_describe_exception(exc)}"
            )
            return None
        status = self._status(env)
        try:
            with deferred_hash_files(hashes):
                holds = contexts.condition_holds(r, status)
        except Exception as exc:  # R3.4
            self._condition_failed(
                r, f"The condition raised: {_describe_exception(exc)}"
            )
            return None
        if not holds or not r.plan.templated:
            return holds, None
        try:
            with deferred_hash_files(hashes):
                fields = contexts.interpolate(r, status)
        except Exception as exc:  # R3.6
            self._condition_failed(
                r, f"Interpolation failed: {_describe_exception(exc)}"
            )
            return None
        return True, fields

    def _begin(self, r: _Record) -> None:
        r.state = _State.RUNNING
        r.started_at = self._now()
        self._unfinished += 1
        data = _STARTED[r.plan.kind]
        if r.plan.kind in (StepKind.WAIT, StepKind.CANCEL):
            # R18.7: a trace names the targets, for job_from_trace().
            data += (("targets", ",".join(r.plan.targets)),)
        self._emit(EventKind.STEP_STARTED, r.plan.id, data)

    def _nursery_start(self, r: _Record) -> None:
        step = r.plan.step
        assert step is not None and r.frozen is not None and self._nursery is not None
        job_env, seq, path, fields = r.frozen
        r.frozen = None
        if fields is None:
            env = self._contexts.step_env(step, job_env)
            script = step.run if isinstance(step.run, str) else None
            working_directory, shell = step.working_directory, step.shell
        else:
            env, script, working_directory, shell = fields
        r.run = StepRun(
            sink=r,
            id=r.plan.id,
            name=r.name,
            env=env,
            steps=StepsView(self._contexts.published, seq),
            path=path,
            script=script,
            shell=shell,
            working_directory=working_directory,
            workspace=self._workspace,
            interrupt_grace=self.job.interrupt_grace,
            terminate_grace=self.job.terminate_grace,
            runner_temp=(
                self._contexts.runner_temp()
                if script is not None or isinstance(step.run, ActionCall)
                else None
            ),
            masker=self._recorder.masker,
        )
        if r.timeout is not None:  # R4.3: counted from the start
            r.timer = self._timekeeper.at(
                self._now() + r.timeout,
                lambda: self._stop(r, _Reason.TIMEOUT),
            )
        self._nursery.start_soon(self._step_task, r, name=r.plan.id)

    async def _step_task(self, r: _Record) -> None:
        run = r.run
        step = r.plan.step
        assert run is not None and step is not None
        error: str | None = None
        try:
            with trio.CancelScope() as scope:
                r.scope = scope
                if r.stop_reason is not None:
                    scope.cancel()
                start_error = r.start_error
                # Each executor gets what it needs besides the StepRun.
                if start_error is not None:
                    raise StepFailed(start_error)  # R17.8
                if isinstance(step.run, str):
                    await run_shell(run, self._shell_job())
                elif isinstance(step.run, ActionCall):
                    await run_action(
                        run,
                        step.run,
                        self._action_contexts(run),
                        self._shell_job(),
                        self._actions(),
                    )
                else:
                    await run_python(run, step.run)
        except Exception as exc:  # a failing step never cancels its siblings
            failed = _find_step_failed(exc)
            if failed is not None and failed.exit_code is not None:
                run.exit_code = failed.exit_code
            error = _describe_exception(exc)
        except BaseException as exc:
            if not _is_fatal(exc):
                raise
            # R6.5: never swallowed, but first the job is hard-stopped and
            # its report finalised; run() raises it at the end.
            if self._fatal is None:
                self._fatal = exc
            error = f"interrupted by {_describe_exception(exc)}"
            self._hard_stop()
        finally:
            r.scope = None
        rare = r.rare
        if self._canonical and not (rare is not None and rare.abandoned):
            self._ended.append((r, error, run))
            if len(self._ended) == 1:
                self._timekeeper.at(self._now(), self._end_in_order, first=True)
            return
        self._step_ended(r, error, run)

    def _end_in_order(self) -> None:
        """R18.8: the code ends of this instant, in plan order."""
        ended, self._ended = self._ended, []
        ended.sort(key=lambda item: item[0].plan.index)
        for r, error, run in ended:
            self._step_ended(r, error, run)

    def _step_ended(self, r: _Record, error: str | None, run: StepRun) -> None:
        """The step's code has really ended (R2.2)."""
        rare = r.rare
        if rare is not None:
            if rare.abandoned:  # R6.4: its later exit changes nothing
                # ... but it may be what the job's end waited for.
                key = (self._now(), r.plan.index)
                if key[0] > self._last_finished_at and (
                    self._ran_past is None or key > self._ran_past_key
                ):
                    self._ran_past = r.plan.id
                    self._ran_past_key = key
                return
            rare.exit_code = run.exit_code
            if rare.stop_reason is not None:
                self._finish_stopped(r)
                return
        elif run.exit_code is not None:
            r.exit_code = run.exit_code
        if error is None and run.failure is not None:
            error = run.failure
        if error is not None:
            self._finish(r, Result.FAILED, error=error)
        else:
            self._finish(r, Result.SUCCEEDED)

    def _finish_stopped(self, r: _Record) -> None:
        if r.stop_reason is _Reason.TIMEOUT:  # R6.6
            assert r.timeout is not None
            r.timed_out = True
            self._finish(
                r, Result.FAILED, error=f"The step timed out after {r.timeout:g} s"
            )
        else:
            why = {
                _Reason.CANCEL: "The step was cancelled by a cancel step",
                _Reason.JOB: "The step was cancelled because the job was cancelled",
                _Reason.HARD_STOP: "The step was cancelled because the job was hard-stopped",
            }[r.stop_reason or _Reason.JOB]
            self._finish(r, Result.CANCELED, error=why)

    def _finish(self, r: _Record, outcome: Result, *, error: str | None = None) -> None:
        """Record the step's end: outcome, conclusion (R2.3), slot, waiters."""
        was_running = r.state is _State.RUNNING
        r.state = _State.DONE
        self._ran_past = None
        self._last_finished_at = self._now()
        run = r.run
        if run is not None:
            # Keep only what it wrote: an abandoned step's later writes, and
            # the StepRun itself, are not needed any more.
            if run.wrote_anything():
                r.produced = (
                    dict(run.outputs),
                    dict(run.env_changes),
                    list(run.path_added),
                )
            r.run = None
        r.outcome = outcome
        if error is not None:
            masked = self._recorder.masker.mask(error)
            r.error = shorten_error(masked)
            if r.plan.kind == StepKind.RUN:
                self._recorder.log(r, masked)
        self._recorder.step_done(r)
        rare = r.rare  # None for most steps: nothing rare to report
        coe = r.plan.continue_on_error if rare is None else rare.coe
        if (
            coe
            and not self._variant.waits_honour_continue_on_error
            and r.plan.kind in _WAIT_KINDS
        ):
            coe = False  # R17.3: the runner's control steps never continue
        r.conclusion = Result.SUCCEEDED if outcome is Result.FAILED and coe else outcome
        r.finished_at = self._now()
        data = _FINISHED[outcome, r.conclusion]
        if rare is not None:
            if rare.timer is not None:
                rare.timer.cancel()
                rare.timer = None
            if rare.timed_out:
                data += (("timed_out", True),)
            if rare.abandoned:
                data += (("abandoned", True),)
            if rare.exit_code is not None:
                data += (("exit_code", rare.exit_code),)
        self._emit(EventKind.STEP_FINISHED, r.plan.id, data)
        if r.plan.background and r in self._active:
            del self._active[r]
            if was_running:
                self._slots.release(r)
        if r.done is not None:
            r.done.set()
            r.done = None  # its waiters hold it; later ones get a set one
        if was_running:
            self._unfinished -= 1
            if not self._unfinished and self._all_finished is not None:
                self._all_finished.set()

    def _skip(self, r: _Record, *, reason: str) -> None:
        """R2.5: outcome = conclusion = SKIPPED, visible at once (R4.2)."""
        r.state = _State.DONE
        r.outcome = r.conclusion = Result.SKIPPED
        self._emit(EventKind.STEP_SKIPPED, r.plan.id, (("reason", reason),))
        self._emit(
            EventKind.STEP_FINISHED,
            r.plan.id,
            _FINISHED[Result.SKIPPED, Result.SKIPPED],
        )
        if r.plan.kind == StepKind.RUN and (
            self._variant.publish_skipped_background or not r.plan.background
        ):
            self._contexts.publish(r)  # R4.2; never for GitHub's runner (R17.6)
        if r.done is not None:
            r.done.set()
            r.done = None  # its waiters hold it; later ones get a set one

    def _never_completed(self, r: _Record) -> None:
        """R17.4: the runner never completes ``r``: no outcome, no end."""
        r.state = _State.DONE
        r.never_completed = True
        if r in self._active:
            del self._active[r]
        self._recorder.log(
            r,
            "GitHub's runner never completes this step: it was cancelled in the queue",
        )
        if r.done is not None:
            r.done.set()
            r.done = None  # its waiters hold it; later ones get a set one

    def _condition_failed(self, r: _Record, message: str) -> None:
        """R3.4/R3.6: FAILED at once, not run or launched; so is the job."""
        r.state = _State.DONE
        r.outcome = r.conclusion = Result.FAILED
        masked = self._recorder.masker.mask(message)
        r.error = shorten_error(masked)
        self._recorder.log(r, masked)
        assert r.log is not None
        r.log.freeze()
        self._emit(
            EventKind.STEP_FINISHED, r.plan.id, _FINISHED[Result.FAILED, Result.FAILED]
        )
        if self._variant.publish_skipped_background or not r.plan.background:
            self._contexts.publish(r)  # never for GitHub's runner (R17.6)
        self._merge_job(Result.FAILED)
        if r.done is not None:
            r.done.set()
            r.done = None  # its waiters hold it; later ones get a set one

    # ---------------------------------------------------------- flushing (R5)

    def _flush(self, r: _Record, by: str | None, data: _Data) -> None:
        """R5.2/R4.10: publish a background step's deferred state, once."""
        if r.flushed:
            return
        r.flushed = True
        if by is not None:
            r.completed_by = by
        self._contexts.publish(r, keep_writes=not self._variant.flush_once)
        self._emit(EventKind.STEP_FLUSHED, r.plan.id, data)

    def _complete(self, targets: Iterable[_Record], by: str) -> None:
        """Flush the launched targets a control step completes (R4.4-R4.6).

        GitHub's runner flushes every one again, completed before or not
        (R17.5); the first control step stays their ``completed_by``.
        """
        data: _Data = (("by", by),)
        for t in targets:
            if not t.launched:
                continue
            if not t.flushed:
                self._flush(t, by, data)
            elif not self._variant.flush_once:
                if t.completed_by is None:
                    t.completed_by = by
                self._contexts.republish(t)

    # -------------------------------------------------- background steps

    def _launch(self, r: _Record) -> None:
        """R4.2: launched now; runs when a slot is free, in launch order."""
        r.state = _State.QUEUED
        r.queued_at = self._now()
        self._launched.append(r)
        self._active[r] = None
        self._emit(EventKind.STEP_LAUNCHED, r.plan.id)
        if self._job_cancelled and not self._variant.launch_after_cancel_runs:
            # R17.4: created with a cancelled token, it never gets a slot.
            self._never_completed(r)
            return
        self._slots.launch(r)

    def _start_background(self, r: _Record) -> None:
        if not self._variant.frozen_at_launch and self._now() != r.queued_at:
            self._read_at_slot(r)  # R17.8
        self._begin(r)
        self._nursery_start(r)

    def _read_at_slot(self, r: _Record) -> None:
        """R17.8: GitHub's runner reads ``steps`` and the path, and expands
        ``run:``, when the step gets its slot; its env was fixed at launch.

        What was published at this very instant is left out (a race in the
        runner; see :meth:`JobContexts.seen_at_slot`).
        """
        assert r.frozen is not None
        job_env, _, _, fields = r.frozen
        contexts = self._contexts
        seq, path = contexts.seen_at_slot(self._now())
        if fields is not None:
            from ..expressions._hashfiles import HashFilesPending

            try:
                fields = contexts.reinterpolate(r, fields, self._result, seq)
            except HashFilesPending:
                pass  # files, not steps: the launch's expansion stands
            except Exception as exc:  # R3.6, at the runner's moment
                r.start_error = f"Interpolation failed: {_describe_exception(exc)}"
        r.frozen = (job_env, seq, path, fields)

    # ------------------------------------------------------- stopping (R6)

    def _stop(self, r: _Record, reason: _Reason) -> None:
        """Stop one step (R6.3); the first reason recorded counts."""
        if r.state is _State.DONE or r.stop_reason is not None:
            return
        r.stop_reason = reason
        self._emit(EventKind.CANCEL_REQUESTED, r.plan.id, (("reason", reason.value),))
        if r.state is _State.QUEUED:
            # Removed from the queue: the slot loop skips it.
            if self._variant.queued_stop_completes:
                self._finish_stopped(r)
            else:
                self._never_completed(r)  # R17.4
            return
        if r.state is not _State.RUNNING:  # pragma: no cover - defensive
            return
        if r.scope is not None:
            r.scope.cancel()
        step = r.plan.step
        if step is not None and not isinstance(step.run, str):
            grace = self.job.interrupt_grace + self.job.terminate_grace
            self._timekeeper.at(self._now() + grace, lambda: self._give_up(r))

    def _give_up(self, r: _Record) -> None:
        """R6.4: a Python step that outlived its graces is abandoned."""
        if r.state is not _State.RUNNING:
            return
        r.abandoned = True
        self._emit(EventKind.GRACE_EXPIRED, r.plan.id, (("grace", "give-up"),))
        self._finish_stopped(r)

    def _cancel_job(self, reason: str) -> None:
        """R6.1: job cancellation."""
        if self._job_cancelled or self._finished:
            return
        self._job_cancelled = True
        self._result = Result.CANCELED
        self._emit(EventKind.JOB_CANCEL_REQUESTED, None, (("reason", reason),))
        contexts = self._contexts
        if contexts.hashing is not None:
            contexts.hashing.cancel()  # evaluated again under the new status
        current = self._current
        if (
            current is not None
            and current.plan.kind == StepKind.RUN
            and not current.plan.background
            and current.state is _State.RUNNING
        ):
            step = current.plan.step
            assert step is not None
            # The env the step runs with: its own expanded (§14).
            run = current.run
            env = run.env if run is not None else contexts.step_env(step, contexts.env)
            status = self._status(env)
            if not contexts.holds_after_cancel(current, status):
                self._stop(current, _Reason.JOB)
        for r in list(self._active):
            self._stop(r, _Reason.JOB)

    def _hard_stop(self) -> None:
        """R6.2: stop everything, start nothing more, finalise the report."""
        if self._hard_stopped or self._finished:
            return
        self._hard_stopped = True
        self._job_cancelled = True
        self._result = Result.CANCELED
        self._emit(EventKind.JOB_CANCEL_REQUESTED, None, (("reason", "hard-stop"),))
        for r in self._records:
            if (
                r.state in (_State.QUEUED, _State.RUNNING)
                and r.plan.kind == StepKind.RUN
            ):
                self._stop(r, _Reason.HARD_STOP)
        if self._main_scope is not None:
            self._main_scope.cancel()

    # ------------------------------------------------------ control steps

    def _control_begin(self, r: _Record) -> None:
        self._begin(r)

    def _targets(self, r: _Record) -> list[_Record]:
        targets = r.plan.targets
        if not self._variant.ids_ignore_case:
            matching = targets_matching_case(r.plan)
            if matching != targets:  # R17.9: unknown to GitHub's runner
                unknown = [w for w in r.plan.written if w not in matching]
                self._recorder.log(
                    r,
                    "Unknown to GitHub's runner (ids compare with case): "
                    + ", ".join(unknown),
                )
            targets = matching
        return [self._by_id[t.casefold()] for t in targets]

    async def _wait_for(self, targets: Iterable[_Record]) -> None:
        for t in targets:
            if t.launched and t.state is not _State.DONE:
                await t.done_event().wait()

    async def _wait_step(self, r: _Record) -> None:
        """R4.4 (wait), R4.5 (wait-all), R4.7 (implicit wait-all)."""
        self._control_begin(r)
        if r.plan.kind == StepKind.WAIT:
            targets = self._targets(r)
        else:
            targets = [t for t in self._launched if t.completed_by is None]
        if targets:
            self._recorder.log(r, "Waiting for: " + ", ".join(t.name for t in targets))
        else:
            self._recorder.log(r, "Nothing left to wait for")
        await self._wait_for(targets)
        outcome: Result | None = None
        ignores_cancelled = self._variant.wait_ignores_cancelled
        for t in targets:
            if not t.launched or t.never_completed:
                continue  # R4.4; R17.4: nothing to merge
            if (
                ignores_cancelled
                and t.explicitly_canceled
                and t.conclusion is Result.CANCELED
            ):
                continue  # R4.4 (GitHub's runner merges it, R17.3)
            assert t.conclusion is not None
            outcome = merge_results(outcome, t.conclusion)
        self._complete(targets, r.plan.id)
        self._log_conclusions(r, targets)
        self._finish(r, outcome if outcome is not None else Result.SUCCEEDED)
        self._publish_control(r)
        if r.conclusion is Result.FAILED:
            self._merge_job(Result.FAILED)

    def _log_conclusions(self, r: _Record, targets: Iterable[_Record]) -> None:
        for t in targets:
            if t.never_completed:
                self._recorder.log(r, f"{t.name}: never completed")
                continue
            assert t.conclusion is not None
            self._recorder.log(r, f"{t.name}: {t.conclusion.github}")

    def _publish_control(self, r: _Record) -> None:
        """R17.2: a control step with a declared id is in ``steps``."""
        if not r.plan.id.startswith("__"):
            self._contexts.publish(r)

    async def _cancel_step(self, r: _Record) -> None:
        """R4.6: mark, stop, wait, flush; always SUCCEEDED."""
        self._control_begin(r)
        targets = self._targets(r)
        self._recorder.log(r, "Cancelling: " + ", ".join(t.name for t in targets))
        for t in targets:
            t.explicitly_canceled = True
        # Stopping is a decision (timing.rst), registered at this turn and
        # applied after the instant settles — in registration order with the
        # other decisions due now — so a target ending now ends on its own.
        applied = trio.Event()
        dropped: list[_Record] = []  # R17.4: stopped in the queue, never ends

        def stop_targets() -> None:
            for t in targets:
                if t.launched:
                    queued = t.state is _State.QUEUED
                    self._stop(t, _Reason.CANCEL)
                    if queued and t.never_completed:
                        dropped.append(t)
            applied.set()

        self._timekeeper.at(self._now(), stop_targets)
        await applied.wait()
        await self._wait_for(targets)
        if dropped:
            # R17.4: awaiting a task cancelled in the queue throws in the
            # runner's cancel step: it ends CANCELED and completes nothing.
            self._log_conclusions(r, targets)
            self._finish(
                r,
                Result.CANCELED,
                error="The cancel step was cancelled: "
                + ", ".join(t.name for t in dropped)
                + " never got a slot",
            )
            self._publish_control(r)
            return
        self._complete(targets, r.plan.id)
        self._log_conclusions(r, targets)
        self._finish(r, Result.SUCCEEDED)
        self._publish_control(r)

    async def _end_of_main(self) -> None:
        """R4.7: wait for what is left, flush it, merge per R2.4.3."""
        remaining = [t for t in self._launched if not t.flushed]
        await self._wait_for(remaining)
        by: _Data = (("by", None),)
        for t in remaining:
            self._flush(t, None, by)
        if not self._variant.end_merges_unwaited_only:
            self._merge_every_background_result()
        else:
            self._merge_unwaited_results()
        if self._job_timer is not None:  # post steps are not limited by it
            self._job_timer.cancel()

    def _merge_every_background_result(self) -> None:
        """R17.7: the runner's safety net merges every background result."""
        merged: Result | None = None
        for t in self._launched:
            if t.never_completed:
                continue  # R17.4: no result to merge
            if t.explicitly_canceled and t.conclusion is Result.CANCELED:
                continue
            assert t.conclusion is not None
            merged = merge_results(merged, t.conclusion)
        if merged is not None and merged is not Result.SUCCEEDED:
            self._merge_job(merged)

    def _merge_unwaited_results(self) -> None:
        """R2.4.3: what no wait completed merges into the job result."""
        for t in self._launched:
            completed = t.completed_by
            if (
                completed is not None
                and self._by_id[completed.casefold()].plan.kind != StepKind.CANCEL
            ):
                continue
            if t.explicitly_canceled and t.conclusion is Result.CANCELED:
                continue
            assert t.conclusion is not None
            self._merge_job(t.conclusion)


async def run_job(
    job: Job,
    *,
    on_event: Callable[[Event], object] | None = None,
    log_dir: str | os.PathLike[str] | None = None,
    semantics: Semantics | str = Semantics.TRIO_STEPS,
) -> JobReport:
    """Run ``job`` and return its report: ``JobRunner(job, **kw).run()``.

    Args:
        job: The job to run.
        on_event: See :class:`JobRunner`.
        log_dir: See :class:`JobRunner`.
        semantics: See :class:`JobRunner` (rules §17).

    Returns:
        The final :class:`JobReport`.
    """
    return await JobRunner(
        job, on_event=on_event, log_dir=log_dir, semantics=semantics
    ).run()


public(JobRunner, run_job)
