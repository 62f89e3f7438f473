"""jobs() builds its strategies once and still shrinks to the simplest job (issue 14)."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

import trio_steps as ts
from trio_steps.testing import (
    ScriptedStep,
    Write,
    conditions,
    durations,
    jobs,
    quarters,
    scripted_steps,
)
from trio_steps.testing._strategies import CONDITIONS, _draw_choices

FIND = settings(
    database=None,
    derandomize=True,  # the same search under every profile
    max_examples=2000,
    phases=[Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)


def test_strategies_are_built_once() -> None:
    assert jobs() is jobs()
    assert jobs(max_steps=3) is jobs(max_steps=3)
    assert jobs(max_steps=3) is not jobs()
    extra = st.just(ts.Step("true"))
    assert jobs(extra_steps=[extra]) is jobs(extra_steps=[extra])
    assert durations() is durations()


def test_a_job_shrinks_to_one_step_that_succeeds_at_once() -> None:
    job = find(jobs(), lambda j: True, settings=FIND)
    assert job == ts.Job(
        [ScriptedStep(0, id="s1")],
        max_background=1,
        interrupt_grace=0,
        terminate_grace=0,
    )


def test_a_seeded_bug_shrinks_to_a_small_job() -> None:
    """A "bug" needing a cancelled, queued background step with a write."""

    def bug(job: ts.Job) -> bool:
        steps = [s for s in job.steps if isinstance(s, ts.Step)]
        cancelled = {
            i.casefold() for e in job.steps if isinstance(e, ts.Cancel) for i in e.ids
        }
        return any(
            s.background and s.id in cancelled and s.run.writes  # type: ignore[union-attr]
            for s in steps
        )

    job = find(jobs(), bug, settings=FIND)
    assert job == ts.Job(
        [
            ScriptedStep(0, id="s1", background=True,
                         writes=[ts_write(0.0, "s1.1")]),
            ts.Cancel("s1"),
        ],
        max_background=1,
        interrupt_grace=0,
        terminate_grace=0,
    )  # fmt: skip


def ts_write(at: float, value: str) -> Write:
    return Write(at=at, kind="output", name="o1", value=value)


def test_choices_share_one_draw_and_the_first_table_is_the_highest_digit() -> None:
    tables = (("a", "b"), (1, 2, 3))

    @st.composite
    def pair(draw: st.DrawFn) -> list[object]:
        return _draw_choices(draw, *tables)

    seen = find(pair(), lambda p: p[0] == "b", settings=FIND)
    assert seen == ["b", 1]  # the lower digit shrinks to its first entry
    every = set()

    @settings(max_examples=300, database=None)
    @given(pair())
    def collect(p: list[object]) -> None:
        every.add(tuple(p))

    collect()
    assert every == {(a, b) for a in tables[0] for b in tables[1]}


@given(scripted_steps(id="x", background=True), durations(), conditions())
def test_building_blocks(step: ts.Step, duration: float, condition: object) -> None:
    assert step.id == "x" and step.background
    assert 0 <= duration <= 4 and duration * 4 == int(duration * 4)
    assert condition in CONDITIONS


@given(quarters(0.5, 1.5))
def test_quarters(value: float) -> None:
    assert value in (0.5, 0.75, 1.0, 1.25, 1.5)


def test_endless_steps_have_a_timeout() -> None:
    step = find(
        scripted_steps(id="x"),
        lambda s: s.run.duration == math.inf,
        settings=FIND,
    )
    assert step.timeout == 0.25
