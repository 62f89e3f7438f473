"""The step loader: the steps of one job, from YAML to main steps (rules §7, §14).

One step at a time: its shape (``run``, ``uses``, ``wait``, ``wait-all``,
``cancel``, ``parallel``), the keys each shape accepts, the expressions in
its fields, its id; then, over the whole list, the references between steps
(``wait`` and ``cancel`` name background steps declared before them). The
job loader (``_jobs.py``) hands each job's ``steps:`` list and run defaults
here; problems go to the shared :class:`~._source._Source`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from .._errors import JobDefinitionError
from .._status import CONTEXT_NAMES
from .._steps import Cancel, Parallel, Step, Wait, WaitAll
from ._action_steps import build_phases
from ._actions import ActionResolver, call_inputs, read_with
from ._nodes import (
    _did_you_mean,
    _is_map,
    _is_seq,
    _item_pos,
    _key_pos,
    _scalar_text,
    _type_name,
    _value_pos,
)

if TYPE_CHECKING:
    from .._context import StepContext
    from .._status import Status
    from .._steps import MainStep
    from ._nodes import Node, Pos
    from ._source import _Source

#: What a step id (and a job id) may look like.
ID_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")

_KIND_KEYS: Final = ("run", "uses", "wait", "wait-all", "cancel", "parallel")
_RUN_KEYS: Final = frozenset(
    {
        "id",
        "name",
        "run",
        "shell",
        "working-directory",
        "env",
        "if",
        "continue-on-error",
        "timeout-minutes",
        "background",
    }
)
_USES_KEYS: Final = frozenset(
    {
        "id",
        "name",
        "uses",
        "with",
        "env",
        "if",
        "continue-on-error",
        "timeout-minutes",
        "background",
    }
)
_CONTROL_KEYS: Final = frozenset({"id", "name", "continue-on-error"})
_STEP_KEYS: Final = _RUN_KEYS | _USES_KEYS | frozenset(_KIND_KEYS)

# The contexts a step's fields may name (GitHub's context availability
# table, restricted to the contexts trio-steps provides).
_STEP_NAMES: Final = CONTEXT_NAMES


# --------------------------------------------------------------------------
# Steps the loader makes itself


async def _checkout(ctx: StepContext) -> None:
    """Stand in for ``actions/checkout``: the workspace is already here."""
    ctx.log(f"actions/checkout is not needed locally: the workspace is {ctx.workspace}")


async def _unsupported(ctx: StepContext) -> None:  # pragma: no cover - never runs
    """Body of an unsupported ``uses:`` step; its condition keeps it skipped."""
    ctx.warning("this step is not supported by trio-steps and was skipped")


def _never(status: Status) -> bool:
    """The condition of a skipped unsupported step."""
    return False


def _is_checkout(uses: str) -> bool:
    return uses.casefold().startswith("actions/checkout@")


# --------------------------------------------------------------------------
# The step loader


@attrs.define
class _StepInfo:
    """What the reference checks need to know about one main step."""

    index: int
    pos: Pos
    kind: str | None
    id: str | None = None
    id_pos: Pos | None = None
    background: bool = False
    members: list[tuple[str, Pos]] = attrs.Factory(list)
    targets: list[tuple[str, Pos]] = attrs.Factory(list)


class _StepLoader:
    """Builds the main steps of a job's ``steps:`` list, reporting to a source.

    Args:
        source: The file being loaded; every problem goes there.
        skip_unsupported: Turn unsupported ``uses:`` steps into skipped
            steps (with a warning) instead of errors.
    """

    def __init__(
        self,
        source: _Source,
        *,
        skip_unsupported: bool,
        actions: ActionResolver | None = None,
    ) -> None:
        self.source = source
        self.skip_unsupported = skip_unsupported
        self.actions = actions if actions is not None else ActionResolver()
        #: The pre and post steps of the actions of the last list loaded,
        #: in the order of their main steps (R16.6, R16.7).
        self.pre_steps: list[Step] = []
        self.post_steps: list[Step] = []

    # -- the list ----------------------------------------------------------

    def load(self, seq: Node, defaults: Mapping[str, str]) -> list[MainStep]:
        """The main steps of ``seq`` that have no problem, in order.

        Every step is read, whatever the ones before it gave, so that one
        run reports every problem; references are checked last, over all.
        """
        infos: list[_StepInfo] = []
        built: list[MainStep | None] = []
        self.pre_steps, self.post_steps = [], []
        for index, node in enumerate(seq):
            pos = _item_pos(seq, index)
            info = _StepInfo(index=index, pos=pos, kind=None)
            infos.append(info)
            built.append(self.step(node, pos, info, defaults))
        self.check_references(infos)
        return [step for step in built if step is not None]

    # -- one step ----------------------------------------------------------

    def kind_of(self, node: Node, pos: Pos, what: str) -> str | None:
        kinds = [key for key in node if key in _KIND_KEYS]
        if not kinds:
            unknown = [k for k in node if k not in _STEP_KEYS]
            if not unknown:  # unknown keys get their own message
                self.source.error(
                    pos,
                    f"{what} needs one of run, uses, wait, wait-all, cancel or "
                    "parallel",
                )
            return None
        if len(kinds) > 1:
            self.source.error(
                _key_pos(node, kinds[1]),
                f"{what} has both {kinds[0]!r} and {kinds[1]!r}; a step does exactly "
                "one thing: split it into two steps",
            )
            return None
        return str(kinds[0])

    def step_id(self, node: Node, info: _StepInfo) -> str | None:
        if "id" not in node:
            return None
        text = self.source.string(node, "id", "id")
        if text is None:
            return None
        pos = _value_pos(node, "id")
        if not ID_RE.match(text):
            self.source.error(
                pos,
                f"id {text!r} must start with a letter or '_' and contain only "
                "letters, digits, '_' and '-'",
            )
            return None
        if text.startswith("__"):
            self.source.error(
                pos,
                f"id {text!r} starts with '__', which is reserved for generated ids",
            )
            return None
        info.id, info.id_pos = text, pos
        return text

    def step(
        self, node: Node, pos: Pos, info: _StepInfo, defaults: Mapping[str, str]
    ) -> MainStep | None:
        if not _is_map(node):
            self.source.error(
                pos,
                f"a step must be a mapping (for example '- run: make'), "
                f"not {_type_name(node)}",
            )
            return None
        before = len(self.source.problems)
        kind = self.kind_of(node, pos, "a step")
        info.kind = kind
        self.step_id(node, info)
        result: MainStep | None = None
        if kind in ("run", "uses"):
            self.source.check_keys(
                node,
                _RUN_KEYS if kind == "run" else _USES_KEYS,
                _STEP_KEYS,
                f"a {kind} step",
            )
            if "background" in node:
                info.background = bool(
                    self.source.boolean(node, "background", "background")
                )
            result = self.run_step(
                node, pos, kind, defaults, step_id=info.id, background=info.background
            )
        elif kind in ("wait", "wait-all", "cancel"):
            self.source.check_keys(
                node, _CONTROL_KEYS | {kind}, _STEP_KEYS, f"a {kind} step"
            )
            result = self.control_step(node, kind, info)
        elif kind == "parallel":
            self.source.check_keys(node, {"parallel"}, _STEP_KEYS, "a parallel step")
            result = self.parallel_step(node, info, defaults)
        else:
            self.source.check_keys(node, _STEP_KEYS, _STEP_KEYS, "a step")
        if len(self.source.problems) > before:
            return None
        return result

    def run_step(
        self,
        node: Node,
        pos: Pos,
        kind: str,
        defaults: Mapping[str, str],
        *,
        step_id: str | None,
        background: bool,
    ) -> Step | None:
        fields: dict[str, Any] = {}
        name: str | None = None
        if "name" in node:
            name = self.source.string(node, "name", "name")
            if name is not None:
                self.source.template(node, "name", name, _STEP_NAMES, "name")
        if "if" in node:
            text = self.source.string(node, "if", "if")
            if text is not None and self.condition(node, "if", text):
                fields["condition"] = text
        # §14: these two may be expressions, evaluated at the step's turn.
        if "continue-on-error" in node:
            expression = self.deferred(node, "continue-on-error")
            if expression is not None:
                fields["continue_on_error"] = expression or None
            else:
                fields["continue_on_error"] = self.source.boolean(
                    node, "continue-on-error", "continue-on-error"
                )
        if "timeout-minutes" in node:
            expression = self.deferred(node, "timeout-minutes")
            if expression is not None:
                fields["timeout"] = f"{expression}m" if expression else None
            else:
                fields["timeout"] = self.source.minutes(node, "timeout-minutes")
        if "env" in node:
            fields["env"] = self.source.env(node, "env", _STEP_NAMES)
        run: Callable[[StepContext], object] | str | None
        if kind == "run":
            run = self.source.string(node, "run", "run")
            if run is not None:
                self.source.template(node, "run", run, _STEP_NAMES, "run")
            for key, field in (
                ("shell", "shell"),
                ("working-directory", "working_directory"),
            ):
                if key in node:
                    text = self.source.string(node, key, key)
                    if text is not None:
                        self.source.template(node, key, text, _STEP_NAMES, key)
                        if key == "shell":
                            self.source.check_shell(node, key, text)
                    fields[field] = text
                elif key in defaults:
                    fields[field] = defaults[key]
        else:
            uses = self.source.string(node, "uses", "uses")
            given = read_with(self.source, node)
            if uses is None:
                return None
            if _is_checkout(uses):
                run = _checkout
                name = name if name is not None else f"Run {uses}"
            else:
                return self.action_step(
                    node, pos, uses, given, name, fields, step_id, background
                )
        if run is None:
            return None
        fields = {k: v for k, v in fields.items() if v is not None}
        try:
            return Step(
                run,
                id=step_id,
                name=name,
                background=background,
                **fields,
            )
        except JobDefinitionError as exc:
            for problem in exc.problems:
                self.source.error(pos, problem)
            return None

    def action_step(
        self,
        node: Node,
        pos: Pos,
        uses: str,
        given: dict[str, str],
        name: str | None,
        fields: dict[str, Any],
        step_id: str | None,
        background: bool,
    ) -> Step | None:
        """A ``uses:`` step other than checkout: an action (rules §16)."""
        where = _value_pos(node, "uses")
        skipped: list[str] = []

        def error(message: str) -> None:
            self.source.error(where, message)

        def unsupported(message: str) -> None:
            if self.skip_unsupported:
                skipped.append(message)
            else:
                error(
                    f"{message}; rewrite it as a run step or pass "
                    "--skip-unsupported to skip it"
                )

        definition = self.actions.resolve(uses, error, unsupported=unsupported)
        self.source.problems.extend(self.actions.problems)
        self.source.warnings.extend(self.actions.warnings)
        self.actions.problems.clear()
        self.actions.warnings.clear()
        fields = {k: v for k, v in fields.items() if v is not None}
        if skipped:
            self.source.warn(where, f"{skipped[0]}; the step is skipped")
            fields["condition"] = _never
            label = name if name is not None else "Run " + uses
            return Step(
                _unsupported,
                id=step_id,
                name=f"{label} (unsupported: skipped)",
                background=background,
                **fields,
            )
        if definition is None:
            return None
        inputs = call_inputs(
            definition, given, error, lambda message: self.source.warn(where, message)
        )
        try:
            pre, main, post = build_phases(
                definition,
                inputs,
                name=name,
                id=step_id,
                background=background,
                **fields,
            )
        except JobDefinitionError as exc:
            for problem in exc.problems:
                self.source.error(pos, problem)
            return None
        if pre is not None:
            self.pre_steps.append(pre)
        if post is not None:
            self.post_steps.append(post)
        return main

    def control_step(self, node: Node, kind: str, info: _StepInfo) -> MainStep | None:
        name: str | None = None
        if "name" in node:
            name = self.source.string(node, "name", "name")
            if name is not None:
                self.source.template(node, "name", name, _STEP_NAMES, "name")
        continue_on_error: bool | None = False
        if "continue-on-error" in node:
            continue_on_error = self.source.boolean(
                node, "continue-on-error", "continue-on-error"
            )
        value = node[kind]
        value_pos = (
            _value_pos(node, kind) if value is not None else _key_pos(node, kind)
        )
        step_id = info.id
        if kind == "wait-all":
            if value is not None and value is not True:
                self.source.error(
                    value_pos,
                    f"wait-all takes no value or true, not {_scalar_text(value) or _type_name(value)}; "
                    "to wait for some steps only, use 'wait: [ids]'",
                )
                return None
            if continue_on_error is None:
                return None
            return WaitAll(id=step_id, name=name, continue_on_error=continue_on_error)
        targets: list[tuple[str, Pos]] = []
        if kind == "cancel":
            if isinstance(value, str) and value:
                targets.append((str(value), value_pos))
            else:
                hint = (
                    "; use one cancel step per step to cancel" if _is_seq(value) else ""
                )
                self.source.error(
                    value_pos,
                    f"cancel must name one step id, not {_type_name(value)}{hint}",
                )
        elif isinstance(value, str) and value:
            targets.append((str(value), value_pos))
        elif _is_seq(value):
            if not value:
                self.source.error(
                    value_pos,
                    "wait: [] waits for nothing; list at least one step id, or use "
                    "'wait-all: true'",
                )
            for index, item in enumerate(value):
                if isinstance(item, str) and item:
                    targets.append((str(item), _item_pos(value, index)))
                else:
                    self.source.error(
                        _item_pos(value, index),
                        f"wait targets must be step ids (strings), not {_type_name(item)}",
                    )
        else:
            self.source.error(
                value_pos,
                f"wait must be a step id or a list of step ids, not {_type_name(value)}",
            )
        info.targets = targets
        if continue_on_error is None or not targets:
            return None
        ids = [target for target, _ in targets]
        if kind == "wait":
            return Wait(ids, id=step_id, name=name, continue_on_error=continue_on_error)
        return Cancel(ids, id=step_id, name=name)

    def parallel_step(
        self, node: Node, info: _StepInfo, defaults: Mapping[str, str]
    ) -> MainStep | None:
        value = node["parallel"]
        if not _is_seq(value) or not value:
            self.source.error(
                _value_pos(node, "parallel")
                if value is not None
                else _key_pos(node, "parallel"),
                f"parallel must be a non-empty list of steps, not {_type_name(value)}",
            )
            return None
        members: list[Step] = []
        ok = True
        for index, member in enumerate(value):
            pos = _item_pos(value, index)
            if not _is_map(member):
                self.source.error(
                    pos,
                    f"a parallel member must be a step mapping, not {_type_name(member)}",
                )
                ok = False
                continue
            kind = self.kind_of(member, pos, "a parallel member")
            if kind in ("wait", "wait-all", "cancel", "parallel"):
                what = (
                    "nested parallel groups" if kind == "parallel" else f"{kind} steps"
                )
                self.source.error(
                    _key_pos(member, kind),
                    f"{what} cannot be parallel members; members must be run or "
                    "uses steps",
                )
                ok = False
                continue
            if "background" in member:
                self.source.error(
                    _key_pos(member, "background"),
                    "parallel members already run in the background; remove "
                    "'background'",
                )
                ok = False
                continue
            if kind is None:
                self.source.check_keys(
                    member, _STEP_KEYS, _STEP_KEYS, "a parallel member"
                )
                ok = False
                continue
            self.source.check_keys(
                member,
                (_RUN_KEYS if kind == "run" else _USES_KEYS) - {"background"},
                _STEP_KEYS,
                "a parallel member",
            )
            member_info = _StepInfo(index=index, pos=pos, kind=kind)
            self.step_id(member, member_info)
            if member_info.id is not None and member_info.id_pos is not None:
                info.members.append((member_info.id, member_info.id_pos))
            before = len(self.source.problems)
            step = self.run_step(
                member, pos, kind, defaults, step_id=member_info.id, background=False
            )
            if step is None or len(self.source.problems) > before:
                ok = False
            else:
                members.append(step)
        if not ok:
            return None
        return Parallel(members)

    # -- fields evaluated at the step's turn ------------------------------

    def deferred(self, node: Node, key: str) -> str | None:
        """A step field given as ``${{ }}``, evaluated at the step's turn.

        Returns:
            ``None`` when the value is not an expression; the text when it
            parses; ``""`` when it does not (the error is reported).
        """
        value = node[key]
        if not (isinstance(value, str) and "${{" in value):
            return None
        before = len(self.source.problems)
        self.source.template(node, key, value, _STEP_NAMES, key)
        return value if len(self.source.problems) == before else ""

    def condition(self, node: Node, key: str, text: str) -> bool:
        from .. import expressions

        try:
            expressions.compile_condition(text, names=_STEP_NAMES)
        except expressions.ExpressionError as exc:
            if exc.template_position is not None:
                offset = exc.template_position - 1
            else:
                inner = text.find(exc.expression) if exc.expression else -1
                offset = max(inner, 0) + exc.position - 1
            self.source.error(
                self.source.offset_pos(_value_pos(node, key), text, offset),
                f"invalid expression in if: {exc.message}",
            )
            return False
        return True

    # -- rules §7: references between steps -------------------------------

    def check_references(self, infos: list[_StepInfo]) -> None:
        declared: dict[str, tuple[str, Pos]] = {}  # every id of the job
        for info in infos:
            for step_id, pos in self._ids_of(info):
                declared.setdefault(step_id.casefold(), (step_id, pos))
        seen: dict[str, tuple[str, Pos]] = {}
        background: set[str] = set()
        for info in infos:
            for step_id, pos in self._ids_of(info):
                folded = step_id.casefold()
                if folded in seen:
                    first, first_pos = seen[folded]
                    self.source.error(
                        pos,
                        f"id {step_id!r} is already used by the step at line "
                        f"{first_pos[0] + 1} (as {first!r}; ids ignore case); "
                        "choose another id",
                    )
                    continue
                seen[folded] = (step_id, pos)
            own = info.id.casefold() if info.id is not None else None
            for target, pos in info.targets:
                folded = target.casefold()
                kind = info.kind
                if folded == own:
                    self.source.error(
                        pos, f"a {kind} step cannot name itself ({target!r})"
                    )
                elif folded in background:
                    continue
                elif folded in seen:
                    self.source.error(
                        pos,
                        f"{target!r} is not a background step; {kind} can only name "
                        "steps with 'background: true' or parallel members",
                    )
                elif folded in declared:
                    later = declared[folded][1][0] + 1
                    self.source.error(
                        pos,
                        f"{target!r} is declared later (line {later}); {kind} can only "
                        "name background steps declared before it",
                    )
                else:
                    hint = _did_you_mean(target, sorted(s for s, _ in seen.values()))
                    self.source.error(
                        pos,
                        f"{target!r} is not the id of a background step declared "
                        f"before this step{hint}",
                    )
            if info.background and own is not None:
                background.add(own)
            for member, _ in info.members:
                background.add(member.casefold())

    @staticmethod
    def _ids_of(info: _StepInfo) -> list[tuple[str, Pos]]:
        ids = list(info.members)
        if info.id is not None and info.id_pos is not None:
            ids.insert(0, (info.id, info.id_pos))
        return ids
