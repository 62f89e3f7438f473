"""Compile a syntax tree into nested Python closures, and evaluate them.

Each node becomes a function of the evaluation state; evaluating an
expression is one call of the root function. Property chains with constant
names (``steps.build.outputs.tag``) become a single loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import cast

from . import _functions
from ._errors import EvaluationError, Fault, MemoryFault
from ._parser import Call, Compare, Group, Index, Literal, Logical, Named, Node, Not
from ._state import Function, State
from ._values import (
    ARRAY,
    MISSING,
    OBJECT,
    FilteredArray,
    ci_get,
    equals,
    fold,
    greater_than,
    kind_of,
    less_than,
    to_number,
    to_string,
    truthy,
)

__all__ = ["compile_tree", "index_value", "wildcard"]


def compile_tree(expression: str, node: Node | None) -> tuple[Function, frozenset[str]]:
    """Compile a tree; return its function and the names of functions it calls."""
    compiler = _Compiler(expression)
    if node is None:
        return _constant(None), frozenset()
    return compiler.compile(node), frozenset(compiler.functions)


def _constant(value: object) -> Function:
    def constant(state: State) -> object:
        return value

    return constant


# --- property access ---------------------------------------------------------


def _string_index(key: object) -> str | None:
    return to_string(key) if kind_of(key) <= 3 else None  # primitives only


def _integer_index(key: object) -> int | None:
    number = to_number(key)
    if number != number or number < 0 or number >= 2**31:
        return None
    return int(number)


def index_value(target: object, key: object) -> object:
    """``target[key]`` for an evaluated key (not a ``*`` filter)."""
    if type(target) is FilteredArray:
        return _index_filtered(target, key)
    kind = kind_of(target)
    if kind == OBJECT:
        name = _string_index(key)
        if name is None:
            return None
        value = ci_get(cast("Mapping[object, object]", target), name)
        return None if value is MISSING else value
    if kind == ARRAY:
        sequence = cast("Sequence[object]", target)
        position = _integer_index(key)
        if position is None or position >= len(sequence):
            return None
        return sequence[position]
    return None


def _index_filtered(items: FilteredArray, key: object) -> FilteredArray:
    result = FilteredArray()
    name = _string_index(key)
    position = _integer_index(key)
    for item in items:
        kind = kind_of(item)
        if kind == OBJECT and name is not None:
            value = ci_get(cast("Mapping[object, object]", item), name)
            if value is not MISSING:
                result.append(value)
        elif kind == ARRAY and position is not None:
            sequence = cast("Sequence[object]", item)
            if position < len(sequence):
                result.append(sequence[position])
    return result


def wildcard(target: object) -> FilteredArray:
    """``target.*`` / ``target[*]``."""
    if type(target) is FilteredArray:
        result = FilteredArray()
        for item in target:
            kind = kind_of(item)
            if kind == OBJECT:
                result.extend(cast("Mapping[object, object]", item).values())
            elif kind == ARRAY:
                result.extend(cast("Sequence[object]", item))
        return result
    kind = kind_of(target)
    if kind == OBJECT:
        return FilteredArray(cast("Mapping[object, object]", target).values())
    if kind == ARRAY:
        return FilteredArray(cast("Sequence[object]", target))
    return FilteredArray()


def _lookup(contexts: Mapping[str, object], name: str) -> object:
    value = contexts.get(name, MISSING)
    if value is MISSING:
        value = ci_get(contexts, name)
        if value is MISSING:
            return None
    return value


def _property(value: object, key: str) -> object:
    if value.__class__ is dict:
        found = value.get(key, MISSING)
        if found is not MISSING:
            return found
        found = ci_get(value, key)
        return None if found is MISSING else found
    return index_value(value, key)


def _context_path(name: str, keys: tuple[str, ...]) -> Function:
    """``name.key1.key2...``: the most common shape, so it gets a fast path."""

    def slow(state: State) -> object:
        value = _lookup(state[0], name)
        for key in keys:
            value = _property(value, key)
        return value

    if len(keys) > 4:
        return slow
    first, second, third, fourth = (*keys, "", "", "")[:4]
    count = len(keys)

    # Exact keys in plain dicts all the way; anything else takes the slow path.
    def context_path(state: State) -> object:
        value = state[0].get(name)
        if value.__class__ is not dict or first not in value:
            return slow(state)
        value = value[first]
        if count == 1:
            return value
        if value.__class__ is not dict or second not in value:
            return slow(state)
        value = value[second]
        if count == 2:
            return value
        if value.__class__ is not dict or third not in value:
            return slow(state)
        value = value[third]
        if count == 3:
            return value
        if value.__class__ is not dict or fourth not in value:
            return slow(state)
        return value[fourth]

    return context_path


# --- the compiler --------------------------------------------------------------


def _less_equal(a: object, b: object) -> bool:
    return equals(a, b) or less_than(a, b)


def _greater_equal(a: object, b: object) -> bool:
    return equals(a, b) or greater_than(a, b)


#: GitHub's comparison operators over already evaluated operands.
_COMPARISONS: dict[str, Callable[[object, object], object]] = {
    "==": equals,
    "!=": lambda a, b: not equals(a, b),
    "<": less_than,
    ">": greater_than,
    "<=": _less_equal,
    ">=": _greater_equal,
}


class _Compiler:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.functions: set[str] = set()

    def compile(self, node: Node) -> Function:
        if isinstance(node, Literal):
            return _constant(node.value)
        if isinstance(node, Named):
            return self.named(node)
        if isinstance(node, Group):
            return self.compile(node.inner)
        if isinstance(node, Index):
            return self.index(node)
        if isinstance(node, Not):
            operand = self.compile(node.operand)

            def negation(state: State) -> object:
                return not truthy(operand(state))

            return negation
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Logical):
            return self.logical(node)
        if isinstance(node, Call):
            return self.call(node)
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover

    def named(self, node: Named) -> Function:
        name = node.name

        def named(state: State) -> object:
            contexts = state[0]
            value = contexts.get(name, MISSING)
            if value is MISSING:
                return _lookup(contexts, name)
            return value

        return named

    def index(self, node: Index) -> Function:
        # Gather a chain of constant property names: a.b['c'].d
        keys: list[str] = []
        base: Node = node
        while (
            isinstance(base, Index)
            and isinstance(base.key, Literal)
            and type(base.key.value) is str
        ):
            keys.append(base.key.value)
            base = base.target
        if keys:
            keys.reverse()
            return self.path(base, tuple(keys))
        target = self.compile(node.target)
        if node.key is None:

            def star(state: State) -> object:
                return wildcard(target(state))

            return star
        key = self.compile(node.key)

        def index(state: State) -> object:
            value = target(state)
            # As in GitHub, the index is evaluated only for a collection.
            if kind_of(value) not in (ARRAY, OBJECT):
                return None
            return index_value(value, key(state))

        return index

    def path(self, base: Node, keys: tuple[str, ...]) -> Function:
        if isinstance(base, Named):
            return _context_path(base.name, keys)
        target = self.compile(base)

        def path(state: State) -> object:
            value = target(state)
            for key in keys:
                value = _property(value, key)
            return value

        return path

    def compare(self, node: Compare) -> Function:
        left = self.compile(node.left)
        right = self.compile(node.right)
        operator = node.operator
        if operator in ("==", "!=") and (
            _is_string_literal(node.right) or _is_string_literal(node.left)
        ):
            return self.compare_with_string(node, left, right)
        compare = _COMPARISONS[operator]

        def comparison(state: State) -> object:
            return compare(left(state), right(state))

        return comparison

    def compare_with_string(
        self, node: Compare, left: Function, right: Function
    ) -> Function:
        # The common `x == 'literal'`: skip the generic coercion for strings.
        if _is_string_literal(node.right):
            other, literal = left, cast(Literal, node.right)
        else:
            other, literal = right, cast(Literal, node.left)
        constant = cast(str, literal.value)
        folded = fold(constant)
        negate = node.operator == "!="

        def string_equal(state: State) -> object:
            value = other(state)
            if value.__class__ is str:
                result = value == constant or fold(value) == folded
            else:
                result = equals(value, constant)
            return result is not negate

        return string_equal

    def logical(self, node: Logical) -> Function:
        operands = tuple(self.compile(operand) for operand in node.operands)
        if node.operator == "&&":
            if len(operands) == 2:
                first, second = operands

                def and2(state: State) -> object:
                    value = first(state)
                    if value is True or truthy(value):
                        return second(state)
                    return value

                return and2

            def and_n(state: State) -> object:
                value: object = None
                for operand in operands:
                    value = operand(state)
                    if not truthy(value):
                        return value
                return value

            return and_n

        def or_n(state: State) -> object:
            value: object = None
            for operand in operands:
                value = operand(state)
                if truthy(value):
                    return value
            return value

        return or_n

    def call(self, node: Call) -> Function:
        self.functions.add(node.name)
        args = [self.compile(arg) for arg in node.args]
        first = node.args[0] if node.args else None
        literal = (
            first.value
            if isinstance(first, Literal) and type(first.value) is str
            else None
        )
        function = _functions.build(node.name, args, literal)
        if node.name not in _functions.CANNOT_FAIL:
            function = self.located(function, node)
        return function

    def located(self, function: Function, node: Call) -> Function:
        """Turn a Fault raised by a function into an error with its position."""
        position = node.start + 1
        expression = self.expression
        snippet = expression[node.start : node.end]

        def located(state: State) -> object:
            try:
                return function(state)
            except MemoryFault:
                raise EvaluationError(
                    "The maximum allowed memory size was exceeded while evaluating "
                    f"the following expression: {snippet}",
                    position,
                    expression,
                ) from None
            except Fault as fault:
                raise EvaluationError(fault.message, position, expression) from None

        return located


def _is_string_literal(node: Node) -> bool:
    return isinstance(node, Literal) and type(node.value) is str
