"""Hostile input: only ExpressionError ever escapes, and it escapes quickly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_steps import expressions as ex

CONTEXTS: dict[str, object] = {
    "github": {"workspace": "/nonexistent/workspace", "ref": "refs/heads/main"},
    "steps": {"a": {"outputs": {"x": "y", "n": 3}}},
    "job": {"status": "failure"},
    "list": [1, "two", None, True, {"k": [1.5, {"deep": "v"}]}, []],
    "obj": {"": 0, "Key": "value", "nested": {"a": {"b": None}}},
}
NAMES = list(CONTEXTS)

TOKENS = [
    *"()[].,*!<>",
    "==", "!=", "<=", ">=", "&&", "||", "=", "&", "|",
    "true", "false", "null", "NaN", "Infinity", "-Infinity",
    "0", "1", "-1", "1.5", ".5", "1e3", "0x1F", "0o7", "0b1", "1.2.3", "-",
    "'a'", "''", "'it''s'", "'{0}'", "'{0}{1}'", "'{'", "'[1,{\"k\":2}]'",
    "'{\"a\":[]}'", "'unterminated",
    *NAMES, "env", "Steps", "x-y", "_",
    "success", "failure", "always", "cancelled", "contains", "startsWith",
    "endsWith", "format", "join", "toJSON", "fromJSON", "case", "nope",
    " ", "\n", "\t", "${{", "}}", "é", "\x00",
]  # fmt: skip


def check(text: str) -> None:
    """Compile and evaluate; anything but an ExpressionError fails the test."""
    failure: ex.ExpressionError | None = None
    try:
        value = ex.compile(text, names=NAMES).evaluate(CONTEXTS)
    except ex.ExpressionError as error:
        failure = error
    if failure is not None:
        assert 1 <= failure.position <= max(len(text), 1)
        assert failure.expression == text
        return
    assert value is None or isinstance(value, (bool, int, float, str, list, dict))
    ex.to_string(value)


@given(st.text(max_size=80))
def test_random_text(text: str) -> None:
    check(text)


@given(st.text(alphabet="()[].,*!<>=&|' 01x.eE-+abtrunlfsNI{}", max_size=60))
def test_random_expression_characters(text: str) -> None:
    check(text)


@given(st.lists(st.sampled_from(TOKENS), max_size=30), st.sampled_from(["", " "]))
def test_random_token_sequences(tokens: list[str], separator: str) -> None:
    check(separator.join(tokens))


@given(st.lists(st.sampled_from(TOKENS), max_size=20))
def test_random_templates_and_conditions(tokens: list[str]) -> None:
    text = " ".join(tokens)
    for compile_ in (ex.compile_template, ex.compile_condition):
        failure: ex.ExpressionError | None = None
        try:
            compile_(text, names=NAMES).evaluate(CONTEXTS)
        except ex.ExpressionError as error:
            failure = error
        assert failure is None or failure.template in (None, text)
    if ex.contains_expression(text):
        assert "${{" in text


def _fails_fast(text: str, error_type: type[ex.ExpressionError], message: str) -> None:
    # No timing assertion (see docs/source/benchmarks.rst): a RecursionError would fail this
    # test, and a hang would hang the suite.
    with pytest.raises(error_type) as info:
        ex.compile(text, names=NAMES)
    assert message in info.value.message


def test_ten_megabyte_expression() -> None:
    _fails_fast(
        "1 || " * 2_000_000 + "1", ex.ParsingError, "Exceeded max expression length"
    )


@pytest.mark.parametrize(
    "text",
    [
        "(" * 10_000 + "1" + ")" * 10_000,
        "!" * 10_000 + "true",
        "list" + "[0]" * 5_000,
        "list" + ".*" * 5_000,
        "steps" + ".a" * 5_000,
        "format(" * 2_000 + "'x'" + ")" * 2_000,
        "1 == " * 4_000 + "1",
        "1 < " * 4_000 + "1",
        "list[" * 3_000 + "0" + "]" * 3_000,
        "case(true, " * 1_000 + "1, 2" + ")" * 1_000,
    ],
)
def test_deep_nesting(text: str) -> None:
    _fails_fast(text, ex.ParsingError, "Exceeded max expression depth 50")


def test_depth_limit_is_exact() -> None:
    assert ex.evaluate("!" * 49 + "true", {}) is False
    assert ex.evaluate("(" * 49 + "1" + ")" * 49, {}) == 1
    _fails_fast("(" * 50 + "1" + ")" * 50, ex.ParsingError, "depth 50")
    chain = "1" + " == 1" * 49
    assert ex.evaluate(chain, {}) is True
    _fails_fast(chain + " == 1", ex.ParsingError, "depth 50")
    # Flat && / || chains are one level, however long.
    assert ex.evaluate(" && ".join(["1"] * 1000), {}) == 1


def test_evaluation_of_hostile_expressions_is_bounded() -> None:
    growth = "format('{0}{0}{0}{0}{0}{0}{0}{0}', " * 40 + "'abcd'" + ")" * 40
    with pytest.raises(ex.EvaluationError, match="maximum allowed memory"):
        ex.evaluate(growth, {})
    nested_json = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ex.EvaluationError, match="fromJSON"):
        ex.evaluate("fromJSON(text)", {"text": nested_json})
