"""R2.1: merging results, and the report types."""

from __future__ import annotations

import itertools

import pytest

import trio_steps as ts

R = ts.Result


@pytest.mark.parametrize(
    ("current", "coming", "expected"),
    [
        (None, R.FAILED, R.FAILED),
        (None, R.SUCCEEDED, R.SUCCEEDED),
        (R.FAILED, R.CANCELED, R.CANCELED),
        (R.CANCELED, R.FAILED, R.CANCELED),
        (R.SKIPPED, R.FAILED, R.SKIPPED),
        (R.SUCCEEDED, R.SKIPPED, R.SKIPPED),
        (R.SUCCEEDED, R.FAILED, R.FAILED),
        (R.FAILED, R.SUCCEEDED, R.FAILED),
        (R.ABANDONED, R.SUCCEEDED, R.ABANDONED),
        (R.SUCCEEDED_WITH_ISSUES, R.SUCCEEDED, R.SUCCEEDED_WITH_ISSUES),
    ],
)
def test_r2_1_merge_table(current: R | None, coming: R, expected: R) -> None:
    assert ts.merge_results(current, coming) is expected


def test_r2_1_merge_is_sticky_or_max_for_every_pair() -> None:
    sticky = {R.CANCELED, R.SKIPPED, R.ABANDONED}
    for current, coming in itertools.product(R, R):
        merged = ts.merge_results(current, coming)
        assert merged is (current if current in sticky else max(current, coming))


def test_r2_1_merge_is_not_commutative() -> None:
    assert ts.merge_results(R.CANCELED, R.SKIPPED) is R.CANCELED
    assert ts.merge_results(R.SKIPPED, R.CANCELED) is R.SKIPPED


def test_result_order_and_github_words() -> None:
    assert [r.value for r in R] == [0, 1, 2, 3, 4, 5]
    assert [r.github for r in (R.SUCCEEDED, R.FAILED, R.CANCELED, R.SKIPPED)] == [
        "success",
        "failure",
        "cancelled",
        "skipped",
    ]


def test_reports_are_frozen_and_lookups_ignore_case() -> None:
    step = ts.StepReport(id="Build", name="Build", kind="run", outputs={"a": "b"})
    report = ts.JobReport(
        result=R.SUCCEEDED, steps=ts._results.CaseInsensitiveMapping({"Build": step})
    )
    assert report.steps["BUILD"] is step
    assert list(report.steps) == ["Build"]
    with pytest.raises(AttributeError):
        step.id = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        step.outputs["a"] = "c"  # type: ignore[index]
