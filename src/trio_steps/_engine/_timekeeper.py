"""Timed decisions, applied one at a time after each instant settles.

See ``docs/source/timing.rst``: at every instant the engine first lets all
natural activity run until every task is blocked, then applies the pending
decisions that are due — step timeouts, giving up on stopped steps (R6.4),
the job timeout, cancel requests — one at a time in the order they were
registered, letting things settle after each. That makes the outcome of
simultaneous events independent of Trio's scheduling order, which is what
makes a job on a ``MockClock`` give the same report in every run (I10).

On any clock but Trio's real one (a ``MockClock``), the engine also hands
the ends of step code to the timekeeper, as a decision that comes before
every other decision of its instant (``first=True``): the code ends of one
instant are then handled together, in plan order, once every task has
blocked, so the same job gives the same events in the same order in every
run (rules R18.8).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import final

import trio

__all__ = ["Timekeeper", "Timer"]

# Not from trio.testing: importing that pulls in pytest where it is
# installed, and an import inside the loop (at the first timed decision)
# stalled every step for 130-350 ms. The function lives in trio's core.
try:
    from trio._core._run import wait_all_tasks_blocked
except ImportError:  # pragma: no cover - a trio that moved it
    from trio.testing import wait_all_tasks_blocked

try:
    from trio._core._run import SystemClock as _SystemClock
except ImportError:  # pragma: no cover - a trio that moved it
    _SystemClock = None  # type: ignore[assignment,misc]

#: On a real clock, how long to wait for the other tasks to block before
#: applying a decision anyway (a step that never blocks cannot hold up a
#: cancellation). On a ``MockClock`` idleness is always detected first.
SETTLE_LIMIT = 0.05


@final
class Timer:
    """A pending decision; :meth:`cancel` withdraws it."""

    __slots__ = ("action", "alive", "due", "rank", "seq")

    def __init__(
        self, due: float, seq: int, action: Callable[[], object], rank: int = 1
    ) -> None:
        self.due = due
        self.rank = rank
        self.seq = seq
        self.action = action
        self.alive = True

    def __lt__(self, other: Timer) -> bool:
        return (self.due, self.rank, self.seq) < (other.due, other.rank, other.seq)

    def cancel(self) -> None:
        """Withdraw the decision if it has not been applied yet."""
        self.alive = False


def is_real_clock(clock: trio.abc.Clock) -> bool:
    """Whether ``clock`` is Trio's own, real clock (R18.8 applies to others)."""
    return _SystemClock is not None and type(clock) is _SystemClock


async def settle() -> None:
    """Return once every other task is blocked (bounded on a real clock)."""
    with trio.move_on_after(SETTLE_LIMIT):
        await wait_all_tasks_blocked()


@final
class Timekeeper:
    """Applies timed decisions in a deterministic order (see module doc)."""

    __slots__ = ("_heap", "_seq", "_sleeper")

    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._seq = 0
        self._sleeper: trio.CancelScope | None = None

    def at(
        self, due: float, action: Callable[[], object], *, first: bool = False
    ) -> Timer:
        """Register ``action`` to be applied at the instant ``due``.

        ``first``: before the decisions of that instant that are not.
        """
        self._seq += 1
        timer = Timer(due, self._seq, action, 0 if first else 1)
        heapq.heappush(self._heap, timer)
        sleeper = self._sleeper
        if sleeper is not None and due < sleeper.deadline:
            sleeper.deadline = due
        return timer

    def _next_due(self) -> float:
        heap = self._heap
        while heap and not heap[0].alive:
            heapq.heappop(heap)
        return heap[0].due if heap else math.inf

    async def run(self) -> None:
        """Apply decisions as they fall due, forever (cancel to stop)."""
        while True:
            with trio.CancelScope(deadline=self._next_due()) as sleeper:
                self._sleeper = sleeper
                await trio.sleep_forever()
            self._sleeper = None
            while self._next_due() <= trio.current_time():
                await settle()
                if self._next_due() > trio.current_time():
                    break
                timer = heapq.heappop(self._heap)
                timer.alive = False
                timer.action()
