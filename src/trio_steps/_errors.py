"""The errors trio_steps raises for bad input."""

from __future__ import annotations

from collections.abc import Iterable

from ._face import public

__all__ = ["JobDefinitionError"]


class JobDefinitionError(ValueError):
    """A job breaks a rule of rules §7; nothing of it ran.

    Attributes:
        problems: Every problem found, each naming the step and what is wrong.
    """

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            message = f"{len(self.problems)} problems in the job definition:\n{lines}"
        super().__init__(message)


public(JobDefinitionError)
