"""One workflow file being loaded: its YAML, its problems, its typed values.

The file is read with ruamel.yaml in YAML 1.2 round-trip mode, which keeps
the line and column of every node (and reads ``on:`` as the string key
``on``, not ``true``). Every rule is checked on the YAML nodes, so every
problem carries a position; problems are collected, never stopped at the
first, and raised together as one :class:`WorkflowError` (rules §13).

:class:`_Source` is what the job loader (``_jobs.py``) and the step loader
(``_steps.py``) share: the list of problems both add to, the way from an
offset inside a scalar to a file position, and the readers of values that
mean the same wherever they appear (strings, booleans, minutes, env
mappings, keys, shells, ``${{ }}`` templates).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

from ._nodes import (
    Problem,
    _did_you_mean,
    _is_map,
    _key_pos,
    _listing,
    _scalar_text,
    _type_name,
    _value_pos,
)

if TYPE_CHECKING:
    from ._nodes import Node, Pos

__all__ = ["MAX_YAML_DEPTH"]

#: How deep mappings and lists may nest inside each other in a workflow file.
#: Deeper nesting is a :class:`WorkflowError` at the collection that goes too
#: deep (the YAML reader is recursive: without a limit it would overflow the
#: Python stack).
MAX_YAML_DEPTH: Final = 64

_SHELLS: Final = ("bash", "sh", "python")


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


class _Source:
    """The text of one workflow file, and the problems found in it so far.

    Args:
        file: The file name shown in messages.
        text: The YAML text.
    """

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        # Only "\n" ends a line in YAML 1.2 (and for ruamel's marks), not the
        # other breaks str.splitlines() knows (U+0085, U+2028, form feed, ...).
        self.lines = [line + "\n" for line in text.split("\n")]
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

    def check_shell(self, node: Node, key: str, text: str) -> None:
        if "${{" in text or "{0}" in text or text.strip() in _SHELLS:
            return
        self.error(
            _value_pos(node, key),
            f"shell {text!r} is not supported; use bash, sh, python, or a command "
            "line containing {0} for the script file",
        )
