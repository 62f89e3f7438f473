"""Values of the expression language: kinds, coercions, comparisons, text.

Values are plain Python objects. ``None`` is null, ``bool`` is a boolean,
``int`` and ``float`` are numbers (IEEE doubles, as in GitHub), ``str`` is a
string, ``list``/``tuple`` (any non-string sequence) is an array and ``dict``
(any mapping) is an object. Anything else is an opaque object: it compares by
identity, prints as ``Object`` and has no properties.
"""

from __future__ import annotations

import json.encoder
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from numbers import Real
from typing import Any, Final, cast

from ._errors import Fault, MemoryFault

__all__ = [
    "ARRAY",
    "BOOLEAN",
    "MISSING",
    "NULL",
    "NUMBER",
    "OBJECT",
    "OPAQUE",
    "STRING",
    "FilteredArray",
    "ci_get",
    "equals",
    "fold",
    "format_number",
    "greater_than",
    "kind_of",
    "less_than",
    "parse_number",
    "to_float",
    "to_json",
    "to_number",
    "to_string",
    "to_text",
    "truthy",
]

NULL: Final = 0
BOOLEAN: Final = 1
NUMBER: Final = 2
STRING: Final = 3
ARRAY: Final = 4
OBJECT: Final = 5
# Not JSON-like: compares by identity, prints as "Object", has no properties.
OPAQUE: Final = 6


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


#: Sentinel for "no such key" (distinct from a key whose value is null).
MISSING: Final = _Missing()


class FilteredArray(list[object]):
    """The result of a ``*`` filter.

    A property or index applied to it is applied to each of its items (and
    items without that property are dropped), unlike on an ordinary array.
    """

    __slots__ = ()


_KIND_BY_TYPE: Final[dict[type, int]] = {
    type(None): NULL,
    bool: BOOLEAN,
    int: NUMBER,
    float: NUMBER,
    str: STRING,
    list: ARRAY,
    tuple: ARRAY,
    FilteredArray: ARRAY,
    dict: OBJECT,
}


def kind_of(value: object) -> int:
    """Return the kind constant of a value."""
    kind = _KIND_BY_TYPE.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, (int, float, Real)):
        return NUMBER
    if isinstance(value, str):
        return STRING
    if isinstance(value, Mapping):
        return OBJECT
    if isinstance(value, Sequence) and not isinstance(
        value, (bytes, bytearray, memoryview)
    ):
        return ARRAY
    return OPAQUE


def to_float(value: object) -> float:
    """Convert a number of any Python type to a double, as GitHub holds it."""
    if type(value) is float:
        return value
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError:
        # Integers beyond the double range: GitHub would already hold them as
        # infinities.
        return math.inf if value > 0 else -math.inf  # type: ignore[operator]


# JavaScript's Number() grammar for decimal text, which GitHub imitates.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX = re.compile(r"0[xX][0-9a-fA-F]+")
_OCTAL = re.compile(r"0[oO][0-7]+")
_BINARY = re.compile(r"0[bB][01]+")
# What JavaScript trims: WhiteSpace and LineTerminator.
_JS_SPACE = (
    " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def _int_to_float(digits: str, base: int) -> float:
    number = int(digits, base)
    try:
        return float(number)
    except OverflowError:
        return math.inf


def parse_number(text: str) -> float:
    """Convert a string to a number the way GitHub does (JavaScript's Number()).

    Surrounding whitespace is ignored and the empty string is 0. Accepted:
    decimal numbers with optional sign, fraction and exponent; ``0x``/``0o``/
    ``0b`` integers (unsigned); ``Infinity`` with optional sign. Anything else
    is NaN.
    """
    text = text.strip(_JS_SPACE)
    if not text:
        return 0.0
    if _DECIMAL.fullmatch(text):
        return float(text)
    if len(text) > 2 and text[0] == "0":
        if _HEX.fullmatch(text):
            return _int_to_float(text[2:], 16)
        if _OCTAL.fullmatch(text):
            return _int_to_float(text[2:], 8)
        if _BINARY.fullmatch(text):
            return _int_to_float(text[2:], 2)
    if text in ("Infinity", "+Infinity"):
        return math.inf
    if text == "-Infinity":
        return -math.inf
    return math.nan


def to_number(value: object) -> float:
    """Coerce any value to a number (null 0, booleans 0/1, strings parsed)."""
    kind = kind_of(value)
    if kind == NUMBER:
        return to_float(value)
    if kind == STRING:
        return parse_number(value)  # type: ignore[arg-type]
    if kind == BOOLEAN:
        return 1.0 if value else 0.0
    if kind == NULL:
        return 0.0
    return math.nan


def format_number(value: object) -> str:
    """Format a number as GitHub prints it (.NET ``G15``, ``-0`` as ``0``)."""
    number = to_float(value)
    if number != number:
        return "NaN"
    if number == math.inf:
        return "Infinity"
    if number == -math.inf:
        return "-Infinity"
    if number == 0:
        return "0"
    if number.is_integer() and -1e15 < number < 1e15:
        return str(int(number))
    text = format(number, ".15g")
    # Python and .NET agree on when to switch to scientific notation and on a
    # two-digit minimum exponent; .NET writes the "E" in capitals.
    return text.replace("e", "E")


def to_string(value: object) -> str:
    """Convert a value to a string as GitHub's ConvertToString does.

    Arrays print as ``Array`` and objects as ``Object``; this is what
    ``format()``, ``join()`` and the string functions see.
    """
    kind = kind_of(value)
    if kind == STRING:
        return value  # type: ignore[return-value]
    if kind == NULL:
        return ""
    if kind == BOOLEAN:
        return "true" if value else "false"
    if kind == NUMBER:
        return format_number(value)
    if kind == ARRAY:
        return "Array"
    return "Object"


def to_text(value: object) -> str:
    """Convert a value to the text that ``${{ }}`` interpolation produces.

    The same as :func:`to_string`: GitHub turns a template that mixes text
    and expressions into ``format()`` (the runner's ``TemplateReader.
    ParseScalar``), which prints arrays as ``Array`` and objects as
    ``Object``.
    """
    return to_string(value)


def truthy(value: object) -> bool:
    """Return whether a value counts as true, by GitHub's rules.

    Falsy: null, ``false``, ``0``, ``-0``, ``NaN`` and the empty string.
    Everything else is truthy, including ``'false'``, ``'0'``, and empty
    arrays and objects. Use it on the result of a condition.

    Args:
        value: Any value, e.g. what :meth:`CompiledExpression.evaluate`
            returned.

    Returns:
        The truthiness of ``value``.
    """
    if value is True:
        return True
    if value is False or value is None:
        return False
    kind = kind_of(value)
    if kind == STRING:
        return len(value) > 0  # type: ignore[arg-type]
    if kind == NUMBER:
        number = to_float(value)
        return number == number and number != 0
    if kind == BOOLEAN:
        return bool(value)
    return True


# --- case-insensitive strings ------------------------------------------------


class _FoldTable(dict[int, int]):
    """str.translate table mapping each character to its simple uppercase.

    Like .NET's OrdinalIgnoreCase (and GitHub's TypeScript implementation): a
    character whose uppercase is several characters (``ß``) stays as it is,
    and the dotless ``ı`` is not mapped to ``I``.
    """

    def __missing__(self, code: int) -> int:
        upper = chr(code).upper()
        result = ord(upper) if len(upper) == 1 and code != 0x131 else code
        if len(self) < 65_536:
            self[code] = result
        return result


_FOLD_TABLE: Final = _FoldTable()


def fold(text: str) -> str:
    """Return the case-folded form of a string used for comparisons."""
    if text.isascii():
        return text.upper()
    return text.translate(_FOLD_TABLE)


def _has_astral(text: str) -> bool:
    return not text.isascii() and max(text) > "\uffff"


def _compare_strings(left: str, right: str) -> int:
    """Order two strings like .NET's OrdinalIgnoreCase (UTF-16 code units)."""
    left = fold(left)
    right = fold(right)
    if left == right:
        return 0
    if _has_astral(left) or _has_astral(right):
        # UTF-16 orders characters above U+FFFF (surrogates) below U+E000..
        # U+FFFF; big-endian UTF-16 bytes compare like the code units.
        left_units = left.encode("utf-16-be", "surrogatepass")
        right_units = right.encode("utf-16-be", "surrogatepass")
        return -1 if left_units < right_units else 1
    return -1 if left < right else 1


# --- coercion and comparison -------------------------------------------------


def _coerce(left: object, right: object) -> tuple[int, object, int, object]:
    """Bring two values to a common kind, as GitHub's CoerceTypes does."""
    left_kind = kind_of(left)
    right_kind = kind_of(right)
    while left_kind != right_kind:
        if left_kind == NUMBER and right_kind == STRING:
            right, right_kind = parse_number(right), NUMBER  # type: ignore[arg-type]
        elif left_kind == STRING and right_kind == NUMBER:
            left, left_kind = parse_number(left), NUMBER  # type: ignore[arg-type]
        elif left_kind in (BOOLEAN, NULL):
            left, left_kind = to_number(left), NUMBER
        elif right_kind in (BOOLEAN, NULL):
            right, right_kind = to_number(right), NUMBER
        else:
            break
    return left_kind, left, right_kind, right


def equals(left: object, right: object) -> bool:
    """Loose equality (``==``) with GitHub's coercion rules."""
    if type(left) is str and type(right) is str:
        return left == right or fold(left) == fold(right)
    left_kind, left, right_kind, right = _coerce(left, right)
    if left_kind != right_kind:
        return False
    if left_kind == NUMBER:
        return to_float(left) == to_float(right)  # NaN is never equal
    if left_kind == STRING:
        return fold(left) == fold(right)  # type: ignore[arg-type]
    if left_kind == BOOLEAN:
        return bool(left) == bool(right)
    if left_kind == NULL:
        return True
    # Arrays and objects are equal only to themselves.
    return left is right


def greater_than(left: object, right: object) -> bool:
    """The ``>`` operator with GitHub's coercion rules."""
    left_kind, left, right_kind, right = _coerce(left, right)
    if left_kind != right_kind:
        return False
    if left_kind == NUMBER:
        return to_float(left) > to_float(right)
    if left_kind == STRING:
        return _compare_strings(left, right) > 0  # type: ignore[arg-type]
    if left_kind == BOOLEAN:
        return bool(left) and not right
    return False


def less_than(left: object, right: object) -> bool:
    """The ``<`` operator with GitHub's coercion rules."""
    left_kind, left, right_kind, right = _coerce(left, right)
    if left_kind != right_kind:
        return False
    if left_kind == NUMBER:
        return to_float(left) < to_float(right)
    if left_kind == STRING:
        return _compare_strings(left, right) < 0  # type: ignore[arg-type]
    if left_kind == BOOLEAN:
        return not left and bool(right)
    return False


# --- property access ---------------------------------------------------------


def ci_get(mapping: Mapping[Any, object], key: str) -> object:
    """Look a key up case-insensitively; return :data:`MISSING` if absent.

    An exact match wins; otherwise the first key equal ignoring case.
    """
    value = mapping.get(key, MISSING)
    if value is not MISSING:
        return value
    folded = fold(key)
    for candidate, value in mapping.items():
        name = candidate if type(candidate) is str else to_string(candidate)
        if fold(name) == folded:
            return value
    return MISSING


# --- toJSON --------------------------------------------------------------------

_encode_string = json.encoder.encode_basestring
# Newtonsoft, which GitHub uses, also escapes these three line breaks.
_EXTRA_ESCAPES: Final = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _json_string(text: str) -> str:
    encoded = _encode_string(text)
    if not encoded.isascii():
        encoded = encoded.translate(_EXTRA_ESCAPES)
    return encoded


def _json_scalar(value: object, kind: int) -> str:
    if kind == STRING:
        return _json_string(value)  # type: ignore[arg-type]
    if kind == NULL:
        return "null"
    if kind == BOOLEAN:
        return "true" if value else "false"
    if kind == NUMBER:
        return format_number(value)
    return "{}"  # an opaque object: GitHub prints what it cannot traverse so


class _Frame:
    """An open array or object while serialising."""

    __slots__ = ("first", "identity", "is_object", "items")

    def __init__(self, items: Iterator[object], is_object: bool, identity: int) -> None:
        self.items = items
        self.is_object = is_object
        self.first = True
        self.identity = identity


def to_json(value: object, *, max_chars: int | None) -> str:
    """Serialise a value as GitHub's ``toJSON()`` does (2-space indentation).

    Iterative, so deeply nested data cannot exhaust the Python stack.

    Raises:
        Fault: The value contains itself.
        MemoryFault: The text would exceed ``max_chars`` characters.
    """
    parts: list[str] = []
    length = 0
    stack: list[_Frame] = []
    open_ids: set[int] = set()

    def emit(text: str) -> None:
        nonlocal length
        length += len(text)
        if max_chars is not None and length > max_chars:
            raise MemoryFault
        parts.append(text)

    def start(item: object, prefix: str) -> None:
        kind = kind_of(item)
        if kind == OBJECT:
            mapping = cast("Mapping[object, object]", item)
            items: Iterator[object] = iter(mapping.items())
            empty = not mapping
        elif kind == ARRAY:
            sequence = cast("Sequence[object]", item)
            items = iter(sequence)
            empty = not sequence
        else:
            emit(prefix + _json_scalar(item, kind))
            return
        is_object = kind == OBJECT
        if empty:
            emit(prefix + ("{}" if is_object else "[]"))
            return
        if id(item) in open_ids:
            raise Fault("toJSON: the value contains itself")
        emit(prefix + ("{" if is_object else "["))
        stack.append(_Frame(items, is_object, id(item)))
        open_ids.add(id(item))

    start(value, "")
    while stack:
        frame = stack[-1]
        item = next(frame.items, MISSING)
        if item is MISSING:
            stack.pop()
            open_ids.discard(frame.identity)
            emit("\n" + "  " * len(stack) + ("}" if frame.is_object else "]"))
            continue
        separator = ("\n" if frame.first else ",\n") + "  " * len(stack)
        frame.first = False
        if frame.is_object:
            key, child = cast("tuple[object, object]", item)
            name = key if type(key) is str else to_string(key)
            emit(separator + _json_string(name))
            start(child, ": ")
        else:
            start(item, separator)
    return "".join(parts)
