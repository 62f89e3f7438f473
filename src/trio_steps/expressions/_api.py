"""Compiling and evaluating expressions."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import final

from . import _functions
from ._errors import MAX_EXPRESSION_LENGTH, ExpressionError, ParsingError
from ._evaluator import compile_tree
from ._lexer import tokenize
from ._parser import parse
from ._state import Function, new_state
from ._values import FilteredArray, to_text

__all__ = [
    "CompiledExpression",
    "compile",
    "evaluate",
    "names_key",
    "to_string",
]

_CACHE_SIZE = 4096


@final
class CompiledExpression:
    """An expression parsed once, ready to be evaluated many times.

    Obtain one from :func:`compile` or :func:`compile_condition`; do not
    construct it directly.

    Attributes:
        source: The expression text. For a condition, the effective
            expression, e.g. ``success() && (github.ref == 'main')``.
        names: The context names the expression was compiled against.
        functions: Canonical names of the functions the expression calls,
            e.g. ``frozenset({'success', 'startsWith'})``.
    """

    __slots__ = ("_function", "functions", "names", "source")

    source: str
    names: frozenset[str]
    functions: frozenset[str]
    _function: Function

    def __init__(self) -> None:
        raise TypeError("use trio_steps.expressions.compile() to compile expressions")

    @classmethod
    def _create(
        cls,
        source: str,
        names: frozenset[str],
        function: Function,
        functions: frozenset[str],
    ) -> CompiledExpression:
        self = object.__new__(cls)
        # Instances are shared through the cache: they are immutable.
        setattr_ = object.__setattr__
        setattr_(self, "source", source)
        setattr_(self, "names", names)
        setattr_(self, "functions", functions)
        setattr_(self, "_function", function)
        return self

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    @property
    def uses_status_function(self) -> bool:
        """Whether ``success()``, ``failure()``, ``always()`` or ``cancelled()`` is called."""
        return not self.functions.isdisjoint(_functions.STATUS_FUNCTIONS)

    def evaluate(self, contexts: Mapping[str, object]) -> object:
        """Evaluate the expression.

        Args:
            contexts: The value of each context name, e.g. ``{"github": {...},
                "steps": {...}}``. Names are matched ignoring case; a name
                the expression was compiled with but that is missing here is
                null. The job status for ``success()`` and friends is read
                from ``contexts["job"]["status"]``.

        Returns:
            The value: ``None``, a ``bool``, a number, a ``str``, a ``list``
            or a ``dict`` (values taken from ``contexts`` are returned as
            they are, not copied).

        Raises:
            EvaluationError: A function failed, e.g. ``fromJSON()`` of text
                that is not JSON, or the memory limit was exceeded.
        """
        result = self._function(new_state(contexts))
        if type(result) is FilteredArray:
            return list(result)
        return result

    def __repr__(self) -> str:
        return f"<CompiledExpression {self.source!r}>"


def to_string(value: object) -> str:
    """Convert a value to the text that ``${{ }}`` interpolation produces.

    Null is empty, booleans are ``true``/``false``, numbers are formatted as
    GitHub formats them (``1``, ``0.5``, ``1E+21``, ``-0`` as ``0``), strings
    are unchanged, arrays are ``Array`` and objects ``Object``, as GitHub's
    ``format()`` prints them (a template that mixes text and expressions is
    a ``format()`` call on GitHub). Use ``toJSON()`` for their JSON.

    Args:
        value: Any value.

    Returns:
        The text.
    """
    return to_text(value)


def names_key(names: Iterable[str]) -> frozenset[str]:
    """Normalise the ``names`` argument into a hashable cache key."""
    if isinstance(names, str):
        raise TypeError("names must be an iterable of context names, not a str")
    return frozenset(names)


def _check_length(expression: str) -> None:
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ParsingError(
            f"Exceeded max expression length {MAX_EXPRESSION_LENGTH}", 1, expression
        )


def compile(expression: str, *, names: Iterable[str]) -> CompiledExpression:
    """Parse an expression once, for evaluating it many times.

    Results are cached per ``(expression, names)``, so compiling the same text
    again is cheap.

    Args:
        expression: The expression text, without ``${{ }}``.
        names: The context names the expression may use (matched ignoring
            case); any other name is an error.

    Returns:
        The compiled expression.

    Raises:
        LexingError: The text contains something that is not a token.
        ParsingError: Bad syntax, an unknown context name or function, a
            wrong number of arguments, or the text is longer than
            :data:`MAX_EXPRESSION_LENGTH` or nested deeper than
            :data:`MAX_DEPTH`.
        TypeError: ``names`` is a single string.
    """
    _check_length(expression)
    return _compile_cached(expression, names_key(names))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _compile_cached(expression: str, names: frozenset[str]) -> CompiledExpression:
    declared: dict[str, str] = {}
    for name in sorted(names):
        declared.setdefault(name.lower(), name)
    tree = parse(expression, tokenize(expression), declared)
    function, functions = compile_tree(expression, tree)
    return CompiledExpression._create(expression, names, function, functions)


def evaluate(expression: str, contexts: Mapping[str, object]) -> object:
    """Compile (with caching) and evaluate an expression.

    Args:
        expression: The expression text, without ``${{ }}``.
        contexts: The contexts; their keys are the names the expression may
            use.

    Returns:
        The value of the expression, as for :meth:`CompiledExpression.evaluate`.

    Raises:
        ExpressionError: The expression is invalid (:class:`LexingError`,
            :class:`ParsingError`) or failed (:class:`EvaluationError`).
    """
    names = [name for name in contexts if isinstance(name, str)]
    return compile(expression, names=names).evaluate(contexts)


def compiled_parts(expression: CompiledExpression) -> tuple[Function, frozenset[str]]:
    """Internal: the function and function names of a compiled expression."""
    return expression._function, expression.functions


def locate_in_template(error: ExpressionError, template: str, offset: int) -> None:
    """Internal: record where in ``template`` an expression error happened."""
    error.template = template
    error.template_position = offset + error.position
