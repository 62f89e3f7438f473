"""Reading ``action.yml`` files, and resolving ``uses:`` to an action (rules §16).

:class:`ActionResolver` turns the text of a ``uses:`` into an
:class:`~trio_steps._actions._definition.ActionDefinition`: a local action
(``./path``, relative to the workspace) is read from its directory, a
remote one (``owner/repo[/path]@ref``) is fetched first (``_fetch.py``).
Every ``action.yml`` is validated like a workflow file, with the same YAML
reader and positions: a problem is reported at ``file:line:column`` of the
action file, a problem of the call (a missing required input) at the
``uses:`` of the caller, and nothing runs (R16.1, R16.2).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final

from .._actions._definition import (
    NODE_VERSIONS,
    ActionDefinition,
    ActionInput,
    ActionSettings,
    CompositeStep,
)
from .._status import CONTEXT_NAMES
from ._fetch import FetchError, fetch_action
from ._nodes import (
    Problem,
    _is_map,
    _is_seq,
    _item_pos,
    _key_pos,
    _node_pos,
    _scalar_text,
    _type_name,
    _value_pos,
)
from ._source import _Source

if TYPE_CHECKING:
    from ._nodes import Node

__all__ = ["MAX_ACTION_DEPTH", "ActionResolver", "call_inputs"]

#: How deep composite actions may nest ``uses:`` inside each other.
MAX_ACTION_DEPTH: Final = 10
#: How large an ``action.yml`` may be.
MAX_ACTION_BYTES: Final = 1 << 20

_TOP_KEYS: Final = frozenset(
    {"name", "description", "author", "inputs", "outputs", "runs", "branding"}
)
_INPUT_KEYS: Final = frozenset(
    {"description", "required", "default", "deprecationMessage"}
)
_OUTPUT_KEYS: Final = frozenset({"description", "value"})
_NODE_KEYS: Final = frozenset({"using", "main", "pre", "post", "pre-if", "post-if"})
_COMPOSITE_KEYS: Final = frozenset({"using", "steps"})
_DOCKER_KEYS: Final = frozenset(
    {"using", "image", "args", "env", "entrypoint", "pre-entrypoint", "post-entrypoint"}
)
_STEP_KEYS: Final = frozenset(
    {
        "id",
        "name",
        "run",
        "shell",
        "working-directory",
        "env",
        "if",
        "continue-on-error",
        "uses",
        "with",
    }
)
# GitHub's owner and repository names; a ref that is not an option of git.
_REMOTE: Final = re.compile(
    r"(?P<owner>[A-Za-z0-9][A-Za-z0-9_-]*)/(?P<repo>[A-Za-z0-9_.-]+)"
    r"(?P<path>(?:/[^@]+)?)@(?P<ref>[^-@\s][^@\s]*)\Z"
)
_ID: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")

Report = Callable[[str], None]


def call_inputs(
    definition: ActionDefinition,
    given: Mapping[str, str],
    error: Report,
    warn: Report,
) -> dict[str, str]:
    """The inputs of one call: ``with:`` checked against the declared inputs.

    A required input without a default that ``with:`` leaves out is an
    error; an input the action does not declare is a warning (as on
    GitHub). Defaults fill in what ``with:`` leaves out (R16.3).

    Returns:
        Input name -> value template, declared inputs under their declared
        names.
    """
    declared = {i.name.casefold(): i for i in definition.inputs}
    inputs: dict[str, str] = {}
    for name, value in given.items():
        found = declared.get(name.casefold())
        if found is None:
            warn(
                f"input {name!r} is not declared by {definition.reference}; "
                f"its inputs are: {', '.join(i.name for i in definition.inputs) or 'none'}"
            )
            inputs[name] = value
        else:
            inputs[found.name] = value
    missing = []
    for item in definition.inputs:
        if item.name in inputs:
            continue
        if item.default is not None:
            inputs[item.name] = item.default
        elif item.required:
            missing.append(item.name)
        else:
            inputs[item.name] = ""
    if missing:
        error(
            f"{definition.reference} requires the input"
            f"{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}; "
            "add it under 'with:'"
        )
    return inputs


class ActionResolver:
    """Resolves ``uses:`` to actions for one load, reading each file once.

    Args:
        settings: Where remote actions come from (default: GitHub, the
            user's cache directory).
        workspace: What ``./path`` is relative to (default: the current
            directory).
    """

    def __init__(
        self, settings: ActionSettings | None = None, workspace: str | None = None
    ) -> None:
        self.settings = settings if settings is not None else ActionSettings()
        self.workspace = os.path.abspath(workspace or os.getcwd())
        #: Problems found in action files (the caller's go to the caller).
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self._definitions: dict[tuple[str, str], ActionDefinition | None] = {}
        self._fetched: dict[tuple[str, str, str], str] = {}
        #: Action files of Docker container actions.
        self.docker: set[str] = set()

    def resolve(
        self,
        uses: str,
        error: Report,
        *,
        unsupported: Report | None = None,
        stack: tuple[str, ...] = (),
    ) -> ActionDefinition | None:
        """The action ``uses`` names, or ``None`` after reporting why not.

        Args:
            uses: The text of ``uses:``.
            error: Reports a problem at the ``uses:``.
            unsupported: Reports an action trio-steps cannot run (Docker);
                ``error`` does when ``None``.
            stack: The action files of the composites on the way here.
        """
        if uses.startswith("docker://"):
            (unsupported or error)(
                f"'uses: {uses}' runs a Docker image, which trio-steps does not support"
            )
            return None
        if uses.startswith("./") or uses == ".":
            directory = os.path.normpath(os.path.join(self.workspace, uses))
        else:
            found = _REMOTE.match(uses)
            if found is None:
                error(
                    f"'uses: {uses}' names no action: use ./path for a local action "
                    "or owner/repo[/path]@ref for a remote one"
                )
                return None
            if found["repo"] in (".", ".."):
                error(f"'uses: {uses}' names no repository")
                return None
            key = (found["owner"], found["repo"], found["ref"])
            checkout = self._fetched.get(key)
            if checkout is None:
                try:
                    checkout = fetch_action(*key, self.settings)
                except FetchError as exc:
                    error(str(exc))
                    return None
                self._fetched[key] = checkout
            directory = os.path.normpath(checkout + found["path"])
            if not (directory + os.sep).startswith(checkout + os.sep):
                error(f"'uses: {uses}': the path leaves the repository")
                return None
        file = next(
            (
                os.path.join(directory, name)
                for name in ("action.yml", "action.yaml")
                if os.path.isfile(os.path.join(directory, name))
            ),
            None,
        )
        if file is None:
            error(f"'uses: {uses}': no action.yml or action.yaml in {directory}")
            return None
        if file in stack:
            error(
                f"'uses: {uses}': the action uses itself (through {' -> '.join(stack)})"
            )
            return None
        if len(stack) >= MAX_ACTION_DEPTH:
            error(
                f"'uses: {uses}': composite actions nest deeper than "
                f"{MAX_ACTION_DEPTH} levels here, the limit"
            )
            return None
        cache_key = (file, uses)
        if cache_key not in self._definitions:
            self._definitions[cache_key] = self._read(uses, directory, file, stack)
        definition = self._definitions[cache_key]
        if file in self.docker:
            (unsupported or error)(
                f"'uses: {uses}' is a Docker container action ({file}), which "
                "trio-steps does not support"
            )
        elif definition is None:
            error(f"'uses: {uses}': the action is not valid (see {file})")
        return definition

    # -- one action file ----------------------------------------------------

    def _read(
        self, uses: str, directory: str, file: str, stack: tuple[str, ...]
    ) -> ActionDefinition | None:
        try:
            with open(file, "rb") as f:
                data = f.read(MAX_ACTION_BYTES + 1)
        except OSError as exc:
            self.problems.append(Problem(file, 1, 1, f"cannot read the file: {exc}"))
            return None
        if len(data) > MAX_ACTION_BYTES:
            self.problems.append(
                Problem(file, 1, 1, f"the file is larger than {MAX_ACTION_BYTES} bytes")
            )
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self.problems.append(Problem(file, 1, 1, "the file is not UTF-8 text"))
            return None
        source = _Source(file, text)
        root = source.parse()
        definition: ActionDefinition | None = None
        if not source.problems:
            definition = _ActionReader(self, source, uses, directory, stack).read(root)
        self.problems.extend(source.problems)
        self.warnings.extend(source.warnings)
        return None if source.problems else definition


class _ActionReader:
    """Validates one ``action.yml`` and builds its definition."""

    def __init__(
        self,
        resolver: ActionResolver,
        source: _Source,
        uses: str,
        directory: str,
        stack: tuple[str, ...],
    ) -> None:
        self.resolver = resolver
        self.source = source
        self.uses = uses
        self.directory = directory
        self.stack = (*stack, source.file)

    def read(self, root: Node) -> ActionDefinition | None:
        source = self.source
        if not _is_map(root):
            source.error(
                _node_pos(root) if root is not None else (0, 0),
                f"an action file must be a mapping with 'name' and 'runs', not "
                f"{_type_name(root)}",
            )
            return None
        source.check_keys(root, _TOP_KEYS, _TOP_KEYS, "an action")
        name = self.uses
        if "name" in root:
            name = source.string(root, "name", "name") or name
        inputs = self.inputs(root)
        if "runs" not in root:
            source.error(
                _node_pos(root), "the action has no 'runs'; add 'runs: using: …'"
            )
            return None
        runs = root["runs"]
        if not _is_map(runs):
            source.error(
                _value_pos(root, "runs"),
                f"runs must be a mapping with 'using', not {_type_name(runs)}",
            )
            return None
        if "using" not in runs:
            source.error(_value_pos(root, "runs"), "runs has no 'using'")
            return None
        using = source.string(runs, "using", "runs.using")
        if using is None:
            return None
        fields: dict[str, object] = {}
        if using == "composite":
            source.check_keys(
                runs,
                _COMPOSITE_KEYS,
                _COMPOSITE_KEYS | _NODE_KEYS,
                "runs of a composite action",
            )
            fields["steps"] = self.steps(runs)
        elif using in NODE_VERSIONS:
            source.check_keys(
                runs,
                _NODE_KEYS,
                _NODE_KEYS | _COMPOSITE_KEYS,
                f"runs of a {using} action",
            )
            if "main" not in runs:
                source.error(
                    _key_pos(runs, "using"),
                    f"a {using} action needs 'main', the script to run",
                )
            for key in ("main", "pre", "post"):
                if key in runs:
                    fields[key] = self.script(runs, key)
            for key in ("pre-if", "post-if"):
                if key in runs:
                    text = source.string(runs, key, key)
                    if text is not None:
                        self.condition(runs, key, text)
                        fields[key.replace("-", "_")] = text
        elif using == "docker":
            source.check_keys(
                runs, _DOCKER_KEYS, _DOCKER_KEYS, "runs of a docker action"
            )
            self.resolver.docker.add(source.file)
            return None
        elif using in ("node12", "node10"):
            source.error(
                _value_pos(runs, "using"),
                f"{using} is no longer supported (GitHub retired it); use node20 or node24",
            )
            return None
        else:
            source.error(
                _value_pos(runs, "using"),
                f"unknown runs.using {using!r}; trio-steps runs composite, node20, "
                "node24 and node16 actions",
            )
            return None
        outputs = self.outputs(root, composite=using == "composite")
        if source.problems:
            return None
        return ActionDefinition(
            reference=self.uses,
            directory=self.directory,
            file=source.file,
            name=name,
            using=using,
            inputs=inputs,
            outputs=outputs,
            **fields,  # type: ignore[arg-type]
        )

    def condition(self, node: Node, key: str, text: str) -> None:
        from .. import expressions

        try:
            expressions.compile_condition(text, names=CONTEXT_NAMES)
        except expressions.ExpressionError as exc:
            self.source.error(
                _value_pos(node, key), f"invalid condition in {key}: {exc.message}"
            )

    def script(self, runs: Node, key: str) -> str | None:
        text = self.source.string(runs, key, key)
        if text is None:
            return None
        path = os.path.normpath(os.path.join(self.directory, text))
        if not os.path.isfile(path):
            self.source.error(
                _value_pos(runs, key),
                f"{key} script {text!r} does not exist in {self.directory}",
            )
            return None
        return path

    def inputs(self, root: Node) -> tuple[ActionInput, ...]:
        source = self.source
        if "inputs" not in root or root["inputs"] is None:
            return ()
        node = root["inputs"]
        if not _is_map(node):
            source.error(
                _value_pos(root, "inputs"),
                f"inputs must be a mapping, not {_type_name(node)}",
            )
            return ()
        inputs = []
        for key in node:
            name = _scalar_text(key)
            if not name:
                source.error(
                    _key_pos(node, key), "an input name must be a non-empty string"
                )
                continue
            spec = node[key]
            default: str | None = None
            required = False
            if spec is not None and not _is_map(spec):
                source.error(
                    _value_pos(node, key),
                    f"input {name!r} must be a mapping, not {_type_name(spec)}",
                )
                continue
            if spec is not None:
                source.check_keys(spec, _INPUT_KEYS, _INPUT_KEYS, f"input {name!r}")
                if "default" in spec:
                    default = source.string(
                        spec, "default", "default", allow_empty=True
                    )
                    if default is not None:
                        source.template(
                            spec, "default", default, CONTEXT_NAMES, "default"
                        )
                if "required" in spec:
                    value = spec["required"]
                    if isinstance(value, str) and value.lower() in ("true", "false"):
                        required = value.lower() == "true"
                    else:
                        required = bool(source.boolean(spec, "required", "required"))
            inputs.append(ActionInput(name=name, default=default, required=required))
        return tuple(inputs)

    def outputs(self, root: Node, *, composite: bool) -> dict[str, str]:
        source = self.source
        if "outputs" not in root or root["outputs"] is None:
            return {}
        node = root["outputs"]
        if not _is_map(node):
            source.error(
                _value_pos(root, "outputs"),
                f"outputs must be a mapping, not {_type_name(node)}",
            )
            return {}
        outputs: dict[str, str] = {}
        for key in node:
            name = _scalar_text(key) or ""
            spec = node[key]
            if spec is not None and not _is_map(spec):
                source.error(
                    _value_pos(node, key),
                    f"output {name!r} must be a mapping, not {_type_name(spec)}",
                )
                continue
            if spec is not None:
                source.check_keys(spec, _OUTPUT_KEYS, _OUTPUT_KEYS, f"output {name!r}")
            if composite:
                if spec is None or "value" not in spec:
                    source.error(
                        _key_pos(node, key),
                        f"output {name!r} of a composite action needs a 'value'",
                    )
                    continue
                value = source.string(spec, "value", "value", allow_empty=True)
                if value is None:
                    continue
                source.template(spec, "value", value, CONTEXT_NAMES, "value")
                outputs[name] = value
            else:
                outputs[name] = ""
        return outputs

    def steps(self, runs: Node) -> tuple[CompositeStep, ...]:
        source = self.source
        if "steps" not in runs:
            source.error(_key_pos(runs, "using"), "a composite action needs 'steps'")
            return ()
        seq = runs["steps"]
        if not _is_seq(seq):
            source.error(
                _value_pos(runs, "steps"),
                f"steps must be a list of steps, not {_type_name(seq)}",
            )
            return ()
        steps: list[CompositeStep] = []
        ids: set[str] = set()
        for index, node in enumerate(seq):
            pos = _item_pos(seq, index)
            if not _is_map(node):
                source.error(pos, f"a step must be a mapping, not {_type_name(node)}")
                continue
            step = self.step(node, pos, ids)
            if step is not None:
                steps.append(step)
        return tuple(steps)

    def step(
        self, node: Node, pos: tuple[int, int], ids: set[str]
    ) -> CompositeStep | None:
        source = self.source
        before = len(source.problems)
        source.check_keys(
            node,
            _STEP_KEYS,
            _STEP_KEYS | {"background", "timeout-minutes"},
            "a composite action step",
        )
        kinds = [k for k in ("run", "uses") if k in node]
        if len(kinds) != 1:
            source.error(
                pos, "a composite action step needs exactly one of run or uses"
            )
            return None
        fields: dict[str, object] = {}
        if "id" in node:
            text = source.string(node, "id", "id")
            if text is not None:
                if not _ID.match(text) or text.startswith("__"):
                    source.error(
                        _value_pos(node, "id"),
                        f"id {text!r} must start with a letter or '_' and contain only letters, digits, '_' and '-'",
                    )
                elif text.casefold() in ids:
                    source.error(_value_pos(node, "id"), f"id {text!r} is used twice")
                else:
                    ids.add(text.casefold())
                    fields["id"] = text
        for key, field in (
            ("name", "name"),
            ("working-directory", "working_directory"),
        ):
            if key in node:
                text = source.string(node, key, key)
                if text is not None:
                    source.template(node, key, text, CONTEXT_NAMES, key)
                    fields[field] = text
        if "if" in node:
            text = source.string(node, "if", "if")
            if text is not None:
                self.condition(node, "if", text)
                fields["condition"] = text
        if "continue-on-error" in node:
            value = node["continue-on-error"]
            if isinstance(value, str) and "${{" in value:
                source.template(
                    node, "continue-on-error", value, CONTEXT_NAMES, "continue-on-error"
                )
                fields["continue_on_error"] = value
            else:
                fields["continue_on_error"] = bool(
                    source.boolean(node, "continue-on-error", "continue-on-error")
                )
        if "env" in node:
            fields["env"] = source.env(node, "env", CONTEXT_NAMES)
        if kinds[0] == "run":
            run = source.string(node, "run", "run")
            if run is not None:
                source.template(node, "run", run, CONTEXT_NAMES, "run")
                fields["run"] = run
            if "shell" not in node:
                source.error(
                    _key_pos(node, "run"),
                    "a run step of a composite action needs 'shell' (for example 'shell: bash')",
                )
            else:
                shell = source.string(node, "shell", "shell")
                if shell is not None:
                    source.check_shell(node, "shell", shell)
                    fields["shell"] = shell
            if "with" in node:
                source.error(_key_pos(node, "with"), "'with' is only for uses steps")
        else:
            uses = source.string(node, "uses", "uses")
            given = self.with_(node)
            if uses is not None and uses.casefold().startswith("actions/checkout@"):
                # As in a workflow: the workspace is already here (R16.8).
                fields.setdefault("name", f"Run {uses}")
                fields["run"], fields["shell"] = "true", "bash"
            elif uses is not None:
                where = _value_pos(node, "uses")
                nested = self.resolver.resolve(
                    uses, lambda message: source.error(where, message), stack=self.stack
                )
                if nested is not None:
                    if not nested.is_composite and nested.pre:
                        source.warn(
                            where,
                            f"{uses}: the pre script of a JavaScript action inside "
                            "a composite action does not run in trio-steps",
                        )
                    fields["uses"] = nested
                    fields["with_"] = call_inputs(
                        nested,
                        given,
                        lambda message: source.error(where, message),
                        lambda message: source.warn(where, message),
                    )
        if len(source.problems) > before:
            return None
        return CompositeStep(**fields)  # type: ignore[arg-type]

    def with_(self, node: Node) -> dict[str, str]:
        return read_with(self.source, node)


def read_with(source: _Source, node: Node) -> dict[str, str]:
    """The ``with:`` of a ``uses:`` step, as strings, templates checked."""
    if "with" not in node or node["with"] is None:
        return {}
    value = node["with"]
    if not _is_map(value):
        source.error(
            _value_pos(node, "with"),
            f"with must be a mapping of inputs, not {_type_name(value)}",
        )
        return {}
    given: dict[str, str] = {}
    for key in value:
        name = _scalar_text(key)
        if not name:
            source.error(
                _key_pos(value, key), "an input name must be a non-empty string"
            )
            continue
        text = source.string(value, key, f"input {name!r}", allow_empty=True)
        if text is None:
            continue
        source.template(value, key, text, CONTEXT_NAMES, f"with.{name}")
        given[name] = text
    return given
