"""Chrome trace events (the Trace Event Format), which open in Perfetto.

One track per step, slots as counters, the report itself kept under
``CHROME_KEY`` so that :func:`~trio_steps.load_trace` reads the file back
exactly.
"""

from __future__ import annotations

from typing import Final

from .._events import EventKind
from .._results import JobReport, StepReport
from ._json import (
    TRACE_FORMAT,
    TRACE_VERSION,
    _dumps,
    _result_name,
    event_to_json,
    header_to_json,
    job_metadata,
    report_to_json,
)
from ._segments import step_segments, stop_times

__all__ = ["chrome_trace"]

#: The key of a Chrome trace file under which the trio_steps content lives.
CHROME_KEY: Final = "trio_steps"


# --------------------------------------------------------------------------
# Chrome trace events

_MAIN_PID: Final = 1
_MAIN_TID: Final = 1
_US: Final = 1_000_000.0


def _us(time: float, origin: float) -> float:
    # Microseconds from the job start, rounded to the nanosecond so that the
    # viewer does not show float noise.
    return round((time - origin) * _US, 3)


def _origin(report: JobReport) -> float:
    for event in report.events:
        if event.kind is EventKind.JOB_STARTED:
            return event.time
    times = [e.time for e in report.events]
    for step in report.steps.values():
        times.extend(
            t
            for t in (step.queued_at, step.started_at, step.finished_at)
            if t is not None
        )
    return min(times, default=0.0)


def _step_args(step: StepReport) -> dict[str, object]:
    args: dict[str, object] = {
        "step_id": step.id,
        "kind": step.kind,
        "outcome": _result_name(step.outcome),
        "conclusion": _result_name(step.conclusion),
    }
    for name in ("group", "completed_by", "exit_code", "error"):
        value = getattr(step, name)
        if value is not None:
            args[name] = value
    for name in ("explicitly_canceled", "timed_out", "abandoned"):
        if getattr(step, name):
            args[name] = True
    return args


def chrome_trace(
    report: JobReport, *, origin: float | None = None
) -> dict[str, object]:
    """Build the Chrome trace event object of a report (what ``.json`` holds).

    Layout: process 1 is the job, with thread 1 for the main sequence
    (foreground, control and post steps) and one thread per background step;
    each ``parallel`` group is a process of its own with one thread per
    member. Every step shows ``queued``, ``running`` and ``stopping`` spans;
    signals, grace expiries, stop requests and flushes are instant events, job
    events are global instants, and a ``slots`` counter tracks the background
    steps running and queued.

    Args:
        report: The report to convert.
        origin: The time shown as 0 (default: the job start); a workflow
            trace gives all its jobs one origin (R15.10).

    Returns:
        A JSON-serialisable object with ``traceEvents``, ``displayTimeUnit``,
        ``otherData`` and the trio_steps content under ``trio_steps``.
    """
    if origin is None:
        origin = _origin(report)
    job = job_metadata(report.events)
    job_name = str(job.get("name") or "job")
    trace: list[dict[str, object]] = []

    def meta(name: str, pid: int, tid: int | None, args: dict[str, object]) -> None:
        entry: dict[str, object] = {"ph": "M", "name": name, "pid": pid, "args": args}
        if tid is not None:
            entry["tid"] = tid
        trace.append(entry)

    meta("process_name", _MAIN_PID, None, {"name": f"job: {job_name}"})
    meta("process_sort_index", _MAIN_PID, None, {"sort_index": 0})
    meta("thread_name", _MAIN_PID, _MAIN_TID, {"name": "main sequence"})
    meta("thread_sort_index", _MAIN_PID, _MAIN_TID, {"sort_index": 0})

    tracks: dict[str, tuple[int, int]] = {}  # folded step id -> (pid, tid)
    group_pids: dict[str, int] = {}
    next_tid = _MAIN_TID + 1
    for index, step in enumerate(report.steps.values()):
        if not step.background:
            tracks[step.id.casefold()] = (_MAIN_PID, _MAIN_TID)
            continue
        if step.group is not None and step.group not in group_pids:
            pid = group_pids[step.group] = _MAIN_PID + 1 + len(group_pids)
            meta("process_name", pid, None, {"name": f"parallel: {step.group}"})
            meta("process_sort_index", pid, None, {"sort_index": pid})
        pid = group_pids[step.group] if step.group is not None else _MAIN_PID
        tracks[step.id.casefold()] = (pid, next_tid)
        meta("thread_name", pid, next_tid, {"name": step.name})
        meta("thread_sort_index", pid, next_tid, {"sort_index": index + 1})
        next_tid += 1

    stops = stop_times(report)
    for step in report.steps.values():
        pid, tid = tracks[step.id.casefold()]
        args = _step_args(step)
        for segment in step_segments(step, stops.get(step.id.casefold())):
            name = (
                step.name
                if segment.state == "running"
                else f"{step.name} ({segment.state})"
            )
            trace.append(
                {
                    "ph": "X",
                    "name": name,
                    "cat": segment.state,
                    "pid": pid,
                    "tid": tid,
                    "ts": _us(segment.start, origin),
                    "dur": round((segment.end - segment.start) * _US, 3),
                    "args": {**args, "segment": segment.state},
                }
            )

    instants = {
        EventKind.SIGNAL_SENT: lambda d: f"signal {d.get('signal', '?')}",
        EventKind.GRACE_EXPIRED: lambda d: f"grace expired: {d.get('grace', '?')}",
        EventKind.CANCEL_REQUESTED: lambda d: f"stop requested: {d.get('reason', '?')}",
        EventKind.STEP_FLUSHED: lambda d: f"flushed by {d.get('by', '?')}",
    }
    for event in report.events:
        describe = instants.get(event.kind)
        if describe is not None and event.step_id is not None:
            track = tracks.get(event.step_id.casefold())
            if track is None:
                continue
            trace.append(
                {
                    "ph": "i",
                    "s": "t",
                    "name": describe(event.data),
                    "cat": str(event.kind),
                    "pid": track[0],
                    "tid": track[1],
                    "ts": _us(event.time, origin),
                    "args": {"step_id": event.step_id, **event.data},
                }
            )
        elif event.step_id is None and event.kind in (
            EventKind.JOB_STARTED,
            EventKind.JOB_CANCEL_REQUESTED,
            EventKind.JOB_FINISHED,
        ):
            trace.append(
                {
                    "ph": "i",
                    "s": "g",
                    "name": str(event.kind),
                    "cat": "job",
                    "pid": _MAIN_PID,
                    "tid": _MAIN_TID,
                    "ts": _us(event.time, origin),
                    "args": dict(event.data),
                }
            )

    for time, running, queued in _slot_counts(report):
        trace.append(
            {
                "ph": "C",
                "name": "slots",
                "pid": _MAIN_PID,
                "ts": _us(time, origin),
                "args": {"running": running, "queued": queued},
            }
        )

    return {
        "traceEvents": trace,
        "displayTimeUnit": "ms",
        "otherData": {
            "format": TRACE_FORMAT,
            "version": TRACE_VERSION,
            "job": job_name,
            "result": report.result.name,
        },
        CHROME_KEY: {
            "header": header_to_json(job),
            "events": [event_to_json(event) for event in report.events],
            "report": report_to_json(report),
        },
    }


def _slot_counts(report: JobReport) -> list[tuple[float, int, int]]:
    """(time, running, queued) background steps after each change."""
    deltas: dict[float, list[int]] = {}
    for step in report.steps.values():
        if not step.background or step.finished_at is None:
            continue
        if step.queued_at is not None:
            queue_end = (
                step.started_at if step.started_at is not None else step.finished_at
            )
            deltas.setdefault(step.queued_at, [0, 0])[1] += 1
            deltas.setdefault(queue_end, [0, 0])[1] -= 1
        if step.started_at is not None:
            deltas.setdefault(step.started_at, [0, 0])[0] += 1
            deltas.setdefault(step.finished_at, [0, 0])[0] -= 1
    counts: list[tuple[float, int, int]] = []
    running = queued = 0
    for time in sorted(deltas):
        running += deltas[time][0]
        queued += deltas[time][1]
        if not counts or counts[-1][1:] != (running, queued):
            counts.append((time, running, queued))
    return counts


def _dump_chrome(trace: dict[str, object]) -> str:
    # One trace event per line: the file stays diffable and a JSON error in a
    # damaged file points at a useful line.
    parts = ["{", '"traceEvents":[']
    events = trace["traceEvents"]
    assert isinstance(events, list)
    parts.append(",\n".join(_dumps(event) for event in events))
    parts.append("],")
    embedded = trace[CHROME_KEY]
    assert isinstance(embedded, dict)
    for key, value in trace.items():
        if key in ("traceEvents", CHROME_KEY):
            continue
        parts.append(f"\n{_dumps(key)}:{_dumps(value)},")
    parts.append(f"\n{_dumps(CHROME_KEY)}:{{")
    parts.append(f"\n{_dumps('header')}:{_dumps(embedded['header'])},")
    parts.append(f"\n{_dumps('events')}:[")
    parts.append(",\n".join(_dumps(event) for event in embedded["events"]))
    parts.append("],")
    parts.append(f"\n{_dumps('report')}:{_dumps(embedded['report'])}")
    parts.append("}}\n")
    return "".join(parts)
