"""The runtime state of each planned step, as lean as a big job needs.

A :class:`_Record` per planned step, made by the
:class:`~trio_steps._engine._runner.JobRunner`: its state (:class:`_State`),
times (packed in the runner's arrays, see :class:`_Moment`), result, and the
fields most steps never set (a :class:`_Rare` part made on first write). It
is also the sink a step's :class:`~trio_steps._context.StepRun` reports to:
lines and events go to the job's
:class:`~trio_steps._engine._recorder.Recorder`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar, final

import trio

from .._context import StepRun
from .._events import EventKind
from .._job import PlannedStep
from .._results import (
    Result,
)
from .._status import StepView
from ._recorder import LogTail
from ._timekeeper import Timer

if TYPE_CHECKING:
    from ._runner import JobRunner


_NO_OUTPUTS: Mapping[str, str] = MappingProxyType({})


class _State(enum.Enum):
    WAITING = "waiting"  # its turn has not come
    QUEUED = "queued"  # launched, no slot yet
    RUNNING = "running"  # code running (or a control step waiting)
    DONE = "done"  # outcome and conclusion set


class _Reason(enum.StrEnum):
    CANCEL = "cancel"
    JOB = "job"
    TIMEOUT = "timeout"
    HARD_STOP = "hard-stop"


@final
class _Rare:
    """The fields of a step's runtime state that most steps never set."""

    __slots__ = (
        "abandoned",
        "coe",
        "error",
        "exit_code",
        "explicitly_canceled",
        "log_file",
        "name",
        "never_completed",
        "produced",
        "start_error",
        "stop_reason",
        "timed_out",
        "timeout",
        "timer",
        "view_cache",
        "written",
    )

    def __init__(self, record: _Record) -> None:
        plan = record.plan
        self.abandoned = False
        self.coe = plan.continue_on_error
        self.error: str | None = None
        self.exit_code: int | None = None
        self.explicitly_canceled = False
        self.log_file: IO[str] | None = None
        self.name = plan.name
        self.never_completed = False
        # R17.8: why the step cannot start (its inputs failed to evaluate).
        self.start_error: str | None = None
        # What a flushed step wrote to env and path, kept for R17.5.
        self.written: tuple[dict[str, str], list[str]] | None = None
        # What a finished step wrote, until it is published (R5).
        self.produced: tuple[dict[str, str], dict[str, str], list[str]] | None = None
        self.stop_reason: _Reason | None = None
        self.timed_out = False
        self.timeout: float | None = (
            plan.step.timeout_seconds if plan.step is not None else None
        )
        self.timer: Timer | None = None
        self.view_cache: StepView | None = None


T = TypeVar("T")


class _RareField(Generic[T]):
    """A field of :class:`_Record` kept in its :class:`_Rare` part.

    Reading gives ``default`` (or what the plan says, with ``from_plan``)
    until it is first set to something else.
    """

    __slots__ = ("_default", "_from_plan", "_name")

    def __init__(
        self,
        name: str,
        default: T,
        from_plan: Callable[[PlannedStep], T] | None = None,
    ) -> None:
        self._name = name
        self._default = default
        self._from_plan = from_plan

    def _initial(self, record: _Record) -> T:
        read = self._from_plan
        return self._default if read is None else read(record.plan)

    def __get__(self, record: _Record, owner: object = None) -> T:
        rare = record.rare
        if rare is not None:
            value: T = getattr(rare, self._name)
            return value
        read = self._from_plan
        return self._default if read is None else read(record.plan)

    def __set__(self, record: _Record, value: T) -> None:
        rare = record.rare
        if rare is None:
            initial = self._initial(record)
            if value is initial or (type(value) is type(initial) and value == initial):
                return
            rare = record.rare = _Rare(record)
        setattr(rare, self._name, value)


@final
class _Moment:
    """A time of :class:`_Record`, kept in its engine's array of times.

    A float is an object of its own, which every full pass of the collector
    would visit through each record; packed in an array it costs nothing.
    NaN stands for ``None`` (not reached yet).
    """

    __slots__ = ("_offset",)

    def __init__(self, offset: int) -> None:
        self._offset = offset

    def __get__(self, record: _Record, owner: object = None) -> float | None:
        value = record.engine._moments[3 * record.plan.index + self._offset]
        return None if value != value else value

    def __set__(self, record: _Record, value: float | None) -> None:
        record.engine._moments[3 * record.plan.index + self._offset] = (
            math.nan if value is None else value
        )


@final
class _Record:
    """The runtime state of one planned step.

    A job may hold hundreds of thousands of these, and every full pass of
    Python's collector visits each slot: the fields most steps never set
    live in a :class:`_Rare` part made on first write, behind properties.
    """

    __slots__ = (
        "completed_by",
        "conclusion",
        "done",
        "engine",
        "flushed",
        "frozen",
        "log",
        "outcome",
        "outputs",
        "plan",
        "rare",
        "run",
        "scope",
        "state",
    )

    queued_at = _Moment(0)
    started_at = _Moment(1)
    finished_at = _Moment(2)

    abandoned = _RareField("abandoned", False)
    error = _RareField[str | None]("error", None)
    exit_code = _RareField[int | None]("exit_code", None)
    explicitly_canceled = _RareField("explicitly_canceled", False)
    log_file = _RareField[IO[str] | None]("log_file", None)
    never_completed = _RareField("never_completed", False)
    start_error = _RareField[str | None]("start_error", None)
    written = _RareField[tuple[dict[str, str], list[str]] | None]("written", None)
    produced = _RareField[tuple[dict[str, str], dict[str, str], list[str]] | None](
        "produced", None
    )
    stop_reason = _RareField[_Reason | None]("stop_reason", None)
    timed_out = _RareField("timed_out", False)
    timer = _RareField[Timer | None]("timer", None)
    view_cache = _RareField[StepView | None]("view_cache", None)
    # Resolved at the step's turn; the plan's values unless templated.
    coe = _RareField("coe", False, lambda plan: plan.continue_on_error)
    timeout = _RareField[float | None](
        "timeout",
        None,
        lambda plan: plan.step.timeout_seconds if plan.step is not None else None,
    )
    name = _RareField("name", "", lambda plan: plan.name)

    def __init__(self, engine: JobRunner, plan: PlannedStep) -> None:
        self.engine = engine
        self.plan = plan
        self.rare: _Rare | None = None
        self.state = _State.WAITING
        self.outcome: Result | None = None
        self.conclusion: Result | None = None
        self.completed_by: str | None = None
        self.flushed = False
        self.scope: trio.CancelScope | None = None
        self.done: trio.Event | None = None
        self.run: StepRun | None = None
        # What a background step saw at launch (R4.2): env, steps seq, path,
        # and the interpolated fields.
        self.frozen: tuple[Any, ...] | None = None
        self.outputs: Mapping[str, str] | None = None
        # The kept tail of the log (bounded in lines and bytes, per step and
        # per job: see _logtail), from its first line.
        self.log: LogTail | None = None

    @property
    def published_seq(self) -> int:
        """When it was published (R5): 1 for the first, 0 until then."""
        return self.engine._published_seqs[self.plan.index]

    @published_seq.setter
    def published_seq(self, seq: int) -> None:
        self.engine._published_seqs[self.plan.index] = seq

    @property
    def launched(self) -> bool:
        """Whether the step was launched (R4.2): it has a queue time."""
        queued_at = self.engine._moments[3 * self.plan.index]
        return queued_at == queued_at  # not NaN

    @property
    def declared_id(self) -> str:
        return self.plan.id

    def view(self) -> StepView:
        """What later steps see once it is published (built on demand)."""
        view = self.view_cache
        if view is None and self.never_completed:
            # R17.4: the runner's flush publishes ``Outcome ?? Result ??
            # Succeeded`` for a step that never completed.
            view = StepView(
                outputs=_NO_OUTPUTS,
                outcome=Result.SUCCEEDED,
                conclusion=Result.SUCCEEDED,
            )
            self.view_cache = view
        if view is None:
            assert self.outcome is not None and self.conclusion is not None
            view = StepView(
                outputs=self.outputs if self.outputs is not None else _NO_OUTPUTS,
                outcome=self.outcome,
                conclusion=self.conclusion,
            )
            self.view_cache = view
        return view

    @property
    def queued(self) -> bool:
        return self.state is _State.QUEUED

    def done_event(self) -> trio.Event:
        if self.done is None:
            self.done = trio.Event()
            if self.state is _State.DONE:
                self.done.set()
        return self.done

    # The sink protocol of StepRun (_context._Sink).
    def output(self, run: StepRun, line: str, stream: str) -> None:
        self.engine._output(self, line, stream)

    def signal_sent(self, run: StepRun, signal: str) -> None:
        self.engine._emit(EventKind.SIGNAL_SENT, self.plan.id, (("signal", signal),))

    def grace_expired(self, run: StepRun, which: str) -> None:
        self.engine._emit(EventKind.GRACE_EXPIRED, self.plan.id, (("grace", which),))

    def add_mask(self, value: str) -> None:
        self.engine._recorder.masker.add(value)
