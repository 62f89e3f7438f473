"""GitHub's runner as a semantics (rules §17): each divergence, both ways.

Every test runs the same job under ``TRIO_STEPS`` and ``GITHUB_RUNNER`` on
Trio's autojump MockClock and asserts both reports, exact times included.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import trio
import trio.testing

import trio_steps as ts

from .engine_helpers import StepFn, forever, results, work

S, F, C, K = (
    ts.Result.SUCCEEDED,
    ts.Result.FAILED,
    ts.Result.CANCELED,
    ts.Result.SKIPPED,
)
TRIO = ts.Semantics.TRIO_STEPS
GITHUB = ts.Semantics.GITHUB_RUNNER


_started: dict[int, float] = {}


async def run(job: ts.Job, semantics: ts.Semantics = TRIO) -> ts.JobReport:
    """Run ``job``; its times are then read from its own start (``times``)."""
    now = trio.current_time()
    report = await ts.run_job(job, semantics=semantics)
    _started[id(report)] = now
    return report


def times(
    report: ts.JobReport, step: str
) -> tuple[float | None, float | None, float | None]:
    """``(queued_at, started_at, finished_at)`` from the job's start."""
    base = _started.get(id(report), 0.0)
    got = report.steps[step]
    return tuple(  # type: ignore[return-value]
        None if t is None else t - base
        for t in (got.queued_at, got.started_at, got.finished_at)
    )


def look(seen: dict[str, object], probe: Callable[[ts.StepContext], object]) -> StepFn:
    """A step that records what ``probe`` reads from its context."""

    async def step(ctx: ts.StepContext) -> None:
        seen["value"] = probe(ctx)

    return step


def _outcome_of(id: str) -> Callable[[ts.StepContext], object]:
    def probe(ctx: ts.StepContext) -> object:
        view = ctx.steps.get(id)
        return None if view is None else view.outcome

    return probe


async def test_s11_11_r17_3_r17_7_a_cancelled_target_hides_a_failure_from_the_wait(
    autojump_clock: trio.testing.MockClock,
) -> None:
    def job() -> ts.Job:
        return ts.Job(
            [
                ts.Step(forever(), id="svc", background=True),
                ts.Step(work(1, fail=True, name="f"), id="f", background=True),
                ts.Cancel("svc"),
                ts.Wait(["svc", "f"], id="w"),
                ts.Step(work(2), id="after"),
            ]
        )

    ours = await run(job())
    assert results(ours, "w") == (F, F)  # R4.4: svc's CANCELED is left out
    assert results(ours, "after") == (K, K)
    assert ours.result is F

    theirs = await run(job(), GITHUB)
    assert results(theirs, "w") == (C, C)  # sticky over f's FAILED
    assert times(theirs, "w") == (None, 0.0, 1.0)
    assert results(theirs, "after") == (S, S)  # the job was not failed there
    assert times(theirs, "after") == (None, 1.0, 3.0)
    assert theirs.result is F  # ... only at the end, merging f again


async def test_s11_7_r17_3_continue_on_error_on_a_wait_is_ignored(
    autojump_clock: trio.testing.MockClock,
) -> None:
    def job() -> ts.Job:
        return ts.Job(
            [
                ts.Step(work(1, fail=True, name="f"), id="f", background=True),
                ts.Wait("f", id="w", continue_on_error=True),
            ]
        )

    ours = await run(job())
    assert results(ours, "w") == (F, S)
    assert ours.result is S
    theirs = await run(job(), GITHUB)
    assert results(theirs, "w") == (F, F)
    assert times(theirs, "w") == (None, 0.0, 1.0)
    assert theirs.result is F


async def test_s11_1_r17_4_a_step_cancelled_in_the_queue_never_completes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: dict[str, object] = {}

    def job() -> ts.Job:
        return ts.Job(
            [
                ts.Step(work(5), id="a", background=True),
                ts.Step(work(1), id="q", background=True),
                ts.Cancel("q", id="c"),
                ts.Wait(["a", "q"], id="w"),
                ts.Step(look(seen, _outcome_of("q")), id="look"),
            ],
            max_background=1,
        )

    ours = await run(job())
    q = ours.steps["q"]
    assert (results(ours, "q"), times(ours, "q")) == ((C, C), (0.0, None, 0.0))
    assert (q.never_completed, q.completed_by) == (False, "c")
    assert results(ours, "c") == (S, S)
    assert seen["value"] is C
    assert times(ours, "w") == (None, 0.0, 5.0)

    theirs = await run(job(), GITHUB)
    q = theirs.steps["q"]
    assert q.never_completed
    assert results(theirs, "q") == (None, None)
    assert times(theirs, "q") == (0.0, None, None)
    # The runner's cancel step throws: CANCELED, and it completes nothing.
    assert results(theirs, "c") == (C, C)
    assert times(theirs, "c") == (None, 0.0, 0.0)
    assert q.completed_by == "w"
    assert results(theirs, "w") == (S, S)  # nothing to merge from q
    assert times(theirs, "w") == (None, 0.0, 5.0)
    # Its flush publishes ``Outcome ?? Result ?? Succeeded``.
    assert seen["value"] is S
    assert theirs.result is S
    assert theirs.finished


async def test_s11_9_r17_4_launched_after_job_cancellation_never_completes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    def job() -> ts.Job:
        return ts.Job(
            [
                ts.Step(work(10), id="long"),
                ts.Step(work(1), id="clean", background=True, condition=ts.always),
            ]
        )

    async def cancelled_at_1(semantics: ts.Semantics) -> ts.JobReport:
        now = trio.current_time()
        runner = ts.JobRunner(job(), semantics=semantics)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(runner.run)
            await trio.sleep(1)
            runner.cancel()
        report = runner.report
        _started[id(report)] = now
        return report

    ours = await cancelled_at_1(TRIO)
    assert (results(ours, "clean"), times(ours, "clean")) == ((S, S), (1.0, 1.0, 2.0))
    assert ours.result is C

    theirs = await cancelled_at_1(GITHUB)
    clean = theirs.steps["clean"]
    assert clean.never_completed
    assert (results(theirs, "clean"), times(theirs, "clean")) == (
        (None, None),
        (1.0, None, None),
    )
    assert results(theirs, "long") == (C, C)
    assert theirs.result is C


async def test_s11_5_r17_5_every_wait_flushes_again(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: dict[str, object] = {}

    def job() -> ts.Job:
        return ts.Job(
            [
                ts.Step(work(1, env={"X": "b"}), id="b", background=True),
                ts.Wait("b", id="w1"),
                ts.Step(work(1, env={"X": "c"}), id="c"),
                ts.Wait("b", id="w2"),
                ts.Step(look(seen, lambda ctx: ctx.env.get("X")), id="look"),
            ]
        )

    ours = await run(job())
    assert seen.pop("value") == "c"
    assert ours.env["X"] == "c"
    assert ours.steps["b"].completed_by == "w1"

    theirs = await run(job(), GITHUB)
    assert seen["value"] == "b"  # w2 applied b's change again
    assert theirs.env["X"] == "b"
    assert theirs.steps["b"].completed_by == "w1"
    assert times(theirs, "w2") == (None, 2.0, 2.0)
    # One step-flushed event each (I7): the second flush is not a new one.
    flushed = [e for e in theirs.events if e.kind is ts.EventKind.STEP_FLUSHED]
    assert [e.step_id for e in flushed] == ["b"]


async def test_s11_6_r17_6_a_skipped_background_step_stays_unpublished(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: dict[str, object] = {}

    def job() -> ts.Job:
        return ts.Job(
            [
                ts.Step(work(1), id="s", background=True, condition=lambda st: False),
                ts.Step(look(seen, lambda ctx: "s" in ctx.steps), id="look"),
            ]
        )

    ours = await run(job())
    assert seen["value"] is True
    assert results(ours, "s") == (K, K)
    theirs = await run(job(), GITHUB)
    assert seen["value"] is False
    assert results(theirs, "s") == (K, K)  # the report still says so


async def test_s11_12_r17_8_a_queued_step_reads_steps_when_it_gets_its_slot(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: dict[str, object] = {}

    def output_v(ctx: ts.StepContext) -> object:
        view = ctx.steps.get("x")
        return None if view is None else view.outputs.get("v")

    def job() -> ts.Job:
        return ts.Job(
            [
                ts.Step(work(2), id="hold", background=True),
                ts.Step(look(seen, output_v), id="late", background=True),
                ts.Step(work(1, outputs={"v": "42"}), id="x"),
                ts.Wait(["hold", "late"]),
            ],
            max_background=1,
        )

    ours = await run(job())
    assert seen["value"] is None  # fixed at its launch, t=0
    assert times(ours, "late") == (0.0, 2.0, 2.0)
    theirs = await run(job(), GITHUB)
    assert seen["value"] == "42"  # x was published at t=1, before its slot
    assert times(theirs, "late") == (0.0, 2.0, 2.0)


@pytest.mark.parametrize("semantics", [TRIO, GITHUB])
async def test_r17_2_a_control_step_with_an_id_is_in_steps(
    autojump_clock: trio.testing.MockClock, semantics: ts.Semantics
) -> None:
    seen: dict[str, object] = {}

    def probe(ctx: ts.StepContext) -> object:
        generated = sorted(k for k in ctx.steps if k.startswith("__"))
        return (ctx.steps["w"].outcome, ctx.steps["w"].outputs, generated)

    report = await run(
        ts.Job(
            [
                ts.Step(work(1), id="b", background=True),
                ts.Step(work(1), id="d", background=True),
                ts.Wait("b", id="w"),
                ts.Wait("d"),
                ts.Step(look(seen, probe), id="look"),
            ]
        ),
        semantics,
    )
    assert seen["value"] == (S, {}, [])
    assert times(report, "look") == (None, 1.0, 1.0)


def test_semantics_by_name_and_bad_names() -> None:
    job = ts.Job([ts.Step(work(1), id="a")])
    assert ts.JobRunner(job, semantics="github-runner").semantics is GITHUB
    assert ts.JobRunner(job).semantics is TRIO
    with pytest.raises(ValueError, match="unknown semantics 'github'"):
        ts.JobRunner(job, semantics="github")
    assert str(GITHUB) == "github-runner"


async def test_r17_8_an_expression_that_fails_at_the_slot_fails_the_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Fine at launch (x not published yet), broken when the slot comes."""
    broken = "echo ${{ fromJSON(steps.x.outputs.v || '{}').a }}"

    def job() -> ts.Job:
        return ts.Job(
            [
                ts.Step(work(2), id="hold", background=True),
                ts.Step(broken, id="late", background=True),
                ts.Step(work(1, outputs={"v": "not json"}), id="x"),
                ts.Wait(["hold", "late"], id="w"),
            ],
            max_background=1,
        )

    ours = await run(job())
    assert results(ours, "late") == (S, S)  # expanded at launch: "echo "
    theirs = await run(job(), GITHUB)
    late = theirs.steps["late"]
    assert results(theirs, "late") == (F, F)
    assert times(theirs, "late") == (0.0, 2.0, 2.0)
    assert late.error is not None
    assert late.error.startswith("Interpolation failed: ")
    assert late.exit_code is None  # no process was started
    assert theirs.result is F


async def test_workflow_runner_passes_the_semantics_to_every_job(
    autojump_clock: trio.testing.MockClock,
) -> None:
    job = ts.Job(
        [
            ts.Step(work(1, fail=True, name="f"), id="f", background=True),
            ts.Wait("f", id="w", continue_on_error=True),
        ]
    )
    workflow = ts.Workflow(jobs=[ts.WorkflowJob(id="a", job=job)])
    ours = await ts.run_workflow(workflow)
    theirs = await ts.run_workflow(workflow, semantics="github-runner")
    assert ts.WorkflowRunner(workflow, semantics=GITHUB).semantics is GITHUB
    assert ours.jobs["a"].report is not None and theirs.jobs["a"].report is not None
    assert results(ours.jobs["a"].report, "w") == (F, S)
    assert results(theirs.jobs["a"].report, "w") == (F, F)  # R17.3


async def test_r17_1_the_job_started_event_names_githubs_semantics(
    autojump_clock: trio.testing.MockClock,
) -> None:
    job = ts.Job([ts.Step(work(1), id="a")])
    ours = await run(job)
    theirs = await run(job, GITHUB)
    assert "semantics" not in ours.events[0].data  # traces stay as they were
    assert ours.events[0].kind is ts.EventKind.JOB_STARTED
    assert theirs.events[0].data["semantics"] == "github-runner"
