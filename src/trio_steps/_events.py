"""Events: every transition of a job, as an immutable record (SPEC §9)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

import attrs

__all__ = ["Event", "EventKind"]


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


def frozen_data(**data: object) -> Mapping[str, object]:
    """Event data the engine can share between events (already frozen)."""
    return MappingProxyType(data)


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
            :class:`~trio_steps.Result` names); ``step-flushed`` has ``by``;
            ``cancel-requested`` has ``reason``; ``job-finished`` has
            ``result``.
    """

    kind: EventKind = attrs.field(converter=_to_kind)
    step_id: str | None
    time: float
    wall_time: float
    data: Mapping[str, object] = attrs.field(default=NO_DATA, converter=_freeze_data)
