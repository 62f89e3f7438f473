"""Hypothesis strategies for jobs of scripted steps (rules §10) and invalid jobs (§7).

Every time is a small multiple of 0.25 s, so float sums are exact and the
engine's times can be compared with the model's using ``==``. Run steps get
ids ``s1``, ``s2``, … in declaration order and ``wait``/``cancel`` targets
are drawn by position among the background steps declared so far, so a
shrunk job still only names steps it declares. The first choice of every
draw is the simplest one: a job shrinks towards one foreground step that
succeeds at once.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, Final

import attrs
from hypothesis import strategies as st

from .._job import Job
from .._status import always, cancelled, failure, success
from .._steps import (
    Cancel,
    MainStep,
    Parallel,
    Step,
    Wait,
    WaitAll,
)
from ._scripted import ENDINGS, WRITE_KINDS, RaisingCondition, ScriptedStep, Write

__all__ = [
    "InvalidJob",
    "conditions",
    "durations",
    "invalid_jobs",
    "jobs",
    "quarters",
    "scripted_steps",
]

#: Conditions drawn for run steps, simplest first.
CONDITIONS: Final = (None, success, failure, always, cancelled, RaisingCondition())
#: What the stop delay may be: at once, within the graces, or beyond them.
STOP_DELAYS: Final = (0.0, 0.25, 0.5, 1.0, 2.0, 20.0)
GRACES: Final = (0.0, 0.25, 0.5, 1.0, 2.5)
_KINDS: Final = ("foreground", "background", "wait", "wait-all", "cancel", "parallel")
_NAMES: Final = {
    "output": ("o1", "o2"),
    "env": ("E1", "E2"),
    "path": ("/p1", "/p2", "/p3"),
}


def quarters(low: float, high: float) -> st.SearchStrategy[float]:
    """Multiples of 0.25 from ``low`` to ``high`` (exact as floats).

    Args:
        low: The smallest value (a multiple of 0.25).
        high: The largest value (a multiple of 0.25).

    Returns:
        A strategy that shrinks towards ``low``.
    """
    return st.integers(round(low * 4), round(high * 4)).map(lambda k: k / 4)


_DURATIONS: Final = quarters(0, 4)
_CONDITIONS: Final = st.sampled_from(CONDITIONS)


def durations() -> st.SearchStrategy[float]:
    """Step durations as :func:`jobs` draws them: 0 to 4 s in quarters, shrinking to 0.

    For your own steps in ``jobs(extra_steps=...)``, so that their times
    line up with the scripted steps' (every sum exact, ties likely).
    """
    return _DURATIONS


def conditions() -> st.SearchStrategy[object]:
    """Step conditions as :func:`jobs` draws them (``CONDITIONS``), ``None`` first."""
    return _CONDITIONS


# Every strategy a job is drawn from is built once, here or in a cache, and
# a job is drawn by plain functions that take ``draw``: no strategy object is
# built per job (building and validating them was most of the time). Small
# independent choices share one integer draw (a mixed-radix number, the most
# telling choice in the highest digit), which halves the number of draws;
# every choice is still simplest at 0, so a failing job shrinks as before,
# towards one foreground step that succeeds at once.
_BOOL: Final = st.booleans()
_WRITES: Final = tuple((kind, name) for kind in WRITE_KINDS for name in _NAMES[kind])
# Few slots make queueing (R4.2, I2, I3) common: half the draws give 1..3,
# the other half 1..12.
_SLOTS: Final = (*(1, 2, 3) * 4, *range(1, 13))
#: The job's settings: max_background, timeout in quarters (0: none), env,
#: graces.
_JOB_SETTINGS: Final[tuple[tuple[Any, ...], ...]] = (
    _SLOTS,
    tuple(range(41)),
    ({}, {"E1": "job"}),
    GRACES,
    GRACES,
)


@functools.cache
def _between(low: int, high: int) -> st.SearchStrategy[int]:
    """``low`` .. ``high``, built once per pair of bounds."""
    return st.integers(low, high)


def _draw_choices(draw: st.DrawFn, *tables: tuple[Any, ...]) -> list[Any]:
    """One entry from each table, from a single integer draw (first table highest)."""
    size = math.prod(len(t) for t in tables)
    number = draw(_between(0, size - 1))
    chosen: list[Any] = []
    for table in reversed(tables):
        number, digit = divmod(number, len(table))
        chosen.append(table[digit])
    chosen.reverse()
    return chosen


_NO_YES: Final = (False, True)
#: A step's timing: its timeout in quarters (0: none) and duration in quarters.
_STEP_TIMING: Final[tuple[tuple[Any, ...], ...]] = (tuple(range(21)), tuple(range(17)))
#: How a step behaves: ending, stop delay, condition, endless (with a
#: timeout), observe, continue-on-error. (How many writes is a draw of its
#: own: the writes' draws follow it, and Hypothesis shrinks a count best
#: when it stands alone.)
_STEP_BEHAVIOUR: Final[tuple[tuple[Any, ...], ...]] = (
    ENDINGS,
    STOP_DELAYS,
    CONDITIONS,
    _NO_YES,
    _NO_YES,
    _NO_YES,
)


def _script_spec(draw: st.DrawFn) -> tuple[Any, ...]:
    """The drawn fields of one scripted step, without its id.

    Drawn inside the span of its entry (see _span): Hypothesis shrinks by
    deleting spans, so a step's draws must be in one to delete it at once.
    """
    timeout_quarters, duration_quarters = _draw_choices(draw, *_STEP_TIMING)
    behaviour = _draw_choices(draw, *_STEP_BEHAVIOUR)
    count = draw(_between(0, 2))
    limit = _between(0, min(duration_quarters, 16))
    writes = sorted(
        (draw(limit) / 4, draw(_between(0, len(_WRITES) - 1))) for _ in range(count)
    )
    return (timeout_quarters, duration_quarters, *behaviour, tuple(writes))


def _make_scripted(spec: tuple[Any, ...], id: str, background: bool) -> Step:
    (
        timeout_quarters,
        duration_quarters,
        ending,
        stop_delay,
        condition,
        endless,
        observe,
        continue_on_error,
        writes,
    ) = spec
    timeout = timeout_quarters / 4 if timeout_quarters else None
    duration = duration_quarters / 4
    if timeout is not None and endless:
        duration = math.inf  # runs until its timeout stops it
    return ScriptedStep(
        duration,
        ending=ending,
        writes=tuple(
            Write(at=at, kind=_WRITES[w][0], name=_WRITES[w][1], value=f"{id}.{n}")
            for n, (at, w) in enumerate(writes, 1)
        ),
        stop_delay=stop_delay,
        observe=observe,
        id=id,
        background=background,
        condition=condition,
        continue_on_error=continue_on_error,
        timeout=timeout,
    )


def _draw_scripted(draw: st.DrawFn, id: str, background: bool) -> Step:
    return _make_scripted(_script_spec(draw), id, background)


@st.composite
def scripted_steps(
    draw: st.DrawFn, *, id: str, background: bool = False, post: bool = False
) -> Step:
    """One scripted run step with the given id.

    Its duration is 0 to 4 s, or endless with a timeout (0.25 to 5 s); it
    ends as one of ``ENDINGS``, writes up to two outputs, env or path entries,
    keeps running 0 to 20 s after being stopped, may observe what it sees,
    and has a drawn condition and ``continue-on-error``. Every time is a
    multiple of 0.25 s.

    Args:
        draw: Hypothesis' draw function (supplied by ``@composite``).
        id: The step id.
        background: Launch it in the background.
        post: Draw it as a post step (never background).

    Returns:
        A strategy for the step.
    """
    return _draw_scripted(draw, id, background and not post)


def _extra_strategy(
    extra_steps: st.SearchStrategy[Step] | Sequence[st.SearchStrategy[Step]] | None,
) -> st.SearchStrategy[Step] | None:
    if extra_steps is None:
        return None
    if isinstance(extra_steps, st.SearchStrategy):
        return extra_steps
    options = list(extra_steps)
    if not options:
        return None
    return st.one_of(options)


# A drawn job is first a tree of specs (plain tuples), each entry drawn as one
# span (one ``draw`` of a cached strategy), then built with ids in order.
# Hypothesis shrinks by deleting spans: an entry with the draw that says it
# comes (see _more) goes at once, which shrinks far better than a count
# drawn first and loose draws after it.


@functools.cache
def _span(function: Callable[..., Any], *args: Any) -> st.SearchStrategy[Any]:
    """``function(draw, *args)`` as a strategy, built once per arguments."""

    @st.composite
    def spanned(draw: st.DrawFn) -> Any:
        return function(draw, *args)

    return spanned()


def _more(draw: st.DrawFn, more: int) -> bool:
    """Whether another element comes, when up to ``more`` more may (0: it must).

    A draw from 0 to ``more`` where 0 stops: with ``more`` counting down,
    the length is uniform, and it shrinks towards fewer elements.
    """
    return not more or bool(draw(_between(0, more)))


def _run_spec(
    draw: st.DrawFn, extra: st.SearchStrategy[Step] | None
) -> tuple[Any, ...]:
    # With extra steps, each run step is first either scripted or the
    # user's: shrinking goes towards scripted ones, so a minimal failing
    # job keeps only the user's steps that the failure needs.
    if extra is not None and draw(_BOOL):
        step = draw(extra)
        if not isinstance(step, Step):
            raise TypeError(f"extra_steps drew {step!r}, not a trio_steps.Step")
        return ("extra", step)
    return ("script", _script_spec(draw))


def _member_spec(
    draw: st.DrawFn, more: int, extra: st.SearchStrategy[Step] | None
) -> tuple[Any, ...] | None:
    """A parallel member or a post step, if one comes."""
    return _run_spec(draw, extra) if _more(draw, more) else None


def _entry_spec(
    draw: st.DrawFn, more: int, launched: int, extra: st.SearchStrategy[Step] | None
) -> tuple[Any, ...] | None:
    """One main entry, if one comes; ``launched`` background steps precede it."""
    if not _more(draw, more):
        return None
    kind = _KINDS[draw(_between(0, len(_KINDS) - 1))]
    if kind in ("wait", "cancel") and not launched:
        kind = "foreground"
    if kind in ("foreground", "background"):
        return (kind, _run_spec(draw, extra))
    if kind == "parallel":
        return (kind, _draw_list(draw, _member_spec, 1, 3, extra))
    if kind == "wait-all":
        return (kind, draw(_BOOL))
    # Targets as positions among the launched steps still to choose from.
    count = draw(_between(1, min(3, launched)))
    picks = [draw(_between(0, launched - 1 - n)) for n in range(count)]
    return (kind, picks, draw(_BOOL) if kind == "wait" else False)


def _draw_list(
    draw: st.DrawFn,
    element: Callable[..., tuple[Any, ...] | None],
    low: int,
    high: int,
    *args: Any,
) -> list[tuple[Any, ...]]:
    drawn: list[tuple[Any, ...]] = []
    while len(drawn) < high:
        more = 0 if len(drawn) < low else high - len(drawn)
        spec = draw(_span(element, more, *args))
        if spec is None:
            break
        drawn.append(spec)
    return drawn


def _make_run(spec: tuple[Any, ...], id: str, background: bool) -> Step:
    if spec[0] == "extra":
        step: Step = spec[1]
        return step.evolve(id=id, background=background)
    return _make_scripted(spec[1], id, background)


def _draw_job(
    draw: st.DrawFn,
    *,
    max_steps: int,
    max_post_steps: int,
    max_background: int | None,
    cancellation: bool,
    extra: st.SearchStrategy[Step] | None,
) -> Job:
    number = 0

    def next_id() -> str:
        nonlocal number
        number += 1
        return f"s{number}"

    background: list[str] = []
    steps: list[MainStep] = []
    while len(steps) < max_steps:
        more = 0 if not steps else max_steps - len(steps)
        spec = draw(_span(_entry_spec, more, len(background), extra))
        if spec is None:
            break
        kind = spec[0]
        if kind in ("foreground", "background"):
            id = next_id()
            steps.append(_make_run(spec[1], id, kind == "background"))
            if kind == "background":
                background.append(id)
        elif kind == "parallel":
            members = [_make_run(m, next_id(), False) for m in spec[1]]
            steps.append(Parallel(members))
            background.extend(m.id or "" for m in members)
        elif kind == "wait-all":
            steps.append(WaitAll(continue_on_error=spec[1]))
        else:
            pool = list(background)
            targets = [pool.pop(pick) for pick in spec[1]]
            if kind == "wait":
                steps.append(Wait(targets, continue_on_error=spec[2]))
            else:
                steps.append(Cancel(targets))
    post = [
        _make_run(m, next_id(), False)
        for m in _draw_list(draw, _member_spec, 0, max_post_steps, extra)
    ]
    slots, quarters_timeout, env, interrupt_grace, terminate_grace = _draw_choices(
        draw, *_JOB_SETTINGS
    )
    limit = slots if max_background is None else max_background
    if not cancellation:
        quarters_timeout = 0
    return Job(
        steps,
        post_steps=post,
        env=env,
        max_background=limit,
        interrupt_grace=interrupt_grace,
        terminate_grace=terminate_grace,
        timeout=quarters_timeout / 4 if quarters_timeout else None,
    )


def jobs(
    *,
    max_steps: int = 8,
    max_post_steps: int = 2,
    max_background: int | None = None,
    cancellation: bool = True,
    extra_steps: st.SearchStrategy[Step]
    | Sequence[st.SearchStrategy[Step]]
    | None = None,
) -> st.SearchStrategy[Job]:
    """Valid jobs of scripted steps, for the engine and the model alike.

    Jobs mix foreground and background steps, ``wait`` (one or several ids),
    ``wait-all``, ``cancel``, ``parallel``, conditions over the status
    functions (and one that raises), ``continue-on-error``, timeouts, post
    steps, ``max_background`` from 1 to 12, small graces (0 included) and,
    when ``cancellation`` is true, a job timeout (a job cancellation, R6.1).

    With ``extra_steps``, each run step (main, ``parallel`` member or post)
    is either a scripted step or one drawn from ``extra_steps``: your own
    steps, put where the engine starts, queues, waits for, cancels, times
    out and abandons steps. The drawn step gets the position's ``id`` and
    ``background`` (through :meth:`~trio_steps.Step.evolve`); everything
    else (its ``run``, condition, timeout …) is yours. Such jobs cannot go to
    :func:`simulate`; check them with :func:`check_job`.

    Args:
        max_steps: Most main entries (a ``parallel`` counts as one).
        max_post_steps: Most post steps.
        max_background: Fix ``max_background``; ``None`` draws 1..12.
        cancellation: Whether to draw a job timeout.
        extra_steps: A strategy for :class:`~trio_steps.Step` (or a list of
            them) to mix into the jobs.

    Returns:
        A strategy for :class:`~trio_steps.Job`.
    """
    key = tuple(extra_steps) if isinstance(extra_steps, Sequence) else extra_steps
    return _jobs_cached(max_steps, max_post_steps, max_background, cancellation, key)


@functools.lru_cache(maxsize=64)
def _jobs_cached(
    max_steps: int,
    max_post_steps: int,
    max_background: int | None,
    cancellation: bool,
    extra_steps: st.SearchStrategy[Step] | tuple[st.SearchStrategy[Step], ...] | None,
) -> st.SearchStrategy[Job]:
    extra = _extra_strategy(extra_steps)

    @st.composite
    def draw_job(draw: st.DrawFn) -> Job:
        return _draw_job(
            draw,
            max_steps=max_steps,
            max_post_steps=max_post_steps,
            max_background=max_background,
            cancellation=cancellation,
            extra=extra,
        )

    return draw_job()


@attrs.frozen
class InvalidJob:
    """A way to build a job that breaks a rule of rules §7.

    Calling it must raise :class:`~trio_steps.JobDefinitionError`.

    Attributes:
        rule: The rule it breaks, in words.
        build: Builds the job (or the step) and so raises.
    """

    rule: str
    build: Callable[[], object]

    def __call__(self) -> object:
        """Build the job; it is expected to raise."""
        return self.build()


def _bg(id: str) -> Step:
    return ScriptedStep(1.0, id=id, background=True)


def _fg(id: str | None = None) -> Step:
    return ScriptedStep(1.0, id=id)


_BAD_IDS: Final = ("1a", "a b", "", "a.b", "-a", "é")


@st.composite
def invalid_jobs(draw: st.DrawFn) -> InvalidJob:
    """Ways to build jobs that must raise ``JobDefinitionError`` (rules §7).

    Args:
        draw: Hypothesis' draw function (supplied by ``@composite``).

    Returns:
        A strategy for :class:`InvalidJob`.
    """
    id = draw(st.sampled_from(("a", "build", "Step_1")))
    bad_number = draw(st.sampled_from((-1.0, -0.25, math.nan)))
    bad_id = draw(st.sampled_from(_BAD_IDS))
    bad_limit = draw(st.integers(-3, 0))
    bad_timeout = draw(st.sampled_from((0.0, -1.0, math.nan)))
    cases: list[InvalidJob] = [
        InvalidJob("wait names an unknown id", lambda: Job([_bg(id), Wait(id + "x")])),
        InvalidJob("wait names a foreground step", lambda: Job([_fg(id), Wait(id)])),
        InvalidJob("wait names a later step", lambda: Job([Wait(id), _bg(id)])),
        InvalidJob("cancel names itself", lambda: Job([_bg("x"), Cancel(id, id=id)])),
        InvalidJob("wait lists no id", lambda: Job([_bg(id), Wait([])])),
        InvalidJob(
            "ids are unique ignoring case",
            lambda: Job([_fg(id), _fg(id.upper() if id != id.upper() else id.lower())]),
        ),
        InvalidJob("ids starting with __ are reserved", lambda: Job([_fg("__" + id)])),
        InvalidJob(
            "ids match [A-Za-z_][A-Za-z0-9_-]*",
            lambda: Job([_fg(bad_id)]),
        ),
        InvalidJob(
            "parallel members are not background",
            lambda: Job([Parallel([_bg(id)])]),
        ),
        InvalidJob("parallel has a member", lambda: Job([Parallel([])])),
        InvalidJob(
            "parallel members are not control steps",
            lambda: Job([_bg(id), Parallel([Wait(id)])]),  # type: ignore[list-item]
        ),
        InvalidJob(
            "post steps are not background", lambda: Job([_fg()], post_steps=[_bg(id)])
        ),
        InvalidJob(
            "post steps are not control steps",
            lambda: Job([_fg()], post_steps=[WaitAll()]),  # type: ignore[list-item]
        ),
        InvalidJob(
            "max_background >= 1",
            lambda: Job([_fg()], max_background=bad_limit),
        ),
        InvalidJob("graces >= 0", lambda: Job([_fg()], interrupt_grace=bad_number)),
        InvalidJob("graces >= 0", lambda: Job([_fg()], terminate_grace=bad_number)),
        InvalidJob(
            "timeouts > 0",
            lambda: Job([_fg()], timeout=bad_timeout),
        ),
        InvalidJob(
            "timeouts > 0",
            lambda: ScriptedStep(1.0, timeout=bad_timeout),
        ),
        InvalidJob("durations >= 0", lambda: ScriptedStep(bad_number)),
        InvalidJob(
            "stop delays >= 0", lambda: ScriptedStep(1.0, stop_delay=bad_number)
        ),
        InvalidJob(
            "writes happen within the duration",
            lambda: ScriptedStep(1.0, writes=[Write(at=2.0, kind="output", name="o")]),
        ),
    ]
    return draw(st.sampled_from(cases))
