"""``hashFiles()`` off the event loop: a worker thread that stops when told.

Hashing walks the workspace and reads every matched file: unbounded work
that, run in the loop, held up every step and ignored Ctrl-C and timeouts.
The engine evaluates expressions with ``hashFiles()`` deferred
(:func:`~trio_steps.expressions._hashfiles.deferred_hash_files`), computes
each call here, and evaluates again.
"""

from __future__ import annotations

import threading

import trio

from ..expressions._errors import Fault
from ..expressions._hashfiles import HashFilesStopped, HashKey, hash_files

__all__ = ["hash_files_in_thread"]


async def hash_files_in_thread(key: HashKey) -> str | Fault:
    """Compute one ``hashFiles()`` call in a worker thread.

    Cancellable: on cancellation the thread is told to stop, and this
    returns (raising :class:`trio.Cancelled`) only once it has stopped, which
    it does at its next file, directory entry or 1 MiB chunk. No thread
    outlives the call.

    Args:
        key: The call's patterns and workspace.

    Returns:
        The hash, or the :class:`Fault` the call raised (to raise again
        where the expression is evaluated).
    """
    while True:
        stop = threading.Event()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_stop_when_cancelled, stop)
            try:
                # Not abandoned on cancel: the thread is waited for, and the
                # task above sets ``stop`` when the cancellation arrives.
                result = await trio.to_thread.run_sync(_hash, key, stop)
            finally:
                nursery.cancel_scope.cancel()
        if result is not None:
            return result
        # Stopped: the cancellation is delivered here (should it have been
        # withdrawn meanwhile, the call is computed again).
        await trio.lowlevel.checkpoint()


async def _stop_when_cancelled(stop: threading.Event) -> None:
    try:
        await trio.sleep_forever()
    finally:
        stop.set()


def _hash(key: HashKey, stop: threading.Event) -> str | Fault | None:
    patterns, workspace = key
    try:
        return hash_files(patterns, workspace, stop.is_set)
    except Fault as fault:
        return fault
    except HashFilesStopped:
        return None
