"""The state of one evaluation, shared by the compiled functions."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ._errors import MAX_MEMORY, MemoryFault

__all__ = ["Function", "State"]


class State:
    """What one evaluation carries: the contexts and the memory used so far."""

    __slots__ = ("contexts", "used")

    def __init__(self, contexts: Mapping[str, object]) -> None:
        self.contexts = contexts
        self.used = 0

    def charge(self, length: int) -> None:
        """Account for a new string of ``length`` characters (GitHub's sizes).

        Raises:
            MemoryFault: The evaluation used more than its memory budget.
        """
        self.used += 26 + 2 * length
        if self.used > MAX_MEMORY:
            raise MemoryFault

    def room(self) -> int:
        """Return how many characters one more string may have."""
        return max(0, (MAX_MEMORY - self.used - 26) // 2)


#: A compiled node: evaluates to a value in a given state.
Function = Callable[[State], object]
