"""What a job leaves behind: its events, its steps' logs and its report.

:class:`Recorder` keeps the job's events (flat tuples, sealed in chunks),
delivers them to ``on_event``, writes the ``log_dir`` files, masks what it
keeps, and builds the :class:`~trio_steps.StepReport` and
:class:`~trio_steps.JobReport` from the engine's records.

Every log line is delivered live (``on_event``, the command line's output,
``log_dir`` files); the report keeps only a tail of each step's log, as
:attr:`StepReport.log <trio_steps.StepReport.log>` and as the report's
``step-output`` events. The tail is bounded three ways, oldest lines dropped
first: :data:`LOG_TAIL` lines and :data:`STEP_TAIL_BYTES` per step, and
:data:`JOB_TAIL_BYTES` for the whole job (then the oldest lines of the job,
whichever steps printed them). A line costs the memory of its text
(:func:`sys.getsizeof`) plus :data:`ENTRY_COST` bytes of bookkeeping, so
many short lines are bounded as well as a few long ones.
"""

from __future__ import annotations

import heapq
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final, final

import trio

from .._events import Event, EventKind, EventLog, EventRecord, event_from_record
from .._masking import Masker
from .._results import CaseInsensitiveMapping, JobReport, Result, StepReport

if TYPE_CHECKING:
    from ._records import _Record

__all__ = [
    "ENTRY_COST",
    "JOB_TAIL_BYTES",
    "LOG_TAIL",
    "STEP_TAIL_BYTES",
    "JobTails",
    "LogEntry",
    "LogTail",
    "Recorder",
]

#: How many of its last log lines a step keeps in memory.
LOG_TAIL: Final = 1000
#: How many bytes of its last log lines a step keeps in memory.
STEP_TAIL_BYTES: Final = 1 << 20
#: How many bytes of log lines a whole job keeps in memory.
JOB_TAIL_BYTES: Final = 64 << 20
#: The bytes counted for one kept line besides its text: the entry tuple,
#: its two times and two counters.
ENTRY_COST: Final = 208

#: One line of a step's log: (events emitted before it, output number, time,
#: wall time, line, stream). Flat, so that it holds no tracked object.
LogEntry = tuple[int, int, float, float, str, str]


def _cost(entry: LogEntry) -> int:
    return sys.getsizeof(entry[4]) + ENTRY_COST


@final
class LogTail:
    """The kept tail of one step's log.

    Attributes:
        entries: The kept lines, oldest first: a deque while lines may come,
            a tuple once the step finished (flat tuples of atoms, which the
            collector stops tracking, so finished steps cost full
            collections nothing).
        size: The bytes the kept lines are counted as.
        dropped: How many of the step's lines were dropped from the tail.
    """

    __slots__ = ("dropped", "entries", "size")

    def __init__(self) -> None:
        self.entries: deque[LogEntry] | tuple[LogEntry, ...] = deque()
        self.size = 0
        self.dropped = 0

    def lines(self) -> tuple[str, ...]:
        """The kept lines' text, oldest first."""
        return tuple(entry[4] for entry in self.entries)

    def freeze(self) -> None:
        """The step has finished: keep the entries as a tuple."""
        if not isinstance(self.entries, tuple):
            self.entries = tuple(self.entries)

    def _live(self) -> deque[LogEntry]:
        entries = self.entries
        if isinstance(entries, tuple):
            # A line after the step finished (an abandoned step, R6.4).
            entries = self.entries = deque(entries)
        return entries


@final
class JobTails:
    """Keeps every step's tail within the per-step and per-job bounds.

    Args:
        step_bytes: The bytes one step may keep.
        job_bytes: The bytes the whole job may keep.
        lines: The lines one step may keep.
    """

    __slots__ = ("_job_bytes", "_lines", "_step_bytes", "_tails", "size")

    def __init__(
        self,
        *,
        step_bytes: int = STEP_TAIL_BYTES,
        job_bytes: int = JOB_TAIL_BYTES,
        lines: int = LOG_TAIL,
    ) -> None:
        self._step_bytes = step_bytes
        self._job_bytes = job_bytes
        self._lines = lines
        self._tails: list[LogTail] = []
        #: The bytes all kept lines are counted as.
        self.size = 0

    def new(self) -> LogTail:
        """A tail for a step's first line."""
        tail = LogTail()
        self._tails.append(tail)
        return tail

    def add(self, tail: LogTail, entry: LogEntry) -> None:
        """Keep ``entry`` at the end of ``tail``; drop the oldest lines past a bound."""
        entries = tail._live()
        cost = _cost(entry)
        entries.append(entry)
        tail.size += cost
        self.size += cost
        while entries and (len(entries) > self._lines or tail.size > self._step_bytes):
            freed = _cost(entries.popleft())
            tail.size -= freed
            self.size -= freed
            tail.dropped += 1
        if self.size > self._job_bytes:
            self._trim()

    def _trim(self) -> None:
        """Drop the job's oldest lines until it keeps 7/8 of its bound.

        The margin makes the work amortised: a trim drops at least an eighth
        of the bound, and a finished step's tuple is rebuilt once per trim.
        """
        target = self._job_bytes - self._job_bytes // 8
        # The oldest kept line of each tail, by output number.
        heap = [
            (tail.entries[0][1], index)
            for index, tail in enumerate(self._tails)
            if tail.entries
        ]
        heapq.heapify(heap)
        cut: dict[int, int] = {}
        while heap and self.size > target:
            _, index = heap[0]
            tail = self._tails[index]
            position = cut.get(index, 0)
            freed = _cost(tail.entries[position])
            tail.size -= freed
            self.size -= freed
            tail.dropped += 1
            position += 1
            cut[index] = position
            if position < len(tail.entries):
                heapq.heapreplace(heap, (tail.entries[position][1], index))
            else:
                heapq.heappop(heap)
        for index, count in cut.items():
            tail = self._tails[index]
            entries = tail.entries
            if isinstance(entries, tuple):
                tail.entries = entries[count:]
            else:
                for _ in range(count):
                    entries.popleft()


_Data = tuple[tuple[str, object], ...]
_KIND_TEXT: dict[EventKind, str] = {kind: kind.value for kind in EventKind}
_STARTED: dict[str, _Data] = {
    kind: (("kind", kind),)
    for kind in ("run", "wait", "wait-all", "cancel", "implicit-wait-all")
}
_FINISHED: dict[tuple[Result, Result], _Data] = {
    (o, c): (("outcome", o.name), ("conclusion", c.name))
    for o in Result
    for c in Result
}


_EVENT_CHUNK: Final = 1024


def _output_record(
    step_id: str, now: float, wall: float, line: str, stream: str
) -> EventRecord:
    """The ``step-output`` event of one log line."""
    return ("step-output", step_id, now, wall, (("line", line), ("stream", stream)))


#: The fields of event data that hold free text (the others are names of
#: results, kinds, signals and step ids, which a short mask must not break).
_FREE_TEXT: Final = frozenset({"line", "name"})


def _masked_record(record: EventRecord, masker: Masker) -> EventRecord:
    """``record`` with the free text of its data masked."""
    kind, step_id, now, wall, data = record
    if not any(key in _FREE_TEXT for key, _ in data):
        return record
    masked = tuple(
        (
            key,
            masker.mask(value)
            if key in _FREE_TEXT and isinstance(value, str)
            else value,
        )
        for key, value in data
    )
    return (kind, step_id, now, wall, masked)


@final
class Recorder:
    """The job's events, its steps' logs and its report.

    Args:
        records: The engine's records, in plan order (read, never changed).
        masker: The job's masked values (shared with the executors).
        on_event: See :class:`~trio_steps.JobRunner`.
        log_dir: See :class:`~trio_steps.JobRunner`.
    """

    __slots__ = (
        "_events",
        "_log_dir",
        "_masker_version",
        "_on_event",
        "_output_seq",
        "_records",
        "_sealed",
        "_tails",
        "masker",
        "now",
        "on_event_error",
    )

    def __init__(
        self,
        records: list[_Record],
        masker: Masker,
        *,
        on_event: Callable[[Event], object] | None,
        log_dir: str | os.PathLike[str] | None,
    ) -> None:
        self._records = records
        self.masker = masker
        # Events recorded while the masker had only the job's secrets need
        # no second pass when the report is built (see all_events).
        self._masker_version = masker.version
        self._on_event = on_event
        #: What ``on_event`` raised, if it did (it is not called again).
        self.on_event_error: Exception | None = None
        self._log_dir = Path(log_dir) if log_dir is not None else None
        # Events as flat tuples: the newest in ``_events``, older ones sealed
        # into tuples of _EVENT_CHUNK (see emit).
        self._events: list[EventRecord] = []
        self._sealed: list[tuple[EventRecord, ...]] = []
        self._output_seq = 0
        self._tails = JobTails()
        #: The Trio clock's reading, bound once (read for every event).
        self.now: Callable[[], float] = trio.current_time

    # -------------------------------------------------------------- events

    def emit(self, kind: EventKind, step_id: str | None, data: _Data = ()) -> None:
        """Record an event and deliver it to ``on_event``."""
        # A plain str keeps the tuple free of tracked objects.
        event: EventRecord = (_KIND_TEXT[kind], step_id, self.now(), time.time(), data)
        events = self._events
        events.append(event)
        if len(events) >= _EVENT_CHUNK:
            # A full collection visits every item of a list, but never looks
            # inside a tuple of untracked tuples: sealed chunks keep a big
            # job's events out of the collector's way.
            self._sealed.append(tuple(events))
            events.clear()
        if self._on_event is not None:
            self._deliver(event)

    def _event_count(self) -> int:
        return len(self._sealed) * _EVENT_CHUNK + len(self._events)

    def _deliver(self, record: EventRecord) -> None:
        assert self._on_event is not None
        try:
            self._on_event(event_from_record(record))
        except Exception as exc:
            self.on_event_error = exc
            self._on_event = None

    # ---------------------------------------------------------------- logs

    def output(self, r: _Record, line: str, stream: str) -> None:
        """Record one line of the step's log: tail, event, log file."""
        line = self.masker.mask(line)
        now, wall = self.now(), time.time()
        log = r.log
        if log is None:
            log = r.log = self._tails.new()
        self._output_seq += 1
        self._tails.add(
            log, (self._event_count(), self._output_seq, now, wall, line, stream)
        )
        if self._on_event is not None:
            self._deliver(_output_record(r.plan.id, now, wall, line, stream))
        if self._log_dir is not None:  # after: a failure line comes next
            self._write_log_file(r, line)

    def log(self, r: _Record, line: str) -> None:
        """Record a line of the engine's own in the step's log."""
        self.output(r, line, "log")

    def step_done(self, r: _Record) -> None:
        """The step has finished: close its log file, freeze its tail."""
        # Closed (and flushed) now: a write failure is still this step's line.
        self.close_log_file(r)
        if r.log is not None:
            r.log.freeze()

    def _write_log_file(self, r: _Record, line: str) -> None:
        assert self._log_dir is not None
        try:
            if r.log_file is None:
                self._log_dir.mkdir(parents=True, exist_ok=True)
                r.log_file = open(  # noqa: SIM115 - closed when the step ends
                    self._log_dir / f"{r.plan.id}.log",
                    "a",
                    encoding="utf-8",
                    errors="backslashreplace",
                )
            r.log_file.write(line + "\n")
        except OSError as exc:
            self._log_files_failed(r, exc)

    def close_log_file(self, r: _Record, *, report: bool = True) -> None:
        """Close the step's log file, if it has one.

        Args:
            r: The step.
            report: Whether a failure to close it is logged (it is not once
                the job has finished).
        """
        log_file = r.log_file
        if log_file is None:
            return
        r.log_file = None
        try:
            log_file.close()  # closes the file even when the flush fails
        except OSError as exc:
            if report:
                self._log_files_failed(r, exc)

    def _log_files_failed(self, r: _Record, exc: OSError) -> None:
        """Stop writing log files after the first failure; the job goes on.

        A full disk, a removed or read-only folder: the step's log line says
        so once, and the events (and so the trace) keep every line.
        """
        log_dir = self._log_dir
        if log_dir is None:
            return
        self._log_dir = None
        for other in self._records:
            self.close_log_file(other, report=False)
        self.log(
            r,
            f"Cannot write the log file {log_dir / f'{r.plan.id}.log'}: "
            f"{exc.strerror or exc}; no more logs are written to {log_dir}",
        )

    # ------------------------------------------------------------- reports

    def report(
        self,
        *,
        result: Result,
        env: Mapping[str, str],
        path: tuple[str, ...],
        finished: bool,
    ) -> JobReport:
        """The job's report, masked, from the records as they are now.

        Args:
            result: The job's result so far.
            env: The job env.
            path: The job path.
            finished: Whether the job has ended (the step reports are then
                made when read: they no longer change).
        """
        records = self._records
        steps: Mapping[str, StepReport]
        if finished:
            steps = CaseInsensitiveMapping.lazy(
                {r.plan.id: r for r in records}, self.step_report
            )
        else:
            steps = CaseInsensitiveMapping(
                {r.plan.id: self.step_report(r) for r in records}
            )
        masker = self.masker
        if masker:
            # A report never holds a secret (docs/source/cli.rst): the steps
            # got the real values, the report gets them masked.
            env = {name: masker.mask(value) for name, value in env.items()}
            path = tuple(map(masker.mask, path))
        return JobReport(
            result=result,
            steps=steps,
            events=self.all_events(),
            env=env,
            path=path,
            finished=finished,
        )

    def step_report(self, r: _Record) -> StepReport:
        """The report of one step, masked with every value known now."""
        outputs: Mapping[str, str]
        if r.outputs is not None:
            outputs = r.outputs
        elif r.run is not None:
            outputs = dict(r.run.outputs)
        elif r.produced is not None:
            outputs = r.produced[0]
        else:
            outputs = {}
        masker = self.masker
        name, error = r.name, r.error
        log = r.log.lines() if r.log is not None else ()
        if masker:
            # Masked again with the values known now: a value added by
            # ``::add-mask::`` after a line was recorded is masked here too.
            mask = masker.mask
            name = mask(name)
            outputs = {key: mask(value) for key, value in outputs.items()}
            if error is not None:
                error = mask(error)
            if self._masker_version != masker.version:
                log = tuple(map(mask, log))
        return StepReport(
            id=r.plan.id,
            name=name,
            kind=r.plan.kind,
            background=r.plan.background,
            group=r.plan.group,
            outcome=r.outcome,
            conclusion=r.conclusion,
            outputs=outputs,
            log=log,
            log_dropped=r.log.dropped if r.log is not None else 0,
            queued_at=r.queued_at,
            started_at=r.started_at,
            finished_at=r.finished_at,
            completed_by=r.completed_by,
            explicitly_canceled=r.explicitly_canceled,
            timed_out=r.timed_out,
            abandoned=r.abandoned,
            never_completed=r.never_completed,
            exit_code=r.exit_code,
            error=error,
        )

    def all_events(self) -> EventLog:
        """Every kept event in order: output tails merged back in place."""
        tails: list[tuple[LogEntry, str]] = [
            (entry, r.plan.id)
            for r in self._records
            if r.log is not None
            for entry in r.log.entries
        ]
        events = [event for chunk in self._sealed for event in chunk]
        events += self._events
        masker = self.masker
        if self._masker_version != masker.version:
            # Values added while the job ran are masked in the earlier events
            # too, so that a trace of the job can be shared.
            events = [_masked_record(event, masker) for event in events]
            tails = [
                ((b, n, t, w, masker.mask(line), stream), step_id)
                for (b, n, t, w, line, stream), step_id in tails
            ]
        if not tails:
            return EventLog(events)
        tails.sort(key=lambda tail: (tail[0][0], tail[0][1]))
        merged: list[EventRecord] = []
        position = 0
        for (before, _, now, wall, line, stream), step_id in tails:
            if before > position:
                merged.extend(events[position:before])
                position = before
            merged.append(_output_record(step_id, now, wall, line, stream))
        merged.extend(events[position:])
        return EventLog(merged)
