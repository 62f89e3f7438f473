"""The executor for steps whose ``run`` is an async Python callable."""

from __future__ import annotations

import inspect
import os
import traceback
from collections.abc import Awaitable, Callable
from types import CoroutineType, TracebackType
from typing import Final

import trio

from .._context import StepContext, StepFailed, StepRun

__all__ = ["run_python", "traceback_lines"]

#: Frames of trio_steps itself are left out of the start of a traceback.
_PACKAGE: Final = os.path.dirname(os.path.abspath(__file__)) + os.sep


async def run_python(
    run: StepRun, function: Callable[[StepContext], Awaitable[object]]
) -> None:
    """Run a Python step in its own nursery until it and its tasks end.

    When the step raises, its traceback is written to the step log first
    (one line per log line), so that it can be debugged from the report,
    the events, the log files or the command line's output.

    Args:
        run: The step's record: what it sees, and where results go.
        function: The step's ``run``, called with its :class:`StepContext`.

    Raises:
        StepFailed: The callable did not return an awaitable.
        Exception: Whatever the step raised (the engine makes it ``FAILED``).
    """
    try:
        async with trio.open_nursery() as nursery:
            awaitable = function(StepContext(run, nursery))
            if type(awaitable) is not CoroutineType and not inspect.isawaitable(
                awaitable
            ):
                raise StepFailed(
                    f"the step function {run.name!r} returned "
                    f"{type(awaitable).__name__}, not an awaitable: use 'async def'"
                )
            await awaitable
    except Exception as exc:
        for line in traceback_lines(exc):
            run.output(line, "log")
        raise


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _user_frames(tb: TracebackType | None) -> TracebackType | None:
    """``tb`` without its leading frames in trio_steps (all of it if only those)."""
    start = tb
    while start is not None and start.tb_frame.f_code.co_filename.startswith(_PACKAGE):
        start = start.tb_next
    return start if start is not None else tb


def traceback_lines(exc: BaseException) -> list[str]:
    """The formatted traceback of each exception in ``exc``, as log lines.

    Exception groups (a nursery's) are flattened: each leaf gets its own
    ``Traceback (most recent call last):`` block, with its chained causes.
    A :class:`StepFailed` leaf is a message of ours, not a bug: it has none.
    """
    lines: list[str] = []
    for leaf in _leaves(exc):
        if isinstance(leaf, StepFailed):
            continue
        formatted = traceback.format_exception(
            type(leaf), leaf, _user_frames(leaf.__traceback__)
        )
        lines.extend("".join(formatted).splitlines())
    return lines
