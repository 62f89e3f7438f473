"""The tail of each step's log that a job's report keeps in memory.

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
import sys
from collections import deque
from typing import TYPE_CHECKING, Final, final

from .._events import EventKind, EventRecord
from .._masking import Masker
from .._results import (
    Result,
)

if TYPE_CHECKING:
    pass

__all__ = [
    "ENTRY_COST",
    "JOB_TAIL_BYTES",
    "LOG_TAIL",
    "STEP_TAIL_BYTES",
    "JobTails",
    "LogEntry",
    "LogTail",
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
