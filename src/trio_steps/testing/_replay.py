"""A recorded run as a job of scripted steps (rules R18.7).

:func:`job_from_trace` reads a trace (or a report with its events) and
builds the job that, in the reference model, does what the recorded run
did, with the recorded timings: each run step becomes a
:func:`~trio_steps.testing.ScriptedStep` whose duration, ending, timeout
and outputs are the recorded ones, and the control steps come back with
their targets. The job can then be simulated, explored
(:func:`~trio_steps.testing.explore`) or swept.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import Final

import attrs

from .._errors import JobDefinitionError
from .._events import Event, EventKind
from .._job import Job
from .._results import JobReport, Result, StepReport
from .._status import Condition, Status
from .._steps import Cancel, Parallel, Step, StepKind, Wait, WaitAll
from ._scripted import (
    OBSERVATION_OUTPUT,
    Ending,
    RaisingCondition,
    ScriptedStep,
    Write,
)

__all__ = ["job_from_trace"]

#: How long past its stop a stopped step would have run on its own.
_AFTER_STOP: Final = 1.0

_TIMED_OUT = re.compile(r"timed out after ([0-9.eE+-]+) s")


@attrs.frozen
class RecordedCondition:
    """A condition that gives the verdicts of a recorded run (R18.7).

    Attributes:
        holds: Its verdict at the step's turn.
        after_cancel: Its verdict once the job status is ``CANCELED``: at
            the turn of a step reached after the job was cancelled, and for
            the step running when it was (R6.1: stopped if false).
    """

    holds: bool
    after_cancel: bool

    def __call__(self, status: Status) -> bool:
        """The recorded verdict for ``status``."""
        if status.job_status is Result.CANCELED:
            return self.after_cancel
        return self.holds


def _number(value: object, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default


def _first_stop(events: Sequence[Event]) -> dict[str, tuple[float, str]]:
    """Each step's first stop request: when, and why."""
    stops: dict[str, tuple[float, str]] = {}
    for event in events:
        if event.kind is EventKind.CANCEL_REQUESTED and event.step_id is not None:
            reason = event.data.get("reason", "")
            stops.setdefault(event.step_id, (event.time, str(reason)))
    return stops


def _targets_from_log(
    step: StepReport, prefix: str, names: Mapping[str, str]
) -> list[str] | None:
    for line in step.log:
        if line.startswith(prefix):
            found = [names.get(n.strip()) for n in line[len(prefix) :].split(", ")]
            if all(f is not None for f in found):
                return [f for f in found if f is not None]
            return None
    return None


def _coe(step: StepReport) -> bool:
    """Whether continue-on-error showed (R2.3): FAILED made SUCCEEDED."""
    return step.outcome is Result.FAILED and step.conclusion is Result.SUCCEEDED


def _declared(id: str) -> str | None:
    return None if id.startswith("__") else id


def _run_step(step: StepReport, stops: Mapping[str, tuple[float, str]]) -> Step:
    outputs = {k: v for k, v in step.outputs.items() if k != OBSERVATION_OUTPUT}
    coe = _coe(step)
    stop = stops.get(step.id)
    stopped_by_job = stop is not None and stop[1] == "job" and not step.background
    condition: Condition = RecordedCondition(True, not stopped_by_job)
    if step.outcome is Result.SKIPPED:
        condition = RecordedCondition(False, False)
    elif step.started_at is None and step.queued_at is None:
        # R3.4: the condition raised (or an expression failed, R3.6).
        condition = RaisingCondition(step.error or "recorded condition error")
    started, finished = step.started_at, step.finished_at
    if started is None or finished is None:
        return ScriptedStep(
            0,
            id=_declared(step.id),
            name=step.name,
            background=step.background,
            condition=condition,
            continue_on_error=coe,
        )
    stopped = stop is not None and (
        step.outcome is Result.CANCELED or step.timed_out or step.abandoned
    )
    timeout = None
    if stopped:
        assert stop is not None
        stopped_at, reason = stop
        duration = finished - started + _AFTER_STOP
        stop_delay = math.inf if step.abandoned else finished - stopped_at
        ending: Ending = "succeed"
        written = stopped_at - started
        if reason == "timeout":
            match = _TIMED_OUT.search(step.error or "")
            timeout = float(match.group(1)) if match else stopped_at - started
    else:
        duration = finished - started
        stop_delay = 0.0
        ending = "succeed" if step.outcome is Result.SUCCEEDED else "fail"
        written = duration
    writes = [
        Write(at=written, kind="output", name=name, value=value)
        for name, value in outputs.items()
    ]
    return ScriptedStep(
        duration,
        ending=ending,
        writes=writes,
        stop_delay=stop_delay,
        id=_declared(step.id),
        name=step.name,
        background=step.background,
        condition=condition,
        continue_on_error=coe,
        timeout=timeout,
    )


def job_from_trace(trace: JobReport | str | os.PathLike[str]) -> Job:
    """Turn a recorded run into a job of scripted steps (R18.7).

    Each run step gets the duration it ran for, its ending (``fail`` for a
    step that failed on its own), its timeout if it timed out, the outputs
    it set (as written when it ended, masked values as recorded) and a
    condition that gives the recorded verdicts (``RecordedCondition``: true
    if it ran, false if it was skipped, false once the job is cancelled if
    the cancellation stopped it), or one that raises if its condition
    raised. A step that was stopped runs, in the job, until the same stop
    and then as long as it took to end (``stop_delay``; an abandoned step
    shields itself forever). Waits and cancel steps get the targets their
    ``step-started`` event names (or, in an older trace, their log);
    ``parallel`` groups come back as groups; steps after
    ``__implicit_wait_all`` are post steps. The job's slots and graces are
    the recorded ones, and a job that was cancelled gets a job timeout at
    that instant.

    Env and path changes are not in a trace and are not replayed; nor are
    expressions (the recorded conditions' verdicts are). A run under
    GitHub's runner's semantics says so in its ``job-started`` event
    (``semantics``); simulate the job under the same.

    Args:
        trace: A trace file (``.jsonl`` or ``.json``, read with
            :func:`~trio_steps.load_trace`) or a :class:`~trio_steps.JobReport`
            with its events.

    Returns:
        The job.

    Raises:
        JobDefinitionError: The report has no events, or the job cannot be
            rebuilt (a wait's targets cannot be told).
        TraceError: The file is not a readable trace.
    """
    if isinstance(trace, JobReport):
        report = trace
    else:
        # The one import of _trace from testing (tests/test_layout.py).
        from .._trace._load import load_trace

        report = load_trace(trace)
    events = list(report.events)
    if not events:
        raise JobDefinitionError("job_from_trace() needs a report with its events")
    started = next((e for e in events if e.kind is EventKind.JOB_STARTED), None)
    settings: Mapping[str, object] = started.data if started is not None else {}
    stops = _first_stop(events)
    targets = {
        e.step_id: [t for t in str(e.data["targets"]).split(",") if t]
        for e in events
        if e.kind is EventKind.STEP_STARTED
        and e.step_id is not None
        and "targets" in e.data
    }
    names: dict[str, str] = {}
    ambiguous: set[str] = set()
    for step in report.steps.values():
        if step.name in names:
            ambiguous.add(step.name)
        names[step.name] = step.id
    for name in ambiguous:
        del names[name]
    steps = list(report.steps.values())
    main: list[object] = []
    post: list[object] = []
    in_post = False
    index = 0
    while index < len(steps):
        step = steps[index]
        index += 1
        into = post if in_post else main
        if step.kind == StepKind.RUN and step.group is not None:
            members = [step]
            while (
                index < len(steps)
                and steps[index].kind == StepKind.RUN
                and steps[index].group == step.group
            ):
                members.append(steps[index])
                index += 1
            if index < len(steps) and steps[index].group == step.group:
                index += 1  # the group's generated wait
            into.append(
                Parallel(
                    [_run_step(m, stops).evolve(background=False) for m in members]
                )
            )
        elif step.kind == StepKind.RUN:
            into.append(_run_step(step, stops))
        elif step.kind == StepKind.IMPLICIT_WAIT_ALL:
            in_post = True
        elif step.kind == StepKind.WAIT_ALL:
            into.append(
                WaitAll(
                    id=_declared(step.id),
                    name=step.name,
                    continue_on_error=_coe(step),
                )
            )
        else:
            into.append(_control(step, targets, names))
    timeout = None
    for event in events:
        if event.kind is EventKind.JOB_CANCEL_REQUESTED:
            timeout = event.time
            break
    return Job(
        main,  # type: ignore[arg-type]
        post_steps=post,  # type: ignore[arg-type]
        max_background=int(_number(settings.get("max_background"), 10)),
        interrupt_grace=_number(settings.get("interrupt_grace"), 7.5),
        terminate_grace=_number(settings.get("terminate_grace"), 2.5),
        timeout=timeout,
        name=report_name(settings),
    )


def report_name(settings: Mapping[str, object]) -> str | None:
    name = settings.get("name")
    return name if isinstance(name, str) else None


def _control(
    step: StepReport, targets: Mapping[str, list[str]], names: Mapping[str, str]
) -> object:
    cancel = step.kind == StepKind.CANCEL
    ids = targets.get(step.id)
    if ids is None:  # a trace from before R18.7: the log names them
        prefix = "Cancelling: " if cancel else "Waiting for: "
        ids = _targets_from_log(step, prefix, names)
    if ids is None:
        raise JobDefinitionError(
            f"step {step.id!r}: the trace does not say which steps it targets"
        )
    bad = [t for t in ids if t.startswith("__")]
    if bad:
        raise JobDefinitionError(
            f"step {step.id!r}: its targets {bad} have generated ids and cannot be named"
        )
    if cancel:
        return Cancel(ids, id=_declared(step.id), name=step.name)
    return Wait(
        ids, id=_declared(step.id), name=step.name, continue_on_error=_coe(step)
    )
