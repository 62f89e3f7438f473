"""The job: its steps fitted together into the plan the engine runs (rules §7).

A :class:`Job` checks what no single step can (unique ids, references to
earlier background steps, post steps) and expands ``parallel`` groups and
the implicit wait-all into a flat tuple of :class:`PlannedStep` (R4.7, R4.9).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, cast

import attrs

from ._errors import JobDefinitionError
from ._face import public
from ._steps import (
    _EMPTY,
    Cancel,
    Parallel,
    Step,
    StepKind,
    Wait,
    WaitAll,
    _check_env,
    _check_name,
    _check_timeout,
    _describe,
    _freeze_env,
)

if TYPE_CHECKING:
    from ._steps import MainStep

__all__ = ["Job", "PlannedStep"]
"""An ``async def f(ctx)`` run as a step."""

IMPLICIT_WAIT_ALL_ID: Final = "__implicit_wait_all"


def _main_step_where(position: int, step: Step) -> str:
    """Where a main step is, for a problem found while planning."""
    return f"steps[{position - 1}] ({_describe(step.id, step.name)})"


def _control_where(position: int, kind: str, step: Wait | Cancel) -> str:
    """Where a wait or cancel step is, for a problem found while planning."""
    return f"steps[{position - 1}] ({kind} {_describe(step.id, step.name)})"


@attrs.frozen(kw_only=True)
class PlannedStep:
    """One entry of a job's flat plan: a step with its id resolved.

    ``parallel`` groups are expanded (R4.9), generated ids filled in, and
    ``wait``/``cancel`` targets resolved to the ids as declared.

    Attributes:
        id: The step id, declared or generated (``__…``).
        name: The display name.
        kind: ``run``, ``wait``, ``wait-all``, ``cancel`` or
            ``implicit-wait-all``.
        step: The :class:`Step` for ``run`` steps, else ``None``.
        background: Launched in the background.
        group: The parallel group id of a member or of its generated wait.
        targets: Resolved target ids of a ``wait``/``cancel``.
        written: Those targets as written in the ``wait``/``cancel`` (empty
            when they are the resolved ones): GitHub's runner compares them
            with case (R17.9).
        continue_on_error: As declared (``False`` for cancel steps).
        post: Whether it is a post step.
        index: Position in the plan (main steps first, then post steps).
        templated: Whether a field of the step contains ``${{ }}``.
    """

    id: str
    name: str
    kind: str
    step: Step | None = None
    background: bool = False
    group: str | None = None
    targets: tuple[str, ...] = ()
    written: tuple[str, ...] = ()
    continue_on_error: bool = False
    post: bool = False
    index: int = 0
    templated: bool = False


def _templated(step: Step) -> bool:
    run = step.run
    if isinstance(run, str) and "${{" in run:
        return True
    for text in (
        step.name,
        step.working_directory,
        step.shell,
        step.timeout_template,
        step.continue_on_error_template,
    ):
        if text is not None and "${{" in text:
            return True
    return any("${{" in value for value in step.env.values()) if step.env else False


def _number(value: object, name: str, problems: list[str], *, minimum: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"job: {name} must be a number")
    elif math.isnan(value) or value < minimum or math.isinf(value):
        problems.append(f"job: {name} must be >= {minimum:g} and finite, not {value!r}")


@attrs.frozen(kw_only=True, init=False)
class Job:
    """A job: main steps, post steps and the settings they run under.

    Args:
        steps: The main steps, in order.
        post_steps: Steps run after the main steps and every background step
            have ended (R4.8); never in the background.
        env: The job environment.
        max_background: How many background steps may run at once (slots).
        interrupt_grace: Seconds between SIGINT and SIGTERM when stopping a
            shell step; with ``terminate_grace``, how long a Python step may
            take to stop before it is abandoned (R6.4).
        terminate_grace: Seconds between SIGTERM and SIGKILL.
        timeout: Seconds before the job is cancelled (R6.1), or ``None``.
        name: The job's display name.
        secrets: Values for the ``secrets`` context; masked in every log.
        vars: Values for the ``vars`` context.
        inputs: Values for the ``inputs`` context.
        github: Values that override the generated ``github`` context.
        workspace: The workspace directory (default: the current directory).
        contexts: The ``needs``, ``matrix`` and ``strategy`` contexts its
            expressions see (a job of a workflow, R15.6); empty by default.

    Raises:
        JobDefinitionError: Listing every problem of the job (rules §7).
    """

    steps: tuple[MainStep, ...]
    post_steps: tuple[Step, ...] = ()
    env: Mapping[str, str] = _EMPTY
    max_background: int = 10
    interrupt_grace: float = 7.5
    terminate_grace: float = 2.5
    timeout: float | None = None
    name: str | None = None
    secrets: Mapping[str, str] = _EMPTY
    vars: Mapping[str, str] = _EMPTY
    inputs: Mapping[str, object] = attrs.field(default=_EMPTY)
    github: Mapping[str, object] = attrs.field(default=_EMPTY)
    workspace: str | None = None
    contexts: Mapping[str, object] = attrs.field(default=_EMPTY)
    # Derived from the steps, never passed in (see Step.compiled_condition).
    plan: tuple[PlannedStep, ...] = attrs.field(
        default=(), init=False, repr=False, eq=False
    )
    implicit_wait_all: bool = attrs.field(
        default=False, init=False, repr=False, eq=False
    )

    def __init__(
        self,
        steps: Iterable[MainStep],
        *,
        post_steps: Iterable[Step] = (),
        env: Mapping[str, str] | None = None,
        max_background: int = 10,
        interrupt_grace: float = 7.5,
        terminate_grace: float = 2.5,
        timeout: float | None = None,
        name: str | None = None,
        secrets: Mapping[str, str] | None = None,
        vars: Mapping[str, str] | None = None,
        inputs: Mapping[str, object] | None = None,
        github: Mapping[str, object] | None = None,
        workspace: str | None = None,
        contexts: Mapping[str, object] | None = None,
    ) -> None:
        problems: list[str] = []
        main = _as_tuple(steps, "steps", problems)
        post = _as_tuple(post_steps, "post_steps", problems)
        if isinstance(max_background, bool) or not isinstance(max_background, int):
            problems.append("job: max_background must be an integer >= 1")
        elif max_background < 1:
            problems.append(f"job: max_background must be >= 1, not {max_background}")
        _number(interrupt_grace, "interrupt_grace", problems, minimum=0)
        _number(terminate_grace, "terminate_grace", problems, minimum=0)
        if timeout is not None:
            _check_timeout(timeout, problems, "job")
        _check_env(env, problems, "job")
        _check_env(secrets, problems, "job secrets")
        _check_env(vars, problems, "job vars")
        _check_name(name, problems, "job")
        if contexts is not None and not (
            isinstance(contexts, Mapping)
            and set(contexts) <= {"needs", "matrix", "strategy"}
        ):
            problems.append(
                "job: contexts must be a mapping with needs, matrix and/or strategy"
            )
        plan, implicit = _make_plan(main, post, problems)
        if problems:
            raise JobDefinitionError(problems)
        self.__attrs_init__(
            steps=cast("tuple[MainStep, ...]", main),
            post_steps=cast("tuple[Step, ...]", post),
            env=_freeze_env(env),
            max_background=max_background,
            interrupt_grace=float(interrupt_grace),
            terminate_grace=float(terminate_grace),
            timeout=None if timeout is None else float(timeout),
            name=name,
            secrets=_freeze_env(secrets),
            vars=_freeze_env(vars),
            inputs=MappingProxyType(dict(inputs or {})),
            github=MappingProxyType(dict(github or {})),
            workspace=workspace,
            contexts=MappingProxyType(dict(contexts or {})),
        )
        object.__setattr__(self, "plan", plan)
        object.__setattr__(self, "implicit_wait_all", implicit)

    def evolve(self, **changes: object) -> Job:
        """Return a copy with some arguments changed (validated again).

        The same as ``attrs.evolve(job, **changes)``.
        """
        args: dict[str, object] = {
            "post_steps": self.post_steps,
            "env": self.env,
            "max_background": self.max_background,
            "interrupt_grace": self.interrupt_grace,
            "terminate_grace": self.terminate_grace,
            "timeout": self.timeout,
            "name": self.name,
            "secrets": self.secrets,
            "vars": self.vars,
            "inputs": self.inputs,
            "github": self.github,
            "workspace": self.workspace,
            "contexts": self.contexts,
        }
        steps = changes.pop("steps", self.steps)
        args.update(changes)
        return Job(steps, **args)  # type: ignore[arg-type]


def _as_tuple(value: object, name: str, problems: list[str]) -> tuple[object, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        problems.append(f"job: {name} must be a list of steps")
        return ()
    return tuple(value)


def _make_plan(
    main: tuple[object, ...], post: tuple[object, ...], problems: list[str]
) -> tuple[tuple[PlannedStep, ...], bool]:
    """Expand parallel groups, generate ids and check references (rules §7)."""
    plan: list[PlannedStep] = []
    seen: dict[str, str] = {}  # folded id -> declared id
    background_ids: dict[str, str] = {}  # folded -> declared, declared so far
    named: set[str] = set()  # folded ids named by a wait or cancel
    before_wait_all: set[str] = set()  # folded ids declared before a wait-all
    declared_background: list[str] = []

    def claim(id: str, where: Callable[[], str]) -> bool:
        folded = id.casefold()
        if folded in seen:
            problems.append(
                f"{where()}: id {id!r} is used twice (ids are compared ignoring case; "
                f"first as {seen[folded]!r})"
            )
            return False
        seen[folded] = id
        return True

    def add_run(
        step: Step,
        where: Callable[[], str],
        prefix: str,
        number: int,
        *,
        group: str | None,
        post: bool,
    ) -> None:
        # ``where`` is formatted only for a problem, and the generated id
        # ``{prefix}{number}`` only for a step without one: a job may hold
        # 100,000 steps.
        id = step.id if step.id is not None else f"{prefix}{number}"
        if step.id is not None:
            claim(id, where)
        background = step.background or group is not None
        plan.append(
            PlannedStep(
                id=id,
                name=step.display_name,
                kind=StepKind.RUN,
                step=step,
                background=background,
                group=group,
                continue_on_error=step.continue_on_error is True,
                post=post,
                index=len(plan),
                templated=_templated(step),
            )
        )
        if background:
            background_ids[id.casefold()] = id
            declared_background.append(id.casefold())

    def resolve(
        kind: str, ids: tuple[str, ...], where: Callable[[], str]
    ) -> tuple[str, ...]:
        resolved: list[str] = []
        for target in ids:
            folded = target.casefold()
            if folded in background_ids:
                resolved.append(background_ids[folded])
                named.add(folded)
            elif folded in seen:
                problems.append(
                    f"{where()}: {target!r} is not a background step; {kind} can only "
                    "name steps declared with background=True (or parallel members)"
                )
            else:
                problems.append(
                    f"{where()}: {target!r} is not the id of a background step declared "
                    f"before this {kind} step"
                )
        return tuple(resolved)

    for position, entry in enumerate(main, 1):
        if isinstance(entry, Step):
            add_run(
                entry,
                functools.partial(_main_step_where, position, entry),
                "__run_",
                position,
                group=None,
                post=False,
            )
        elif isinstance(entry, Wait | Cancel):
            kind = "wait" if isinstance(entry, Wait) else "cancel"
            control_where = functools.partial(_control_where, position, kind, entry)
            id = entry.id if entry.id is not None else f"__{kind}_{position}"
            own = entry.id is not None and claim(id, control_where)
            if own and id.casefold() in {t.casefold() for t in entry.ids}:
                problems.append(f"{control_where()}: a {kind} step cannot name itself")
                targets: tuple[str, ...] = ()
            else:
                targets = resolve(kind, entry.ids, control_where)
            plan.append(
                PlannedStep(
                    id=id,
                    name=entry.display_name,
                    kind=kind,
                    targets=targets,
                    written=tuple(entry.ids) if targets != tuple(entry.ids) else (),
                    continue_on_error=entry.continue_on_error,
                    index=len(plan),
                )
            )
        elif isinstance(entry, WaitAll):
            where = (
                f"steps[{position - 1}] (wait-all {_describe(entry.id, entry.name)})"
            )
            id = entry.id if entry.id is not None else f"__wait_all_{position}"
            if entry.id is not None:
                claim(id, functools.partial(str, where))
            before_wait_all.update(declared_background)
            plan.append(
                PlannedStep(
                    id=id,
                    name=entry.display_name,
                    kind=StepKind.WAIT_ALL,
                    continue_on_error=entry.continue_on_error,
                    index=len(plan),
                )
            )
        elif isinstance(entry, Parallel):
            group = f"__parallel_{position}"
            members: list[str] = []
            for number, member in enumerate(entry.steps, 1):
                member_where = f"steps[{position - 1}] (parallel member {number})"
                add_run(
                    member,
                    functools.partial(str, member_where),
                    f"{group}_",
                    number,
                    group=group,
                    post=False,
                )
                members.append(plan[-1].id)
                named.add(plan[-1].id.casefold())
            plan.append(
                PlannedStep(
                    id=f"{group}_wait",
                    name=entry.name
                    if entry.name is not None
                    else "Wait for parallel steps",
                    kind=StepKind.WAIT,
                    group=group,
                    targets=tuple(members),
                    index=len(plan),
                )
            )
        else:
            problems.append(
                f"steps[{position - 1}]: must be a Step, Wait, WaitAll, Cancel or Parallel, "
                f"not {type(entry).__name__}"
            )

    implicit = any(
        b not in named and b not in before_wait_all for b in declared_background
    )
    if implicit:
        if IMPLICIT_WAIT_ALL_ID in seen:  # pragma: no cover - reserved prefix
            problems.append("the id __implicit_wait_all is reserved")
        plan.append(
            PlannedStep(
                id=IMPLICIT_WAIT_ALL_ID,
                name="Wait for all background steps",
                kind=StepKind.IMPLICIT_WAIT_ALL,
                index=len(plan),
            )
        )

    for position, entry in enumerate(post, 1):
        where = f"post_steps[{position - 1}]"
        if isinstance(entry, Step):
            where = f"{where} ({_describe(entry.id, entry.name)})"
            if entry.background:
                problems.append(f"{where}: post steps cannot run in the background")
            add_run(
                entry,
                functools.partial(str, where),
                "__post_",
                position,
                group=None,
                post=True,
            )
        elif isinstance(entry, Wait | WaitAll | Cancel | Parallel):
            problems.append(
                f"{where}: post steps must be run steps, not {type(entry).__name__}"
            )
        else:
            problems.append(f"{where}: must be a Step, not {type(entry).__name__}")
    return tuple(plan), implicit


public(Job)
