"""Scripted steps: steps whose behaviour is data (rules §10).

A :class:`Script` is the ``run`` callable of a :class:`~trio_steps.Step`. The
engine runs it like any Python step; :func:`trio_steps.testing.simulate`
reads its fields instead and predicts what the engine must report.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Final, Literal, TypeAlias

import attrs
import trio

from .._context import StepContext, StepFailed
from .._errors import JobDefinitionError
from .._status import Condition, Status, StepView
from .._steps import Step

__all__ = [
    "OBSERVATION_OUTPUT",
    "Ending",
    "RaisingCondition",
    "Script",
    "ScriptedStep",
    "Write",
    "observation",
]

Ending: TypeAlias = Literal["succeed", "fail", "raise"]
"""How a script ends when nobody stops it."""

WriteKind: TypeAlias = Literal["output", "env", "path"]

ENDINGS: Final = ("succeed", "fail", "raise")
WRITE_KINDS: Final[tuple[WriteKind, ...]] = ("output", "env", "path")

#: The output an observing script sets, at its start, to what it can see.
OBSERVATION_OUTPUT: Final = "seen"


class ScriptedError(Exception):
    """What a script that ends with ``"raise"`` raises."""


def _bad_time(value: object) -> bool:
    return (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or math.isnan(value)
        or value < 0
    )


@attrs.frozen(kw_only=True)
class Write:
    """One thing a script writes, ``at`` seconds after it starts.

    Attributes:
        at: Offset from the start of the step's code, in seconds.
        kind: ``"output"`` (``ctx.set_output``), ``"env"`` (``ctx.set_env``)
            or ``"path"`` (``ctx.add_path``, ``name`` is the entry).
        name: The output name, env name, or path entry.
        value: The value written (ignored for ``"path"``).
    """

    at: float
    kind: WriteKind
    name: str
    value: str = ""

    def apply(self, ctx: StepContext) -> None:
        """Perform the write on ``ctx``."""
        if self.kind == "output":
            ctx.set_output(self.name, self.value)
        elif self.kind == "env":
            ctx.set_env(self.name, self.value)
        else:
            ctx.add_path(self.name)


def observation(
    steps: Mapping[str, StepView], env: Mapping[str, str], path: Iterable[str]
) -> str:
    """Describe what a step can see, canonically (for rules I6).

    Generated ids (``__…``) are left out. Steps are sorted by id, env by name;
    the path keeps its order. Another step's own observation shows as ``*``.

    Args:
        steps: The ``steps`` a step sees (``ctx.steps``).
        env: The env it runs with.
        path: The job path entries, highest precedence first.

    Returns:
        One line such as ``steps=s1:SUCCEEDED/SUCCEEDED{o=v};env=A=1;path=/p``.
    """
    parts = []
    for id in sorted(steps, key=str.casefold):
        if id.startswith("__"):
            continue
        view = steps[id]
        outputs = ",".join(
            f"{k}=*" if k == OBSERVATION_OUTPUT else f"{k}={v}"
            for k, v in sorted(view.outputs.items())
        )
        parts.append(f"{id}:{view.outcome.name}/{view.conclusion.name}{{{outputs}}}")
    env_text = ",".join(f"{k}={v}" for k, v in sorted(env.items()))
    return f"steps={' '.join(parts)};env={env_text};path={':'.join(path)}"


@attrs.frozen(kw_only=True)
class Script:
    """The behaviour of a scripted step, as data; awaitable as a step.

    When the engine runs it, the script (optionally) records what it sees,
    then sleeps through its writes with :func:`trio.sleep`, sleeps until
    ``duration`` and ends as ``ending`` says. When it is stopped it sleeps
    ``stop_delay`` more inside a shielded cancel scope, then lets
    :class:`trio.Cancelled` propagate.

    Build one with :func:`ScriptedStep`, which validates the fields.

    Attributes:
        duration: Seconds the code runs when nobody stops it
            (``math.inf``: until stopped).
        ending: ``"succeed"``; ``"fail"`` (raises
            ``StepFailed``); ``"raise"`` (raises
            another exception). Both failures make the step ``FAILED``.
        writes: What it writes and when, ordered by ``at``.
        stop_delay: Seconds it keeps running after being stopped: ``0``
            stops at once, ``math.inf`` shields itself forever (the engine
            then abandons it, R6.4, and the job never ends).
        observe: Set the output ``seen`` to :func:`observation` of its
            context when its code starts.
    """

    duration: float = 0.0
    ending: Ending = "succeed"
    writes: tuple[Write, ...] = ()
    stop_delay: float = 0.0
    observe: bool = False

    async def __call__(self, ctx: StepContext) -> None:
        """Run the script as the code of a step."""
        if self.observe:
            ctx.set_output(
                OBSERVATION_OUTPUT, observation(ctx.steps, ctx.env, ctx.path)
            )
        elapsed = 0.0
        try:
            for write in self.writes:
                await trio.sleep(write.at - elapsed)
                elapsed = write.at
                write.apply(ctx)
            await trio.sleep(self.duration - elapsed)
        except trio.Cancelled:
            with trio.CancelScope(shield=True):
                await trio.sleep(self.stop_delay)
            raise
        if self.ending == "fail":
            raise StepFailed("scripted failure")
        if self.ending == "raise":
            raise ScriptedError("scripted exception")


@attrs.frozen
class RaisingCondition:
    """A condition that raises, which makes its step ``FAILED`` (R3.4).

    Attributes:
        message: The error message.
    """

    message: str = "scripted condition error"

    def __call__(self, status: Status) -> bool:
        """Raise :class:`ValueError`."""
        raise ValueError(self.message)


def _check_script(
    duration: object,
    ending: object,
    writes: tuple[object, ...],
    stop_delay: object,
    where: str,
) -> list[str]:
    problems: list[str] = []
    if _bad_time(duration):
        problems.append(f"{where}: duration must be a number >= 0, not {duration!r}")
    if _bad_time(stop_delay):
        problems.append(
            f"{where}: stop_delay must be a number >= 0, not {stop_delay!r}"
        )
    if ending not in ENDINGS:
        problems.append(f"{where}: ending must be one of {ENDINGS}, not {ending!r}")
    previous = 0.0
    for number, write in enumerate(writes, 1):
        if not isinstance(write, Write):
            problems.append(f"{where}: write {number} must be a Write")
            continue
        if _bad_time(write.at) or math.isinf(write.at):
            problems.append(f"{where}: write {number}: at must be finite and >= 0")
            continue
        if write.kind not in WRITE_KINDS:
            problems.append(
                f"{where}: write {number}: kind must be one of {WRITE_KINDS}"
            )
        if not isinstance(write.name, str) or not write.name or "=" in write.name:
            problems.append(
                f"{where}: write {number}: name must be non-empty, without '='"
            )
        if not isinstance(write.value, str):
            problems.append(f"{where}: write {number}: value must be a string")
        if write.at < previous:
            problems.append(f"{where}: write {number}: writes must be ordered by 'at'")
        if not _bad_time(duration) and write.at > duration:  # type: ignore[operator]
            problems.append(
                f"{where}: write {number}: at {write.at!r} is after the end"
            )
        previous = max(previous, write.at)
    return problems


def ScriptedStep(
    duration: float = 0.0,
    *,
    ending: Ending = "succeed",
    writes: Iterable[Write] = (),
    stop_delay: float = 0.0,
    observe: bool = False,
    id: str | None = None,
    name: str | None = None,
    background: bool = False,
    condition: Condition = None,
    continue_on_error: bool = False,
    timeout: float | None = None,
) -> Step:
    """Build a :class:`~trio_steps.Step` whose ``run`` is a :class:`Script`.

    The step can be used in any :class:`~trio_steps.Job`: the engine runs it,
    :func:`trio_steps.testing.simulate` predicts it.

    Args:
        duration: Seconds its code runs when nobody stops it.
        ending: ``"succeed"``, ``"fail"`` or ``"raise"``.
        writes: What it writes and when (:class:`Write`, ordered by ``at``,
            each within ``duration``).
        stop_delay: Seconds it keeps running after being stopped;
            ``math.inf`` shields itself forever, and then the job never ends.
        observe: Record what it sees in the output ``seen``.
        id: The step id.
        name: The display name.
        background: Launch it in the background (R4.2).
        condition: Its condition (rules §3).
        continue_on_error: Turn ``FAILED`` into a ``SUCCEEDED`` conclusion.
        timeout: Seconds before it is stopped and ``FAILED`` (R6.6).

    Returns:
        The step.

    Raises:
        JobDefinitionError: A negative or NaN time, a write out of order or
            after the end, an unknown ending, or any problem
            :class:`~trio_steps.Step` finds.
    """
    scheduled = tuple(writes)
    where = f"scripted step {id!r}" if id is not None else "scripted step"
    problems = _check_script(duration, ending, scheduled, stop_delay, where)
    if problems:
        raise JobDefinitionError(problems)
    script = Script(
        duration=float(duration),
        ending=ending,
        writes=scheduled,
        stop_delay=float(stop_delay),
        observe=observe,
    )
    return Step(
        script,
        id=id,
        name=name,
        background=background,
        condition=condition,
        continue_on_error=continue_on_error,
        timeout=timeout,
    )
