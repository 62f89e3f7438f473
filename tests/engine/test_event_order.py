"""One job, one event order on a MockClock (rules R18.8, R18.9, I10)."""

from __future__ import annotations

import trio
import trio.testing

import trio_steps as ts
from trio_steps._engine._timekeeper import is_real_clock
from trio_steps.testing import ScriptedStep, run_on_mock_clock


def _job() -> ts.Job:
    return ts.Job(
        [
            ScriptedStep(1, id="a", background=True),
            ScriptedStep(1, id="b", background=True),
            ScriptedStep(1, id="c"),
            ScriptedStep(2, id="d", background=True),
            ts.Wait(["a", "b"]),
            ScriptedStep(0, id="e", background=True),
            ScriptedStep(0, id="f", background=True),
            ts.Cancel(["d"]),
        ]
    )


def _order(report: ts.JobReport) -> tuple[tuple[str, str | None, float], ...]:
    return tuple((e.kind, e.step_id, e.time) for e in report.events)


def test_thirty_runs_give_one_order_r18_9() -> None:
    orders = {_order(run_on_mock_clock(_job()).report) for _ in range(30)}
    assert len(orders) == 1


def test_code_ends_of_one_instant_are_handled_in_plan_order_r18_8() -> None:
    report = run_on_mock_clock(_job()).report
    finished_at_1 = [
        e.step_id
        for e in report.events
        if e.kind == "step-finished" and e.time == 1.0 and e.step_id in list("abcef")
    ]
    # a, b, c end at 1 together; e and f start and end at 1 after the wait.
    assert finished_at_1 == ["a", "b", "c", "e", "f"]
    kinds = [(e.kind, e.step_id) for e in report.events if e.time == 1.0]
    # The code ends come first, then what they let happen (d's launch).
    assert kinds[:4] == [
        ("step-finished", "a"),
        ("step-finished", "b"),
        ("step-finished", "c"),
        ("step-launched", "d"),
    ]


def test_code_ends_come_before_a_decision_of_the_same_instant_r18_8() -> None:
    """A timeout due when the code ends loses (timing.rst, natural first)."""
    job = ts.Job(
        [
            ScriptedStep(2, id="late", background=True),
            ScriptedStep(1, id="a", timeout=1),
        ]
    )
    for _ in range(10):
        report = run_on_mock_clock(job).report
        assert report.steps["a"].conclusion is ts.Result.SUCCEEDED
        assert not any(e.kind == "cancel-requested" for e in report.events)


def test_only_clocks_other_than_the_real_one_get_the_canonical_order() -> None:
    async def main() -> bool:
        return is_real_clock(trio.lowlevel.current_clock())

    assert trio.run(main) is True
    assert trio.run(main, clock=trio.testing.MockClock()) is False
