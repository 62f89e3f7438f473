"""Job definitions: what the user asked for, validated (rules §7, §8).

Definitions are frozen attrs classes. A :class:`Step` checks its own fields
when it is built; a :class:`Job` checks how the steps fit together and
expands ``parallel`` groups into the flat plan the engine runs (R4.9).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, TypeAlias, cast

import attrs

from ._errors import JobDefinitionError
from ._status import Condition, always, cancelled, compile_condition, failure, success

if TYPE_CHECKING:
    from ._context import StepContext
    from .expressions import CompiledExpression

__all__ = [
    "Cancel",
    "Job",
    "Parallel",
    "PlannedStep",
    "Step",
    "StepFunction",
    "Wait",
    "WaitAll",
]

StepFunction: TypeAlias = "Callable[[StepContext], Awaitable[object]]"
"""An ``async def f(ctx)`` run as a step."""

_ID_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_EMPTY: Mapping[str, str] = MappingProxyType({})
_STATUS_FUNCTIONS = (success, failure, always, cancelled)

IMPLICIT_WAIT_ALL_ID: Final = "__implicit_wait_all"


def _describe(id: str | None, name: str | None) -> str:
    if id is not None:
        return f"step {id!r}"
    if name is not None:
        return f"step named {name!r}"
    return "step"


def _valid_id(id: object) -> bool:
    """Whether ``id`` is a usable declared id (what :func:`_check_id` checks)."""
    return type(id) is str and _ID_RE.match(id) is not None and not id.startswith("__")


def _main_step_where(position: int, step: Step) -> str:
    """Where a main step is, for a problem found while planning."""
    return f"steps[{position - 1}] ({_describe(step.id, step.name)})"


def _control_where(position: int, kind: str, step: Wait | Cancel) -> str:
    """Where a wait or cancel step is, for a problem found while planning."""
    return f"steps[{position - 1}] ({kind} {_describe(step.id, step.name)})"


def _check_id(id: object, problems: list[str], what: str) -> None:
    if id is None:
        return
    if not isinstance(id, str):
        problems.append(f"{what}: id must be a string, not {type(id).__name__}")
    elif not _ID_RE.match(id):
        problems.append(
            f"{what}: id {id!r} must start with a letter or '_' and contain only "
            "letters, digits, '_' and '-'"
        )
    elif id.startswith("__"):
        problems.append(f"{what}: id {id!r} starts with '__', which is reserved")


def _check_name(name: object, problems: list[str], what: str) -> None:
    if name is not None and not isinstance(name, str):
        problems.append(f"{what}: name must be a string, not {type(name).__name__}")


_DURATION_UNITS: Final = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_RE: Final = re.compile(
    r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([smh]?)\s*\Z"
)


def parse_duration(text: str) -> float:
    """Seconds in ``text``: a number with an optional unit ``s``, ``m`` or ``h``.

    Args:
        text: For example ``"90"``, ``"90s"``, ``"1.5m"`` or ``"2h"``.

    Returns:
        The duration in seconds, > 0 and finite.

    Raises:
        ValueError: ``text`` is not such a duration.
    """
    found = _DURATION_RE.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not a duration such as 90, 90s, 1.5m or 2h")
    seconds = float(found.group(1)) * _DURATION_UNITS[found.group(2)]
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"{text!r} is not a duration > 0")
    return seconds


def _compile_field(text: str, what: str, problems: list[str]) -> None:
    """Parse the ``${{ }}`` of a field evaluated at the step's turn."""
    from ._status import CONTEXT_NAMES
    from .expressions import ExpressionError, compile_template

    try:
        compile_template(text, names=CONTEXT_NAMES)
    except ExpressionError as exc:
        problems.append(f"{what}: {exc}")


def _check_timeout(value: object, problems: list[str], what: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{what}: timeout must be a number of seconds")
    elif not (math.isfinite(value) and value > 0):
        problems.append(f"{what}: timeout must be > 0 and finite, not {value!r}")


def _check_env(env: object, problems: list[str], what: str) -> None:
    if env is None:
        return
    if not isinstance(env, Mapping):
        problems.append(f"{what}: env must be a mapping of strings to strings")
        return
    for key, value in env.items():
        if not isinstance(key, str) or not key:
            problems.append(f"{what}: env name {key!r} must be a non-empty string")
        elif not isinstance(value, str):
            problems.append(
                f"{what}: env value of {key!r} must be a string, "
                f"not {type(value).__name__}"
            )


def _freeze_env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    if not env:
        return _EMPTY
    if isinstance(env, Mapping):
        return MappingProxyType(dict(env))
    return env  # left for validation to report


def _to_ids(ids: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(ids, str):
        return (ids,)
    try:
        return tuple(ids)
    except TypeError:
        return (ids,)  # type: ignore[return-value]  # reported by validation


def _check_step(
    run: object,
    id: object,
    name: object,
    background: object,
    condition: object,
    continue_on_error: object,
    timeout: object,
    env: object,
    shell: object,
    working_directory: object,
) -> tuple[CompiledExpression | None, float | None, str | None, bool, str | None]:
    """Check every field of a :class:`Step`; return the resolved ones.

    Returns:
        The compiled condition, the timeout in seconds, the timeout
        template, ``continue_on_error`` and its template.

    Raises:
        JobDefinitionError: Every problem found.
    """
    what = _describe(id if isinstance(id, str) else None, cast("str | None", name))
    problems: list[str] = []
    if not (isinstance(run, str) or callable(run)):
        problems.append(
            f"{what}: run must be an async callable or a shell script string, "
            f"not {type(run).__name__}"
        )
    _check_id(id, problems, what)
    _check_name(name, problems, what)
    if not isinstance(background, bool):
        problems.append(f"{what}: background must be True or False")
    coe_template: str | None = None
    if isinstance(continue_on_error, str) and "${{" in continue_on_error:
        coe_template = continue_on_error
        _compile_field(continue_on_error, f"{what}: continue_on_error", problems)
        continue_on_error = False
    elif not isinstance(continue_on_error, bool):
        problems.append(
            f"{what}: continue_on_error must be True, False or a ${{{{ }}}} expression"
        )
    timeout_template: str | None = None
    if isinstance(timeout, str):
        if "${{" in timeout:
            timeout_template = timeout
            _compile_field(timeout, f"{what}: timeout", problems)
            timeout = None
        else:
            try:
                timeout = parse_duration(timeout)
            except ValueError as exc:
                problems.append(f"{what}: timeout: {exc}")
                timeout = None
    compiled: CompiledExpression | None = None
    if isinstance(condition, str):
        try:
            compiled = compile_condition(condition, what)
        except JobDefinitionError as exc:
            problems.extend(exc.problems)
    elif condition is not None and not callable(condition):
        problems.append(
            f"{what}: condition must be None, a callable taking a Status, "
            "or an expression string"
        )
    _check_timeout(timeout, problems, what)
    _check_env(env, problems, what)
    for field, text in (("shell", shell), ("working_directory", working_directory)):
        if text is not None and not isinstance(text, str):
            problems.append(f"{what}: {field} must be a string")
    if isinstance(shell, str) and not isinstance(run, str):
        problems.append(f"{what}: shell applies only to script steps")
    if problems:
        raise JobDefinitionError(problems)
    assert timeout is None or isinstance(timeout, int | float)
    return compiled, timeout, timeout_template, continue_on_error is True, coe_template


@attrs.frozen(kw_only=True, init=False)
class Step:
    """A step that runs code: an async Python callable or a shell script.

    Args:
        run: ``async def f(ctx: StepContext)``, or a shell script (``str``).
        id: The step id, unique in the job ignoring case.
        name: The display name (default: from ``run``).
        background: Launch the step and move on at once (R4.2).
        condition: ``None`` (``success()`` for main steps, ``always()`` for
            post steps), one of :func:`success`, :func:`failure`,
            :func:`always`, :func:`cancelled`, a callable taking a
            :class:`Status`, or an expression string (rules §14).
        continue_on_error: Turn a ``FAILED`` outcome into a ``SUCCEEDED``
            conclusion (R2.3); or a string with ``${{ }}`` evaluated at the
            step's turn (its truthiness decides).
        timeout: Seconds before the step is stopped and ``FAILED`` (R6.6); or
            a string: a duration such as ``"90s"``, ``"1.5m"`` or ``"2h"``,
            possibly with ``${{ }}`` evaluated at the step's turn (R3.6).
        env: Environment variables for this step only.
        shell: The shell for a script step (rules §12).
        working_directory: Where a script step runs.

    Raises:
        JobDefinitionError: A field has the wrong type or value.
    """

    run: StepFunction | str
    id: str | None = None
    name: str | None = None
    background: bool = False
    condition: Condition = None
    #: ``True``/``False``, or the ``${{ }}`` template given (resolved at the
    #: step's turn).
    continue_on_error: bool | str = False
    #: Seconds, or the ``${{ }}`` template given (resolved at the step's
    #: turn); a plain duration string is converted to seconds at once.
    timeout: float | str | None = None
    env: Mapping[str, str] = _EMPTY
    shell: str | None = None
    working_directory: str | None = None
    # Derived from the fields above, never passed in: ``attrs.evolve`` (which
    # passes every ``init`` field) derives it again.
    compiled_condition: CompiledExpression | None = attrs.field(
        default=None, init=False, repr=False, eq=False
    )

    def __init__(
        self,
        run: StepFunction | str,
        *,
        id: str | None = None,
        name: str | None = None,
        background: bool = False,
        condition: Condition = None,
        continue_on_error: bool | str = False,
        timeout: float | str | None = None,
        env: Mapping[str, str] | None = None,
        shell: str | None = None,
        working_directory: str | None = None,
    ) -> None:
        compiled: CompiledExpression | None = None
        timeout_template: str | None = None
        coe_template: str | None = None
        if not (
            name is None
            and condition is None
            and timeout is None
            and env is None
            and shell is None
            and working_directory is None
            and (background is False or background is True)
            and (continue_on_error is False or continue_on_error is True)
            and (id is None or _valid_id(id))
            and (isinstance(run, str) or callable(run))
        ):
            # Not the common case, known valid without formatting where the
            # step is (a job may hold 100,000 steps): check every field.
            compiled, timeout, timeout_template, continue_on_error, coe_template = (
                _check_step(
                    run,
                    id,
                    name,
                    background,
                    condition,
                    continue_on_error,
                    timeout,
                    env,
                    shell,
                    working_directory,
                )
            )
        self.__attrs_init__(
            run=run,
            id=id,
            name=name,
            background=background,
            condition=condition,
            continue_on_error=(
                coe_template if coe_template is not None else continue_on_error is True
            ),
            timeout=(
                timeout_template
                if timeout_template is not None
                else None
                if timeout is None
                else float(timeout)
            ),
            env=_freeze_env(env),
            shell=shell,
            working_directory=working_directory,
        )
        if compiled is not None:
            object.__setattr__(self, "compiled_condition", compiled)

    @property
    def timeout_template(self) -> str | None:
        """``timeout`` when it is a ``${{ }}`` template, else ``None``."""
        return self.timeout if isinstance(self.timeout, str) else None

    @property
    def timeout_seconds(self) -> float | None:
        """``timeout`` in seconds when known before the step's turn, else ``None``."""
        return None if isinstance(self.timeout, str) else self.timeout

    @property
    def continue_on_error_template(self) -> str | None:
        """``continue_on_error`` when it is a ``${{ }}`` template, else ``None``."""
        coe = self.continue_on_error
        return coe if isinstance(coe, str) else None

    def evolve(self, **changes: object) -> Step:
        """Return a copy with some arguments changed (validated again).

        The same as ``attrs.evolve(step, **changes)``: the fields not changed
        are passed as they are (templates included) and everything derived
        from them is derived again.

        Raises:
            JobDefinitionError: A changed field has the wrong type or value.
        """
        return attrs.evolve(self, **changes)  # type: ignore[arg-type]

    @property
    def display_name(self) -> str:
        """The name shown in reports, ``name`` or one made from ``run``."""
        if self.name is not None:
            return self.name
        if isinstance(self.run, str):
            first = next((ln.strip() for ln in self.run.splitlines() if ln.strip()), "")
            return f"Run {first}"
        fn_name = getattr(self.run, "__name__", None)
        return fn_name if isinstance(fn_name, str) else type(self.run).__name__


def _control_fields(
    kind: str, id: object, name: object, continue_on_error: object
) -> list[str]:
    if (
        (id is None or _valid_id(id))
        and (name is None or isinstance(name, str))
        and (continue_on_error is False or continue_on_error is True)
    ):
        return []  # the common case, without formatting where the step is
    what = _describe(
        id if isinstance(id, str) else None, name if isinstance(name, str) else None
    )
    what = f"{kind} {what}"
    problems: list[str] = []
    _check_id(id, problems, what)
    _check_name(name, problems, what)
    if not isinstance(continue_on_error, bool):
        problems.append(f"{what}: continue_on_error must be True or False")
    return problems


def _check_targets(kind: str, ids: tuple[object, ...], problems: list[str]) -> None:
    if not ids:
        problems.append(f"{kind} must list at least one step id")
    for target in ids:
        if not isinstance(target, str) or not target:
            problems.append(f"{kind}: target {target!r} must be a non-empty step id")


@attrs.frozen(kw_only=True, init=False)
class Wait:
    """Block until every listed background step has finished (R4.4).

    Args:
        ids: One id, or several, of background steps declared earlier.
        id: This step's id.
        name: The display name (default ``Wait for …``).
        continue_on_error: Turn a ``FAILED`` outcome into ``SUCCEEDED``.

    Raises:
        JobDefinitionError: A field has the wrong type or value.
    """

    ids: tuple[str, ...]
    id: str | None = None
    name: str | None = None
    continue_on_error: bool = False

    def __init__(
        self,
        ids: str | Iterable[str],
        *,
        id: str | None = None,
        name: str | None = None,
        continue_on_error: bool = False,
    ) -> None:
        targets = _to_ids(ids)
        problems = _control_fields("wait", id, name, continue_on_error)
        _check_targets("wait", targets, problems)
        if problems:
            raise JobDefinitionError(problems)
        self.__attrs_init__(
            ids=targets, id=id, name=name, continue_on_error=continue_on_error
        )

    @property
    def display_name(self) -> str:
        """The name shown in reports."""
        return self.name if self.name is not None else f"Wait for {', '.join(self.ids)}"


@attrs.frozen(kw_only=True, init=False)
class WaitAll:
    """Block until every launched background step not yet completed ends (R4.5).

    Args:
        id: This step's id.
        name: The display name (default ``Wait for all background steps``).
        continue_on_error: Turn a ``FAILED`` outcome into ``SUCCEEDED``.

    Raises:
        JobDefinitionError: A field has the wrong type or value.
    """

    id: str | None = None
    name: str | None = None
    continue_on_error: bool = False

    def __init__(
        self,
        *,
        id: str | None = None,
        name: str | None = None,
        continue_on_error: bool = False,
    ) -> None:
        problems = _control_fields("wait-all", id, name, continue_on_error)
        if problems:
            raise JobDefinitionError(problems)
        self.__attrs_init__(id=id, name=name, continue_on_error=continue_on_error)

    @property
    def display_name(self) -> str:
        """The name shown in reports."""
        return self.name if self.name is not None else "Wait for all background steps"


@attrs.frozen(kw_only=True, init=False)
class Cancel:
    """Stop background steps and wait until they have ended (R4.6).

    Args:
        ids: One id, or several, of background steps declared earlier.
        id: This step's id.
        name: The display name (default ``Cancel …``).

    Raises:
        JobDefinitionError: A field has the wrong type or value.
    """

    ids: tuple[str, ...]
    id: str | None = None
    name: str | None = None

    def __init__(
        self,
        ids: str | Iterable[str],
        *,
        id: str | None = None,
        name: str | None = None,
    ) -> None:
        targets = _to_ids(ids)
        problems = _control_fields("cancel", id, name, False)
        _check_targets("cancel", targets, problems)
        if problems:
            raise JobDefinitionError(problems)
        self.__attrs_init__(ids=targets, id=id, name=name)

    @property
    def continue_on_error(self) -> bool:
        """Always ``False``: a cancel step always succeeds."""
        return False

    @property
    def display_name(self) -> str:
        """The name shown in reports."""
        return self.name if self.name is not None else f"Cancel {', '.join(self.ids)}"


@attrs.frozen(kw_only=True, init=False)
class Parallel:
    """Run a group of steps concurrently: launch each, then wait for all (R4.9).

    Args:
        steps: The member steps: plain run steps, not background.
        name: The display name of the generated wait.

    Raises:
        JobDefinitionError: A member is not a plain run step.
    """

    steps: tuple[Step, ...]
    name: str | None = None

    def __init__(self, steps: Iterable[Step], *, name: str | None = None) -> None:
        try:
            members = tuple(steps)
        except TypeError:
            raise JobDefinitionError(
                "parallel: steps must be a list of steps"
            ) from None
        problems: list[str] = []
        _check_name(name, problems, "parallel")
        if not members:
            problems.append("parallel must have at least one member")
        for position, member in enumerate(members, 1):
            where = f"parallel member {position}"
            if isinstance(member, Parallel):
                problems.append(f"{where}: parallel groups cannot be nested")
            elif isinstance(member, Wait | WaitAll | Cancel):
                problems.append(f"{where}: control steps cannot be parallel members")
            elif not isinstance(member, Step):
                problems.append(f"{where}: must be a Step, not {type(member).__name__}")
            elif member.background:
                problems.append(
                    f"{where} ({_describe(member.id, member.name)}): parallel members "
                    "run in the background already; drop background=True"
                )
        if problems:
            raise JobDefinitionError(problems)
        self.__attrs_init__(steps=members, name=name)


MainStep: TypeAlias = Step | Wait | WaitAll | Cancel | Parallel
ControlStep: TypeAlias = Wait | WaitAll | Cancel


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
                kind="run",
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
                    kind="wait-all",
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
                    kind="wait",
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
                kind="implicit-wait-all",
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
