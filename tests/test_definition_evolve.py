"""``attrs.evolve`` and ``.evolve()`` on every public definition class (issue 12, item 22).

A copy made with no change equals the original (templates included); a
change is validated again, like a fresh constructor call (rules §7).
"""

from __future__ import annotations

import attrs
import pytest
import trio
import trio.testing

import trio_steps as ts


async def noop(ctx: ts.StepContext) -> None:
    pass


def _steps() -> list[ts.Step]:
    return [
        ts.Step(noop),
        ts.Step("echo hi", id="a", name="A", background=True, env={"X": "1"}),
        ts.Step(
            "echo ${{ env.X }}",
            id="templated",
            name="T ${{ env.X }}",
            condition="env.X == '1'",
            continue_on_error="${{ env.X == '1' }}",
            timeout="${{ env.T }}",
            shell="bash",
            working_directory="${{ env.D }}",
        ),
        ts.Step(
            noop, id="t", timeout="90s", continue_on_error=True, condition=ts.always
        ),
    ]


def _definitions() -> list[object]:
    a = ts.Step(noop, id="bg", background=True)
    return [
        *_steps(),
        ts.Wait("bg", id="w", name="W", continue_on_error=True),
        ts.WaitAll(id="wa"),
        ts.Cancel(["bg"], id="c", name="C"),
        ts.Parallel([ts.Step(noop, id="p1"), ts.Step(noop)], name="P"),
        ts.Job(
            [a, ts.Wait("bg"), *_steps()],
            post_steps=[ts.Step(noop, id="post")],
            env={"X": "1"},
            max_background=3,
            timeout=60,
            name="job",
            secrets={"S": "s3cret"},
            vars={"V": "v"},
            inputs={"i": 1},
            github={"sha": "abc"},
            workspace="/tmp",
        ),
    ]


@pytest.mark.parametrize("definition", _definitions(), ids=lambda d: type(d).__name__)
def test_attrs_evolve_without_changes_round_trips(definition: object) -> None:
    copy = attrs.evolve(definition)  # type: ignore[misc]
    assert copy == definition
    assert attrs.asdict(copy, recurse=False) == attrs.asdict(  # type: ignore[arg-type]
        definition,  # type: ignore[arg-type]
        recurse=False,
    )


def test_templated_step_keeps_its_templates_through_evolve() -> None:
    step = _steps()[2]
    for copy in (attrs.evolve(step), step.evolve(), attrs.evolve(step, name="N")):
        assert copy.timeout == "${{ env.T }}"
        assert copy.timeout_template == "${{ env.T }}"
        assert copy.continue_on_error == "${{ env.X == '1' }}"
        assert copy.continue_on_error_template == "${{ env.X == '1' }}"
        assert copy.compiled_condition is not None
    assert attrs.evolve(step, name="N").name == "N"
    # a plain value replaces the template
    fixed = step.evolve(timeout=5, continue_on_error=True)
    assert (fixed.timeout, fixed.timeout_template) == (5.0, None)
    assert (fixed.continue_on_error, fixed.continue_on_error_template) == (True, None)


def test_step_evolve_derives_again() -> None:
    step = ts.Step(noop, id="s", timeout="2m")
    assert step.timeout == 120.0
    changed = attrs.evolve(step, condition="failure()", timeout="1h")
    assert changed.compiled_condition is not None
    assert changed.timeout == 3600.0
    assert step.evolve(name="x").name == "x"
    assert attrs.evolve(changed, condition=None).compiled_condition is None


def test_job_evolve_recomputes_the_plan() -> None:
    job = ts.Job([ts.Step(noop, id="bg", background=True)])
    assert job.implicit_wait_all
    more = attrs.evolve(job, steps=[*job.steps, ts.WaitAll()])
    assert not more.implicit_wait_all
    assert [p.kind for p in more.plan] == ["run", "wait-all"]
    assert job.evolve(max_background=2).max_background == 2
    assert [p.id for p in attrs.evolve(job).plan] == [p.id for p in job.plan]


@pytest.mark.parametrize(
    ("definition", "changes"),
    [
        (ts.Step(noop), {"id": "bad id"}),
        (ts.Step(noop), {"timeout": -1}),
        (ts.Step(noop), {"condition": "nonsense(("}),
        (ts.Step(noop), {"shell": "bash"}),
        (ts.Wait("a"), {"ids": ()}),
        (ts.WaitAll(), {"continue_on_error": "yes"}),
        (ts.Cancel("a"), {"id": "__reserved x"}),
        (ts.Parallel([ts.Step(noop)]), {"steps": [ts.Step(noop, background=True)]}),
        (ts.Job([ts.Step(noop)]), {"max_background": 0}),
        (ts.Job([ts.Step(noop, id="x")]), {"steps": [ts.Wait("x")]}),
    ],
    ids=lambda value: type(value).__name__,
)
def test_evolve_validates_the_changes(
    definition: object, changes: dict[str, object]
) -> None:
    with pytest.raises(ts.JobDefinitionError):
        attrs.evolve(definition, **changes)  # type: ignore[misc]
    method = getattr(definition, "evolve", None)
    if method is not None:
        with pytest.raises(ts.JobDefinitionError):
            method(**changes)


async def test_evolved_templated_step_runs_like_the_original(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def slow(ctx: ts.StepContext) -> None:
        await trio.sleep(10)

    step = ts.Step(
        slow, id="s", timeout="${{ env.T }}", continue_on_error="${{ true }}"
    )
    job = ts.Job([attrs.evolve(step, name="slow")], env={"T": "2s"})
    report = await ts.run_job(job)
    s = report.steps["s"]
    assert (s.outcome, s.conclusion, s.timed_out) == (
        ts.Result.FAILED,
        ts.Result.SUCCEEDED,
        True,
    )
    assert s.finished_at == 2.0
