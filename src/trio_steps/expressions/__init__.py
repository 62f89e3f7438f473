"""GitHub Actions' workflow expression language (``${{ … }}``).

Expressions are parsed, never passed to :func:`eval`. The language follows
GitHub's: literals, ``( ) [ ] . ! < <= > >= == != && ||``, ``*`` filters,
case-insensitive names and string comparison, GitHub's coercions, and the
functions ``contains``, ``startsWith``, ``endsWith``, ``format``, ``join``,
``toJSON``, ``fromJSON``, ``hashFiles``, ``case``, ``success``, ``failure``,
``always`` and ``cancelled``. See :doc:`/expressions` for the reference.

Example::

    from .. import expressions

    condition = expressions.compile_condition(
        "steps.build.outputs.tag != ''", names=["steps", "github"]
    )
    if expressions.truthy(condition.evaluate(contexts)):
        ...
"""

from __future__ import annotations

from ._api import CompiledExpression as CompiledExpression
from ._api import compile as compile
from ._api import evaluate as evaluate
from ._api import to_string as to_string
from ._errors import MAX_DEPTH as MAX_DEPTH
from ._errors import MAX_EXPRESSION_LENGTH as MAX_EXPRESSION_LENGTH
from ._errors import MAX_MEMORY as MAX_MEMORY
from ._errors import EvaluationError as EvaluationError
from ._errors import ExpressionError as ExpressionError
from ._errors import LexingError as LexingError
from ._errors import ParsingError as ParsingError
from ._template import Template as Template
from ._template import compile_condition as compile_condition
from ._template import compile_template as compile_template
from ._template import contains_expression as contains_expression
from ._values import truthy as truthy

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPRESSION_LENGTH",
    "MAX_MEMORY",
    "CompiledExpression",
    "EvaluationError",
    "ExpressionError",
    "LexingError",
    "ParsingError",
    "Template",
    "compile",
    "compile_condition",
    "compile_template",
    "contains_expression",
    "evaluate",
    "to_string",
    "truthy",
]
