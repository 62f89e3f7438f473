"""The YAML nodes of a workflow file, their positions, and its problems.

ruamel.yaml's round-trip nodes keep the 0-based line and column of every
key, value and item; the helpers here read them (and a node's type and
text) for the loaders. A :class:`Problem` is one message at a 1-based
position; :class:`WorkflowError` carries every problem of a file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, TypeAlias

import attrs

from .._face import public

__all__ = ["Problem", "WorkflowError"]

#: A node of the ruamel.yaml round-trip tree (CommentedMap, CommentedSeq or
#: a scalar); kept as ``Any`` inside this module only.
Node: TypeAlias = Any
_STRING_NAME: Final = "<string>"


@attrs.frozen(order=True)
class Problem:
    """One problem of a workflow file, at a 1-based line and column.

    Attributes:
        file: The file name (``<string>`` for YAML text).
        line: The 1-based line.
        column: The 1-based column.
        message: What is wrong and how to fix it.
    """

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class WorkflowError(ValueError):
    """A workflow file is not valid; nothing of it ran (rules §13).

    ``str(error)`` has one ``file:line:column: message`` line per problem,
    sorted by position (the format compilers use, which editors understand).

    Attributes:
        problems: Every problem found, sorted by position.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(problems))
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


# --------------------------------------------------------------------------
# Positions


Pos: TypeAlias = tuple[int, int]


def _key_pos(node: Node, key: object) -> Pos:
    return _lc(node, "key", key)


def _value_pos(node: Node, key: object) -> Pos:
    return _lc(node, "value", key)


def _item_pos(node: Node, index: int) -> Pos:
    return _lc(node, "item", index)


def _node_pos(node: Node) -> Pos:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return (0, 0)
    return (int(lc.line), int(lc.col))


def _lc(node: Node, how: str, key: object) -> Pos:
    lc = getattr(node, "lc", None)
    if lc is None:
        return (0, 0)
    try:
        line, col = getattr(lc, how)(key)
    except (KeyError, IndexError, TypeError, AttributeError):
        return _node_pos(node)
    if line is None or col is None:
        return _node_pos(node)
    return (int(line), int(col))


def _is_map(value: object) -> bool:
    from ruamel.yaml.comments import CommentedMap

    return isinstance(value, CommentedMap)


def _is_seq(value: object) -> bool:
    from ruamel.yaml.comments import CommentedSeq

    return isinstance(value, CommentedSeq)


def _type_name(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if _is_map(value):
        return "a mapping"
    if _is_seq(value):
        return "a list"
    return type(value).__name__  # pragma: no cover - YAML makes no other types


def _scalar_text(value: object) -> str | None:
    """A scalar as the string GitHub sees (``true`` → ``"true"``), else None."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    return None


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    import difflib  # only for a problem: not on the way to running a job

    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _listing(words: Iterable[str]) -> str:
    return ", ".join(sorted(words))


public(WorkflowError)
