"""Events: every transition of a job, as an immutable record (rules §9)."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import final, overload

import attrs

from ._face import public

__all__ = ["Event", "EventKind", "EventLog"]


class EventKind(enum.StrEnum):
    """The kinds of :class:`Event`; each compares equal to its string."""

    JOB_STARTED = "job-started"
    STEP_SKIPPED = "step-skipped"
    STEP_LAUNCHED = "step-launched"
    STEP_STARTED = "step-started"
    STEP_OUTPUT = "step-output"
    CANCEL_REQUESTED = "cancel-requested"
    SIGNAL_SENT = "signal-sent"
    GRACE_EXPIRED = "grace-expired"
    STEP_FINISHED = "step-finished"
    STEP_FLUSHED = "step-flushed"
    JOB_CANCEL_REQUESTED = "job-cancel-requested"
    JOB_FINISHED = "job-finished"


NO_DATA: Mapping[str, object] = MappingProxyType({})


def _freeze_data(value: Mapping[str, object] | None) -> Mapping[str, object]:
    if type(value) is MappingProxyType:
        return value
    if not value:
        return NO_DATA
    return MappingProxyType(dict(value))


def _to_kind(value: str) -> EventKind:
    return value if type(value) is EventKind else EventKind(value)


@attrs.frozen(kw_only=True)
class Event:
    """One transition of a job.

    Attributes:
        kind: What happened (an :class:`EventKind`, equal to its string).
        step_id: The step it happened to, or ``None`` for job events.
        time: The Trio clock at that moment.
        wall_time: ``time.time()`` at that moment.
        data: Details whose keys depend on the kind: ``step-output`` has
            ``line`` and ``stream``; ``signal-sent`` has ``signal``;
            ``step-finished`` has ``outcome`` and ``conclusion`` (as
            :class:`~trio_steps.Result` names); ``step-started`` has
            ``kind``, and ``targets`` (ids, comma-separated) for ``wait``
            and ``cancel`` steps; ``step-flushed`` has ``by``;
            ``cancel-requested`` has ``reason``; ``job-finished`` has
            ``result``, and ``abandoned_last`` (a step id) when the last
            thing the job waited for was the task of an abandoned step
            (R6.4), which ended after every step had finished.
    """

    kind: EventKind = attrs.field(converter=_to_kind)
    step_id: str | None
    time: float
    wall_time: float
    data: Mapping[str, object] = attrs.field(default=NO_DATA, converter=_freeze_data)


_set = object.__setattr__

#: The engine's compact form of an event while the job runs: a plain tuple
#: ``(kind, step_id, time, wall_time, data pairs)`` holding only strings,
#: numbers and ``None``. CPython's collector stops tracking such tuples, so a
#: job's hundreds of thousands of events cost it nothing; an :class:`Event`
#: is made from one only when somebody looks (a subscriber, the report).
EventRecord = tuple[str, str | None, float, float, tuple[tuple[str, object], ...]]


def event_from_record(record: EventRecord) -> Event:
    """Make the :class:`Event` that an engine record stands for."""
    kind, step_id, time, wall_time, pairs = record
    event: Event = object.__new__(Event)
    _set(event, "kind", EventKind(kind))
    _set(event, "step_id", step_id)
    _set(event, "time", time)
    _set(event, "wall_time", wall_time)
    _set(event, "data", MappingProxyType(dict(pairs)) if pairs else NO_DATA)
    return event


@final
class EventLog(Sequence[Event]):
    """The events of a report: a read-only sequence of :class:`Event`.

    It holds the engine's compact records and makes each :class:`Event`
    when it is read (equal events every time). It compares equal to any
    sequence of the same events.
    """

    __slots__ = ("_events", "_records")

    def __init__(self, records: Sequence[EventRecord]) -> None:
        self._records = records
        self._events: list[Event] | None = None

    def _all(self) -> list[Event]:
        if self._events is None:
            self._events = [event_from_record(r) for r in self._records]
        return self._events

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Event]: ...
    def __getitem__(self, index: int | slice) -> Event | Sequence[Event]:
        if isinstance(index, slice):
            return tuple(self._all()[index])
        if self._events is not None:
            return self._events[index]
        return event_from_record(self._records[index])

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[Event]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(
            a == b for a, b in zip(self, other, strict=True)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"EventLog({len(self)} events)"


public(Event, EventKind)
