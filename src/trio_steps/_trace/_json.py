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
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import attrs

from .._events import Event, EventKind
from .._face import public
from .._results import CaseInsensitiveMapping, JobReport, Result, StepReport

__all__ = ["TRACE_FORMAT", "TRACE_VERSION", "TraceError"]

#: The ``format`` field of every trio_steps trace.
TRACE_FORMAT: Final = "trio-steps-trace"
#: The schema version this module writes and reads.
TRACE_VERSION: Final = 1
#: How deep arrays and objects may nest in an event's data or the header's
#: job (every other field has a fixed shape).
MAX_TRACE_DEPTH: Final = 64
#: The largest time, in seconds, a trace may hold (about 31 million years):
#: differences of times then never overflow to infinity.
MAX_TRACE_TIME: Final = 1e15


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
        if field.name == "never_completed" and not value:
            continue  # only GITHUB_RUNNER sets it (R17.4): older traces match
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
    from .._version import __version__

    return {
        "type": "header",
        "format": TRACE_FORMAT,
        "version": TRACE_VERSION,
        "generator": f"trio_steps {__version__}",
        "job": dict(job),
    }


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
    if name in (
        "background",
        "explicitly_canceled",
        "timed_out",
        "abandoned",
        "never_completed",
    ):
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
    seen: set[str] = set()  # ids casefolded: a set per step made loading quadratic
    for index, item in enumerate(steps_value):
        try:
            step = step_from_json(item)
        except _Invalid as error:
            raise _Invalid(f"steps[{index}]: {error}") from None
        folded = step.id.casefold()
        if folded in seen:
            raise _Invalid(f"steps[{index}]: step id {step.id!r} appears twice")
        seen.add(folded)
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


public(TraceError)
