"""The built-in functions.

Each builder takes the compiled arguments and returns the compiled call.
Arguments are evaluated lazily, in the order GitHub evaluates them (for
example ``format()`` evaluates only the arguments its format string uses).
A function reports a failure by raising :class:`Fault`; the compiler attaches
the position of the call.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import cast

from ._errors import Fault, MemoryFault
from ._hashfiles import hash_files
from ._state import Function, State, charge, room
from ._values import (
    ARRAY,
    BOOLEAN,
    MISSING,
    OBJECT,
    STRING,
    ci_get,
    equals,
    fold,
    kind_of,
    to_json,
    to_string,
)

__all__ = ["CANNOT_FAIL", "STATUS_FUNCTIONS", "build", "parse_format"]

#: Functions whose evaluation never fails (no need to attach a position).
CANNOT_FAIL = frozenset(
    {"always", "cancelled", "contains", "endsWith", "failure", "startsWith", "success"}
)

#: The functions that read the job status (rules R3.5).
STATUS_FUNCTIONS = frozenset({"always", "cancelled", "failure", "success"})

_KIND_NAMES = ("Null", "Boolean", "Number", "String", "Array", "Object", "Object")

_Builder = Callable[[list[Function], "str | None"], Function]


def build(name: str, args: list[Function], literal: str | None) -> Function:
    """Compile a call of built-in function ``name``.

    ``literal`` is the first argument when it is a string literal (so that a
    constant format string is parsed once).
    """
    return _BUILDERS[name](args, literal)


def _is_primitive(kind: int) -> bool:
    return kind <= STRING


# --- job status ----------------------------------------------------------------


def _job_status(contexts: Mapping[str, object]) -> str | None:
    job = contexts.get("job", MISSING)
    if job is MISSING:
        job = ci_get(contexts, "job")
    if kind_of(job) != OBJECT:
        return None
    status = ci_get(cast("Mapping[str, object]", job), "status")
    if status is MISSING or status is None:
        return None
    return fold(to_string(status))


def _success(args: list[Function], literal: str | None) -> Function:
    def success(state: State) -> object:
        job = state[0].get("job")
        if job.__class__ is dict:
            status = job.get("status")
            if status == "success":  # the common case, without case folding
                return True
        status = _job_status(state[0])
        return status is None or status == "SUCCESS"

    return success


def _failure(args: list[Function], literal: str | None) -> Function:
    def failure(state: State) -> object:
        return _job_status(state[0]) == "FAILURE"

    return failure


def _cancelled(args: list[Function], literal: str | None) -> Function:
    def cancelled(state: State) -> object:
        return _job_status(state[0]) == "CANCELLED"

    return cancelled


def _always(args: list[Function], literal: str | None) -> Function:
    def always(state: State) -> object:
        return True

    return always


# --- strings ---------------------------------------------------------------------


def _contains(args: list[Function], literal: str | None) -> Function:
    haystack, needle = args

    def contains(state: State) -> object:
        left = haystack(state)
        kind = kind_of(left)
        if _is_primitive(kind):
            right = needle(state)
            if _is_primitive(kind_of(right)):
                return fold(to_string(right)) in fold(to_string(left))
            return False
        if kind == ARRAY and cast("Sequence[object]", left):
            right = needle(state)
            return any(equals(right, item) for item in cast("Sequence[object]", left))
        return False

    return contains


def _affix(test: Callable[[str, str], bool]) -> _Builder:
    def builder(args: list[Function], literal: str | None) -> Function:
        subject, affix = args

        def affix_test(state: State) -> object:
            left = subject(state)
            if not _is_primitive(kind_of(left)):
                return False
            right = affix(state)
            if not _is_primitive(kind_of(right)):
                return False
            return test(fold(to_string(left)), fold(to_string(right)))

        return affix_test

    return builder


def parse_format(text: str, arguments: int) -> list[str | tuple[int, str]]:
    """Split a format string into literal pieces and ``(index, specifiers)``.

    Follows GitHub: ``{N}`` or ``{N:specifiers}`` (N at most 255), ``{{`` and
    ``}}`` for braces; anything else with a brace is invalid.

    Raises:
        Fault: The format string is invalid or uses a missing argument.
    """
    pieces: list[str | tuple[int, str]] = []
    index = 0
    length = len(text)

    def invalid() -> Fault:
        return Fault(f"The following format string is invalid: {text}")

    while index < length:
        left = text.find("{", index)
        right = text.find("}", index)
        if left >= 0 and (right < 0 or right > left):
            if text.startswith("{", left + 1):
                pieces.append(text[index : left + 1])
                index = left + 2
                continue
            digits_end = left + 1
            while digits_end < length and "0" <= text[digits_end] <= "9":
                digits_end += 1
            if right <= left + 1 or digits_end == left + 1:
                raise invalid()
            digits = text[left + 1 : digits_end].lstrip("0") or "0"
            if len(digits) > 3 or int(digits) > 255:
                raise invalid()
            argument = int(digits)
            specifiers, close = _read_specifiers(text, digits_end)
            if close < 0:
                raise invalid()
            if argument >= arguments:
                raise Fault(
                    "The following format string references more arguments than "
                    f"were supplied: {text}"
                )
            if left > index:
                pieces.append(text[index:left])
            pieces.append((argument, specifiers))
            index = close + 1
        elif right >= 0:
            if not text.startswith("}", right + 1):
                raise invalid()
            pieces.append(text[index : right + 1])
            index = right + 2
        else:
            pieces.append(text[index:])
            break
    return pieces


def _read_specifiers(text: str, index: int) -> tuple[str, int]:
    """Read ``}`` or ``:specifiers}``; return them and the closing index (-1)."""
    if text.startswith("}", index):
        return "", index
    if not text.startswith(":", index):
        return "", -1
    specifiers: list[str] = []
    index += 1
    while index < len(text):
        char = text[index]
        if char != "}":
            specifiers.append(char)
            index += 1
        elif text.startswith("}", index + 1):
            specifiers.append("}")
            index += 2
        else:
            return "".join(specifiers), index
    return "", -1


def _format(args: list[Function], literal: str | None) -> Function:
    template, values = args[0], args[1:]
    count = len(values)
    constant: list[str | tuple[int, str]] | Fault | None = None
    if literal is not None:
        try:
            constant = parse_format(literal, count)
        except Fault as fault:
            constant = fault  # raised when evaluated, as GitHub does

    def format_(state: State) -> object:
        pieces = constant
        if pieces is None:
            pieces = parse_format(to_string(template(state)), count)
        elif isinstance(pieces, Fault):
            raise pieces
        limit = room(state)
        evaluated: dict[int, tuple[object, str]] = {}
        out: list[str] = []
        size = 0
        for piece in pieces:
            if isinstance(piece, str):
                text = piece
            else:
                argument, specifiers = piece
                cached = evaluated.get(argument)
                if cached is None:
                    value = values[argument](state)
                    cached = evaluated[argument] = (value, to_string(value))
                if specifiers:
                    kind = _KIND_NAMES[kind_of(cached[0])]
                    raise Fault(
                        f"The format specifiers '{specifiers}' are not valid for "
                        f"objects of type '{kind}'"
                    )
                text = cached[1]
            size += len(text)
            if size > limit:
                raise MemoryFault
            out.append(text)
        result = "".join(out)
        charge(state, len(result))
        return result

    return format_


def _join(args: list[Function], literal: str | None) -> Function:
    items_function = args[0]
    separator_function = args[1] if len(args) > 1 else None

    def join(state: State) -> object:
        items = items_function(state)
        kind = kind_of(items)
        sequence = cast("Sequence[object]", items)
        if kind == ARRAY and sequence:
            separator = ","
            if len(sequence) > 1 and separator_function is not None:
                value = separator_function(state)
                if _is_primitive(kind_of(value)):
                    separator = to_string(value)
            limit = room(state)
            out: list[str] = []
            size = -len(separator)
            for item in sequence:
                text = to_string(item)
                size += len(separator) + len(text)
                if size > limit:
                    raise MemoryFault
                out.append(text)
            result = separator.join(out)
            charge(state, len(result))
            return result
        if _is_primitive(kind):
            return to_string(items)
        return ""

    return join


# --- JSON ------------------------------------------------------------------------


def _to_json(args: list[Function], literal: str | None) -> Function:
    (argument,) = args

    def to_json_(state: State) -> object:
        result = to_json(argument(state), max_chars=room(state))
        charge(state, len(result))
        return result

    return to_json_


def _from_json(args: list[Function], literal: str | None) -> Function:
    (argument,) = args

    def from_json(state: State) -> object:
        text = to_string(argument(state))
        try:
            # Numbers are doubles in GitHub; NaN and Infinity are accepted.
            return json.loads(text, parse_int=float, strict=False)
        except json.JSONDecodeError as error:
            raise Fault(
                "Error parsing JSON when evaluating fromJSON: "
                f"{error.msg}: line {error.lineno} column {error.colno}"
            ) from None
        except RecursionError:
            raise Fault(
                "Error parsing JSON when evaluating fromJSON: nested too deeply"
            ) from None

    return from_json


# --- case, hashFiles -----------------------------------------------------------------


def _case(args: list[Function], literal: str | None) -> Function:
    pairs = tuple(zip(args[:-1:2], args[1::2], strict=True))
    default = args[-1]

    def case(state: State) -> object:
        for predicate, result in pairs:
            value = predicate(state)
            if kind_of(value) != BOOLEAN:
                raise Fault("case predicate must evaluate to a boolean value")
            if value:
                return result(state)
        return default(state)

    return case


def _hash_files(args: list[Function], literal: str | None) -> Function:
    def hash_files_(state: State) -> object:
        patterns = [to_string(argument(state)) for argument in args]
        workspace: object = MISSING
        github = ci_get(state[0], "github")
        if kind_of(github) == OBJECT:
            workspace = ci_get(cast("Mapping[str, object]", github), "workspace")
        if not isinstance(workspace, str) or not workspace:
            workspace = os.getcwd()
        return hash_files(patterns, workspace)

    return hash_files_


def _ends_with(text: str, suffix: str) -> bool:
    return text.endswith(suffix)


def _starts_with(text: str, prefix: str) -> bool:
    return text.startswith(prefix)


_BUILDERS: dict[str, _Builder] = {
    "always": _always,
    "cancelled": _cancelled,
    "case": _case,
    "contains": _contains,
    "endsWith": _affix(_ends_with),
    "failure": _failure,
    "format": _format,
    "fromJSON": _from_json,
    "hashFiles": _hash_files,
    "join": _join,
    "startsWith": _affix(_starts_with),
    "success": _success,
    "toJSON": _to_json,
}
