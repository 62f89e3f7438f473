"""Actions as steps: ``uses:`` in Python (rules §16).

:func:`action_phases` reads an action (local or fetched, validated as the
workflow loader does) and returns the steps of its phases: the ``pre``
step, which belongs at the start of the job; the ``main`` step, where the
action runs; the ``post`` step, which belongs among the job's post steps.
:func:`action_step` is the main step alone, for actions without pre or post.
The workflow loader builds its ``uses:`` steps with :func:`build_phases`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._actions._definition import ActionCall, ActionDefinition, ActionSettings
from .._errors import JobDefinitionError
from .._face import public
from .._steps import Step
from ._actions import ActionResolver, call_inputs

if TYPE_CHECKING:
    from .._status import Condition

__all__ = ["action_phases", "action_step", "build_phases"]


def build_phases(
    definition: ActionDefinition,
    inputs: Mapping[str, str],
    *,
    name: str | None,
    **fields: object,
) -> tuple[Step | None, Step, Step | None]:
    """The steps of an action's phases (R16.6, R16.7).

    ``pre`` runs if ``pre-if`` holds (default ``always()``), ``post`` if its
    main step started and ``post-if`` holds (default ``always()``); both
    are named after the main step, as GitHub names them. A composite action
    has a post step when an action inside it has a post script.

    Raises:
        JobDefinitionError: A field of the main step is not valid.
    """
    main_call = ActionCall(definition=definition, with_=dict(inputs))
    main_name = name if name is not None else main_call.display_name
    main = Step(main_call, name=main_name, **fields)  # type: ignore[arg-type]
    pre = post = None
    if definition.pre is not None:
        pre = Step(
            ActionCall(
                definition=definition,
                with_=main_call.with_,
                phase="pre",
                key=main_call.key,
            ),
            name=f"Pre {main_name}",
            condition=definition.pre_if or "always()",
        )
    if definition.has_post:
        post = Step(
            ActionCall(
                definition=definition,
                with_=main_call.with_,
                phase="post",
                key=main_call.key,
            ),
            name=f"Post {main_name}",
            condition=definition.post_if or "always()",
        )
    return pre, main, post


def action_phases(
    uses: str,
    *,
    with_: Mapping[str, str] | None = None,
    id: str | None = None,
    name: str | None = None,
    background: bool = False,
    condition: Condition = None,
    continue_on_error: bool | str = False,
    timeout: float | str | None = None,
    env: Mapping[str, str] | None = None,
    settings: ActionSettings | None = None,
    workspace: str | None = None,
) -> tuple[Step | None, Step, Step | None]:
    """The pre, main and post steps of an action (rules §16).

    Put ``pre`` (if not ``None``) at the start of the job's steps, ``main``
    where the action runs, and ``post`` (if not ``None``) among the job's
    ``post_steps``, in reverse order of the mains, as GitHub orders them.

    Args:
        uses: ``./path`` (relative to ``workspace``) or ``owner/repo[/path]@ref``.
        with_: The action's inputs; values may hold ``${{ }}``, evaluated at
            the step's turn.
        id: The main step's id.
        name: The main step's name (default ``Run <uses>``).
        background: Run the main step in the background (R4.2).
        condition: As for :class:`~trio_steps.Step`.
        continue_on_error: As for :class:`~trio_steps.Step`.
        timeout: As for :class:`~trio_steps.Step`.
        env: The main step's own env.
        settings: Where remote actions come from.
        workspace: What ``./path`` is relative to (default: the current
            directory); the job's workspace.

    Returns:
        ``(pre, main, post)``; ``pre`` and ``post`` are ``None`` when the
        action has no such script.

    Raises:
        JobDefinitionError: The action cannot be read or fetched, its
            ``action.yml`` is not valid (each problem at
            ``file:line:column``), a required input is missing, or a field
            is not valid.
    """
    resolver = ActionResolver(settings, workspace)
    problems: list[str] = []
    definition = resolver.resolve(uses, problems.append)
    problems = [str(p) for p in resolver.problems] + problems
    if definition is not None and not problems:
        inputs = call_inputs(definition, dict(with_ or {}), problems.append, _ignore)
    if definition is None or problems:
        raise JobDefinitionError(problems)
    return build_phases(
        definition,
        inputs,
        name=name,
        id=id,
        background=background,
        condition=condition,
        continue_on_error=continue_on_error,
        timeout=timeout,
        env=env,
    )


def action_step(
    uses: str,
    *,
    with_: Mapping[str, str] | None = None,
    id: str | None = None,
    name: str | None = None,
    background: bool = False,
    condition: Condition = None,
    continue_on_error: bool | str = False,
    timeout: float | str | None = None,
    env: Mapping[str, str] | None = None,
    settings: ActionSettings | None = None,
    workspace: str | None = None,
) -> Step:
    """A step that runs an action (rules §16): the main phase alone.

    Takes the arguments of :func:`action_phases`. For an action with a
    ``pre`` or ``post`` script, use :func:`action_phases`.

    Returns:
        The :class:`~trio_steps.Step`.

    Raises:
        JobDefinitionError: As :func:`action_phases`, and when the action
            has a ``pre`` or ``post`` script.
    """
    pre, main, post = action_phases(
        uses,
        with_=with_,
        id=id,
        name=name,
        background=background,
        condition=condition,
        continue_on_error=continue_on_error,
        timeout=timeout,
        env=env,
        settings=settings,
        workspace=workspace,
    )
    if pre is not None or post is not None:
        raise JobDefinitionError(
            f"{uses} has a pre or post script: use action_phases() and put them "
            "in the job"
        )
    return main


def _ignore(message: str) -> None:
    """Undeclared inputs are passed on, as GitHub does (it only warns)."""


public(action_phases, action_step)
