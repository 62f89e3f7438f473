"""Parse tokens into a syntax tree, enforcing GitHub's limits.

Precedence, highest first: grouping ``( )``, then ``[ ]``/``.`` access,
then ``!``, then ``< <= > >=``, then ``== !=``, then ``&&``, then ``||``.
Comparisons associate to the left; ``&&`` and ``||`` chains become one node.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from . import _lexer as lx
from ._errors import MAX_DEPTH, ParsingError

__all__ = [
    "FUNCTIONS",
    "Call",
    "Compare",
    "Group",
    "Index",
    "Literal",
    "Logical",
    "Named",
    "Node",
    "Not",
    "parse",
]

#: Built-in functions: lower-case name -> (canonical name, min args, max args).
FUNCTIONS: dict[str, tuple[str, int, int]] = {
    "always": ("always", 0, 0),
    "cancelled": ("cancelled", 0, 0),
    "case": ("case", 3, 255),
    "contains": ("contains", 2, 2),
    "endswith": ("endsWith", 2, 2),
    "failure": ("failure", 0, 0),
    "format": ("format", 1, 255),
    "fromjson": ("fromJSON", 1, 1),
    "hashfiles": ("hashFiles", 1, 255),
    "join": ("join", 1, 2),
    "startswith": ("startsWith", 2, 2),
    "success": ("success", 0, 0),
    "tojson": ("toJSON", 1, 1),
}


# Each node knows its height (the depth of the tree below and including it),
# so that GitHub's depth limit can be checked while parsing.
@dataclass(eq=False, slots=True)
class Node:
    start: int  # 0-based index of the token that introduced the node
    height: int = field(default=1, kw_only=True)


@dataclass(eq=False, slots=True)
class Literal(Node):
    value: object


@dataclass(eq=False, slots=True)
class Named(Node):
    name: str  # as declared in `names` (may differ in case from the text)


@dataclass(eq=False, slots=True)
class Group(Node):
    inner: Node


@dataclass(eq=False, slots=True)
class Index(Node):
    target: Node
    key: Node | None  # None for a "*" filter


@dataclass(eq=False, slots=True)
class Not(Node):
    operand: Node


@dataclass(eq=False, slots=True)
class Compare(Node):
    operator: str
    left: Node
    right: Node


@dataclass(eq=False, slots=True)
class Logical(Node):
    operator: str  # "&&" or "||"
    operands: list[Node]


@dataclass(eq=False, slots=True)
class Call(Node):
    name: str  # canonical spelling, e.g. "startsWith"
    args: list[Node]
    end: int  # index just past the closing ")"


_COMPARISONS = {lx.LT: "<", lx.LE: "<=", lx.GT: ">", lx.GE: ">="}
_EQUALITIES = {lx.EQ: "==", lx.NE: "!="}
_LITERALS = frozenset({lx.NUMBER, lx.STRING, lx.TRUE, lx.FALSE, lx.NULL})

_Rule = Callable[[int], "Node"]


def parse(
    expression: str, tokens: list[lx.Token], names: Mapping[str, str]
) -> Node | None:
    """Parse tokens; ``names`` maps lower-case context names to declared ones.

    Returns ``None`` for an expression without tokens.

    Raises:
        ParsingError: Bad syntax, an unknown name or function, a wrong number
            of arguments, or a tree deeper than :data:`MAX_DEPTH`.
    """
    return _Parser(expression, tokens, names).parse()


class _Parser:
    def __init__(
        self, expression: str, tokens: list[lx.Token], names: Mapping[str, str]
    ) -> None:
        self.expression = expression
        self.tokens = tokens
        self.names = names
        self.index = 0

    # --- helpers ---------------------------------------------------------------

    def peek(self) -> lx.Token:
        return self.tokens[self.index]

    def advance(self) -> lx.Token:
        token = self.tokens[self.index]
        if token.kind != lx.EOF:
            self.index += 1
        return token

    def error(self, message: str, token: lx.Token) -> ParsingError:
        return ParsingError(message, token.start + 1, self.expression)

    def unexpected(self, token: lx.Token) -> ParsingError:
        if token.kind == lx.EOF:
            # Report the last real token, as GitHub does.
            last = self.tokens[self.index - 1] if self.index > 0 else token
            return self.error(f"Unexpected end of expression: '{last.text}'", last)
        return self.error(f"Unexpected symbol: '{token.text}'", token)

    def expect(self, kind: int) -> lx.Token:
        token = self.peek()
        if token.kind != kind:
            raise self.unexpected(token)
        return self.advance()

    def too_deep(self, token: lx.Token) -> ParsingError:
        return self.error(f"Exceeded max expression depth {MAX_DEPTH}", token)

    # `level` is a lower bound of the number of ancestors of the node being
    # parsed. A node at level L with height H reaches depth L + H; the tree
    # may not be deeper than MAX_DEPTH. Checking on the way down also bounds
    # the recursion of this parser (and of the evaluator) by MAX_DEPTH.

    def checked(self, node: Node, level: int, token: lx.Token) -> Node:
        if level + node.height > MAX_DEPTH:
            raise self.too_deep(token)
        return node

    # --- grammar ---------------------------------------------------------------

    def parse(self) -> Node | None:
        if self.peek().kind == lx.EOF:
            return None
        node = self.parse_or(0)
        token = self.peek()
        if token.kind != lx.EOF:
            raise self.unexpected(token)
        return node

    def parse_or(self, level: int) -> Node:
        return self.parse_logical(level, lx.OR, "||", self.parse_and)

    def parse_and(self, level: int) -> Node:
        return self.parse_logical(level, lx.AND, "&&", self.parse_equality)

    def parse_logical(
        self, level: int, kind: int, operator: str, operand: _Rule
    ) -> Node:
        first = operand(level)
        token = self.peek()
        if token.kind != kind:
            return first
        operands = [first]
        while self.peek().kind == kind:
            self.advance()
            operands.append(operand(level + 1))
        height = 1 + max(node.height for node in operands)
        node = Logical(token.start, operator, operands, height=height)
        return self.checked(node, level, token)

    def parse_equality(self, level: int) -> Node:
        return self.parse_binary(level, _EQUALITIES, self.parse_comparison)

    def parse_comparison(self, level: int) -> Node:
        return self.parse_binary(level, _COMPARISONS, self.parse_unary)

    def parse_binary(
        self, level: int, operators: Mapping[int, str], operand: _Rule
    ) -> Node:
        left = operand(level)
        while (operator := operators.get(self.peek().kind)) is not None:
            token = self.advance()
            right = operand(level + 1)
            height = 1 + max(left.height, right.height)
            left = Compare(token.start, operator, left, right, height=height)
            self.checked(left, level, token)
        return left

    def parse_unary(self, level: int) -> Node:
        token = self.peek()
        if level >= MAX_DEPTH:
            raise self.too_deep(token)
        if token.kind != lx.BANG:
            return self.parse_postfix(level)
        self.advance()
        operand = self.parse_unary(level + 1)
        return Not(token.start, operand, height=operand.height + 1)

    def parse_postfix(self, level: int) -> Node:
        node = self.parse_primary(level)
        # Only a group, a call or a context can be followed by [ ] or ".".
        if not isinstance(node, (Group, Call, Named)):
            return node
        while True:
            token = self.peek()
            key: Node | None
            if token.kind == lx.LBRACKET:
                self.advance()
                if self.peek().kind == lx.STAR:
                    self.advance()
                    key = None
                else:
                    key = self.parse_or(level + 1)
                self.expect(lx.RBRACKET)
            elif token.kind == lx.DOT:
                self.advance()
                name = self.peek()
                if name.kind == lx.IDENT:
                    key = Literal(name.start, name.text)
                elif name.kind == lx.STAR:
                    key = None
                else:
                    raise self.unexpected(name)
                self.advance()
            else:
                return node
            height = 1 + max(node.height, 1 if key is None else key.height)
            node = Index(token.start, node, key, height=height)
            self.checked(node, level, token)

    def parse_primary(self, level: int) -> Node:
        token = self.advance()
        kind = token.kind
        if kind in _LITERALS:
            return Literal(token.start, token.value)
        if kind == lx.IDENT:
            if self.peek().kind == lx.LPAREN:
                return self.parse_call(token, level)
            declared = self.names.get(token.text.lower())
            if declared is None:
                raise self.error(f"Unrecognized named-value: '{token.text}'", token)
            return Named(token.start, declared)
        if kind == lx.LPAREN:
            inner = self.parse_or(level + 1)
            self.expect(lx.RPAREN)
            return Group(token.start, inner, height=inner.height + 1)
        if kind == lx.EOF:
            raise self.unexpected(token)
        raise self.error(f"Unexpected symbol: '{token.text}'", token)

    def parse_call(self, token: lx.Token, level: int) -> Node:
        spec = FUNCTIONS.get(token.text.lower())
        if spec is None:
            raise self.error(f"Unrecognized function: '{token.text}'", token)
        name, least, most = spec
        self.advance()  # "("
        args: list[Node] = []
        if self.peek().kind == lx.RPAREN:
            closing = self.advance()
        else:
            while True:
                args.append(self.parse_or(level + 1))
                closing = self.advance()
                if closing.kind == lx.RPAREN:
                    break
                if closing.kind != lx.COMMA:
                    raise self.unexpected(closing)
        if len(args) < least:
            raise self.error(f"Too few parameters supplied: '{token.text}'", token)
        if len(args) > most:
            raise self.error(f"Too many parameters supplied: '{token.text}'", token)
        if name == "case" and len(args) % 2 == 0:
            raise self.error(
                "Even number of parameters supplied, requires an odd number of "
                f"parameters: '{token.text}'",
                token,
            )
        height = 1 + max((arg.height for arg in args), default=0)
        node = Call(token.start, name, args, closing.start + 1, height=height)
        return self.checked(node, level, token)
