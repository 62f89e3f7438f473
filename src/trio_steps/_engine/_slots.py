"""Slots and the FIFO queue of launched background steps (R4.2, I2, I3).

Launched steps that find no free slot wait as plain records in a deque, not
as parked tasks: a queued step costs a few hundred bytes, and stopping one is
marking its record (R6.3). A task is started only when a slot is granted.
Slots are tokens of a :class:`trio.CapacityLimiter` borrowed on behalf of the
step record, so ``statistics()`` shows who holds them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar, final

import trio

__all__ = ["Slots"]


class _Queued(Protocol):
    @property
    def queued(self) -> bool: ...


R = TypeVar("R", bound=_Queued)


@final
class Slots(Generic[R]):
    """Grants ``limit`` slots to launched records in launch order."""

    __slots__ = ("_limiter", "_queue", "_start")

    def __init__(self, limit: int, start: Callable[[R], None]) -> None:
        self._limiter = trio.CapacityLimiter(limit)
        self._queue: deque[R] = deque()
        self._start = start

    @property
    def limiter(self) -> trio.CapacityLimiter:
        """The limiter whose tokens are the slots."""
        return self._limiter

    def launch(self, record: R) -> bool:
        """Start ``record`` now if a slot is free, else queue it.

        A free slot implies that no live record is queued: releasing a slot
        always hands it to the first live queued record.

        Returns:
            Whether it got a slot at once.
        """
        if self._limiter.available_tokens:
            self._limiter.acquire_on_behalf_of_nowait(record)
            self._start(record)
            return True
        self._queue.append(record)
        return False

    def release(self, record: R) -> None:
        """Give ``record``'s slot back and hand it to the next queued record.

        Records that stopped being ``queued`` while in the queue (they were
        cancelled there) are skipped.
        """
        self._limiter.release_on_behalf_of(record)
        queue = self._queue
        while queue and self._limiter.available_tokens:
            following = queue.popleft()
            if following.queued:
                self._limiter.acquire_on_behalf_of_nowait(following)
                self._start(following)
