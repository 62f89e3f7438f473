"""Which runner's semantics a job runs under (rules §17)."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from ._face import public

if TYPE_CHECKING:
    from ._job import PlannedStep

__all__ = ["Semantics", "coerce_semantics", "targets_matching_case"]


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


def targets_matching_case(planned: PlannedStep) -> tuple[str, ...]:
    """The targets of a ``wait``/``cancel`` written exactly as declared.

    GitHub's runner looks them up with case (R17.9): a target written in
    another case is unknown to it.
    """
    if not planned.written:
        return planned.targets
    return tuple(
        target
        for target, written in zip(planned.targets, planned.written, strict=True)
        if target == written
    )


public(Semantics)
