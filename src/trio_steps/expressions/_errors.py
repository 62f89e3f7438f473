"""Errors raised while lexing, parsing or evaluating an expression."""

from __future__ import annotations

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPRESSION_LENGTH",
    "MAX_MEMORY",
    "EvaluationError",
    "ExpressionError",
    "Fault",
    "LexingError",
    "MemoryFault",
    "ParsingError",
]

#: Longest expression accepted, in characters (GitHub's limit).
MAX_EXPRESSION_LENGTH = 21_000

#: Deepest expression tree accepted (GitHub's limit).
MAX_DEPTH = 50

#: Bytes that the strings built by one evaluation may occupy, counted as GitHub
#: counts them: 26 bytes per string plus 2 bytes per character.
MAX_MEMORY = 1024 * 1024

# An over-long expression is shown shortened in messages: its full text stays
# in the `expression` attribute, but nobody wants a 10 MB log line.
_SHOWN_CHARS = 200


class ExpressionError(ValueError):
    """An expression could not be compiled or evaluated.

    ``str(error)`` reads ``MESSAGE. Located at position P within expression:
    EXPR``, the format GitHub uses.

    Attributes:
        message: What went wrong, without the location.
        position: 1-based position in ``expression`` of the character where
            the offending token starts.
        expression: The text of the expression (for an expression found in a
            template: the expression alone, without ``${{ }}``).
        template: For an expression found by
            :func:`~trio_steps.expressions.compile_template`, the whole
            template text; otherwise ``None``.
        template_position: 1-based position of the error in ``template``, or
            ``None`` outside templates.
    """

    message: str
    position: int
    expression: str
    template: str | None
    template_position: int | None

    def __init__(self, message: str, position: int, expression: str) -> None:
        super().__init__(message, position, expression)
        self.message = message
        self.position = position
        self.expression = expression
        self.template = None
        self.template_position = None

    def __str__(self) -> str:
        shown = self.expression
        if len(shown) > MAX_EXPRESSION_LENGTH:
            shown = shown[:_SHOWN_CHARS] + f"... ({len(shown)} characters)"
        return (
            f"{self.message}. Located at position {self.position} "
            f"within expression: {shown}"
        )


class LexingError(ExpressionError):
    """The expression text contains a token that is not part of the language.

    For example an unterminated string, a malformed number (``0xFZ``), a single
    ``=`` or a name with characters outside ``[A-Za-z0-9_-]``.
    """


class ParsingError(ExpressionError):
    """The tokens do not form an expression, or name something unknown.

    Also raised for an unknown context name or function, a wrong number of
    arguments, and an expression that is too long or too deeply nested.
    """


class EvaluationError(ExpressionError):
    """A well-formed expression failed while it was being evaluated.

    For example an invalid ``format()`` string, ``fromJSON()`` of text that is
    not JSON, a ``case()`` predicate that is not a boolean, or exceeding the
    memory limit.
    """


class Fault(Exception):
    """Internal: an evaluation failure not yet tied to a position."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MemoryFault(Fault):
    """Internal: the memory budget of one evaluation ran out."""

    def __init__(self) -> None:
        super().__init__("The maximum allowed memory size was exceeded")
