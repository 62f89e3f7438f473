"""The state of one evaluation, shared by the compiled functions.

It is a two-item list, ``[contexts, bytes_used]``: creating a list is several
times cheaper than creating an object, and one is created per evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._errors import MAX_MEMORY, MemoryFault

__all__ = ["CONTEXTS", "Function", "State", "charge", "new_state", "room"]

#: ``[contexts, bytes_used]``.
State = list[Any]

#: Index of the contexts mapping in a state (for readers; hot code writes 0).
CONTEXTS = 0
_USED = 1

#: A compiled node: evaluates to a value in a given state.
Function = Callable[[State], object]


def new_state(contexts: Mapping[str, object]) -> State:
    """Return the state of a new evaluation."""
    return [contexts, 0]


def charge(state: State, length: int) -> None:
    """Account for a new string of ``length`` characters (GitHub's sizes).

    Raises:
        MemoryFault: The evaluation used more than its memory budget.
    """
    used: int = state[_USED] + 26 + 2 * length
    state[_USED] = used
    if used > MAX_MEMORY:
        raise MemoryFault


def room(state: State) -> int:
    """Return how many characters one more string may have."""
    used: int = state[_USED]
    return max(0, (MAX_MEMORY - used - 26) // 2)
