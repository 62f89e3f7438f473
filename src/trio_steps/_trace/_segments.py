"""Trace files: a job's events and report as JSON Lines or Chrome trace events.

Two formats carry the same content (see ``docs/source/traces.rst``):

* **JSON Lines** (``.jsonl``): a header line, one line per :class:`Event`,
  and a final line with the report's steps and result. :class:`TraceWriter`
  writes the same format while the job runs.
* **Chrome trace events** (``.json``): a ``traceEvents`` object that opens in
  Perfetto and ``chrome://tracing``, with the JSON Lines content embedded
  under the ``trio_steps`` key so that :func:`load_trace` can read it back.

Both read back with :func:`load_trace` into a :class:`JobReport` equal to the
one written.
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
