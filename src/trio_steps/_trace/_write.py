"""Writing trace files: after the job (:func:`write_trace`) or while it runs.

:func:`write_trace` picks the format by the suffix (``.jsonl`` JSON Lines,
``.json`` Chrome trace events); :class:`TraceWriter` is an ``on_event``
subscriber that writes JSON Lines as the job goes, so a trace survives a
crash of the process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, final

from .._events import Event, EventKind
from .._face import public
from .._results import JobReport
from ._chrome import _dump_chrome, chrome_trace
from ._json import _dumps, event_to_json, header_to_json, job_metadata, report_to_json

if TYPE_CHECKING:
    pass

__all__ = ["TraceWriter", "write_trace"]


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


public(TraceWriter, write_trace)
