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

import math
from collections.abc import Callable
from typing import Final

import attrs
from hypothesis import strategies as st

from .._job import Job
from .._status import always, cancelled, failure, success
from .._steps import (
    Cancel,
    MainStep,
    Parallel,
    Step,
    StepKind,
    Wait,
    WaitAll,
)
from ._scripted import ENDINGS, WRITE_KINDS, RaisingCondition, ScriptedStep, Write

__all__ = ["InvalidJob", "invalid_jobs", "jobs", "quarters", "scripted_steps"]

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


@st.composite
def _writes(draw: st.DrawFn, duration: float, id: str) -> tuple[Write, ...]:
    count = draw(st.integers(0, 2))
    limit = min(duration, 4.0)
    offsets = sorted(draw(quarters(0, limit)) for _ in range(count))
    writes = []
    for number, at in enumerate(offsets, 1):
        kind = draw(st.sampled_from(WRITE_KINDS))
        name = draw(st.sampled_from(_NAMES[kind]))
        writes.append(Write(at=at, kind=kind, name=name, value=f"{id}.{number}"))
    return tuple(writes)


@st.composite
def scripted_steps(
    draw: st.DrawFn, *, id: str, background: bool = False, post: bool = False
) -> Step:
    """One scripted run step with the given id.

    Args:
        draw: Hypothesis' draw function (supplied by ``@composite``).
        id: The step id.
        background: Launch it in the background.
        post: Draw it as a post step (never background).

    Returns:
        A strategy for the step.
    """
    timeout = draw(st.none() | quarters(0.25, 5))
    duration = draw(quarters(0, 4))
    if timeout is not None and draw(st.booleans()):
        duration = math.inf  # runs until its timeout stops it
    return ScriptedStep(
        duration,
        ending=draw(st.sampled_from(ENDINGS)),
        writes=draw(_writes(duration, id)),
        stop_delay=draw(st.sampled_from(STOP_DELAYS)),
        observe=draw(st.booleans()),
        id=id,
        background=background and not post,
        condition=draw(st.sampled_from(CONDITIONS)),
        continue_on_error=draw(st.booleans()),
        timeout=timeout,
    )


@st.composite
def jobs(
    draw: st.DrawFn,
    *,
    max_steps: int = 8,
    max_post_steps: int = 2,
    max_background: int | None = None,
    cancellation: bool = True,
) -> Job:
    """Valid jobs of scripted steps, for the engine and the model alike.

    Jobs mix foreground and background steps, ``wait`` (one or several ids),
    ``wait-all``, ``cancel``, ``parallel``, conditions over the status
    functions (and one that raises), ``continue-on-error``, timeouts, post
    steps, ``max_background`` from 1 to 12, small graces (0 included) and,
    when ``cancellation`` is true, a job timeout (a job cancellation, R6.1).

    Args:
        draw: Hypothesis' draw function (supplied by ``@composite``).
        max_steps: Most main entries (a ``parallel`` counts as one).
        max_post_steps: Most post steps.
        max_background: Fix ``max_background``; ``None`` draws 1..12.
        cancellation: Whether to draw a job timeout.

    Returns:
        A strategy for :class:`~trio_steps.Job`.
    """
    number = 0

    def next_id() -> str:
        nonlocal number
        number += 1
        return f"s{number}"

    background: list[str] = []
    steps: list[MainStep] = []
    for _ in range(draw(st.integers(1, max_steps))):
        kind = draw(st.sampled_from(_KINDS))
        if kind in ("wait", "cancel") and not background:
            kind = "foreground"
        if kind in ("foreground", "background"):
            step = draw(scripted_steps(id=next_id(), background=kind == "background"))
            steps.append(step)
            if step.background:
                background.append(step.id or "")
        elif kind == "parallel":
            members = [
                draw(scripted_steps(id=next_id()))
                for _ in range(draw(st.integers(1, 3)))
            ]
            steps.append(Parallel(members))
            background.extend(m.id or "" for m in members)
        elif kind == StepKind.WAIT_ALL:
            steps.append(WaitAll(continue_on_error=draw(st.booleans())))
        else:
            targets = draw(
                st.lists(
                    st.sampled_from(background), min_size=1, max_size=3, unique=True
                )
            )
            if kind == StepKind.WAIT:
                steps.append(Wait(targets, continue_on_error=draw(st.booleans())))
            else:
                steps.append(Cancel(targets))
    post = [
        draw(scripted_steps(id=next_id(), post=True))
        for _ in range(draw(st.integers(0, max_post_steps)))
    ]
    # Few slots make queueing (R4.2, I2, I3) common; up to 12 still occurs.
    slots = st.integers(1, 3) | st.integers(1, 12)
    limit = draw(slots) if max_background is None else max_background
    timeout = draw(st.none() | quarters(0.25, 10)) if cancellation else None
    return Job(
        steps,
        post_steps=post,
        env=draw(st.sampled_from(({}, {"E1": "job"}))),
        max_background=limit,
        interrupt_grace=draw(st.sampled_from(GRACES)),
        terminate_grace=draw(st.sampled_from(GRACES)),
        timeout=timeout,
    )


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
