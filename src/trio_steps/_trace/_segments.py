"""A step's row in time: the segments shared by the timeline and the Chrome trace.

A background step is queued, then runs; a stopped step has a stopping
segment; :func:`step_segments` cuts a :class:`~trio_steps.StepReport` into
those pieces and :func:`stop_times` finds when each stop was asked for.
"""

from __future__ import annotations

import attrs

from .._events import EventKind
from .._results import JobReport, StepReport

#: Steps of the report kinds that wait for background steps.


def stop_times(report: JobReport) -> dict[str, float]:
    """When each stopped step was first asked to stop (``cancel-requested``)."""
    stops: dict[str, float] = {}
    for event in report.events:
        if event.kind is EventKind.CANCEL_REQUESTED and event.step_id is not None:
            stops.setdefault(event.step_id.casefold(), event.time)
    return stops


@attrs.frozen
class Segment:
    """One span of a step's life: ``queued``, ``running`` or ``stopping``."""

    state: str
    start: float
    end: float


def step_segments(step: StepReport, stop: float | None) -> list[Segment]:
    """Split a step's life into queued, running and stopping spans.

    Args:
        step: The step.
        stop: When it was first asked to stop, if it was.

    Returns:
        The spans in time order; empty for a step that never started or
        queued (skipped, or its condition raised).
    """
    segments: list[Segment] = []
    end = step.finished_at
    if end is None:
        return segments
    if step.queued_at is not None:
        queue_end = step.started_at if step.started_at is not None else end
        segments.append(Segment("queued", step.queued_at, queue_end))
    if step.started_at is not None:
        if stop is not None and step.started_at <= stop < end:
            segments.append(Segment("running", step.started_at, stop))
            segments.append(Segment("stopping", stop, end))
        else:
            segments.append(Segment("running", step.started_at, end))
    return segments
