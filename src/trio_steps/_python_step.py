"""The executor for steps whose ``run`` is an async Python callable."""

from __future__ import annotations

import inspect
from types import CoroutineType

import trio

from ._context import StepContext, StepFailed, StepRun

__all__ = ["run_python"]


async def run_python(run: StepRun) -> None:
    """Run a Python step in its own nursery until it and its tasks end.

    Raises:
        StepFailed: The callable did not return an awaitable.
        Exception: Whatever the step raised (the engine makes it ``FAILED``).
    """
    function = run.step.run
    assert not isinstance(function, str)
    async with trio.open_nursery() as nursery:
        awaitable = function(StepContext(run, nursery))
        if type(awaitable) is not CoroutineType and not inspect.isawaitable(awaitable):
            raise StepFailed(
                f"the step function {run.name!r} returned "
                f"{type(awaitable).__name__}, not an awaitable: use 'async def'"
            )
        await awaitable
