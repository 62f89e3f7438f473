"""Which runner's semantics a job runs under (rules §17)."""

from __future__ import annotations

import enum

from ._face import public

__all__ = ["Semantics", "coerce_semantics"]


class Semantics(enum.Enum):
    """The semantics a job runs under.

    ``TRIO_STEPS`` is this project's (rules §2–§11), the default.
    ``GITHUB_RUNNER`` reproduces GitHub's runner as it is, divergence by
    divergence, defects included where they can be observed (rules §17):
    the engine and the reference model both implement it.
    """

    TRIO_STEPS = "trio-steps"
    GITHUB_RUNNER = "github-runner"

    def __str__(self) -> str:
        return self.value


def coerce_semantics(value: object) -> Semantics:
    """``value`` as a :class:`Semantics`; its ``value`` string is accepted too.

    Raises:
        ValueError: ``value`` names no semantics.
    """
    if isinstance(value, Semantics):
        return value
    if isinstance(value, str):
        try:
            return Semantics(value)
        except ValueError:
            pass
    choices = ", ".join(repr(s.value) for s in Semantics)
    raise ValueError(f"unknown semantics {value!r}; expected one of {choices}")


public(Semantics)
