"""Templates: strings with ${{ }} interpolations."""

from __future__ import annotations

import pytest

from trio_steps import expressions as ex

CONTEXTS: dict[str, object] = {
    "env": {"NAME": "world", "EMPTY": ""},
    "vars": {
        "n": 3,
        "half": 0.5,
        "big": 1e21,
        "flag": True,
        "list": [1, "a", None],
        "obj": {"k": [True]},
    },
}


def render(text: str) -> str:
    return ex.compile_template(text, names=CONTEXTS).render(CONTEXTS)


def test_literal_template() -> None:
    template = ex.compile_template("echo hello } }} {{", names=[])
    assert template.is_literal
    assert template.expressions == ()
    assert template.render({}) == "echo hello } }} {{"
    assert not ex.contains_expression("echo hello")
    assert ex.contains_expression("a ${{ b")


def test_interpolation() -> None:
    assert render("Hello ${{ env.NAME }}!") == "Hello world!"
    assert render("${{env.NAME}}${{ env.name }}") == "worldworld"
    assert not ex.compile_template("${{ 1 }}", names=[]).is_literal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[${{ null }}]", "[]"),
        ("${{ vars.flag }} ${{ !vars.flag }}", "true false"),
        ("${{ vars.n }}", "3"),
        ("${{ vars.half }}", "0.5"),
        ("${{ vars.big }}", "1E+21"),
        ("${{ -0.0 }}", "0"),
        ("${{ 0xff }}", "255"),
        # GitHub's format(): arrays and objects print as Array and Object.
        ("${{ vars.list }}", "Array"),
        ("${{ vars.obj }}", "Object"),
        ("${{ vars.list.* }}", "Array"),
        ("a ${{ vars.list }} ${{ vars.obj }}\n", "a Array Object\n"),
        ("${{ toJSON(vars.list) }}", '[\n  1,\n  "a",\n  null\n]'),
        ("${{ env.EMPTY }}x", "x"),
    ],
)
def test_values_become_text_as_in_github(text: str, expected: str) -> None:
    assert render(text) == expected


def test_closing_braces_inside_a_string_literal() -> None:
    assert render("${{ '}}' }}") == "}}"
    assert render("a${{ 'it''s }}' }}b") == "ait's }}b"
    assert render("${{ '${{' }}") == "${{"
    assert render("${{ format('{{{0}}}', 1) }}") == "{1}"


def test_template_evaluate_keeps_the_type_of_a_lone_expression() -> None:
    template = ex.compile_template("  ${{ vars.n }}\n", names=CONTEXTS)
    assert template.evaluate(CONTEXTS) == 3
    assert template.render(CONTEXTS) == "  3\n"
    assert (
        ex.compile_template("x${{ vars.n }}", names=CONTEXTS).evaluate(CONTEXTS) == "x3"
    )
    assert ex.compile_template("plain", names=[]).evaluate({}) == "plain"


def test_template_is_cached() -> None:
    first = ex.compile_template("a ${{ env.NAME }}", names=["env"])
    assert ex.compile_template("a ${{ env.NAME }}", names=["env"]) is first


@pytest.mark.parametrize(
    ("text", "message", "position", "template_position"),
    [
        ("echo ${{ env.NAME", "The expression is not closed", 6, 6),
        ("echo ${{ 'a }}' ", "The expression is not closed", 6, 6),
        ("a ${{   }} b", "An expression was expected", 3, 3),
        ("x ${{ env.NAME }} ${{ nope.x }}", "Unrecognized named-value: 'nope'", 1, 23),
        ("${{ 1 == }}", "Unexpected end of expression: '=='", 3, 7),
        ("${{\n  1 2 }}", "Unexpected symbol: '2'", 3, 9),
    ],
)
def test_template_errors(
    text: str, message: str, position: int, template_position: int
) -> None:
    with pytest.raises(ex.ExpressionError) as info:
        ex.compile_template(text, names=["env"])
    error = info.value
    assert error.message.startswith(message)
    assert error.position == position
    assert error.template == text
    assert error.template_position == template_position
    assert text[template_position - 1 :].startswith(error.expression[position - 1])


def test_evaluation_error_in_template_is_located() -> None:
    template = ex.compile_template("a ${{ fromJSON(env.NAME) }}", names=["env"])
    with pytest.raises(ex.EvaluationError) as info:
        template.render(CONTEXTS)
    assert info.value.expression == "fromJSON(env.NAME)"
    assert info.value.position == 1
    assert info.value.template_position == 7


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (True, "true"),
        (2.0, "2"),
        (10**20, "1E+20"),
        ("s", "s"),
        ([], "Array"),
        ({"a": {}}, "Object"),
    ],
)
def test_to_string(value: object, expected: str) -> None:
    assert ex.to_string(value) == expected
