"""Turn expression text into tokens."""

from __future__ import annotations

import math
import re
from typing import Final, NamedTuple

from ._errors import LexingError
from ._values import parse_number

__all__ = ["Token", "tokenize"]

# Token kinds.
LPAREN: Final = 1
RPAREN: Final = 2
LBRACKET: Final = 3
RBRACKET: Final = 4
COMMA: Final = 5
DOT: Final = 6
STAR: Final = 7
BANG: Final = 8
NE: Final = 9
EQ: Final = 10
LT: Final = 11
LE: Final = 12
GT: Final = 13
GE: Final = 14
AND: Final = 15
OR: Final = 16
NUMBER: Final = 17
STRING: Final = 18
IDENT: Final = 19
TRUE: Final = 20
FALSE: Final = 21
NULL: Final = 22
EOF: Final = 23


class Token(NamedTuple):
    kind: int
    start: int  # 0-based index of the first character
    text: str  # the raw text ("" for EOF)
    value: object = None  # numbers and strings: the literal value


_SINGLE: Final = {
    "(": LPAREN,
    ")": RPAREN,
    "[": LBRACKET,
    "]": RBRACKET,
    ",": COMMA,
    "*": STAR,
}
_KEYWORDS: Final[dict[str, tuple[int, object]]] = {
    "true": (TRUE, True),
    "false": (FALSE, False),
    "null": (NULL, None),
    "NaN": (NUMBER, math.nan),
    "Infinity": (NUMBER, math.inf),
}
# A "." after one of these is property access; elsewhere it starts a number.
_DEREFERENCEABLE: Final = frozenset({IDENT, RBRACKET, RPAREN, STAR})

# A word runs until a boundary: ( [ ) ] , . ! > < = & | or whitespace.
_WORD: Final = re.compile(r"[^()\[\],.!<>=&|\s]*")
# A number may also contain dots ("1.5", and "1.2.3" which is then invalid).
_NUMBER_WORD: Final = re.compile(r"[^()\[\],!<>=&|\s]*")
_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _word_end(pattern: re.Pattern[str], expression: str, index: int) -> int:
    match = pattern.match(expression, index)
    assert match is not None  # the patterns also match the empty string
    return match.end()


def _unexpected(expression: str, start: int, text: str) -> LexingError:
    return LexingError(f"Unexpected symbol: '{text}'", start + 1, expression)


def tokenize(expression: str) -> list[Token]:
    """Split an expression into tokens, ending with an EOF token.

    Raises:
        LexingError: A token is not part of the language.
    """
    tokens: list[Token] = []
    append = tokens.append
    length = len(expression)
    index = 0
    previous = EOF
    while index < length:
        char = expression[index]
        start = index
        if char.isspace():
            index += 1
            continue
        kind = _SINGLE.get(char)
        if kind is not None:
            index += 1
            append(Token(kind, start, char))
        elif char == "'":
            value, index = _read_string(expression, start)
            append(Token(STRING, start, expression[start:index], value))
        elif char in "!<>":
            if index + 1 < length and expression[index + 1] == "=":
                index += 2
                kind = {"!": NE, "<": LE, ">": GE}[char]
            else:
                index += 1
                kind = {"!": BANG, "<": LT, ">": GT}[char]
            append(Token(kind, start, expression[start:index]))
        elif char in "=&|":
            if index + 1 < length and expression[index + 1] == char:
                index += 2
                append(Token({"=": EQ, "&": AND, "|": OR}[char], start, char * 2))
            else:
                # A lone "=", "&" or "|": report it with the rest of its word.
                end = _word_end(_WORD, expression, index + 1)
                raise _unexpected(expression, start, expression[start:end])
        elif char == "." and previous in _DEREFERENCEABLE:
            index += 1
            append(Token(DOT, start, char))
        elif char in ".+-" or "0" <= char <= "9":
            index = _word_end(_NUMBER_WORD, expression, index + 1)
            text = expression[start:index]
            number = parse_number(text)
            if number != number:
                raise _unexpected(expression, start, text)
            append(Token(NUMBER, start, text, number))
        else:
            index = _word_end(_WORD, expression, index + 1)
            text = expression[start:index]
            if _IDENTIFIER.fullmatch(text) is None:
                raise _unexpected(expression, start, text)
            keyword = _KEYWORDS.get(text)
            if keyword is None or previous == DOT:
                # After ".", even "true" or "null" is a property name.
                append(Token(IDENT, start, text))
            else:
                append(Token(keyword[0], start, text, keyword[1]))
        previous = tokens[-1].kind
    append(Token(EOF, length, ""))
    return tokens


def _read_string(expression: str, start: int) -> tuple[str, int]:
    """Read a '...' literal ('' is a quote); return its value and end index."""
    pieces: list[str] = []
    index = start + 1
    while True:
        close = expression.find("'", index)
        if close < 0:
            raise _unexpected(expression, start, expression[start:])
        pieces.append(expression[index:close])
        if expression.startswith("'", close + 1):
            pieces.append("'")
            index = close + 2
        else:
            return "".join(pieces), close + 1
