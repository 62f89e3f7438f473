"""Results, their merge rule, and the frozen reports a job produces."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, final

import attrs

from ._face import public

if TYPE_CHECKING:
    from ._events import Event

__all__ = [
    "CaseInsensitiveMapping",
    "JobReport",
    "Result",
    "StepReport",
    "merge_results",
]


class Result(enum.IntEnum):
    """The result of a step or of a job, ordered as GitHub's runner orders them.

    The order matters for :func:`merge_results`: of two non-sticky results the
    larger one wins.
    """

    SUCCEEDED = 0
    SUCCEEDED_WITH_ISSUES = 1
    FAILED = 2
    CANCELED = 3
    SKIPPED = 4
    ABANDONED = 5

    @property
    def github(self) -> str:
        """The word GitHub shows for this result (``success``, ``failure``, …)."""
        return _GITHUB_NAMES[self]

    def __str__(self) -> str:
        return self.github


_GITHUB_NAMES = {
    Result.SUCCEEDED: "success",
    Result.SUCCEEDED_WITH_ISSUES: "success",
    Result.FAILED: "failure",
    Result.CANCELED: "cancelled",
    Result.SKIPPED: "skipped",
    Result.ABANDONED: "cancelled",
}

_STICKY = frozenset({Result.CANCELED, Result.SKIPPED, Result.ABANDONED})


def merge_results(current: Result | None, coming: Result) -> Result:
    """Merge a coming result into the current one (rules R2.1).

    ``CANCELED``, ``SKIPPED`` and ``ABANDONED`` are sticky once they are the
    current result; otherwise the larger of the two wins. The rule is not
    commutative: ``merge_results(SKIPPED, FAILED)`` is ``SKIPPED`` but
    ``merge_results(FAILED, SKIPPED)`` is ``SKIPPED`` too, while
    ``merge_results(SUCCEEDED, FAILED)`` is ``FAILED``.

    Args:
        current: The result so far, or ``None`` when nothing was merged yet.
        coming: The result to merge in.

    Returns:
        The merged result.
    """
    if current is None:
        return coming
    if current in _STICKY:
        return current
    return current if current >= coming else coming


V = TypeVar("V")
S = TypeVar("S")


@final
class CaseInsensitiveMapping(Mapping[str, V], Generic[V]):
    """A read-only mapping from step ids to values whose keys ignore case.

    Iteration yields the ids as they were declared, in insertion order.
    """

    __slots__ = ("_data", "_keys", "_make", "_sources")

    def __init__(self, items: Mapping[str, V] | None = None) -> None:
        data: dict[str, V] = {}
        keys: dict[str, str] = {}
        for key, value in (items or {}).items():
            folded = key.casefold()
            keys[folded] = key
            data[folded] = value
        self._data = data
        self._keys = keys
        self._sources: dict[str, object] | None = None
        self._make: Callable[[Any], V] | None = None

    @classmethod
    def lazy(
        cls, sources: Mapping[str, S], make: Callable[[S], V]
    ) -> CaseInsensitiveMapping[V]:
        """A mapping whose values are made from ``sources`` when first read.

        A finished job's report uses it, so that a job of 100,000 steps does
        not pay for 100,000 step reports nobody reads. ``make`` must give
        the same value whenever it is called.
        """
        mapping: CaseInsensitiveMapping[V] = cls()
        mapping._keys = {key.casefold(): key for key in sources}
        mapping._sources = {key.casefold(): value for key, value in sources.items()}
        mapping._make = make
        return mapping

    def __getitem__(self, key: str) -> V:
        if not isinstance(key, str):
            raise KeyError(key)
        folded = key.casefold()
        try:
            return self._data[folded]
        except KeyError:
            if self._sources is None or folded not in self._sources:
                raise KeyError(key) from None
        assert self._make is not None
        value = self._data[folded] = self._make(self._sources[folded])
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.casefold() in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: {self[k]!r}" for k in self)
        return f"CaseInsensitiveMapping({{{inner}}})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]


_EMPTY: Mapping[str, str] = MappingProxyType({})


def _freeze_str_map(value: Mapping[str, str] | None) -> Mapping[str, str]:
    if not value:
        return _EMPTY
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class StepReport:
    """What happened to one step of a job.

    Times are read from the Trio clock the job ran on and are ``None`` where
    the thing never happened. ``outcome`` and ``conclusion`` are ``None`` only
    in a live report (:attr:`JobRunner.report`) while the step is unfinished.

    Attributes:
        id: The step id (generated ids start with ``__``).
        name: The display name (masked, like ``error`` and ``log``).
        kind: ``run``, ``wait``, ``wait-all``, ``cancel`` or
            ``implicit-wait-all``.
        background: Whether the step was declared ``background``.
        group: The id of the ``parallel`` group the step belongs to, if any.
        outcome: The result before ``continue-on-error`` (rules §1).
        conclusion: The result after ``continue-on-error``.
        outputs: The outputs the step set, with the job's secrets and
            ``::add-mask::`` values masked (later steps read the real values).
        log: The last lines of the step's log (see :ref:`log-bounds`).
        log_dropped: How many earlier lines of the step's log are not in
            ``log``: dropped to bound the report's memory. They were
            delivered live like every line (``on_event``, the command
            line's output, ``log_dir`` files).
        queued_at: When a background step was launched.
        started_at: When the step got its slot, or its turn.
        finished_at: When the step ended (or was given up on, R6.4).
        completed_by: The control step that first completed this background
            step.
        explicitly_canceled: Whether a ``cancel`` step targeted it.
        timed_out: Whether the step hit its own timeout.
        abandoned: Whether the engine gave up waiting for it (R6.4).
        never_completed: Under :attr:`Semantics.GITHUB_RUNNER` only: the
            runner never completes this step (R17.4), so its ``outcome``,
            ``conclusion`` and ``finished_at`` stay ``None`` in the final
            report. Always ``False`` under the default semantics.
        exit_code: The exit code of a shell step's process.
        error: Why the step failed or was cancelled, in one line, cut to
            4,096 characters (the whole message is in the step's log).
    """

    id: str
    name: str
    kind: str
    background: bool = False
    group: str | None = None
    outcome: Result | None = None
    conclusion: Result | None = None
    outputs: Mapping[str, str] = attrs.field(default=_EMPTY, converter=_freeze_str_map)
    log: tuple[str, ...] = ()
    log_dropped: int = 0
    queued_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    completed_by: str | None = None
    explicitly_canceled: bool = False
    timed_out: bool = False
    abandoned: bool = False
    never_completed: bool = False
    exit_code: int | None = None
    error: str | None = None

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish, or ``None`` if it never ran."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at


@attrs.frozen(kw_only=True)
class JobReport:
    """What happened to a whole job.

    Attributes:
        result: The job result (R2.4); ``SUCCEEDED`` when nothing was merged.
        steps: Step id → :class:`StepReport`, in declared order, post steps
            last; lookups ignore case.
        events: Every event of the job, in the order they happened.
        env: The final job environment, masked like
            :attr:`StepReport.outputs`.
        path: Path entries the steps added, highest precedence first.
        finished: Whether the job has ended (``False`` for a live report).
    """

    result: Result
    steps: CaseInsensitiveMapping[StepReport]
    events: Sequence[Event] = ()
    env: Mapping[str, str] = attrs.field(default=_EMPTY, converter=_freeze_str_map)
    path: tuple[str, ...] = ()
    finished: bool = True


public(CaseInsensitiveMapping, JobReport, Result, StepReport, merge_results)
