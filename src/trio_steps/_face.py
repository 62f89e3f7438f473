"""Public names show their public path (``trio_steps.Job``), as trio's do."""

from __future__ import annotations

__all__ = ["public"]


def public(*objects: object) -> None:
    """Set ``__module__`` of classes and functions the package exports.

    Called by each defining module at its end, so that a name reads the
    same (in ``repr``, tracebacks, pickles and the docs) whichever way it
    was imported.
    """
    for obj in objects:
        obj.__module__ = "trio_steps"
