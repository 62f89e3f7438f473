"""The public API of trio_steps.expressions: compile, evaluate, conditions."""

from __future__ import annotations

import pickle

import pytest

from trio_steps import expressions as ex

CONTEXTS: dict[str, object] = {
    "steps": {"build": {"outputs": {"tag": "v1.2"}, "conclusion": "success"}},
    "github": {"ref": "refs/heads/main", "event_name": "push"},
    "job": {"status": "success"},
}


def test_evaluate_uses_context_keys_as_names() -> None:
    assert ex.evaluate("steps.build.outputs.tag", CONTEXTS) == "v1.2"
    with pytest.raises(ex.ParsingError) as info:
        ex.evaluate("env.X", CONTEXTS)
    assert info.value.message == "Unrecognized named-value: 'env'"
    assert info.value.position == 1
    assert info.value.expression == "env.X"


def test_names_properties_and_functions_ignore_case() -> None:
    assert ex.evaluate("STEPS.Build.OUTPUTS.TAG", CONTEXTS) == "v1.2"
    assert ex.evaluate("StartsWith(GitHub.Ref, 'REFS/')", CONTEXTS) is True
    # The context itself may be given in another case than the names.
    compiled = ex.compile("github.ref", names=["GitHub"])
    assert compiled.evaluate({"github": {"ref": "x"}}) == "x"


def test_declared_name_missing_from_contexts_is_null() -> None:
    compiled = ex.compile("vars.x || 'default'", names=["vars"])
    assert compiled.evaluate({}) == "default"


def test_compiled_expression_attributes() -> None:
    compiled = ex.compile(
        "contains(github.ref, 'main') && success()", names=["github", "steps"]
    )
    assert compiled.source == "contains(github.ref, 'main') && success()"
    assert compiled.names == frozenset({"github", "steps"})
    assert compiled.functions == frozenset({"contains", "success"})
    assert compiled.uses_status_function
    assert not ex.compile("github.ref", names=["github"]).uses_status_function
    assert "contains(github.ref" in repr(compiled)


@pytest.mark.parametrize("function", ["success", "FAILURE", "always", "Cancelled"])
def test_each_status_function_counts(function: str) -> None:
    assert ex.compile(f"{function}()", names=[]).uses_status_function


def test_compile_is_cached_per_source_and_names() -> None:
    first = ex.compile("github.ref == 'x'", names=["github", "steps"])
    assert ex.compile("github.ref == 'x'", names=("steps", "github")) is first
    assert ex.compile("github.ref == 'x'", names=["github"]) is not first
    assert ex.compile("github.ref == 'y'", names=["github", "steps"]) is not first


def test_compiled_objects_come_only_from_the_compile_functions() -> None:
    with pytest.raises(TypeError, match="compile"):
        ex.CompiledExpression()
    with pytest.raises(TypeError, match="compile_template"):
        ex.Template()


def test_compiled_objects_are_immutable() -> None:
    # They are shared through the caches.
    compiled = ex.compile("1", names=[])
    with pytest.raises(AttributeError, match="immutable"):
        compiled.source = "2"
    template = ex.compile_template("x", names=[])
    with pytest.raises(AttributeError, match="immutable"):
        template.is_literal = False
    assert compiled.source == "1"


def test_names_must_not_be_a_single_string() -> None:
    with pytest.raises(TypeError, match="iterable of context names"):
        ex.compile("github", names="github")


def test_empty_expression_is_null() -> None:
    assert ex.evaluate("", {}) is None
    assert ex.evaluate("   ", {}) is None


def test_filtered_array_result_is_a_plain_list() -> None:
    result = ex.evaluate("x.*.a", {"x": [{"a": 1}, {"b": 2}, {"a": 3}]})
    assert result == [1, 3]
    assert type(result) is list


def test_values_from_contexts_are_returned_as_they_are() -> None:
    outputs = {"a": 1}
    assert ex.evaluate("s.outputs", {"s": {"outputs": outputs}}) is outputs


def test_property_of_a_non_object_is_null() -> None:
    # GitHub yields null here rather than failing.
    assert ex.evaluate("github.ref.length", CONTEXTS) is None
    assert ex.evaluate("github.nothing.deeper[0]", CONTEXTS) is None
    assert ex.evaluate("x[0]", {"x": "string"}) is None


# --- errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "error_type", "message", "position"),
    [
        ("foo", ex.ParsingError, "Unrecognized named-value: 'foo'", 1),
        ("1 && bar(1)", ex.ParsingError, "Unrecognized function: 'bar'", 6),
        (
            "contains('a')",
            ex.ParsingError,
            "Too few parameters supplied: 'contains'",
            1,
        ),
        ("toJSON(1, 2)", ex.ParsingError, "Too many parameters supplied: 'toJSON'", 1),
        ("success(1)", ex.ParsingError, "Too many parameters supplied: 'success'", 1),
        (
            "case(true, 1, false, 2)",
            ex.ParsingError,
            "Even number of parameters supplied, requires an odd number of "
            "parameters: 'case'",
            1,
        ),
        ("1 ==", ex.ParsingError, "Unexpected end of expression: '=='", 3),
        ("(1", ex.ParsingError, "Unexpected end of expression: '1'", 2),
        ("join(1,)", ex.ParsingError, "Unexpected symbol: ')'", 8),
        ("'abc'[0]", ex.ParsingError, "Unexpected symbol: '['", 6),
        ("1 = 1", ex.LexingError, "Unexpected symbol: '='", 3),
        ("a & b", ex.LexingError, "Unexpected symbol: '&'", 3),
        ("'open", ex.LexingError, "Unexpected symbol: ''open'", 1),
        ("1.2.3", ex.LexingError, "Unexpected symbol: '1.2.3'", 1),
        ("héllo", ex.LexingError, "Unexpected symbol: 'héllo'", 1),
    ],
)
def test_compile_errors(
    expression: str, error_type: type[ex.ExpressionError], message: str, position: int
) -> None:
    with pytest.raises(ex.ExpressionError) as info:
        ex.compile(expression, names=["a", "b"])
    error = info.value
    assert type(error) is error_type
    assert error.message == message
    assert error.position == position
    assert error.expression == expression
    assert str(error) == (
        f"{message}. Located at position {position} within expression: {expression}"
    )


@pytest.mark.parametrize(
    ("expression", "message", "position"),
    [
        ("fromJSON('{')", "Error parsing JSON when evaluating fromJSON", 1),
        ("fromJSON('')", "Error parsing JSON when evaluating fromJSON", 1),
        ("1 == 1 && format('{0', 1)", "The following format string is invalid: {0", 11),
        ("case('yes', 1, 2)", "case predicate must evaluate to a boolean value", 1),
        ("toJSON(fromJSON('x'))", "Error parsing JSON when evaluating fromJSON", 8),
    ],
)
def test_evaluation_errors_carry_the_position_of_the_call(
    expression: str, message: str, position: int
) -> None:
    compiled = ex.compile(expression, names=[])
    with pytest.raises(ex.EvaluationError) as info:
        compiled.evaluate({})
    assert info.value.message.startswith(message)
    assert info.value.position == position
    assert info.value.expression == expression


def test_error_classes() -> None:
    assert issubclass(ex.ExpressionError, ValueError)
    for error_type in (ex.LexingError, ex.ParsingError, ex.EvaluationError):
        assert issubclass(error_type, ex.ExpressionError)


def test_errors_survive_pickling() -> None:
    with pytest.raises(ex.ExpressionError) as info:
        ex.compile_template("a ${{ nope }}", names=[])
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is ex.ParsingError
    assert str(copy) == str(info.value)
    assert (copy.template, copy.template_position) == ("a ${{ nope }}", 7)


def test_overlong_expression_message_is_shortened() -> None:
    text = "a" * (ex.MAX_EXPRESSION_LENGTH + 1)
    with pytest.raises(ex.ParsingError) as info:
        ex.compile(text, names=["a"])
    assert info.value.message == "Exceeded max expression length 21000"
    assert info.value.expression == text
    assert len(str(info.value)) < 400


def test_expression_of_the_maximum_length_compiles() -> None:
    text = "a" + " " * (ex.MAX_EXPRESSION_LENGTH - 1)
    assert ex.compile(text, names=["a"]).evaluate({"a": 7}) == 7


# --- status functions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "success", "failure", "cancelled"),
    [
        ("success", True, False, False),
        ("failure", False, True, False),
        ("cancelled", False, False, True),
        ("Failure", False, True, False),
        ("SUCCESS", True, False, False),
    ],
)
def test_status_functions_read_the_job_status(
    status: str, success: bool, failure: bool, cancelled: bool
) -> None:
    contexts = {"job": {"status": status}}
    assert ex.evaluate("success()", contexts) is success
    assert ex.evaluate("failure()", contexts) is failure
    assert ex.evaluate("cancelled()", contexts) is cancelled
    assert ex.evaluate("always()", contexts) is True


def test_status_lookup_ignores_case_of_keys() -> None:
    assert ex.evaluate("failure()", {"JOB": {"Status": "failure"}}) is True


def test_without_a_job_context_the_job_succeeded() -> None:
    assert ex.evaluate("success()", {}) is True
    assert ex.evaluate("failure() || cancelled()", {}) is False
    assert ex.evaluate("success()", {"job": {}}) is True


# --- conditions ----------------------------------------------------------------------


def test_condition_without_status_function_means_success_and() -> None:
    condition = ex.compile_condition("github.ref == 'refs/heads/main'", names=CONTEXTS)
    assert condition.source == "success() && (github.ref == 'refs/heads/main')"
    assert condition.uses_status_function
    assert ex.truthy(condition.evaluate(CONTEXTS))
    failed = {**CONTEXTS, "job": {"status": "failure"}}
    assert condition.evaluate(failed) is False


def test_condition_with_status_function_is_kept() -> None:
    condition = ex.compile_condition("failure() && github.ref != ''", names=CONTEXTS)
    assert condition.source == "failure() && github.ref != ''"
    assert condition.evaluate({**CONTEXTS, "job": {"status": "failure"}}) is True
    assert condition.evaluate(CONTEXTS) is False


def test_condition_wrapper_is_optional() -> None:
    plain = ex.compile_condition("always()", names=[])
    wrapped = ex.compile_condition("  ${{ always() }}  ", names=[])
    assert plain.source == wrapped.source == "always()"


def test_empty_condition_is_success() -> None:
    condition = ex.compile_condition("  ", names=[])
    assert condition.source == "success()"
    assert condition.evaluate({"job": {"status": "failure"}}) is False


def test_condition_result_value_follows_and_semantics() -> None:
    condition = ex.compile_condition("steps.build.outputs.tag", names=CONTEXTS)
    assert condition.evaluate(CONTEXTS) == "v1.2"


def test_condition_mixing_text_and_interpolation_is_a_string() -> None:
    # GitHub's well-known pitfall: this is the string "false && true", truthy.
    condition = ex.compile_condition("${{ false }} && ${{ true }}", names=[])
    assert condition.source == "success() && (format('{0} && {1}', false, true))"
    assert condition.evaluate({}) == "false && true"
    assert (
        ex.compile_condition("${{ failure() }} x", names=[]).source
        == "format('{0} x', failure())"
    )


def test_condition_error_positions() -> None:
    with pytest.raises(ex.ParsingError) as info:
        ex.compile_condition("  ${{ github.ref == nope }}", names=["github"])
    assert info.value.expression == "github.ref == nope"
    assert info.value.position == 15
    assert info.value.template_position == 21
    assert info.value.template == "  ${{ github.ref == nope }}"
    with pytest.raises(ex.ParsingError) as info:
        ex.compile_condition("${{ 1 }", names=[])
    assert "not closed" in info.value.message


def test_condition_evaluation_error_points_into_the_original() -> None:
    condition = ex.compile_condition("fromJSON('x')", names=[])
    with pytest.raises(ex.EvaluationError) as info:
        condition.evaluate({})
    assert info.value.expression == "fromJSON('x')"
    assert info.value.position == 1


def test_condition_is_cached() -> None:
    first = ex.compile_condition("github.ref", names=["github"])
    assert ex.compile_condition("github.ref", names=["github"]) is first


# --- truthiness --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        (False, False),
        (True, True),
        (0, False),
        (0.0, False),
        (-0.0, False),
        (float("nan"), False),
        (1, True),
        (-0.5, True),
        (float("inf"), True),
        ("", False),
        ("0", True),
        ("false", True),
        (" ", True),
        ([], True),
        ({}, True),
        (object(), True),
    ],
)
def test_truthy(value: object, expected: bool) -> None:
    assert ex.truthy(value) is expected
    # The language agrees with the Python helper.
    assert ex.evaluate("!!x", {"x": value}) is expected
