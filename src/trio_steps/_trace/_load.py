"""Reading trace files back into a :class:`~trio_steps.JobReport`.

:func:`load_trace` reads either format (JSON Lines or Chrome trace events),
within fixed bounds (size, nesting, finite numbers; ``docs/source/limits.rst``),
and rebuilds the report from the events when a live trace has no report.
"""

from __future__ import annotations

import itertools
import json
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final

from .._events import Event, EventKind
from .._face import public
from .._results import CaseInsensitiveMapping, JobReport, Result, StepReport
from ._chrome import CHROME_KEY
from ._json import (
    _STEP_FIELDS,
    TraceError,
    _expect,
    _Invalid,
    _loads,
    _object,
    _result,
    _step_field,
    check_header,
    event_from_json,
    report_from_json,
)

if TYPE_CHECKING:
    pass

__all__ = ["load_trace"]

#: The largest trace file :func:`load_trace` reads, in bytes.
MAX_TRACE_BYTES: Final = 256 * 1024 * 1024

#: How much is read at a time (a pipe or device is never read in one go).
_CHUNK_BYTES: Final = 1024 * 1024


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


def _decode_jsonl(
    path: str | os.PathLike[str], lines: Iterable[tuple[int, str, bool]]
) -> JobReport:
    """Decode JSON Lines given as ``(number, line, ended by a newline)``."""
    events: list[Event] = []
    header_seen = False
    report_value: tuple[int, object] | None = None
    number = 0
    for number, line, complete in lines:
        if not line.strip():
            continue
        try:
            value = _loads(line)
        except json.JSONDecodeError as error:
            if not complete:
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
        line=number + 1,
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


def _numbered(text: str) -> Iterator[tuple[int, str, bool]]:
    """The lines of ``text`` as :func:`_decode_jsonl` takes them."""
    # Only "\n" ends a line: str.splitlines() would also split inside a JSON
    # string holding U+0085, U+2028 or U+2029 (the writer leaves them raw).
    lines = text.split("\n")
    last = lines.pop()
    for number, line in enumerate(lines, 1):
        yield number, line, True
    if last:
        yield len(lines) + 1, last, False


def _too_large(path: str | os.PathLike[str]) -> TraceError:
    return TraceError(
        path,
        f"larger than {MAX_TRACE_BYTES:,} bytes, the limit for a trace; "
        "nothing past the limit was read",
    )


def _chunks(path: str | os.PathLike[str], file: BinaryIO) -> Iterator[bytes]:
    """Read ``file`` in chunks, never past the limit, refusing binary data."""
    total = 0
    newlines = 0
    while chunk := file.read(_CHUNK_BYTES):
        total += len(chunk)
        if total > MAX_TRACE_BYTES:
            raise _too_large(path)
        nul = chunk.find(b"\0")
        if nul >= 0:
            # JSON never holds a raw NUL: this is no trace, whatever follows
            # (/dev/zero ends here, not at the size limit).
            line = newlines + chunk.count(b"\n", 0, nul) + 1
            if total == len(chunk):  # the first chunk: no character cut at its start
                try:
                    chunk[:nul].decode("utf-8")
                except UnicodeDecodeError as error:  # UTF-16, say: say so
                    line = chunk.count(b"\n", 0, error.start) + 1
                    raise TraceError(
                        path, "not UTF-8 text: not a trace file", line=line
                    ) from None
            raise TraceError(
                path, "binary data (a NUL byte): not a trace file", line=line
            )
        newlines += chunk.count(b"\n")
        yield chunk


def _byte_lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Split chunks after each ``\\n`` (kept); the last line may lack it."""
    pieces: list[bytes] = []
    for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            pieces.append(chunk[start : end + 1])
            yield b"".join(pieces)
            pieces.clear()
            start = end + 1
        if start < len(chunk):
            pieces.append(chunk[start:])
    if pieces:
        yield b"".join(pieces)


def _text_lines(
    path: str | os.PathLike[str], lines: Iterable[bytes], first: int = 1
) -> Iterator[tuple[int, str, bool]]:
    """Decode each line as UTF-8, numbered from ``first``."""
    for number, raw in enumerate(lines, first):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise TraceError(
                path, "not UTF-8 text: not a trace file", line=number
            ) from None
        if text.endswith("\n"):
            yield number, text[:-1], True
        else:
            yield number, text, False


def _is_header(line: str) -> bool:
    try:
        value = _loads(line)
    except (json.JSONDecodeError, _Invalid):
        return False
    return isinstance(value, dict) and value.get("type") == "header"


def load_trace(path: str | os.PathLike[str]) -> JobReport:
    """Read a trace file written by :func:`~trio_steps.write_trace` or :class:`TraceWriter`.

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
            version, is truncated or damaged, is larger than 256 MiB (a regular
            file: refused before anything is read), holds a NUL byte, nests
            deeper than 64 levels, or holds ``NaN``, an infinity or a time
            beyond ``1e15``; the message names the file and, where it can,
            the line.
        OSError: The file cannot be read.
    """
    # Non-blocking open: a FIFO nobody writes to reads as empty instead of
    # hanging. A regular file over the limit is refused before it is read;
    # anything else (/dev/zero, a pipe) is read in chunks up to the limit.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    os.set_blocking(fd, True)
    with open(fd, "rb") as file:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_size > MAX_TRACE_BYTES:
            raise _too_large(path)
        return _decode(path, file)


def _decode(path: str | os.PathLike[str], file: BinaryIO) -> JobReport:
    lines = _byte_lines(_chunks(path, file))
    # The first line that is not blank tells the format. JSON Lines are then
    # decoded line by line: the file is never held whole, as bytes or text.
    head: list[bytes] = []
    for raw in lines:
        if not head:
            raw = raw.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark an editor added
        head.append(raw)
        if raw.strip():
            break
    numbered = list(_text_lines(path, head))
    if not numbered or not numbered[-1][1].strip():
        raise TraceError(path, "empty file: not a trace file")
    first = numbered[-1][1]
    if _is_header(first):
        return _decode_jsonl(
            path, itertools.chain(numbered, _text_lines(path, lines, len(head) + 1))
        )
    if first.lstrip()[:1] in ("{", "["):
        # A Chrome trace (or a damaged trace): one JSON document, read whole.
        rest = b"".join(lines)
        try:
            tail = rest.decode("utf-8")
        except UnicodeDecodeError as error:
            line = len(head) + rest[: error.start].count(b"\n") + 1
            raise TraceError(
                path, "not UTF-8 text: not a trace file", line=line
            ) from None
        del rest
        text = "".join(line + "\n" for _, line, _ in numbered[:-1])
        text += first + ("\n" if numbered[-1][2] else "") + tail
        del tail
    else:
        # Neither format can start like this: decode what was read (for the
        # same message as a whole file would give) and read no further.
        text = "".join(line + ("\n" if ended else "") for _, line, ended in numbered)
    if text.lstrip().startswith("{") and '"traceEvents"' in text[:200]:
        return _decode_chrome(path, text)
    if Path(path).suffix.lower() == ".jsonl":
        return _decode_jsonl(path, _numbered(text))
    return _decode_chrome(path, text)


public(load_trace)
