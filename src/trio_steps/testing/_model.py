"""The reference model: rules §2–§7 and §11 as a pure discrete-event simulation.

:func:`simulate` computes, without Trio, the report a job of scripted steps
(:func:`trio_steps.testing.ScriptedStep`) must produce. It is written to be
read next to ``docs/source/rules.rst`` and ``docs/source/timing.rst``: one short function
per rule, the rule number in a comment. It was written from those two texts,
not from the engine, so that comparing the two finds bugs in either.

How time works here (timing.rst): only step code and timers take time. At
each instant the model first lets *natural activity* settle (code that ends,
slots handed out in launch order, the main sequence moving on), then applies
the one due *decision* (a timeout, giving up on a stopped step, the job
timeout, a ``cancel`` step's stop request) that is earliest, ties broken by
registration order, lets natural activity settle again, and so on; then the
clock moves to the next instant something is due.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final, final

import attrs

from .._errors import JobDefinitionError
from .._job import Job, PlannedStep
from .._results import (
    CaseInsensitiveMapping,
    JobReport,
    Result,
    StepReport,
    merge_results,
)
from .._semantics import Semantics, coerce_semantics, targets_matching_case
from .._status import Status, StepView, always, success
from .._steps import StepKind
from ._scripted import OBSERVATION_OUTPUT, Script, observation

__all__ = ["JobNeverEnds", "simulate"]

_RUN_KINDS: Final = ("run",)
_WAIT_ALL_KINDS: Final = ("wait-all", "implicit-wait-all")


class JobNeverEnds(Exception):
    """The main sequence waits for something that never happens.

    For example a step with ``duration=math.inf`` that nothing stops.
    """


# --------------------------------------------------------------------------
# The state of one step
# --------------------------------------------------------------------------


@final
@attrs.define(eq=False)
class _Step:
    """What the model knows about one step of the plan."""

    plan: PlannedStep
    script: Script | None
    outcome: Result | None = None
    conclusion: Result | None = None
    queued_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    completed_by: str | None = None
    explicitly_canceled: bool = False
    timed_out: bool = False
    abandoned: bool = False
    launched: bool = False
    # The running code: when it ends, and whether it has ended.
    code_end: float | None = None
    code_over: bool = False
    # The first stop request (timing.rst "Stopping"): its reason and instant.
    stop_reason: str | None = None
    stopped_at: float | None = None
    # R17.4 (GITHUB_RUNNER): stopped in the queue, it never completes.
    never_completed: bool = False
    # The env it got at launch (R17.8 reads steps and path at its start).
    launch_env: dict[str, str] | None = None
    # What it sees (frozen at its turn or launch, R4.2) and what it wrote.
    seen: str = ""
    outputs: dict[str, str] = attrs.Factory(dict)
    env_changes: dict[str, str] = attrs.Factory(dict)
    path_added: list[str] = attrs.Factory(list)

    @property
    def id(self) -> str:
        return self.plan.id

    @property
    def finished(self) -> bool:
        """Ended, or given up on (R6.4: abandoned steps count as finished)."""
        return self.finished_at is not None

    @property
    def settled(self) -> bool:
        """Nothing more will happen to it: finished, or never completes (R17.4)."""
        return self.finished or self.never_completed

    @property
    def running(self) -> bool:
        return self.started_at is not None and not self.finished

    def report(self) -> StepReport:
        return StepReport(
            id=self.plan.id,
            name=self.plan.name,
            kind=self.plan.kind,
            background=self.plan.background,
            group=self.plan.group,
            outcome=self.outcome,
            conclusion=self.conclusion,
            outputs=self.outputs,
            queued_at=self.queued_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
            completed_by=self.completed_by,
            explicitly_canceled=self.explicitly_canceled,
            timed_out=self.timed_out,
            abandoned=self.abandoned,
            never_completed=self.never_completed,
        )


@attrs.frozen
class _Decision:
    """A pending decision (timing.rst): what, for whom, when, in what order."""

    due: float
    seq: int
    kind: str  # "timeout", "give-up", "cancel", "job-timeout"
    step: _Step | None = None


def _scripts_of(job: Job) -> dict[str, Script]:
    """Every run step's script; anything else cannot be simulated."""
    scripts: dict[str, Script] = {}
    problems: list[str] = []
    for planned in job.plan:
        step = planned.step
        if step is None:
            continue
        if not isinstance(step.run, Script):
            problems.append(
                f"step {planned.id!r}: simulate() runs only scripted steps "
                "(trio_steps.testing.ScriptedStep)"
            )
        elif isinstance(step.condition, str):
            problems.append(
                f"step {planned.id!r}: simulate() supports condition callables only, "
                "not expression strings"
            )
        else:
            scripts[planned.id] = step.run
    if problems:
        raise JobDefinitionError(problems)
    return scripts


# --------------------------------------------------------------------------
# The simulation
# --------------------------------------------------------------------------


class _Simulation:
    """One run of the model; :mod:`._explore` subclasses it to branch."""

    def __init__(self, job: Job, semantics: Semantics) -> None:
        scripts = _scripts_of(job)
        self.job = job
        # Rules §17: GitHub's runner as it is, where it differs.
        self.github = semantics is Semantics.GITHUB_RUNNER
        self.job_cancelled = False
        # Cancel steps that stopped a queued target (R17.4), by id.
        self.dropped: set[str] = set()
        # R17.8: the instant of the latest publication, and the published
        # steps and path as they were before it.
        self.instant = -math.inf
        self.before_instant: tuple[dict[str, StepView], list[str]] = ({}, [])
        self.steps = {p.id: _Step(p, scripts.get(p.id)) for p in job.plan}
        self.order = list(self.steps.values())
        self.now = 0.0
        # The job result so far: None until something is merged (R2.4).
        self.result: Result | None = None
        # Published state (R4.1, R5.2): what later steps see.
        self.visible: dict[str, StepView] = {}
        self.env: dict[str, str] = dict(job.env)
        self.path: list[str] = []
        # Background steps (R4.2): launch order, the FIFO queue, slots in use.
        self.launched: list[_Step] = []
        self.queue: list[_Step] = []
        self.slots_used = 0
        # Decisions (timing.rst) and the main sequence's position.
        self.decisions: list[_Decision] = []
        self.seq = 0
        self.next_index = 0
        self.current: _Step | None = None  # the step the main sequence is in
        self.final_wait_done = False
        self.job_timeout: _Decision | None = None
        # The launched targets of each control step, fixed at its turn.
        self.targets_of: dict[str, list[_Step]] = {}
        # Cancel steps whose stop request (a decision) is not applied yet.
        self.pending_cancels: set[str] = set()

    # ---- the clock -------------------------------------------------------

    def run(self) -> JobReport:
        if self.job.timeout is not None:  # timing.rst decision 3
            self.job_timeout = self.register("job-timeout", self.job.timeout)
        while True:
            self.settle()
            decision = self.due_decision()
            if decision is not None:
                self.apply(decision)
                continue
            if self.main_done():
                return self.report()
            self.now = self.next_instant()

    def next_instant(self) -> float:
        """The next instant some code ends or some decision is due."""
        times = [
            s.code_end for s in self.order if s.code_end is not None and not s.code_over
        ]
        times += [d.due for d in self.decisions]
        upcoming = min(times, default=math.inf)
        if math.isinf(upcoming):
            raise JobNeverEnds(
                f"at t={self.now:g} the job waits for {self.describe_wait()} forever"
            )
        return upcoming

    def describe_wait(self) -> str:
        if self.current is not None:
            return f"step {self.current.id!r}"
        return "background steps"

    # ---- natural activity ------------------------------------------------

    def settle(self) -> None:
        """Let natural activity at this instant run until nothing moves."""
        moved = True
        while moved:
            moved = self.end_code() | self.hand_out_slots() | self.advance_main()

    def end_code(self) -> bool:
        """Code whose end is now ends (timing.rst: before any decision)."""
        moved = False
        for step in self.order:
            if step.code_end == self.now and not step.code_over:
                step.code_over = True
                moved = True
                if not step.finished:
                    self.code_ended(step)
        return moved

    def code_ended(self, step: _Step) -> None:
        """R2.2: classify the end of a step's code; release its slot (R6.3)."""
        assert step.script is not None
        if step.stop_reason is not None:
            outcome = self.stopped_outcome(step)
        elif step.script.ending == "succeed":
            outcome = Result.SUCCEEDED
        else:  # "fail" and "raise" both make it FAILED (R2.2)
            outcome = Result.FAILED
        self.finish(step, outcome)

    def stopped_outcome(self, step: _Step) -> Result:
        """timing.rst "Stopping": a stop requested before the end decides it."""
        if step.stop_reason == "timeout":  # R6.6
            step.timed_out = True
            return Result.FAILED
        return Result.CANCELED  # R2.2

    def finish(self, step: _Step, outcome: Result) -> None:
        """A step ends: record what it wrote and its results (R2.2, R2.3)."""
        step.finished_at = self.now
        self.record_writes(step)
        step.outcome = outcome
        step.conclusion = self.apply_continue_on_error(step, outcome)
        if step.plan.background and step.started_at is not None:
            self.slots_used -= 1  # R6.3/R6.4: the slot is free again

    def record_writes(self, step: _Step) -> None:
        """The writes done by now, or by the stop (R5.3, timing.rst)."""
        if step.script is None or step.started_at is None:
            return
        if step.script.observe:
            step.outputs[OBSERVATION_OUTPUT] = step.seen
        last = step.stopped_at if step.stopped_at is not None else self.now
        for write in step.script.writes:
            if step.started_at + write.at > last:
                break
            if write.kind == "output":
                step.outputs[write.name] = write.value
            elif write.kind == "env":
                step.env_changes.pop(write.name, None)
                step.env_changes[write.name] = write.value
            else:
                step.path_added.append(write.name)

    @staticmethod
    def apply_continue_on_error(step: _Step, outcome: Result) -> Result:
        """R2.3: only FAILED changes, to SUCCEEDED."""
        if outcome is Result.FAILED and step.plan.continue_on_error:
            return Result.SUCCEEDED
        return outcome

    def hand_out_slots(self) -> bool:
        """R4.2: queued steps get free slots in launch order (FIFO)."""
        moved = False
        while self.queue and self.slots_used < self.job.max_background:
            step = self.queue.pop(0)
            self.slots_used += 1
            self.start_code(step)  # R4.3: its timeout counts from now
            moved = True
        return moved

    def start_code(self, step: _Step) -> None:
        """A step's code starts now; its own timeout is registered (R4.3)."""
        assert step.script is not None and step.plan.step is not None
        if self.github and step.launch_env is not None and self.now != step.queued_at:
            # R17.8: steps and path as published before this instant (what
            # comes first within one instant is a race in the runner), env
            # as at launch.
            visible, path = self.visible, self.path
            if self.instant == self.now:
                visible, path = self.before_instant
            step.seen = observation(
                CaseInsensitiveMapping(visible), step.launch_env, path
            )
        step.started_at = self.now
        step.code_end = self.now + step.script.duration
        timeout = step.plan.step.timeout_seconds
        if timeout is not None:
            self.register("timeout", timeout, step)

    # ---- the main sequence (§4) -----------------------------------------

    def main_done(self) -> bool:
        return (
            self.next_index == len(self.order)
            and self.current is None
            and self.final_wait_done
        )

    def advance_main(self) -> bool:
        """Move the main sequence on as far as it can go at this instant."""
        moved = False
        while True:
            if self.current is not None:
                if not self.current_is_done():
                    return moved
                self.leave(self.current)
                self.current = None
                moved = True
            if self.at_end_of_main() and not self.final_wait_done:
                if not self.final_wait():  # R4.7, before the first post step
                    return moved
                moved = True
            if self.next_index == len(self.order):
                return moved
            step = self.order[self.next_index]
            self.next_index += 1
            self.enter(step)
            moved = True

    def at_end_of_main(self) -> bool:
        index = self.next_index
        return index == len(self.order) or self.order[index].plan.post

    def enter(self, step: _Step) -> None:
        """A step's turn comes (R3.3, R4.1–R4.6)."""
        kind = step.plan.kind
        if kind in _RUN_KINDS:
            self.enter_run_step(step)
        elif kind == StepKind.WAIT:
            self.enter_control(step, self.wait_targets(step))
        elif kind in _WAIT_ALL_KINDS:
            self.enter_control(step, self.wait_all_targets())
        else:
            self.enter_cancel(step)

    def current_is_done(self) -> bool:
        step = self.current
        assert step is not None
        if step.plan.kind in _RUN_KINDS:
            return step.finished
        if step.id in self.pending_cancels:
            return False  # timing.rst: a cancel step waits for its decision
        return all(t.settled for t in self.control_targets(step))

    def leave(self, step: _Step) -> None:
        """The main sequence is done with ``step``."""
        if step.plan.kind in _RUN_KINDS:
            self.publish(step)  # R4.1
            self.merge_if_failed(step)  # R2.4.1
        elif step.plan.kind == StepKind.CANCEL:
            self.complete_cancel(step)
        else:
            self.complete_wait(step)

    # ---- run steps (R3, R4.1, R4.2) -------------------------------------

    def enter_run_step(self, step: _Step) -> None:
        verdict = self.evaluate_condition(step)
        if verdict is None:  # R3.4: the condition raised
            self.condition_raised(step)
        elif not verdict:  # R2.5 / R4.2: skipped, visible at once
            step.outcome = step.conclusion = Result.SKIPPED
            if not (self.github and step.plan.background):
                self.publish(step)  # R17.6: GitHub's runner never publishes it
        elif step.plan.background:
            self.launch(step)
        else:
            self.snapshot(step)
            self.start_code(step)
            self.current = step

    def condition(self, step: _Step) -> Callable[[Status], bool]:
        """R3.1: the default is success() for main steps, always() for post."""
        assert step.plan.step is not None
        declared = step.plan.step.condition
        if declared is None:
            return always if step.plan.post else success
        assert callable(declared)
        return declared

    def job_status(self) -> Result:
        """§1: the job result so far, SUCCEEDED when nothing was merged."""
        return Result.SUCCEEDED if self.result is None else self.result

    def evaluate_condition(self, step: _Step) -> bool | None:
        """R3.2/R3.3: evaluate at its turn; None when the condition raised."""
        status = Status(
            job_status=self.job_status(),
            steps=CaseInsensitiveMapping(self.visible),
            env=self.step_env(step),
        )
        try:
            return bool(self.condition(step)(status))
        except Exception:
            return None

    def step_env(self, step: _Step) -> dict[str, str]:
        assert step.plan.step is not None
        return {**self.env, **step.plan.step.env}

    def condition_raised(self, step: _Step) -> None:
        """R3.4: FAILED at once, not run or launched, and so is the job."""
        step.outcome = step.conclusion = Result.FAILED  # no continue-on-error
        if not (self.github and step.plan.background):
            self.publish(step)  # R17.6: GitHub's runner never publishes it
        self.merge_job(Result.FAILED)

    def snapshot(self, step: _Step) -> None:
        """What the step sees: frozen at its turn or launch (R4.1, R4.2, I6)."""
        step.seen = observation(
            CaseInsensitiveMapping(self.visible), self.step_env(step), self.path
        )

    def launch(self, step: _Step) -> None:
        """R4.2: launched now; it runs when a slot is free, in launch order."""
        self.snapshot(step)
        if self.github:
            step.launch_env = self.step_env(step)  # R17.8: steps come later
        step.launched = True
        step.queued_at = self.now
        self.launched.append(step)
        if self.github and self.job_cancelled:
            step.never_completed = True  # R17.4: created already cancelled
            return
        self.queue.append(step)
        self.hand_out_slots()

    # ---- publishing (R4.1, R5) ------------------------------------------

    def publish(self, step: _Step) -> None:
        """R4.1/R5.2: outputs, env, path (to the front), outcome, conclusion."""
        if self.now != self.instant:  # R17.8: what was there before this instant
            self.instant = self.now
            self.before_instant = (dict(self.visible), list(self.path))
        if step.never_completed:
            # R17.4: the runner's flush publishes ``Outcome ?? Result ??
            # Succeeded``: a success, with nothing written.
            self.visible[step.id] = StepView(
                outputs={}, outcome=Result.SUCCEEDED, conclusion=Result.SUCCEEDED
            )
            return
        assert step.outcome is not None and step.conclusion is not None
        self.visible[step.id] = StepView(
            outputs=dict(step.outputs), outcome=step.outcome, conclusion=step.conclusion
        )
        self.env.update(step.env_changes)  # R5.4: the later flush wins
        for entry in step.path_added:  # each entry moves to the front
            if entry in self.path:
                self.path.remove(entry)
            self.path.insert(0, entry)

    def flush(self, step: _Step, by: _Step | None) -> None:
        """R5.2, R4.10: publish a background step once, and say who did.

        GitHub's runner publishes it again on every wait (R17.5); the first
        control step stays its ``completed_by``.
        """
        if step.completed_by is not None:
            if self.github:
                self.publish(step)
            return
        self.publish(step)
        step.completed_by = by.id if by is not None else None

    # ---- results (R2.4) -------------------------------------------------

    def merge_job(self, coming: Result) -> None:
        self.result = merge_results(self.result, coming)  # R2.1

    def merge_if_failed(self, step: _Step) -> None:
        """R2.4.1: a FAILED conclusion of a foreground/control step merges."""
        if step.conclusion is Result.FAILED:
            self.merge_job(Result.FAILED)

    def ignored_by_wait(self, target: _Step) -> bool:
        """R4.4: never launched, or CANCELED after a cancel step targeted it.

        GitHub's runner merges the CANCELED too (R17.3); a step that never
        completed has no result to merge (R17.4).
        """
        if not target.launched or target.never_completed:
            return True
        if self.github:
            return False
        return target.explicitly_canceled and target.conclusion is Result.CANCELED

    # ---- control steps (R4.4–R4.6) --------------------------------------

    def wait_targets(self, step: _Step) -> list[_Step]:
        """R4.4/R4.6; R17.9: GitHub's runner ignores ids written in another case."""
        if self.github:
            return [self.steps[t] for t in targets_matching_case(step.plan)]
        return [self.steps[t] for t in step.plan.targets]

    def wait_all_targets(self) -> list[_Step]:
        """R4.5: launched and not yet completed by a control step."""
        return [s for s in self.launched if s.completed_by is None]

    def control_targets(self, step: _Step) -> list[_Step]:
        return self.targets_of[step.id]

    def enter_control(self, step: _Step, targets: list[_Step]) -> None:
        """A control step's turn: it starts now and blocks on its targets."""
        self.targets_of[step.id] = [t for t in targets if t.launched]
        step.started_at = self.now
        self.current = step

    def complete_wait(self, step: _Step) -> None:
        """R4.4/R4.5: merge the targets in order, then flush the new ones."""
        merged: Result | None = None
        for target in self.control_targets(step):
            if not self.ignored_by_wait(target):
                assert target.conclusion is not None
                merged = merge_results(merged, target.conclusion)
        self.end_control(step, merged if merged is not None else Result.SUCCEEDED)
        for target in self.control_targets(step):
            self.flush(target, step)
        self.merge_if_failed(step)  # R2.4.1

    def enter_cancel(self, step: _Step) -> None:
        """R4.6: mark every target; ask (a decision, due now) to stop them."""
        targets = self.wait_targets(step)
        for target in targets:
            target.explicitly_canceled = True
        self.enter_control(step, targets)
        self.pending_cancels.add(step.id)
        self.register("cancel", 0.0, step)

    def complete_cancel(self, step: _Step) -> None:
        """R4.6: flush the launched targets; the cancel step SUCCEEDED."""
        if step.id in self.dropped:
            # R17.4: awaiting a task cancelled in the queue throws in the
            # runner's cancel step: CANCELED, and it completes nothing.
            self.end_control(step, Result.CANCELED)
            return
        self.end_control(step, Result.SUCCEEDED)
        for target in self.control_targets(step):
            self.flush(target, step)

    def end_control(self, step: _Step, outcome: Result) -> None:
        step.finished_at = self.now
        step.outcome = outcome
        if self.github and step.plan.kind != StepKind.CANCEL:
            step.conclusion = outcome  # R17.3: continue-on-error is ignored
        else:
            step.conclusion = self.apply_continue_on_error(step, outcome)
        if not step.id.startswith("__"):
            self.publish(step)  # R17.2: generated ids are never published

    # ---- the end of the main steps (R4.7) -------------------------------

    def final_wait(self) -> bool:
        """R4.7: wait for every background step, flush, merge (R2.4.3)."""
        if self.final_wait_done:
            return True
        remaining = [s for s in self.launched if s.completed_by is None]
        if not all(s.settled for s in self.launched):
            return False
        for step in remaining:
            self.flush(step, None)
        if self.github:
            self.merge_every_background_result()
        else:
            self.merge_unwaited_results()
        self.final_wait_done = True
        if self.job_timeout is not None:  # timing.rst decision 3 is withdrawn
            if self.job_timeout in self.decisions:
                self.decisions.remove(self.job_timeout)
            self.job_timeout = None
        return True

    def merge_every_background_result(self) -> None:
        """R17.7: the runner's safety net merges every background result."""
        merged: Result | None = None
        for step in self.launched:
            if step.never_completed:
                continue
            if step.explicitly_canceled and step.conclusion is Result.CANCELED:
                continue
            assert step.conclusion is not None
            merged = merge_results(merged, step.conclusion)
        if merged is not None and merged is not Result.SUCCEEDED:
            self.merge_job(merged)

    def merge_unwaited_results(self) -> None:
        """R2.4.3: what no wait completed, in launch order."""
        for step in self.launched:
            if self.completed_by_a_wait(step):
                continue
            if step.explicitly_canceled and step.conclusion is Result.CANCELED:
                continue
            assert step.conclusion is not None
            self.merge_job(step.conclusion)

    def completed_by_a_wait(self, step: _Step) -> bool:
        if step.completed_by is None:
            return False
        return self.steps[step.completed_by].plan.kind != StepKind.CANCEL

    # ---- decisions (timing.rst) -----------------------------------------

    def register(self, kind: str, delay: float, step: _Step | None = None) -> _Decision:
        decision = _Decision(self.now + delay, self.seq, kind, step)
        self.seq += 1
        self.decisions.append(decision)
        return decision

    def due_decision(self) -> _Decision | None:
        """The due decision with the earliest due time, then registration."""
        due = [d for d in self.decisions if d.due <= self.now]
        if not due:
            return None
        decision = min(due, key=lambda d: (d.due, d.seq))
        self.decisions.remove(decision)
        return decision

    def apply(self, decision: _Decision) -> None:
        step = decision.step
        if decision.kind == "job-timeout":
            self.job_timeout = None
            self.cancel_job()
        elif decision.kind == "timeout":
            assert step is not None
            self.stop(step, "timeout")  # R6.6
        elif decision.kind == "give-up":
            assert step is not None
            self.give_up(step)
        else:
            assert step is not None
            self.pending_cancels.discard(step.id)
            for target in self.control_targets(step):  # R4.6
                queued = target in self.queue
                self.stop(target, "cancel")
                if queued and target.never_completed:
                    self.dropped.add(step.id)

    def stop(self, step: _Step, reason: str) -> None:
        """R6.3: stop one step; the first reason counts (timing.rst)."""
        if step.settled or step.stop_reason is not None:
            return
        if step.started_at is None:
            if step in self.queue:  # a queued step leaves the queue, ends now
                self.queue.remove(step)
                step.stop_reason, step.stopped_at = reason, self.now
                if self.github:
                    step.never_completed = True  # R17.4
                else:
                    self.finish(step, self.stopped_outcome(step))
            return
        assert step.script is not None
        step.stop_reason, step.stopped_at = reason, self.now
        # It gets Cancelled at once and keeps running for stop_delay (shielded).
        step.code_end = self.now + step.script.stop_delay
        grace = self.job.interrupt_grace + self.job.terminate_grace
        self.register("give-up", grace, step)  # R6.4

    def give_up(self, step: _Step) -> None:
        """R6.4: the code still runs: abandon it, free its slot, move on."""
        if step.finished:
            return
        step.abandoned = True
        self.finish(step, self.stopped_outcome(step))

    def cancel_job(self) -> None:
        """R6.1: the job is CANCELED; stop what must stop."""
        self.result = Result.CANCELED  # set, not merged (R2.4.2)
        self.job_cancelled = True
        current = self.current
        running_foreground = current is not None and current.plan.kind in _RUN_KINDS
        # The running foreground step's condition again; raising counts as false.
        if running_foreground and current and not self.evaluate_condition(current):
            self.stop(current, "job")
        for step in self.launched:  # whatever their condition
            self.stop(step, "job")

    # ---- the report -----------------------------------------------------

    def report(self) -> JobReport:
        return JobReport(
            result=self.job_status(),
            steps=CaseInsensitiveMapping({s.id: s.report() for s in self.order}),
            env=self.env,
            path=tuple(self.path),
        )


def simulate(
    job: Job, *, semantics: Semantics | str = Semantics.TRIO_STEPS
) -> JobReport:
    """Compute the report the engine must produce for a job of scripted steps.

    Args:
        job: A job whose run steps are all built by
            :func:`trio_steps.testing.ScriptedStep`, with ``None`` or callable
            conditions.
        semantics: This project's semantics (the default) or GitHub's
            runner's (rules §17); its string value is accepted too.

    Returns:
        The :class:`~trio_steps.JobReport`, without events or logs: per step
        outcome, conclusion, times, ``completed_by``, flags and outputs; the
        job result, final env and path. A step that shields itself forever
        (``stop_delay=math.inf``) is reported abandoned although the real job
        would never end.

    Raises:
        JobDefinitionError: A run step is not scripted, or its condition is
            an expression string.
        JobNeverEnds: The main sequence would wait forever (a step with
            ``duration=math.inf`` that nothing stops).
        ValueError: ``semantics`` names no semantics.
    """
    if not isinstance(job, Job):
        raise JobDefinitionError(f"simulate() needs a Job, not {type(job).__name__}")
    return _Simulation(job, coerce_semantics(semantics)).run()
