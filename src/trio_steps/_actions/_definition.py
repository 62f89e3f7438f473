"""What an action is once its ``action.yml`` has been read (rules §16).

Frozen values only: :class:`ActionDefinition` (the file, validated),
:class:`CompositeStep` (one step of a composite action), :class:`ActionCall`
(one phase of one ``uses:`` step, the ``run`` of its :class:`~trio_steps.Step`)
and :class:`ActionSettings` (where remote actions come from).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

import attrs

from .._face import public

if TYPE_CHECKING:
    from .._context import StepContext

__all__ = [
    "DEFAULT_ACTIONS_URL",
    "NODE_VERSIONS",
    "ActionCall",
    "ActionDefinition",
    "ActionInput",
    "ActionSettings",
    "CompositeStep",
    "input_variable",
]

#: Where ``owner/repo@ref`` actions are fetched from by default.
DEFAULT_ACTIONS_URL: Final = "https://github.com"
#: The ``runs.using`` values of JavaScript actions that run; ``node16`` with
#: a warning (GitHub has retired it).
NODE_VERSIONS: Final = ("node20", "node24", "node16")

_EMPTY: Mapping[str, str] = MappingProxyType({})
_KEYS = itertools.count(1)


def input_variable(name: str) -> str:
    """The environment variable of input ``name``, mangled as GitHub does.

    ``INPUT_`` and the name upper-cased with spaces turned into ``_``
    (hyphens stay): ``my input-x`` becomes ``INPUT_MY_INPUT-X``.
    """
    return "INPUT_" + name.replace(" ", "_").upper()


@attrs.frozen(kw_only=True)
class ActionSettings:
    """Where remote actions (``owner/repo[/path]@ref``) come from.

    Args:
        url: The base URL of the git server; ``<url>/<owner>/<repo>`` is
            fetched with ``git`` (``file://`` URLs work too).
        cache_dir: Where fetched actions are kept and reused (default: the
            user's cache directory, ``$XDG_CACHE_HOME/trio-steps/actions``).
        refresh: Fetch again even when the cache has the action.
    """

    url: str = DEFAULT_ACTIONS_URL
    cache_dir: str | None = None
    refresh: bool = False


@attrs.frozen(kw_only=True)
class ActionInput:
    """One input an action declares.

    Attributes:
        name: As declared (inputs are matched ignoring case).
        default: The default value (may hold ``${{ }}``), or ``None``.
        required: Whether a ``uses:`` step must give it when it has no default.
    """

    name: str
    default: str | None = None
    required: bool = False


@attrs.frozen(kw_only=True)
class CompositeStep:
    """One step of a composite action, validated.

    Attributes:
        id: Its id in the composite's own ``steps`` context.
        name: The display name (may hold ``${{ }}``).
        run: The script of a run step.
        shell: Its shell.
        working_directory: Where it runs (default the workspace).
        env: Its own env (values may hold ``${{ }}``).
        condition: Its ``if:`` (``success()`` when ``None``).
        continue_on_error: ``True``/``False`` or a ``${{ }}`` template.
        uses: The nested action of a ``uses:`` step.
        with_: The nested action's inputs (templates).
    """

    id: str | None = None
    name: str | None = None
    run: str | None = None
    shell: str | None = None
    working_directory: str | None = None
    env: Mapping[str, str] = _EMPTY
    condition: str | None = None
    continue_on_error: bool | str = False
    uses: ActionDefinition | None = None
    with_: Mapping[str, str] = _EMPTY

    @property
    def display_name(self) -> str:
        """The name shown in the log."""
        if self.name is not None:
            return self.name
        if self.uses is not None:
            return f"Run {self.uses.reference}"
        first = next(
            (ln.strip() for ln in (self.run or "").splitlines() if ln.strip()), ""
        )
        return f"Run {first}"


@attrs.frozen(kw_only=True)
class ActionDefinition:
    """An action's ``action.yml``, read and validated.

    Attributes:
        reference: What ``uses:`` said (``./path`` or ``owner/repo@ref``).
        directory: The action's directory (``github.action_path``).
        file: Its ``action.yml`` (or ``action.yaml``).
        name: Its ``name``.
        using: ``composite``, ``node20``, ``node24`` or ``node16``.
        inputs: The declared inputs.
        outputs: Output name -> its ``value`` template (composite) or ``""``.
        steps: The steps of a composite action.
        main: The script of a JavaScript action (absolute path).
        pre: Its ``pre`` script (absolute path), if any.
        post: Its ``post`` script (absolute path), if any.
        pre_if: The ``pre-if`` condition (``always()`` when ``None``).
        post_if: The ``post-if`` condition (``always()`` when ``None``).
    """

    reference: str
    directory: str
    file: str
    name: str
    using: str
    inputs: tuple[ActionInput, ...] = ()
    outputs: Mapping[str, str] = _EMPTY
    steps: tuple[CompositeStep, ...] = ()
    main: str | None = None
    pre: str | None = None
    post: str | None = None
    pre_if: str | None = None
    post_if: str | None = None

    @property
    def is_composite(self) -> bool:
        """Whether it is a composite action."""
        return self.using == "composite"

    @property
    def repository(self) -> str:
        """``owner/repo`` of a remote action; ``""`` for a local one."""
        if self.reference.startswith(".") or "@" not in self.reference:
            return ""
        return "/".join(self.reference.rsplit("@", 1)[0].split("/")[:2])

    @property
    def ref(self) -> str:
        """The ref of a remote action; ``""`` for a local one."""
        return self.reference.rsplit("@", 1)[1] if self.repository else ""

    @property
    def has_post(self) -> bool:
        """Whether a post step belongs to it: its own, or a nested action's."""
        if self.post is not None:
            return True
        return any(s.uses is not None and s.uses.has_post for s in self.steps)


@attrs.frozen(kw_only=True, eq=False)
class ActionCall:
    """One phase of one ``uses:`` step: what the step's ``run`` holds.

    The engine runs it with :func:`~trio_steps._actions._run.run_action`;
    the ``pre``, ``main`` and ``post`` calls of one step share a ``key``,
    under which the job keeps the state the action saved (``STATE_*``).

    Attributes:
        definition: The action.
        with_: Input name -> value template (defaults filled in).
        phase: ``pre``, ``main`` or ``post``.
        key: Shared by the phases of one ``uses:`` step.
    """

    definition: ActionDefinition
    with_: Mapping[str, str] = _EMPTY
    phase: str = "main"
    key: int = attrs.field(factory=lambda: next(_KEYS))

    @property
    def display_name(self) -> str:
        """The step's default display name (as GitHub names them)."""
        prefix = {"pre": "Pre Run ", "post": "Post Run "}.get(self.phase, "Run ")
        return prefix + self.definition.reference

    async def __call__(self, ctx: StepContext) -> None:
        """Refuse to run outside the engine, which runs it itself.

        Raises:
            RuntimeError: Always.
        """
        raise RuntimeError("an action step runs only in a trio_steps job")


public(ActionSettings)
