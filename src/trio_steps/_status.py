"""What a condition sees: the job status, visible steps and env (rules §3)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Protocol, final

import attrs

from ._errors import JobDefinitionError
from ._face import public
from ._results import Result

if TYPE_CHECKING:
    from .expressions import CompiledExpression

__all__ = [
    "Condition",
    "Status",
    "StepView",
    "StepsView",
    "always",
    "cancelled",
    "failure",
    "success",
]

_NO_OUTPUTS: Mapping[str, str] = MappingProxyType({})


@attrs.frozen(kw_only=True)
class StepView:
    """What later steps can see of a published step (rules R4.1, R5.2).

    Attributes:
        outputs: The outputs it set.
        outcome: Its result before ``continue-on-error``.
        conclusion: Its result after ``continue-on-error``.
    """

    outputs: Mapping[str, str] = _NO_OUTPUTS
    outcome: Result
    conclusion: Result


class Published(Protocol):
    """An entry of the published-steps table (see :class:`StepsView`)."""

    @property
    def published_seq(self) -> int:
        """The publication number; entries are published once."""
        ...

    @property
    def declared_id(self) -> str:
        """The id as declared."""
        ...

    def view(self) -> StepView:
        """What later steps see of it."""
        ...


@final
class StepsView(Mapping[str, StepView]):
    """A read-only, case-insensitive view of the steps published so far.

    Publishing only ever adds entries, each once, so a snapshot is the live
    table plus the publication number it was taken at: taking one costs
    nothing however many steps the job has.
    """

    __slots__ = ("_entries", "_upto")

    def __init__(self, entries: Mapping[str, Published], upto: int) -> None:
        self._entries = entries
        self._upto = upto

    @property
    def upto(self) -> int:
        """How many publications the view shows (the first ``upto``)."""
        return self._upto

    def __getitem__(self, key: str) -> StepView:
        if not isinstance(key, str):
            raise KeyError(key)
        entry = self._entries.get(key.casefold())
        if entry is None or entry.published_seq > self._upto:
            raise KeyError(key)
        return entry.view()

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        entry = self._entries.get(key.casefold())
        return entry is not None and entry.published_seq <= self._upto

    def __iter__(self) -> Iterator[str]:
        for entry in list(self._entries.values()):
            if entry.published_seq <= self._upto:
                yield entry.declared_id

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"StepsView({dict(self.items())!r})"


_EMPTY_STEPS = StepsView({}, 0)
_EMPTY_ENV: Mapping[str, str] = MappingProxyType({})


@attrs.frozen(kw_only=True)
class Status:
    """What a step's condition receives when its turn comes (rules R3.3).

    Attributes:
        job_status: The job result so far (``SUCCEEDED`` when nothing was
            merged yet; ``CANCELED`` once the job was cancelled).
        steps: The steps this step may see, by id (case-insensitive).
        env: The environment this step would run with.
    """

    job_status: Result = Result.SUCCEEDED
    steps: Mapping[str, StepView] = _EMPTY_STEPS
    env: Mapping[str, str] = _EMPTY_ENV


def success(status: Status) -> bool:
    """True while the job has neither failed nor been cancelled (R3.2)."""
    return status.job_status in (Result.SUCCEEDED, Result.SUCCEEDED_WITH_ISSUES)


def failure(status: Status) -> bool:
    """True when the job status is ``FAILED`` (R3.2)."""
    return status.job_status is Result.FAILED


def cancelled(status: Status) -> bool:
    """True once the job was cancelled (R3.2, R6.1)."""
    return status.job_status is Result.CANCELED


def always(status: Status) -> bool:
    """Always true (R3.2)."""
    return True


Condition = Callable[[Status], bool] | str | None
"""What ``Step(condition=…)`` accepts."""

#: The contexts an expression condition or ``${{ }}`` may name (rules §14).
CONTEXT_NAMES: Final = (
    "steps",
    "env",
    "job",
    "github",
    "runner",
    "vars",
    "secrets",
    "inputs",
    # A job of a workflow (R15.6); empty in a job run alone.
    "needs",
    "matrix",
    "strategy",
)


def compile_condition(text: str, where: str) -> CompiledExpression:
    """Parse an expression condition, or raise :class:`JobDefinitionError`."""
    try:
        from .expressions import ExpressionError
        from .expressions import compile_condition as _compile
    except ImportError:  # pragma: no cover - the subpackage ships with us
        raise JobDefinitionError(
            f"{where}: expression conditions are not available"
        ) from None
    try:
        return _compile(text, names=CONTEXT_NAMES)
    except ExpressionError as exc:
        raise JobDefinitionError(f"{where}: invalid condition: {exc}") from None


public(Status, StepView, always, cancelled, failure, success)
