"""Load a GitHub Actions workflow job as a :class:`Job` (rules §13, §7, §14).

The file is read with ruamel.yaml in YAML 1.2 round-trip mode, which keeps
the line and column of every node (and reads ``on:`` as the string key
``on``, not ``true``). Every rule is checked on the YAML nodes, so every
problem carries a position; problems are collected, never stopped at the
first, and raised together as one :class:`WorkflowError`.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from .._errors import JobDefinitionError
from .._job import Job
from .._status import CONTEXT_NAMES
from .._steps import Cancel, Parallel, Step, Wait, WaitAll
from ._nodes import (
    Problem,
    _did_you_mean,
    _is_map,
    _is_seq,
    _item_pos,
    _key_pos,
    _listing,
    _node_pos,
    _scalar_text,
    _type_name,
    _value_pos,
)

if TYPE_CHECKING:
    from .._context import StepContext
    from .._status import Status
    from .._steps import MainStep
    from ._nodes import Node, Pos

_ID_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
#: How deep mappings and lists may nest inside each other in a workflow file.
#: Deeper nesting is a :class:`WorkflowError` at the collection that goes too
#: deep (the YAML reader is recursive: without a limit it would overflow the
#: Python stack).
MAX_YAML_DEPTH: Final = 64

# Keys GitHub knows and trio-steps reads or deliberately ignores.
_WORKFLOW_KEYS: Final = frozenset(
    {"name", "run-name", "on", "permissions", "env", "defaults", "concurrency", "jobs"}
)
_JOB_KEYS_USED: Final = frozenset(
    {"name", "steps", "env", "defaults", "timeout-minutes"}
)
_JOB_KEYS_IGNORED: Final = frozenset(
    {
        "permissions",
        "needs",
        "if",
        "runs-on",
        "snapshot",
        "environment",
        "concurrency",
        "outputs",
        "strategy",
        "continue-on-error",
        "container",
        "services",
        "uses",
        "with",
        "secrets",
    }
)
# Ignored keys that change what a job does on GitHub: say so when they appear.
_JOB_KEYS_NOTED: Final = frozenset({"container", "services", "strategy"})
_DEFAULTS_RUN_KEYS: Final = frozenset({"shell", "working-directory"})

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
_SHELLS: Final = ("bash", "sh", "python")

# The contexts each place may name (GitHub's context availability table,
# restricted to the contexts trio-steps provides).
_STEP_NAMES: Final = CONTEXT_NAMES
_WORKFLOW_ENV_NAMES: Final = ("github", "secrets", "inputs", "vars")
_JOB_NAME_NAMES: Final = ("github", "inputs", "vars")
_DEFAULTS_NAMES: Final = ("env", "github", "inputs", "vars")
"""A 0-based ``(line, column)``, as ruamel.yaml records it."""


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
# The loader


@attrs.frozen(kw_only=True)
class LoadedWorkflow:
    """Every job of a valid workflow file, and the warnings loading it gave.

    Attributes:
        file: The file name shown in messages.
        name: The workflow's ``name``, if it has one.
        jobs: Job id → :class:`Job`, in file order (jobs that cannot run
            locally, like reusable-workflow calls, are absent).
        warnings: Things that will not behave as on GitHub (an ignored
            ``services:``, a skipped unsupported step), with positions.
    """

    file: str
    name: str | None
    jobs: Mapping[str, Job]
    job_ids: tuple[str, ...]
    jobs_pos: Pos
    warnings: tuple[Problem, ...] = ()


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


@functools.cache
def _guarded_yaml_classes() -> tuple[type[Any], type[Any]]:
    """ruamel.yaml's round-trip composer and constructor, made safe for any input.

    The composer refuses nesting deeper than :data:`MAX_YAML_DEPTH` (the
    composer and constructor recurse once per level); the constructor turns
    the ``ValueError`` of a scalar it cannot convert (an integer of more than
    4,300 digits, a bad ``!!timestamp``) into a marked YAML error.
    """
    from ruamel.yaml.composer import Composer, ComposerError
    from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
    from ruamel.yaml.events import CollectionStartEvent

    class DepthComposer(Composer):
        collections = 0

        def compose_node(self, parent: Node, index: Node) -> Node:
            event = self.parser.peek_event()
            if not isinstance(event, CollectionStartEvent):
                return super().compose_node(parent, index)
            if self.collections >= MAX_YAML_DEPTH:
                raise ComposerError(
                    None,
                    None,
                    f"mappings and lists nest deeper than {MAX_YAML_DEPTH} levels "
                    "here, the limit",
                    event.start_mark,
                )
            self.collections += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.collections -= 1

    class SafeConstructor(RoundTripConstructor):
        def construct_object(self, node: Node, deep: bool = False) -> Node:
            try:
                return super().construct_object(node, deep=deep)
            except (ValueError, OverflowError) as exc:
                # Not the advice to call sys.set_int_max_str_digits().
                reason = str(exc).split("; use sys.", 1)[0]
                raise ConstructorError(
                    None, None, f"cannot read this value: {reason}", node.start_mark
                ) from None

    return DepthComposer, SafeConstructor


class _Loader:
    def __init__(self, file: str, text: str, *, skip_unsupported: bool) -> None:
        self.file = file
        self.text = text
        # Only "\n" ends a line in YAML 1.2 (and for ruamel's marks), not the
        # other breaks str.splitlines() knows (U+0085, U+2028, form feed, ...).
        self.lines = [line + "\n" for line in text.split("\n")]
        self.skip_unsupported = skip_unsupported
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    # -- reporting ---------------------------------------------------------

    def error(self, pos: Pos, message: str) -> None:
        self.problems.append(Problem(self.file, pos[0] + 1, pos[1] + 1, message))

    def warn(self, pos: Pos, message: str) -> None:
        self.warnings.append(Problem(self.file, pos[0] + 1, pos[1] + 1, message))

    # -- YAML --------------------------------------------------------------

    def parse(self) -> object:
        from ruamel.yaml import YAML
        from ruamel.yaml.constructor import DuplicateKeyError
        from ruamel.yaml.error import MarkedYAMLError, YAMLError
        from ruamel.yaml.reader import ReaderError

        yaml = YAML(typ="rt")
        yaml.version = (1, 2)
        yaml.Composer, yaml.Constructor = _guarded_yaml_classes()
        try:
            return yaml.load(self.text)
        except ReaderError as exc:
            # Marks no line: place it from the offset in the text.
            position = exc.position if isinstance(exc.position, int) else 0
            self.error(
                self.text_pos(position),
                f"a control character (U+{exc.character:04X}) that YAML does not "
                "allow; remove it, or write it as an escape in a double-quoted "
                "string"
                if isinstance(exc.character, int)
                else f"invalid YAML: {exc.reason}",
            )
        except DuplicateKeyError as exc:
            mark = exc.problem_mark
            first = exc.context_mark
            key = re.search(r'duplicate key "(.*?)"', str(exc.problem))
            name = repr(key.group(1)) if key else "a key"
            where = f" (first at line {first.line + 1})" if first is not None else ""
            self.error(
                (mark.line, mark.column) if mark is not None else (0, 0),
                f"duplicate key {name}{where}; a mapping can have each key once, "
                "remove or rename one of them",
            )
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            pos = (mark.line, mark.column) if mark is not None else (0, 0)
            problem = str(exc.problem or exc.context or "invalid YAML")
            if "'\\t'" in problem:
                message = (
                    "a tab character in indentation; YAML allows only spaces "
                    "there: replace the tab with spaces"
                )
            else:
                context = f"{exc.context}: " if exc.context else ""
                message = f"invalid YAML: {context}{problem}"
            self.error(pos, message)
        except YAMLError as exc:  # pragma: no cover - errors without a mark
            self.error((0, 0), f"invalid YAML: {exc}")
        return None

    # -- positions inside scalars -----------------------------------------

    def text_pos(self, index: int) -> Pos:
        """The 0-based line and column of character ``index`` of the text."""
        line = self.text.count("\n", 0, index)
        return (line, index - (self.text.rfind("\n", 0, index) + 1))

    def offset_pos(self, pos: Pos, value: str, offset: int) -> Pos:
        """Map a 0-based offset in a scalar's value to a file position.

        ``${{`` appears verbatim in every YAML style, so an offset inside an
        expression is found from the matching ``${{`` in the source; other
        offsets are mapped by the scalar's style.
        """
        line, col = pos
        raw_line = self.lines[line] if line < len(self.lines) else ""
        indicator = raw_line[col : col + 1]
        anchor = value.rfind("${{", 0, offset + 1)
        if anchor >= 0:
            occurrence = value.count("${{", 0, anchor)
            start = sum(len(ln) for ln in self.lines[:line]) + col
            raw = start - 3
            for _ in range(occurrence + 1):
                raw = self.text.find("${{", raw + 3)
                if raw < 0:
                    break
            if raw >= 0:
                return self._absolute_pos(raw, offset - anchor)
        if indicator in ("|", ">"):
            before = value[:offset]
            row = before.count("\n")
            content_line = line + 1
            # Skip the blank lines a block scalar may start with.
            indent = 0
            for probe in self.lines[line + 1 :]:
                if probe.strip():
                    indent = len(probe) - len(probe.lstrip(" "))
                    break
            return (content_line + row, indent + len(before) - (before.rfind("\n") + 1))
        quote = 1 if indicator in ("'", '"') else 0
        if "\n" not in value[:offset]:
            return (line, col + quote + offset)
        return pos

    def _absolute_pos(self, raw: int, delta: int) -> Pos:
        line = self.text.count("\n", 0, raw)
        line_start = self.text.rfind("\n", 0, raw) + 1
        # Follow the expression across line breaks in the source.
        end = raw + delta
        line += self.text.count("\n", raw, end)
        if "\n" in self.text[raw:end]:
            line_start = self.text.rfind("\n", 0, end) + 1
        return (line, end - line_start)

    # -- values ------------------------------------------------------------

    def string(
        self, node: Node, key: str, what: str, *, allow_empty: bool = False
    ) -> str | None:
        """Read ``node[key]`` as a string; non-string scalars are converted."""
        value = node[key]
        text = _scalar_text(value)
        if text is None:
            if value is None and allow_empty:
                return ""
            self.error(
                _value_pos(node, key) if value is not None else _key_pos(node, key),
                f"{what} must be a string, not {_type_name(value)}",
            )
            return None
        return text

    def template(
        self, node: Node, key: object, text: str, names: Sequence[str], what: str
    ) -> None:
        """Parse every ``${{ }}`` of ``text``; report errors where they are."""
        if "${{" not in text:
            return
        from .. import expressions

        try:
            expressions.compile_template(text, names=names)
        except expressions.ExpressionError as exc:
            offset = (exc.template_position or 1) - 1
            self.error(
                self.offset_pos(_value_pos(node, key), text, offset),
                f"invalid expression in {what}: {exc.message}",
            )

    def deferred(self, node: Node, key: str) -> str | None:
        """A step field given as ``${{ }}``, evaluated at the step's turn.

        Returns:
            ``None`` when the value is not an expression; the text when it
            parses; ``""`` when it does not (the error is reported).
        """
        value = node[key]
        if not (isinstance(value, str) and "${{" in value):
            return None
        before = len(self.problems)
        self.template(node, key, value, _STEP_NAMES, key)
        return value if len(self.problems) == before else ""

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
            self.error(
                self.offset_pos(_value_pos(node, key), text, offset),
                f"invalid expression in if: {exc.message}",
            )
            return False
        return True

    def boolean(self, node: Node, key: str, what: str) -> bool | None:
        value = node[key]
        if isinstance(value, bool):
            return value
        hint = ""
        if isinstance(value, str) and "${{" in value:
            hint = "; expressions are not supported here by trio-steps"
        self.error(
            _value_pos(node, key),
            f"{what} must be true or false, not {_type_name(value)}{hint}",
        )
        return None

    def minutes(self, node: Node, key: str) -> float | None:
        value = node[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            hint = ""
            if isinstance(value, str) and "${{" in value:
                hint = "; expressions are not supported here by trio-steps"
            self.error(
                _value_pos(node, key),
                f"timeout-minutes must be a number of minutes, not "
                f"{_type_name(value)}{hint}",
            )
            return None
        number = float(value)
        if not (math.isfinite(number) and number > 0):
            self.error(
                _value_pos(node, key),
                f"timeout-minutes must be a positive number of minutes, not {value}",
            )
            return None
        return number * 60

    def env(self, node: Node, key: str, names: Sequence[str]) -> dict[str, str]:
        value = node[key]
        if value is None:
            return {}
        if not _is_map(value):
            self.error(
                _value_pos(node, key),
                f"env must be a mapping of names to values, not {_type_name(value)}",
            )
            return {}
        env: dict[str, str] = {}
        for name in value:
            name_text = _scalar_text(name)
            if not name_text or "=" in name_text:
                self.error(
                    _key_pos(value, name),
                    f"env name {name!r} must be a non-empty string without '='",
                )
                continue
            text = self.string(
                value, name, f"env value of {name_text!r}", allow_empty=True
            )
            if text is None:
                continue
            self.template(value, name, text, names, f"env {name_text}")
            env[name_text] = text
        return env

    def check_keys(
        self, node: Node, allowed: Iterable[str], known: Iterable[str], what: str
    ) -> None:
        allowed_set = frozenset(allowed)
        for key in node:
            if key in allowed_set:
                continue
            shown = _scalar_text(key) or repr(key)
            if key in frozenset(known):
                self.error(
                    _key_pos(node, key),
                    f"{shown!r} is not allowed on {what}; it accepts only "
                    f"{_listing(allowed_set)}",
                )
            else:
                self.error(
                    _key_pos(node, key),
                    f"unknown key {shown!r} in {what}"
                    f"{_did_you_mean(str(shown), known)}; known keys: "
                    f"{_listing(known)}",
                )

    # -- the workflow ------------------------------------------------------

    def workflow(self, root: Node) -> LoadedWorkflow | None:
        if root is None:
            if not self.problems:
                self.error(
                    (0, 0), "the workflow file is empty; it needs 'on' and 'jobs'"
                )
            return None
        if not _is_map(root):
            self.error(
                _node_pos(root),
                f"a workflow must be a mapping with 'on' and 'jobs', "
                f"not {_type_name(root)}",
            )
            return None
        self.check_keys(root, _WORKFLOW_KEYS, _WORKFLOW_KEYS, "a workflow")
        if "on" not in root:
            self.error(
                _node_pos(root),
                "the workflow has no 'on' key; add one, for example 'on: push'",
            )
        name: str | None = None
        if "name" in root:
            name = self.string(root, "name", "the workflow name")
        env: dict[str, str] = {}
        if "env" in root:
            env = self.env(root, "env", _WORKFLOW_ENV_NAMES)
        defaults = self.defaults(root)
        jobs_pos = _node_pos(root)
        jobs: dict[str, Job] = {}
        job_ids: list[str] = []
        if "jobs" not in root:
            self.error(
                _node_pos(root), "the workflow has no 'jobs' key; add a job with steps"
            )
        else:
            jobs_pos = _key_pos(root, "jobs")
            node = root["jobs"]
            if not _is_map(node) or not node:
                self.error(
                    _value_pos(root, "jobs") if node is not None else jobs_pos,
                    "jobs must be a mapping of job ids to jobs, with at least one job",
                )
            else:
                folded: dict[str, str] = {}
                for job_id in node:
                    text = _scalar_text(job_id) or ""
                    if not _ID_RE.match(text):
                        self.error(
                            _key_pos(node, job_id),
                            f"job id {text!r} must start with a letter or '_' and "
                            "contain only letters, digits, '_' and '-'",
                        )
                    elif text.casefold() in folded:
                        self.error(
                            _key_pos(node, job_id),
                            f"job id {text!r} is used twice (ids ignore case; first "
                            f"as {folded[text.casefold()]!r}); rename one",
                        )
                    folded.setdefault(text.casefold(), text)
                    job_ids.append(text)
                    job = self.job(node, job_id, text, env, defaults)
                    if job is not None:
                        jobs[text] = job
        return LoadedWorkflow(
            file=self.file,
            name=name,
            jobs=jobs,
            job_ids=tuple(job_ids),
            jobs_pos=jobs_pos,
            warnings=tuple(sorted(self.warnings)),
        )

    def defaults(
        self, node: Node, inherited: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        result = dict(inherited or {})
        if "defaults" not in node:
            return result
        value = node["defaults"]
        if value is None:
            return result
        if not _is_map(value):
            self.error(
                _value_pos(node, "defaults"),
                f"defaults must be a mapping with a 'run' mapping, not {_type_name(value)}",
            )
            return result
        self.check_keys(value, {"run"}, {"run"}, "defaults")
        run = value.get("run")
        if run is None:
            return result
        if not _is_map(run):
            self.error(
                _value_pos(value, "run"),
                f"defaults.run must be a mapping with shell and/or "
                f"working-directory, not {_type_name(run)}",
            )
            return result
        self.check_keys(run, _DEFAULTS_RUN_KEYS, _DEFAULTS_RUN_KEYS, "defaults.run")
        for key in _DEFAULTS_RUN_KEYS:
            if key in run:
                text = self.string(run, key, f"defaults.run.{key}")
                if text is None:
                    continue
                self.template(run, key, text, _DEFAULTS_NAMES, f"defaults.run.{key}")
                if key == "shell":
                    self.check_shell(run, key, text)
                result[key] = text
        return result

    def check_shell(self, node: Node, key: str, text: str) -> None:
        if "${{" in text or "{0}" in text or text.strip() in _SHELLS:
            return
        self.error(
            _value_pos(node, key),
            f"shell {text!r} is not supported; use bash, sh, python, or a command "
            "line containing {0} for the script file",
        )

    # -- one job -----------------------------------------------------------

    def job(
        self,
        jobs: Node,
        key: object,
        job_id: str,
        workflow_env: Mapping[str, str],
        workflow_defaults: Mapping[str, str],
    ) -> Job | None:
        node = jobs[key]
        job_pos = _key_pos(jobs, key)
        if not _is_map(node):
            self.error(
                _value_pos(jobs, key) if node is not None else job_pos,
                f"job {job_id!r} must be a mapping with 'steps', not {_type_name(node)}",
            )
            return None
        known = _JOB_KEYS_USED | _JOB_KEYS_IGNORED
        self.check_keys(node, known, known, f"job {job_id!r}")
        for noted in sorted(_JOB_KEYS_NOTED & set(node)):
            self.warn(
                _key_pos(node, noted),
                f"'{noted}' is ignored by trio-steps: job {job_id!r} runs on this "
                "machine, once",
            )
        before = len(self.problems)
        if "uses" in node and "steps" not in node:
            # A call to a reusable workflow: valid on GitHub, not runnable here.
            self.warn(
                _key_pos(node, "uses"),
                f"job {job_id!r} calls a reusable workflow, which trio-steps "
                "cannot run",
            )
            return None
        name: str | None = job_id
        if "name" in node:
            name = self.string(node, "name", "the job name")
            if name is not None:
                self.template(node, "name", name, _JOB_NAME_NAMES, "the job name")
        env = dict(workflow_env)
        if "env" in node:
            env.update(self.env(node, "env", _WORKFLOW_ENV_NAMES))
        defaults = self.defaults(node, workflow_defaults)
        timeout: float | None = None
        if "timeout-minutes" in node:
            timeout = self.minutes(node, "timeout-minutes")
        steps: list[MainStep] = []
        if "steps" not in node:
            self.error(job_pos, f"job {job_id!r} has no 'steps'; add a list of steps")
        elif not _is_seq(node["steps"]) or not node["steps"]:
            value = node["steps"]
            self.error(
                _value_pos(node, "steps")
                if value is not None
                else _key_pos(node, "steps"),
                f"steps must be a non-empty list of steps, not {_type_name(value)}",
            )
        else:
            steps = self.steps(node["steps"], defaults)
        if len(self.problems) > before:
            return None
        try:
            return Job(steps, env=env, timeout=timeout, name=name)
        except JobDefinitionError as exc:  # every rule was checked above
            for problem in exc.problems:  # pragma: no cover - a missed rule
                self.error(job_pos, problem)
            return None

    # -- steps -------------------------------------------------------------

    def steps(self, seq: Node, defaults: Mapping[str, str]) -> list[MainStep]:
        infos: list[_StepInfo] = []
        built: list[MainStep | None] = []
        for index, node in enumerate(seq):
            pos = _item_pos(seq, index)
            info = _StepInfo(index=index, pos=pos, kind=None)
            infos.append(info)
            built.append(self.step(node, pos, info, defaults))
        self.check_references(infos)
        return [step for step in built if step is not None]

    def kind_of(self, node: Node, pos: Pos, what: str) -> str | None:
        kinds = [key for key in node if key in _KIND_KEYS]
        if not kinds:
            unknown = [k for k in node if k not in _STEP_KEYS]
            if not unknown:  # unknown keys get their own message
                self.error(
                    pos,
                    f"{what} needs one of run, uses, wait, wait-all, cancel or "
                    "parallel",
                )
            return None
        if len(kinds) > 1:
            self.error(
                _key_pos(node, kinds[1]),
                f"{what} has both {kinds[0]!r} and {kinds[1]!r}; a step does exactly "
                "one thing: split it into two steps",
            )
            return None
        return str(kinds[0])

    def step_id(self, node: Node, info: _StepInfo) -> str | None:
        if "id" not in node:
            return None
        text = self.string(node, "id", "id")
        if text is None:
            return None
        pos = _value_pos(node, "id")
        if not _ID_RE.match(text):
            self.error(
                pos,
                f"id {text!r} must start with a letter or '_' and contain only "
                "letters, digits, '_' and '-'",
            )
            return None
        if text.startswith("__"):
            self.error(
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
            self.error(
                pos,
                f"a step must be a mapping (for example '- run: make'), "
                f"not {_type_name(node)}",
            )
            return None
        before = len(self.problems)
        kind = self.kind_of(node, pos, "a step")
        info.kind = kind
        self.step_id(node, info)
        result: MainStep | None = None
        if kind in ("run", "uses"):
            self.check_keys(
                node,
                _RUN_KEYS if kind == "run" else _USES_KEYS,
                _STEP_KEYS,
                f"a {kind} step",
            )
            if "background" in node:
                info.background = bool(self.boolean(node, "background", "background"))
            result = self.run_step(
                node, pos, kind, defaults, step_id=info.id, background=info.background
            )
        elif kind in ("wait", "wait-all", "cancel"):
            self.check_keys(node, _CONTROL_KEYS | {kind}, _STEP_KEYS, f"a {kind} step")
            result = self.control_step(node, kind, info)
        elif kind == "parallel":
            self.check_keys(node, {"parallel"}, _STEP_KEYS, "a parallel step")
            result = self.parallel_step(node, info, defaults)
        else:
            self.check_keys(node, _STEP_KEYS, _STEP_KEYS, "a step")
        if len(self.problems) > before:
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
            name = self.string(node, "name", "name")
            if name is not None:
                self.template(node, "name", name, _STEP_NAMES, "name")
        if "if" in node:
            text = self.string(node, "if", "if")
            if text is not None and self.condition(node, "if", text):
                fields["condition"] = text
        # §14: these two may be expressions, evaluated at the step's turn.
        if "continue-on-error" in node:
            expression = self.deferred(node, "continue-on-error")
            if expression is not None:
                fields["continue_on_error"] = expression or None
            else:
                fields["continue_on_error"] = self.boolean(
                    node, "continue-on-error", "continue-on-error"
                )
        if "timeout-minutes" in node:
            expression = self.deferred(node, "timeout-minutes")
            if expression is not None:
                fields["timeout"] = f"{expression}m" if expression else None
            else:
                fields["timeout"] = self.minutes(node, "timeout-minutes")
        if "env" in node:
            fields["env"] = self.env(node, "env", _STEP_NAMES)
        run: Callable[[StepContext], object] | str | None
        if kind == "run":
            run = self.string(node, "run", "run")
            if run is not None:
                self.template(node, "run", run, _STEP_NAMES, "run")
            for key, field in (
                ("shell", "shell"),
                ("working-directory", "working_directory"),
            ):
                if key in node:
                    text = self.string(node, key, key)
                    if text is not None:
                        self.template(node, key, text, _STEP_NAMES, key)
                        if key == "shell":
                            self.check_shell(node, key, text)
                    fields[field] = text
                elif key in defaults:
                    fields[field] = defaults[key]
        else:
            uses = self.string(node, "uses", "uses")
            if (
                "with" in node
                and not _is_map(node["with"])
                and node["with"] is not None
            ):
                self.error(
                    _value_pos(node, "with"),
                    f"with must be a mapping of inputs, not {_type_name(node['with'])}",
                )
            if uses is None:
                return None
            if _is_checkout(uses):
                run = _checkout
                name = name if name is not None else f"Run {uses}"
            elif self.skip_unsupported:
                run = _unsupported
                name = f"{name if name is not None else 'Run ' + uses} (unsupported: skipped)"
                fields["condition"] = _never
                self.warn(
                    _value_pos(node, "uses"),
                    f"'uses: {uses}' is not supported by trio-steps; the step is "
                    "skipped",
                )
            else:
                self.error(
                    _value_pos(node, "uses"),
                    f"'uses: {uses}' is not supported by trio-steps (only "
                    "actions/checkout, which does nothing locally); rewrite it as "
                    "a run step or pass --skip-unsupported to skip it",
                )
                return None
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
                self.error(pos, problem)
            return None

    def control_step(self, node: Node, kind: str, info: _StepInfo) -> MainStep | None:
        name: str | None = None
        if "name" in node:
            name = self.string(node, "name", "name")
            if name is not None:
                self.template(node, "name", name, _STEP_NAMES, "name")
        continue_on_error: bool | None = False
        if "continue-on-error" in node:
            continue_on_error = self.boolean(
                node, "continue-on-error", "continue-on-error"
            )
        value = node[kind]
        value_pos = (
            _value_pos(node, kind) if value is not None else _key_pos(node, kind)
        )
        step_id = info.id
        if kind == "wait-all":
            if value is not None and value is not True:
                self.error(
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
                self.error(
                    value_pos,
                    f"cancel must name one step id, not {_type_name(value)}{hint}",
                )
        elif isinstance(value, str) and value:
            targets.append((str(value), value_pos))
        elif _is_seq(value):
            if not value:
                self.error(
                    value_pos,
                    "wait: [] waits for nothing; list at least one step id, or use "
                    "'wait-all: true'",
                )
            for index, item in enumerate(value):
                if isinstance(item, str) and item:
                    targets.append((str(item), _item_pos(value, index)))
                else:
                    self.error(
                        _item_pos(value, index),
                        f"wait targets must be step ids (strings), not {_type_name(item)}",
                    )
        else:
            self.error(
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
            self.error(
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
                self.error(
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
                self.error(
                    _key_pos(member, kind),
                    f"{what} cannot be parallel members; members must be run or "
                    "uses steps",
                )
                ok = False
                continue
            if "background" in member:
                self.error(
                    _key_pos(member, "background"),
                    "parallel members already run in the background; remove "
                    "'background'",
                )
                ok = False
                continue
            if kind is None:
                self.check_keys(member, _STEP_KEYS, _STEP_KEYS, "a parallel member")
                ok = False
                continue
            self.check_keys(
                member,
                (_RUN_KEYS if kind == "run" else _USES_KEYS) - {"background"},
                _STEP_KEYS,
                "a parallel member",
            )
            member_info = _StepInfo(index=index, pos=pos, kind=kind)
            self.step_id(member, member_info)
            if member_info.id is not None and member_info.id_pos is not None:
                info.members.append((member_info.id, member_info.id_pos))
            before = len(self.problems)
            step = self.run_step(
                member, pos, kind, defaults, step_id=member_info.id, background=False
            )
            if step is None or len(self.problems) > before:
                ok = False
            else:
                members.append(step)
        if not ok:
            return None
        return Parallel(members)

    # -- rules §7 references between steps --------------------------------

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
                    self.error(
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
                    self.error(pos, f"a {kind} step cannot name itself ({target!r})")
                elif folded in background:
                    continue
                elif folded in seen:
                    self.error(
                        pos,
                        f"{target!r} is not a background step; {kind} can only name "
                        "steps with 'background: true' or parallel members",
                    )
                elif folded in declared:
                    later = declared[folded][1][0] + 1
                    self.error(
                        pos,
                        f"{target!r} is declared later (line {later}); {kind} can only "
                        "name background steps declared before it",
                    )
                else:
                    hint = _did_you_mean(target, sorted(s for s, _ in seen.values()))
                    self.error(
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
