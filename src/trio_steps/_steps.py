"""Step definitions: what one step asks for, validated when it is built.

:class:`Step`, :class:`Wait`, :class:`WaitAll`, :class:`Cancel` and
:class:`Parallel` are frozen attrs classes that check their own fields
(rules §7, §8); :class:`StepKind` names the kinds of steps and
:data:`CONTROL_KINDS` the control steps. How steps fit together is the
job's business (:mod:`trio_steps._job`).
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, TypeAlias, cast

import attrs

from ._errors import JobDefinitionError
from ._face import public
from ._status import Condition, always, cancelled, compile_condition, failure, success

if TYPE_CHECKING:
    from ._context import StepContext
    from .expressions import CompiledExpression

__all__ = [
    "CONTROL_KINDS",
    "Cancel",
    "Parallel",
    "Step",
    "StepFunction",
    "StepKind",
    "Wait",
    "WaitAll",
]

StepFunction: TypeAlias = "Callable[[StepContext], Awaitable[object]]"

_ID_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_EMPTY: Mapping[str, str] = MappingProxyType({})
_STATUS_FUNCTIONS = (success, failure, always, cancelled)


class StepKind(enum.StrEnum):
    """What a step is, as :attr:`StepReport.kind <trio_steps.StepReport.kind>`.

    A :class:`str` enum: ``StepKind.RUN == "run"``, and traces hold the text.
    """

    RUN = "run"
    WAIT = "wait"
    WAIT_ALL = "wait-all"
    CANCEL = "cancel"
    IMPLICIT_WAIT_ALL = "implicit-wait-all"


#: The control steps: they always run and take no condition (R3.1).
CONTROL_KINDS: Final = frozenset(
    {StepKind.WAIT, StepKind.WAIT_ALL, StepKind.CANCEL, StepKind.IMPLICIT_WAIT_ALL}
)


def _describe(id: str | None, name: str | None) -> str:
    if id is not None:
        return f"step {id!r}"
    if name is not None:
        return f"step named {name!r}"
    return "step"


def _valid_id(id: object) -> bool:
    """Whether ``id`` is a usable declared id (what :func:`_check_id` checks)."""
    return type(id) is str and _ID_RE.match(id) is not None and not id.startswith("__")


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

public(Cancel, Parallel, Step, StepKind, Wait, WaitAll)
