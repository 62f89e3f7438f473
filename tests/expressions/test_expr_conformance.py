"""GitHub's cross-implementation expression cases (rules §14).

The data is vendored beside this file, in ``conformance/`` (see its README
and LICENSE); each case is one test, identified as ``file:group:index``.
Cases that upstream skips for its TypeScript implementation (error positions
counted across lines, the evaluation memory limit) are run too: this
implementation follows GitHub's runner there.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from trio_steps import expressions

DATA = Path(__file__).resolve().parent / "conformance"

_ERROR_TYPES = {
    "lexing": expressions.LexingError,
    "parsing": expressions.ParsingError,
    "evaluation": expressions.EvaluationError,
}


def _cases() -> list[object]:
    paths = sorted(DATA.glob("*.json"))
    if not paths:
        # Fail the collection: an empty parameter set would only be a skip.
        raise FileNotFoundError(f"no conformance data in {DATA}")
    params: list[object] = []
    for path in paths:
        groups = json.loads(path.read_text(encoding="utf-8"))
        for group, cases in groups.items():
            for index, case in enumerate(cases):
                params.append(pytest.param(case, id=f"{path.stem}:{group}:{index}"))
    return params


def _kind(value: object) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, (int, float)):
        return "Number"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    assert isinstance(value, dict), f"not a JSON-like value: {value!r}"
    return "Object"


def _same(actual: object, expected: object) -> bool:
    """JSON equality, numbers compared as doubles (0 == -0, 2 == 2.0)."""
    if expected is None or isinstance(expected, (bool, str)):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, (int, float)):
        return (
            isinstance(actual, (int, float))
            and not isinstance(actual, bool)
            and (actual == expected or (math.isnan(actual) and math.isnan(expected)))
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(_same(a, e) for a, e in zip(actual, expected, strict=True))
        )
    assert isinstance(expected, dict)
    return (
        isinstance(actual, dict)
        and list(actual) == list(expected)
        and all(_same(actual[key], expected[key]) for key in expected)
    )


@pytest.mark.parametrize("case", _cases())
def test_conformance(case: dict[str, object]) -> None:
    expression = case["expr"]
    assert isinstance(expression, str)
    contexts = case.get("contexts") or {}
    assert isinstance(contexts, dict)
    error = case.get("err")
    if error is None:
        result = case["result"]
        assert isinstance(result, dict)
        value = expressions.evaluate(expression, contexts)
        assert _kind(value) == result["kind"], repr(value)
        assert _same(value, result["value"]), repr(value)
        return
    assert isinstance(error, dict)
    expected_type = _ERROR_TYPES[str(error["kind"])]
    if expected_type is expressions.EvaluationError:
        # It must compile, and fail only when evaluated.
        compiled = expressions.compile(expression, names=contexts)
        with pytest.raises(expressions.ExpressionError) as info:
            compiled.evaluate(contexts)
    else:
        with pytest.raises(expressions.ExpressionError) as info:
            expressions.compile(expression, names=contexts)
    assert type(info.value) is expected_type, str(info.value)
    assert str(error["value"]) in str(info.value)
