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

import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Final, final

import attrs

from ._events import Event, EventKind
from ._results import CaseInsensitiveMapping, JobReport, Result, StepReport

__all__ = [
    "TRACE_FORMAT",
    "TRACE_VERSION",
    "TraceError",
    "TraceWriter",
    "chrome_trace",
    "load_trace",
    "write_trace",
]

#: The ``format`` field of every trio_steps trace.
TRACE_FORMAT: Final = "trio-steps-trace"
#: The schema version this module writes and reads.
TRACE_VERSION: Final = 1

#: The key of a Chrome trace file under which the trio_steps content lives.
CHROME_KEY: Final = "trio_steps"

#: The largest trace file :func:`load_trace` reads, in bytes.
MAX_TRACE_BYTES: Final = 256 * 1024 * 1024
#: How deep arrays and objects may nest in an event's data or the header's
#: job (every other field has a fixed shape).
MAX_TRACE_DEPTH: Final = 64
#: The largest time, in seconds, a trace may hold (about 31 million years):
#: differences of times then never overflow to infinity.
MAX_TRACE_TIME: Final = 1e15

#: Steps of the report kinds that wait for background steps.
CONTROL_KINDS: Final = frozenset({"wait", "wait-all", "cancel", "implicit-wait-all"})


class TraceError(ValueError):
    """A file is not a readable trio_steps trace (foreign, truncated or corrupt).

    Attributes:
        path: The file, as given.
        line: The 1-based line the problem is on, or ``None`` when the problem
            is not tied to one line.
        message: What is wrong, without the location.
    """

    def __init__(
        self, path: str | os.PathLike[str], message: str, *, line: int | None = None
    ) -> None:
        self.path = os.fspath(path)
        self.line = line
        self.message = message
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}")


class _Invalid(Exception):
    """A structural problem found while decoding; located by the caller."""


# --------------------------------------------------------------------------
# Encoding


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def event_to_json(event: Event) -> dict[str, object]:
    """Encode one event as the JSON object of a trace's event line."""
    return {
        "type": "event",
        "kind": str(event.kind),
        "step_id": event.step_id,
        "time": event.time,
        "wall_time": event.wall_time,
        "data": dict(event.data),
    }


def _result_name(value: Result | None) -> str | None:
    return None if value is None else value.name


def step_to_json(step: StepReport) -> dict[str, object]:
    """Encode one step report as a JSON object (every field, by name)."""
    encoded: dict[str, object] = {}
    for field in attrs.fields(StepReport):
        value = getattr(step, field.name)
        if isinstance(value, Result):
            value = value.name
        elif isinstance(value, Mapping):
            value = dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        encoded[field.name] = value
    return encoded


def report_to_json(report: JobReport) -> dict[str, object]:
    """Encode a report, without its events, as the trace's final line."""
    return {
        "type": "report",
        "result": report.result.name,
        "finished": report.finished,
        "env": dict(report.env),
        "path": list(report.path),
        "steps": [step_to_json(step) for step in report.steps.values()],
    }


def job_metadata(events: Iterable[Event]) -> dict[str, object]:
    """The ``data`` of the ``job-started`` event (job name, slots), if any."""
    for event in events:
        if event.kind is EventKind.JOB_STARTED:
            return dict(event.data)
    return {}


def header_to_json(job: Mapping[str, object]) -> dict[str, object]:
    """The header line of a JSON Lines trace."""
    from . import __version__

    return {
        "type": "header",
        "format": TRACE_FORMAT,
        "version": TRACE_VERSION,
        "generator": f"trio_steps {__version__}",
        "job": dict(job),
    }


def _jsonl_lines(report: JobReport) -> Iterator[str]:
    yield _dumps(header_to_json(job_metadata(report.events)))
    for event in report.events:
        yield _dumps(event_to_json(event))
    yield _dumps(report_to_json(report))


def write_trace(report: JobReport, path: str | os.PathLike[str]) -> None:
    """Write a report and its events as a trace file, chosen by the suffix.

    ``.jsonl`` writes JSON Lines; ``.json`` writes Chrome trace events, which
    open in Perfetto (https://ui.perfetto.dev) and ``chrome://tracing``. Both
    read back with :func:`load_trace`.

    Args:
        report: The report to write.
        path: Where to write; an existing file is replaced.

    Raises:
        ValueError: The suffix is neither ``.json`` nor ``.jsonl``, or an event
            holds a value JSON cannot represent (such as ``nan``).
        OSError: The file cannot be written.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".jsonl":
        text = "".join(line + "\n" for line in _jsonl_lines(report))
    elif suffix == ".json":
        text = _dump_chrome(chrome_trace(report))
    else:
        raise ValueError(
            f"{os.fspath(path)}: cannot tell the trace format from the suffix "
            f"{suffix or '(none)'!r}; use .jsonl (JSON Lines) or .json (Chrome "
            "trace events)"
        )
    # A lone surrogate (fromJSON('"\\ud800"') in a step name) is written as
    # its JSON escape, which reads back to the same string.
    with open(
        path, "w", encoding="utf-8", errors="backslashreplace", newline="\n"
    ) as file:
        file.write(text)


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


def chrome_trace(report: JobReport) -> dict[str, object]:
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

    Returns:
        A JSON-serialisable object with ``traceEvents``, ``displayTimeUnit``,
        ``otherData`` and the trio_steps content under ``trio_steps``.
    """
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


# --------------------------------------------------------------------------
# Decoding


def _expect(value: object, kind: type | tuple[type, ...], what: str) -> None:
    if not isinstance(value, kind) or (
        isinstance(value, bool) and bool not in _as_tuple(kind)
    ):
        raise _Invalid(f"{what} must be {_type_words(kind)}, not {_json_type(value)}")


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


_TYPE_WORDS: Final = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    dict: "an object",
    list: "an array",
    type(None): "null",
}


def _type_words(kind: type | tuple[type, ...]) -> str:
    words = [_TYPE_WORDS.get(k, k.__name__) for k in _as_tuple(kind)]
    if words.count("a number") and "an integer" in words:
        words.remove("an integer")
    return " or ".join(words)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return _TYPE_WORDS.get(type(value), type(value).__name__)


_NUMBER: Final = (int, float)
_OPT_NUMBER: Final = (int, float, type(None))
_OPT_STR: Final = (str, type(None))


def _str(value: object, what: str) -> str:
    _expect(value, str, what)
    assert isinstance(value, str)
    return value


def _number(value: object, what: str) -> float:
    _expect(value, _NUMBER, what)
    assert isinstance(value, int | float)
    if not -MAX_TRACE_TIME <= value <= MAX_TRACE_TIME:
        raise _Invalid(
            f"{what} {value:.6g} is out of range (at most {MAX_TRACE_TIME:g})"
        )
    return float(value)


def _opt_number(value: object, what: str) -> float | None:
    return None if value is None else _number(value, what)


def _result(value: object, what: str, *, optional: bool) -> Result | None:
    if value is None and optional:
        return None
    _expect(value, str, what)
    assert isinstance(value, str)
    try:
        return Result[value]
    except KeyError:
        names = ", ".join(r.name for r in Result)
        raise _Invalid(f"{what} {value!r} is not a result ({names})") from None


def _str_map(value: object, what: str) -> dict[str, str]:
    _expect(value, dict, what)
    assert isinstance(value, dict)
    for key, item in value.items():
        _expect(item, str, f"{what}[{key!r}]")
    return value


def _str_list(value: object, what: str) -> tuple[str, ...]:
    _expect(value, list, what)
    assert isinstance(value, list)
    for index, item in enumerate(value):
        _expect(item, str, f"{what}[{index}]")
    return tuple(value)


def _object(value: object, what: str) -> dict[str, object]:
    _expect(value, dict, what)
    assert isinstance(value, dict)
    return value


def _shallow_object(value: object, what: str) -> dict[str, object]:
    """An object nested at most :data:`MAX_TRACE_DEPTH` levels (checked without recursion)."""
    obj = _object(value, what)
    level: list[object] = [obj]
    for _ in range(MAX_TRACE_DEPTH):
        level = [
            item
            for parent in level
            for item in (parent.values() if isinstance(parent, dict) else parent)  # type: ignore[attr-defined]
            if isinstance(item, dict | list)
        ]
        if not level:
            return obj
    raise _Invalid(f"{what} nests deeper than {MAX_TRACE_DEPTH} levels")


def _reject_constant(name: str) -> object:
    raise _Invalid(f"{name} is not a number a trace may hold (only finite numbers)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Invalid(f"{text} is too large a number (not finite)")
    return value


def _bounded_int(text: str) -> int:
    # 64-bit integers: a larger one would overflow float arithmetic later (and
    # one of over 4,300 digits would make int() raise).
    if len(text) > 20 or not -(2**63) <= int(text) < 2**63:
        shown = text if len(text) <= 24 else text[:24] + "…"
        raise _Invalid(f"the integer {shown} does not fit in 64 bits")
    return int(text)


def _loads(text: str) -> object:
    """Decode JSON strictly: no NaN or infinities, bounded nesting and integers.

    Raises:
        json.JSONDecodeError: Not JSON.
        _Invalid: JSON a trace may not hold.
    """
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except RecursionError:
        raise _Invalid(
            f"arrays and objects nest deeper than this reader can follow "
            f"(a trace nests at most {MAX_TRACE_DEPTH} levels)"
        ) from None


def check_header(value: object) -> dict[str, object]:
    """Check a decoded header object; return its job metadata."""
    if not isinstance(value, dict) or value.get("format") != TRACE_FORMAT:
        raise _Invalid(
            f"not a trio-steps trace: the header must be an object with "
            f'"format": "{TRACE_FORMAT}"'
        )
    version = value.get("version")
    if version != TRACE_VERSION:
        raise _Invalid(
            f"unsupported trace version {version!r}; this trio_steps reads "
            f"version {TRACE_VERSION}"
        )
    return _shallow_object(value.get("job", {}), "header 'job'")


def event_from_json(value: object) -> Event:
    """Decode one event line (see :func:`event_to_json`)."""
    obj = _object(value, "an event line")
    if obj.get("type") != "event":
        raise _Invalid(f"expected an event line, found type {obj.get('type')!r}")
    kind = _str(obj.get("kind"), "event 'kind'")
    try:
        event_kind = EventKind(kind)
    except ValueError:
        raise _Invalid(f"unknown event kind {kind!r}") from None
    step_id = obj.get("step_id")
    step_id = None if step_id is None else _str(step_id, "event 'step_id'")
    data = _shallow_object(obj.get("data", {}), "event 'data'")
    return Event(
        kind=event_kind,
        step_id=step_id,
        time=_number(obj.get("time"), "event 'time'"),
        wall_time=_number(obj.get("wall_time"), "event 'wall_time'"),
        data=data,
    )


def _step_field(name: str, value: object) -> object:
    what = f"step {name!r}"
    if name in ("id", "name", "kind"):
        _expect(value, str, what)
        return value
    if name in ("outcome", "conclusion"):
        return _result(value, what, optional=True)
    if name == "outputs":
        return _str_map(value, what)
    if name == "log":
        return _str_list(value, what)
    if name in ("queued_at", "started_at", "finished_at"):
        return _opt_number(value, what)
    if name in ("background", "explicitly_canceled", "timed_out", "abandoned"):
        _expect(value, bool, what)
        return value
    if name == "exit_code":
        _expect(value, (int, type(None)), what)
        return value
    if name == "log_dropped":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _Invalid(f"{what} must be a count (an integer >= 0)")
        return value
    # group, completed_by, error, and string fields added later
    _expect(value, _OPT_STR, what)
    return value


_STEP_FIELDS: Final = frozenset(field.name for field in attrs.fields(StepReport))


def step_from_json(value: object) -> StepReport:
    """Decode one step of the report line (see :func:`step_to_json`)."""
    obj = _object(value, "a step")
    for required in ("id", "name", "kind"):
        if required not in obj:
            raise _Invalid(f"a step has no {required!r}")
    fields = {
        name: _step_field(name, item)
        for name, item in obj.items()
        if name in _STEP_FIELDS
    }
    return StepReport(**fields)  # type: ignore[arg-type]


def report_from_json(value: object, events: Sequence[Event]) -> JobReport:
    """Decode the report line and attach the events read before it."""
    obj = _object(value, "the report line")
    if obj.get("type") != "report":
        raise _Invalid(f"expected the report line, found type {obj.get('type')!r}")
    result = _result(obj.get("result"), "report 'result'", optional=False)
    assert result is not None
    steps_value = obj.get("steps")
    _expect(steps_value, list, "report 'steps'")
    assert isinstance(steps_value, list)
    steps: dict[str, StepReport] = {}
    for index, item in enumerate(steps_value):
        try:
            step = step_from_json(item)
        except _Invalid as error:
            raise _Invalid(f"steps[{index}]: {error}") from None
        if step.id.casefold() in {s.casefold() for s in steps}:
            raise _Invalid(f"steps[{index}]: step id {step.id!r} appears twice")
        steps[step.id] = step
    finished = obj.get("finished", True)
    _expect(finished, bool, "report 'finished'")
    assert isinstance(finished, bool)
    return JobReport(
        result=result,
        steps=CaseInsensitiveMapping(steps),
        events=tuple(events),
        env=_str_map(obj.get("env", {}), "report 'env'"),
        path=_str_list(obj.get("path", []), "report 'path'"),
        finished=finished,
    )


def report_from_events(events: Sequence[Event]) -> JobReport:
    """Rebuild a report from events alone (a trace without a report line).

    This is what :class:`TraceWriter` leaves when the report line was never
    written. Times, outcomes, conclusions, flags, logs and ``completed_by``
    come from the events; a step's name, kind, background flag and group
    come from event data where the engine put them there (else: its id,
    ``run``, whether it was launched, no group). Outputs, env and path are
    not in the events and stay empty.

    Args:
        events: Every event of the job, ending with ``job-finished``.

    Returns:
        The rebuilt report.
    """
    fields: dict[str, dict[str, object]] = {}
    logs: dict[str, list[str]] = {}
    result = Result.SUCCEEDED
    for event in events:
        data = event.data
        if event.kind is EventKind.JOB_FINISHED:
            result = (
                _result(data.get("result", "SUCCEEDED"), "job 'result'", optional=False)
                or result
            )
        if event.step_id is None:
            continue
        step = fields.setdefault(event.step_id, {"id": event.step_id})
        for name in ("name", "kind", "group", "background"):
            if name in data and name not in step:
                step[name] = data[name]
        if event.kind is EventKind.STEP_LAUNCHED:
            step["queued_at"] = event.time
            step["background"] = True
        elif event.kind is EventKind.STEP_STARTED:
            step["started_at"] = event.time
        elif event.kind is EventKind.STEP_OUTPUT:
            logs.setdefault(event.step_id, []).append(str(data.get("line", "")))
        elif event.kind is EventKind.CANCEL_REQUESTED:
            if data.get("reason") == "cancel":
                step["explicitly_canceled"] = True
        elif event.kind is EventKind.STEP_FLUSHED:
            step.setdefault("completed_by", data.get("by"))
        elif event.kind in (EventKind.STEP_FINISHED, EventKind.STEP_SKIPPED):
            if event.kind is EventKind.STEP_FINISHED and (
                "started_at" in step or "queued_at" in step
            ):
                step["finished_at"] = event.time
            for name in ("outcome", "conclusion"):
                if name in data:
                    step[name] = data[name]
            for name in ("timed_out", "abandoned", "exit_code", "error"):
                if name in data:
                    step[name] = data[name]
    steps: dict[str, StepReport] = {}
    for step_id, values in fields.items():
        values.setdefault("name", step_id)
        values.setdefault("kind", "run")
        if step_id in logs:
            values["log"] = logs[step_id]
        known = {k: _step_field(k, v) for k, v in values.items() if k in _STEP_FIELDS}
        steps[step_id] = StepReport(**known)  # type: ignore[arg-type]
    return JobReport(
        result=result, steps=CaseInsensitiveMapping(steps), events=tuple(events)
    )


def _decode_jsonl(path: str | os.PathLike[str], text: str) -> JobReport:
    # Only "\n" ends a line: str.splitlines() would also split inside a JSON
    # string holding U+0085, U+2028 or U+2029 (the writer leaves them raw).
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    events: list[Event] = []
    header_seen = False
    report_value: tuple[int, object] | None = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = _loads(line)
        except json.JSONDecodeError as error:
            if number == len(lines) and not text.endswith("\n"):
                raise TraceError(
                    path,
                    f"the last line is cut off (truncated file?): {error.msg}",
                    line=number,
                ) from None
            raise TraceError(path, f"not JSON: {error.msg}", line=number) from None
        except _Invalid as error:
            raise TraceError(path, str(error), line=number) from None
        try:
            if not header_seen:
                check_header(value)
                header_seen = True
                continue
            if report_value is not None:
                raise _Invalid("nothing may follow the report line")
            if isinstance(value, dict) and value.get("type") == "report":
                report_value = (number, value)
                continue
            events.append(event_from_json(value))
        except _Invalid as error:
            raise TraceError(path, str(error), line=number) from None
    if not header_seen:
        raise TraceError(path, "empty file: no trace header", line=None)
    if report_value is not None:
        number, value = report_value
        try:
            return report_from_json(value, events)
        except _Invalid as error:
            raise TraceError(path, str(error), line=number) from None
    if events and events[-1].kind is EventKind.JOB_FINISHED:
        try:
            return report_from_events(events)
        except (_Invalid, TypeError, ValueError) as error:
            raise TraceError(path, f"cannot rebuild the report: {error}") from None
    raise TraceError(
        path,
        "the trace ends before the job finished (no job-finished event and no "
        "report line): truncated file?",
        line=len(lines) + 1,
    )


def _decode_chrome(path: str | os.PathLike[str], text: str) -> JobReport:
    try:
        value = _loads(text)
    except json.JSONDecodeError as error:
        truncated = error.pos >= len(text.rstrip())
        message = f"not JSON: {error.msg}" + (" (truncated file?)" if truncated else "")
        raise TraceError(path, message, line=error.lineno) from None
    except _Invalid as error:
        raise TraceError(path, str(error)) from None
    if not isinstance(value, dict) or CHROME_KEY not in value:
        raise TraceError(
            path,
            f"not a trio-steps trace: no {CHROME_KEY!r} key (a Chrome trace written "
            "by another program cannot be read back)",
        )
    embedded = value[CHROME_KEY]
    where = CHROME_KEY
    try:
        embedded = _object(embedded, CHROME_KEY)
        where = f"{CHROME_KEY}.header"
        check_header(embedded.get("header"))
        where = f"{CHROME_KEY}.events"
        raw_events = embedded.get("events")
        _expect(raw_events, list, where)
        assert isinstance(raw_events, list)
        events = []
        for index, item in enumerate(raw_events):
            where = f"{CHROME_KEY}.events[{index}]"
            events.append(event_from_json(item))
        where = f"{CHROME_KEY}.report"
        return report_from_json(embedded.get("report"), events)
    except _Invalid as error:
        raise TraceError(path, f"{where}: {error}") from None


def _looks_like_jsonl(text: str) -> bool:
    first = text.lstrip().split("\n", 1)[0]
    try:
        value = _loads(first)
    except (json.JSONDecodeError, _Invalid):
        return False
    return isinstance(value, dict) and value.get("type") == "header"


def load_trace(path: str | os.PathLike[str]) -> JobReport:
    """Read a trace file written by :meth:`JobReport.write_trace <trio_steps.JobReport.write_trace>` or :class:`TraceWriter`.

    The format is recognised from the content, whatever the suffix. The
    report read back equals the one written: same result, steps and events.
    A JSON Lines trace without its report line but ending in ``job-finished``
    (a :class:`TraceWriter` whose report was never written) is rebuilt from
    its events.

    Args:
        path: The trace file.

    Returns:
        The job report.

    Raises:
        TraceError: The file is not a trio_steps trace, is of an unsupported
            version, is truncated or damaged, is larger than 256 MiB, nests
            deeper than 64 levels, or holds ``NaN``, an infinity or a time
            beyond ``1e15``; the message names the file and, where it can,
            the line.
        OSError: The file cannot be read.
    """
    # Non-blocking open: a FIFO nobody writes to reads as empty instead of
    # hanging. Bounded read: /dev/zero or an endless pipe is never read whole.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    os.set_blocking(fd, True)
    with open(fd, "rb") as file:
        raw = file.read(MAX_TRACE_BYTES + 1)
    if len(raw) > MAX_TRACE_BYTES:
        raise TraceError(
            path,
            f"larger than {MAX_TRACE_BYTES:,} bytes, the limit for a trace; "
            "nothing past the limit was read",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise TraceError(path, "not UTF-8 text: not a trace file", line=line) from None
    text = text.removeprefix("\ufeff")  # a byte-order mark an editor added
    if not text.strip():
        raise TraceError(path, "empty file: not a trace file")
    if _looks_like_jsonl(text):
        return _decode_jsonl(path, text)
    if text.lstrip().startswith("{") and '"traceEvents"' in text[:200]:
        return _decode_chrome(path, text)
    if Path(path).suffix.lower() == ".jsonl":
        return _decode_jsonl(path, text)
    return _decode_chrome(path, text)


# --------------------------------------------------------------------------
# Streaming


@final
class TraceWriter:
    """An ``on_event`` subscriber that writes a JSON Lines trace as the job runs.

    Each event is written as one line when it happens; the file is flushed at
    ``job-finished`` (and by :meth:`flush`). Pass the report to
    :meth:`write_report` after the run to end the file with the report line;
    without it :func:`load_trace` rebuilds the report from the events.

    ::

        with ts.TraceWriter("trace.jsonl") as writer:
            report = await ts.run_job(job, on_event=writer)
            writer.write_report(report)

    Writes are synchronous and buffered: a line costs a few microseconds of
    the event loop, the disk is touched when the buffer fills or at the end.

    Args:
        file: A path (opened, written and closed by the writer) or a text
            file object open for writing (left open).
    """

    def __init__(self, file: str | os.PathLike[str] | IO[str]) -> None:
        if isinstance(file, str | os.PathLike):
            # Held open across the job's events; closed by close()/__exit__.
            self._file: IO[str] = open(  # noqa: SIM115
                file, "w", encoding="utf-8", errors="backslashreplace", newline="\n"
            )
            self._owned = True
        else:
            self._file = file
            self._owned = False
        self._header_written = False
        self._closed = False
        self.events_written = 0

    def _write(self, value: object) -> None:
        if self._closed:
            raise ValueError("this TraceWriter is closed")
        self._file.write(_dumps(value) + "\n")

    def _ensure_header(self, job: Mapping[str, object]) -> None:
        if not self._header_written:
            self._header_written = True
            self._write(header_to_json(job))

    def __call__(self, event: Event) -> None:
        """Write one event (the ``on_event`` callback).

        Args:
            event: The event to write.
        """
        self._ensure_header(event.data if event.kind is EventKind.JOB_STARTED else {})
        self._write(event_to_json(event))
        self.events_written += 1
        if event.kind is EventKind.JOB_FINISHED:
            self._file.flush()

    def write_report(self, report: JobReport) -> None:
        """End the trace with the report line and flush.

        Args:
            report: The report the run returned.
        """
        self._ensure_header(job_metadata(report.events))
        self._write(report_to_json(report))
        self._file.flush()

    def flush(self) -> None:
        """Flush what was written so far to the file."""
        self._file.flush()

    def close(self) -> None:
        """Flush, and close the file if the writer opened it."""
        if self._closed:
            return
        self._ensure_header({})
        self._file.flush()
        self._closed = True
        if self._owned:
            self._file.close()

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
