"""Strings with ``${{ … }}`` interpolations."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import final

from . import _functions
from ._api import (
    _CACHE_SIZE,
    CompiledExpression,
    compile,
    compiled_parts,
    locate_in_template,
    names_key,
)
from ._errors import ExpressionError, ParsingError
from ._state import Function, State
from ._values import to_string, to_text, truthy

__all__ = [
    "Template",
    "compile_condition",
    "compile_template",
    "condition_parts",
    "contains_expression",
]

_OPEN = "${{"
# Inside ${{ }}, a quote toggles "in a string"; "}}" outside one closes.
_QUOTE_OR_CLOSE = re.compile(r"'|\}\}")


@dataclass(frozen=True, slots=True)
class _Slot:
    offset: int  # 0-based index of the expression text in the template
    text: str  # the expression, stripped


def _scan(text: str) -> list[str | _Slot]:
    """Split a template into literal strings and expression slots.

    Raises:
        ParsingError: A ``${{`` is not closed, or encloses only whitespace.
    """
    pieces: list[str | _Slot] = []
    index = 0
    while (start := text.find(_OPEN, index)) >= 0:
        if start > index:
            pieces.append(text[index:start])
        position = start + len(_OPEN)
        in_string = False
        while True:
            match = _QUOTE_OR_CLOSE.search(text, position)
            if match is None:
                raise ParsingError(
                    "The expression is not closed. An unescaped ${{ sequence was "
                    "found, but the closing }} sequence was not found",
                    start + 1,
                    text,
                )
            position = match.end()
            if match.group() == "'":
                in_string = not in_string
            elif not in_string:
                break
        raw = text[start + len(_OPEN) : match.start()]
        expression = raw.strip()
        if not expression:
            raise ParsingError("An expression was expected", start + 1, text)
        offset = start + len(_OPEN) + len(raw) - len(raw.lstrip())
        pieces.append(_Slot(offset, expression))
        index = match.end()
    if index < len(text):
        pieces.append(text[index:])
    return pieces


def _compile_slot(
    slot: _Slot, template: str, names: frozenset[str]
) -> CompiledExpression:
    try:
        return compile(slot.text, names=names)
    except ExpressionError as error:
        locate_in_template(error, template, slot.offset)
        raise


def contains_expression(text: str) -> bool:
    """Return whether a string contains a ``${{`` interpolation.

    Args:
        text: Any string, e.g. a ``run:`` script or an ``env`` value.

    Returns:
        ``True`` if ``text`` contains ``${{``.
    """
    return _OPEN in text


@final
class Template:
    """A string with ``${{ … }}`` interpolations, compiled once.

    Obtain one from :func:`compile_template`; do not construct it directly.

    Attributes:
        source: The template text.
        names: The context names its expressions were compiled against.
        expressions: The compiled expressions, in order.
        is_literal: ``True`` when the text has no interpolation, so that
            :meth:`render` always returns ``source``.
    """

    __slots__ = ("_lone", "_pieces", "expressions", "is_literal", "names", "source")

    source: str
    names: frozenset[str]
    expressions: tuple[CompiledExpression, ...]
    is_literal: bool
    _pieces: tuple[str | tuple[int, CompiledExpression], ...]
    _lone: tuple[int, CompiledExpression] | None

    def __init__(self) -> None:
        raise TypeError("use trio_steps.expressions.compile_template()")

    @classmethod
    def _create(
        cls,
        source: str,
        names: frozenset[str],
        pieces: tuple[str | tuple[int, CompiledExpression], ...],
    ) -> Template:
        slots = [piece for piece in pieces if not isinstance(piece, str)]
        literal = "".join(piece for piece in pieces if isinstance(piece, str))
        self = object.__new__(cls)
        # Instances are shared through the cache: they are immutable.
        setattr_ = object.__setattr__
        setattr_(self, "source", source)
        setattr_(self, "names", names)
        setattr_(self, "_pieces", pieces)
        setattr_(self, "expressions", tuple(slot[1] for slot in slots))
        setattr_(self, "is_literal", not slots)
        lone = slots[0] if len(slots) == 1 and not literal.strip() else None
        setattr_(self, "_lone", lone)
        return self

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def render(self, contexts: Mapping[str, object]) -> str:
        """Evaluate the interpolations and build the string.

        Values become text as GitHub prints them: null is empty, booleans are
        ``true``/``false``, numbers as GitHub formats them (``1``, ``0.5``,
        ``1E+21``) and arrays and objects as ``Array`` and ``Object``, as
        GitHub's ``format()`` prints them.

        Args:
            contexts: The contexts, as for :meth:`CompiledExpression.evaluate`.

        Returns:
            The rendered text.

        Raises:
            EvaluationError: An interpolation failed; its
                ``template_position`` locates it in ``source``.
        """
        if self.is_literal:
            return self.source
        out: list[str] = []
        for piece in self._pieces:
            if isinstance(piece, str):
                out.append(piece)
            else:
                out.append(to_text(self._evaluate_piece(piece, contexts)))
        return "".join(out)

    def evaluate(self, contexts: Mapping[str, object]) -> object:
        """Evaluate the template, keeping the value of a lone interpolation.

        When the text is one ``${{ … }}`` and nothing else (but whitespace),
        return the value of that expression as it is (a number stays a
        number); otherwise return :meth:`render`.

        Args:
            contexts: The contexts, as for :meth:`CompiledExpression.evaluate`.

        Returns:
            The value, or the rendered text.

        Raises:
            EvaluationError: An interpolation failed.
        """
        if self._lone is not None:
            return self._evaluate_piece(self._lone, contexts)
        return self.render(contexts)

    def _evaluate_piece(
        self, piece: tuple[int, CompiledExpression], contexts: Mapping[str, object]
    ) -> object:
        offset, expression = piece
        try:
            return expression.evaluate(contexts)
        except ExpressionError as error:
            locate_in_template(error, self.source, offset)
            raise

    def __repr__(self) -> str:
        return f"<Template {self.source!r}>"


def compile_template(text: str, *, names: Iterable[str]) -> Template:
    """Compile every ``${{ … }}`` in a string.

    A ``}}`` inside a string literal does not close the interpolation:
    ``${{ '}}' }}`` renders ``}}``. There is no other escape; write
    ``${{ '${{' }}`` for a literal ``${{``. Results are cached per
    ``(text, names)``.

    Args:
        text: The string.
        names: The context names its expressions may use.

    Returns:
        The compiled template.

    Raises:
        LexingError: See :func:`compile`.
        ParsingError: See :func:`compile`; also for an unclosed ``${{`` or an
            empty ``${{ }}``. The error's ``template_position`` locates it in
            ``text``.
        TypeError: ``names`` is a single string.
    """
    return _compile_template_cached(text, names_key(names))


@functools.lru_cache(maxsize=4096)
def _compile_template_cached(text: str, names: frozenset[str]) -> Template:
    pieces: list[str | tuple[int, CompiledExpression]] = []
    try:
        scanned = _scan(text)
    except ExpressionError as error:
        locate_in_template(error, text, 0)
        raise
    for piece in scanned:
        if isinstance(piece, str):
            pieces.append(piece)
        else:
            pieces.append((piece.offset, _compile_slot(piece, text, names)))
    return Template._create(text, names, tuple(pieces))


def condition_parts(
    stripped: str, original: str, names: frozenset[str]
) -> tuple[str, Function, frozenset[str]]:
    """Internal: compile a condition; return (source, function, functions).

    ``stripped`` is ``original`` without surrounding whitespace.
    """
    if _OPEN not in stripped:
        compiled = compile(stripped, names=names)
        function, functions = compiled_parts(compiled)
        return stripped, function, functions
    offset = original.index(stripped)
    try:
        pieces = _scan(stripped)
    except ExpressionError as error:
        locate_in_template(error, original, offset)
        raise
    if len(pieces) == 1 and isinstance(pieces[0], _Slot):
        # The whole condition is wrapped in ${{ }}.
        slot = pieces[0]
        compiled = _compile_slot(
            _Slot(offset + slot.offset, slot.text), original, names
        )
        function, functions = compiled_parts(compiled)
        return slot.text, function, functions
    # Mixed text: like GitHub, the condition is format('...{0}...', ...).
    parts: list[str | Function] = []
    used: set[str] = set()
    literal: list[str] = []
    arguments: list[str] = []
    for piece in pieces:
        if isinstance(piece, str):
            parts.append(piece)
            literal.append(
                piece.replace("'", "''").replace("{", "{{").replace("}", "}}")
            )
        else:
            slot = _Slot(offset + piece.offset, piece.text)
            function, functions = compiled_parts(_compile_slot(slot, original, names))
            parts.append(function)
            used.update(functions)
            literal.append(f"{{{len(arguments)}}}")
            arguments.append(piece.text)
    source = f"format('{''.join(literal)}', {', '.join(arguments)})"
    return source, _interpolation(tuple(parts)), frozenset(used)


def _interpolation(parts: tuple[str | Function, ...]) -> Function:
    def interpolate(state: State) -> object:
        out = [
            part if isinstance(part, str) else to_string(part(state)) for part in parts
        ]
        return "".join(out)

    return interpolate


def compile_condition(text: str, *, names: Iterable[str]) -> CompiledExpression:
    """Compile a step condition (an ``if:`` value).

    The text may be wrapped in ``${{ }}`` as a whole. As in GitHub (rules
    R3.5), a condition that calls none of ``success()``, ``failure()``,
    ``always()`` and ``cancelled()`` means ``success() && (condition)``, and
    an empty condition means ``success()``. Text that mixes ``${{ }}`` with
    other text is, as in GitHub, the string the template produces (so it is
    true whenever it is not empty). Test the result with :func:`truthy`.

    Args:
        text: The condition.
        names: The context names it may use.

    Returns:
        The compiled condition; its ``source`` is the effective expression.

    Raises:
        LexingError: See :func:`compile`.
        ParsingError: See :func:`compile`; also for an unclosed ``${{``.
        TypeError: ``names`` is a single string.
    """
    return _compile_condition_cached(text, names_key(names))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _compile_condition_cached(text: str, names: frozenset[str]) -> CompiledExpression:
    stripped = text.strip()
    if not stripped:
        stripped = "success()"
    source, function, functions = condition_parts(stripped, text, names)
    if not functions.isdisjoint(_functions.STATUS_FUNCTIONS):
        return CompiledExpression._create(source, names, function, functions)
    return CompiledExpression._create(
        f"success() && ({source})",
        names,
        _and_success(function),
        functions | {"success"},
    )


def _and_success(condition: Function) -> Function:
    success = _functions.build("success", [], None)

    def success_and(state: State) -> object:
        value = success(state)
        if truthy(value):
            return condition(state)
        return value

    return success_and
