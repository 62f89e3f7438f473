"""Numbers, strings, coercion and comparison, as GitHub defines them."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_steps import expressions as ex
from trio_steps.expressions._values import to_json


def text_of(value: object) -> str:
    """How format() prints a value."""
    result = ex.evaluate("format('{0}', x)", {"x": value})
    assert isinstance(result, str)
    return result


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0, "0"),
        (-0.0, "0"),
        (1, "1"),
        (2.0, "2"),
        (-1.5, "-1.5"),
        (0.1, "0.1"),
        (1 / 3, "0.333333333333333"),
        (123456789012345.0, "123456789012345"),
        (999999999999999.0, "999999999999999"),
        (1e15, "1E+15"),
        (1234567890123456.0, "1.23456789012346E+15"),
        (1e21, "1E+21"),
        (-2.5e-7, "-2.5E-07"),
        (0.0001, "0.0001"),
        (0.00001, "1E-05"),
        (5e-324, "4.94065645841247E-324"),
        (10**400, "Infinity"),
        (-(10**400), "-Infinity"),
        (math.inf, "Infinity"),
        (math.nan, "NaN"),
        (2**53 + 1, "9.00719925474099E+15"),
    ],
)
def test_number_formatting(number: float, expected: str) -> None:
    assert text_of(number) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0.0),
        ("   ", 0.0),
        (" 12 ", 12.0),
        ("+1.5e2", 150.0),
        ("-.5", -0.5),
        ("5.", 5.0),
        ("0x10", 16.0),
        ("0XfF", 255.0),
        ("0o17", 15.0),
        ("0b101", 5.0),
        ("-Infinity", -math.inf),
        ("\u00a01\u3000", 1.0),
        ("0x" + "f" * 300, math.inf),
    ],
)
def test_string_to_number(text: str, expected: float) -> None:
    assert ex.evaluate("x == y", {"x": text, "y": expected}) is True


@pytest.mark.parametrize(
    "text",
    ["abc", "1_000", "nan", "inf", "infinity", "-0x10", "0x", "1e", "..1", "1 2"],
)
def test_strings_that_are_not_numbers(text: str) -> None:
    # Compared with a number, such a string is NaN: never equal, less or greater.
    assert ex.evaluate("x == 0 || x < 1 || x >= 1 || x > -1", {"x": text}) is False
    assert ex.evaluate("x != 0", {"x": text}) is True


def test_number_literals() -> None:
    assert ex.evaluate("0x1F", {}) == 31
    with pytest.raises(ex.LexingError):
        ex.compile("-0o7", names=[])  # as JavaScript: no sign before 0o/0x/0b
    assert ex.evaluate("1.5e3", {}) == 1500
    assert ex.evaluate(".5", {}) == 0.5
    assert ex.evaluate("-.5", {}) == -0.5
    assert ex.evaluate("+7", {}) == 7
    assert math.isnan(ex.evaluate("NaN", {}))  # type: ignore[arg-type]
    assert ex.evaluate("-Infinity", {}) == -math.inf
    literal = ex.evaluate("2", {})
    assert type(literal) is float


def test_number_from_contexts_keeps_its_python_type() -> None:
    assert type(ex.evaluate("x", {"x": 3})) is int
    assert ex.evaluate("x == 3.0", {"x": 3}) is True
    # Compared as doubles, as GitHub holds them.
    assert ex.evaluate("x == y", {"x": 2**53, "y": 2**53 + 1}) is True


def test_booleans_are_not_numbers_in_python_either() -> None:
    assert ex.evaluate("x == 1", {"x": True}) is True
    assert ex.evaluate("toJSON(x)", {"x": True}) == "true"
    assert ex.evaluate("x == 'true'", {"x": True}) is False  # 'true' is NaN


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("'ß' == 'SS'", False),  # no multi-character case mappings
        ("'ß' == 'ß'", True),
        ("'ı' == 'I'", False),
        ("'i' == 'I'", True),
        ("'\U0001f600' > '\uffff'", False),  # UTF-16 order, like GitHub
        ("'\U0001f600' < '\ue000'", True),
        ("'b' > 'A'", True),
        ("'B' > 'a'", True),
        ("'' < 'a'", True),
        ("contains('STRASSE', 'ß')", False),
        ("startsWith('Ärger', 'ä')", True),
        ("endsWith('x', '')", True),
    ],
)
def test_case_insensitive_strings(expression: str, expected: bool) -> None:
    assert ex.evaluate(expression, {}) is expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("a == a", True),  # the same object
        ("a == b", False),  # equal content, different objects
        ("a != b", True),
        ("a < b || a > b || a <= b || a >= b", False),
        ("a == 'Object'", False),
        ("o == o", True),
        ("o == 'Object'", False),
        ("null == ''", True),
        ("null < 1", True),
        ("true > false", True),
        ("true >= 'true'", False),
        ("'10' > '9'", False),  # two strings compare as text
        ("'10' > 9", True),  # a string and a number compare as numbers
    ],
)
def test_comparisons(expression: str, expected: bool) -> None:
    contexts = {"a": [1], "b": [1], "o": object()}
    assert ex.evaluate(expression, contexts) is expected


def test_and_or_return_operands_and_short_circuit() -> None:
    assert ex.evaluate("'' || 0 || 'x' || fromJSON('bad')", {}) == "x"
    assert ex.evaluate("0 && fromJSON('bad')", {}) == 0
    assert ex.evaluate("1 && 'a' && null", {}) is None
    assert ex.evaluate("1 && 'a' && 2", {}) == 2
    assert ex.evaluate("false || false", {}) is False


def test_index_coercion() -> None:
    contexts = {"arr": ["a", "b", "c"], "obj": {"1": "one", "true": "yes", "": "empty"}}
    assert ex.evaluate("arr[1.9]", contexts) == "b"
    assert ex.evaluate("arr['2']", contexts) == "c"
    assert ex.evaluate("arr[null]", contexts) == "a"
    assert ex.evaluate("arr[3]", contexts) is None
    assert ex.evaluate("arr[-0.5]", contexts) is None
    assert ex.evaluate("obj[1]", contexts) == "one"
    assert ex.evaluate("obj[true]", contexts) == "yes"
    assert ex.evaluate("obj[null]", contexts) == "empty"
    assert ex.evaluate("obj[arr]", contexts) is None
    # The index is not evaluated unless the target is a collection.
    assert ex.evaluate("arr[0][fromJSON('bad')]", contexts) is None


def test_filters() -> None:
    contexts = {
        "matrix": [{"os": "linux", "py": [3.11, 3.12]}, {"os": "mac"}, 7, "s"],
        "obj": {"a": {"x": 1}, "b": {"x": 2}},
    }
    assert ex.evaluate("matrix.*.os", contexts) == ["linux", "mac"]
    assert ex.evaluate("matrix[*].py[1]", contexts) == [3.12]
    assert ex.evaluate("matrix.*.py.*", contexts) == [3.11, 3.12]
    assert ex.evaluate("obj.*.x", contexts) == [1, 2]
    assert ex.evaluate("obj.*.*", contexts) == [1, 2]
    assert ex.evaluate("obj.a.x.*", contexts) == []
    assert ex.evaluate("contains(obj.*.x, 2)", contexts) is True
    assert ex.evaluate("join(matrix.*.os, '+')", contexts) == "linux+mac"


def test_to_json_layout_and_escapes() -> None:
    value: dict[object, object] = {
        "s": 'q"\\\n\t\u0001\u2028é',
        "n": [1, 1.5, -0.0, 1e300],
        "e": [[], {}],
        3: None,
    }
    expected = (
        "{\n"
        '  "s": "q\\"\\\\\\n\\t\\u0001\\u2028é",\n'
        '  "n": [\n    1,\n    1.5,\n    0,\n    1E+300\n  ],\n'
        '  "e": [\n    [],\n    {}\n  ],\n'
        '  "3": null\n'
        "}"
    )
    assert ex.evaluate("toJSON(x)", {"x": value}) == expected


def test_json_of_deep_data_does_not_recurse() -> None:
    deep: list[object] = []
    current = deep
    for _ in range(1500):  # deeper than Python's recursion limit
        inner: list[object] = []
        current.append(inner)
        current = inner
    text = to_json(deep, max_chars=None)
    assert text.count("[") == 1501
    assert "  " * 1500 + "[]\n" + "  " * 1499 + "]\n" + "  " * 1498 + "]\n" in text
    assert text.endswith("\n  ]\n]")
    # toJSON of the same data needs more than the memory limit allows.
    with pytest.raises(ex.EvaluationError, match="maximum allowed memory"):
        ex.evaluate("toJSON(x)", {"x": deep})


def test_to_json_of_cyclic_data_is_an_error() -> None:
    cyclic: dict[str, object] = {}
    cyclic["me"] = [cyclic]
    with pytest.raises(ex.EvaluationError, match="contains itself"):
        ex.evaluate("toJSON(x)", {"x": cyclic})
    shared = [1]
    # Repeated (not cyclic) references are fine.
    assert ex.evaluate("toJSON(x)", {"x": [shared, shared]}) == (
        "[\n  [\n    1\n  ],\n  [\n    1\n  ]\n]"
    )


json_values = st.recursive(
    st.none()
    | st.booleans()
    # Up to 1e308: 15 digits of the largest doubles overflow (in GitHub too).
    | st.floats(min_value=-1e308, max_value=1e308)
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


def _same_json(a: object, b: object) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same_json, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, (int, float)) and not isinstance(a, bool):
        # toJSON prints 15 significant digits, as GitHub does.
        return isinstance(b, float) and math.isclose(a, b, rel_tol=1e-14, abs_tol=0)
    return type(a) is type(b) and a == b


@given(json_values)
def test_to_json_from_json_round_trip(value: object) -> None:
    back = ex.evaluate("fromJSON(toJSON(x))", {"x": value})
    assert _same_json(value, back)


# Up to 1e308: rounding the largest doubles to 15 digits overflows (in GitHub too).
@given(st.floats(min_value=-1e308, max_value=1e308))
def test_formatted_numbers_parse_back_to_15_digits(number: float) -> None:
    text = text_of(number)
    assert ex.evaluate("x == y", {"x": text, "y": text}) is True
    assert math.isclose(float(text), number, rel_tol=1e-14, abs_tol=0)


primitives = (
    st.none()
    | st.booleans()
    | st.floats()
    | st.text(alphabet="01 .xeE+-abIıSsß", max_size=6)
)


@given(primitives, primitives)
def test_loose_equality_is_symmetric(a: object, b: object) -> None:
    contexts = {"a": a, "b": b}
    assert ex.evaluate("a == b", contexts) is ex.evaluate("b == a", contexts)
    assert ex.evaluate("a != b", contexts) is not ex.evaluate("a == b", contexts)
    assert ex.evaluate("a < b", contexts) is ex.evaluate("b > a", contexts)


@given(primitives)
def test_not_is_the_negated_truthiness(value: object) -> None:
    assert ex.evaluate("!x", {"x": value}) is (not ex.truthy(value))
