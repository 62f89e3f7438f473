"""Expressions in steps: conditions (R3.4, R3.5) and ${{ }} (R3.6)."""

from __future__ import annotations

import pytest
import trio
import trio.testing

import trio_steps as ts

from .engine_helpers import StepFn, results, work

S, F, K = ts.Result.SUCCEEDED, ts.Result.FAILED, ts.Result.SKIPPED


async def test_r3_5_expression_without_status_function_means_success_and(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(1, outputs={"ok": "true"}), id="a"),
                ts.Step(work(1), id="yes", condition="steps.a.outputs.ok == 'true'"),
                ts.Step(
                    work(1), id="no", condition="${{ steps.a.outputs.ok == 'false' }}"
                ),
                ts.Step(work(1, fail=True), id="boom"),
                ts.Step(
                    work(1),
                    id="after_failure",
                    condition="steps.a.outputs.ok == 'true'",
                ),
                ts.Step(
                    work(1),
                    id="on_failure",
                    condition="failure() && steps.A.outputs.OK",
                ),
            ]
        )
    )
    assert results(report, "yes") == (S, S)
    assert results(report, "no") == (K, K)
    # success() && (…) is implied, so a failed job skips it (R3.5)…
    assert results(report, "after_failure") == (K, K)
    # …unless a status function is named; names ignore case.
    assert results(report, "on_failure") == (S, S)


async def test_r3_4_expression_that_fails_to_evaluate_fails_the_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job([ts.Step(work(1), id="bad", condition="fromJSON('{nope')")])
    )
    step = report.steps["bad"]
    assert (step.outcome, step.conclusion, step.started_at) == (F, F, None)
    assert step.error is not None and "The condition raised" in step.error
    assert report.result is F


async def test_r3_6_interpolation_uses_what_the_step_may_see(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: list[tuple[str, str]] = []

    async def look(ctx: ts.StepContext) -> None:
        seen.append((ctx.name, ctx.env["GREETING"]))

    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(1, outputs={"who": "world"}), id="a"),
                ts.Step(
                    look,
                    id="b",
                    name="greet ${{ steps.a.outputs.who }}",
                    env={
                        "GREETING": "hello ${{ steps.a.outputs.who }} on ${{ runner.os }}"
                    },
                ),
            ],
        )
    )
    assert seen == [("greet world", "hello world on Linux")]
    assert report.steps["b"].name == "greet world"


async def test_r3_6_failed_interpolation_fails_the_step_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(
                    work(1), id="bg", background=True, env={"X": "${{ fromJSON('[') }}"}
                ),
                ts.Step(work(1), id="next", condition=ts.always),
            ]
        )
    )
    bg = report.steps["bg"]
    assert (bg.outcome, bg.queued_at, bg.started_at) == (F, None, None)
    assert bg.error is not None and bg.error.startswith("Interpolation failed")
    assert report.result is F


async def test_contexts_job_status_vars_secrets_inputs_github(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: list[str] = []

    async def look(ctx: ts.StepContext) -> None:
        seen.append(ctx.env["V"])

    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(
                    look,
                    env={
                        "V": "${{ job.status }}/${{ vars.color }}/${{ inputs.n }}/"
                        "${{ github.event_name }}/${{ secrets.token }}"
                    },
                ),
            ],
            vars={"color": "blue"},
            inputs={"n": 3},
            secrets={"token": "s3cr3t"},
            github={"event_name": "workflow_dispatch"},
        )
    )
    assert seen == ["success/blue/3/workflow_dispatch/s3cr3t"]
    assert not any("s3cr3t" in str(e.data) for e in report.events)


async def test_background_interpolation_happens_at_launch(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: list[str] = []

    async def look(ctx: ts.StepContext) -> None:
        await trio.sleep(5)
        seen.append(ctx.env["WHO"])

    await ts.run_job(
        ts.Job(
            [
                ts.Step(
                    look,
                    id="bg",
                    background=True,
                    env={"WHO": "[${{ steps.fg.outputs.x }}]"},
                ),
                ts.Step(work(1, outputs={"x": "late"}), id="fg"),
                ts.WaitAll(),
            ]
        )
    )
    assert seen == ["[]"]


async def test_step_fields_see_the_expanded_step_env_and_job_env_is_expanded(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: list[tuple[str, str]] = []

    async def look(ctx: ts.StepContext) -> None:
        seen.append((ctx.name, ctx.env["JOB_LEVEL"]))

    await ts.run_job(
        ts.Job(
            [ts.Step(look, name="${{ env.A }}", env={"A": "x-${{ vars.v }}"})],
            env={"JOB_LEVEL": "${{ vars.v }}-${{ github.event_name }}"},
            vars={"v": "7"},
        )
    )
    assert seen == [("x-7", "7-push")]


async def test_job_env_that_fails_to_expand_is_a_definition_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ran: list[bool] = []

    async def step(ctx: ts.StepContext) -> None:
        ran.append(True)

    runner = ts.JobRunner(ts.Job([ts.Step(step)], env={"X": "${{ fromJSON('{') }}"}))
    with pytest.raises(ts.JobDefinitionError, match="job env 'X'"):
        await runner.run()
    assert ran == []


async def test_timeout_and_continue_on_error_as_expressions_r3_6(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(0, outputs={"t": "2", "coe": "true"}), id="cfg"),
                ts.Step(
                    work(10),
                    id="slow",
                    timeout="${{ steps.cfg.outputs.t }}s",
                    continue_on_error="${{ steps.cfg.outputs.coe == 'true' }}",
                ),
                ts.Step(work(1), id="bad", timeout="${{ steps.cfg.outputs.coe }}"),
            ]
        )
    )
    slow = report.steps["slow"]
    assert (slow.outcome, slow.conclusion, slow.timed_out) == (F, S, True)
    assert slow.finished_at == 2.0
    assert report.result is F  # from "bad" only: slow continued on error
    bad = report.steps["bad"]
    assert (bad.outcome, bad.started_at) == (F, None)
    assert bad.error is not None and "is not a duration" in bad.error


async def test_steps_context_follows_each_publication_r5_2(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Each templated step sees exactly the steps published before its turn.

    The ``steps`` context is kept up to date as steps are published, so that
    a job of many templated steps does not rebuild it at every turn; this
    checks that what each step sees is still exact: earlier foreground
    steps, background steps only once a wait flushed them.
    """
    seen: dict[str, str] = {}

    def record(key: str) -> StepFn:
        async def step(ctx: ts.StepContext) -> None:
            seen[key] = ctx.name

        return step

    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(1, outputs={"x": "1"}), id="a"),
                ts.Step(work(2, outputs={"y": "2"}), id="bg", background=True),
                ts.Step(
                    record("c"),
                    id="c",
                    name="${{ toJSON(steps.a.outputs) }} ${{ steps.bg.outputs.y }}|",
                ),
                ts.Wait("bg"),
                ts.Step(
                    record("d"),
                    id="d",
                    name="${{ steps.bg.outputs.y }} ${{ steps.c.outcome }}",
                    condition="steps.a.outputs.x == '1'",
                ),
            ]
        )
    )
    assert report.result == ts.Result.SUCCEEDED
    assert seen["c"] == '{\n  "x": "1"\n} |'
    assert seen["d"] == "2 success"


async def test_step_env_reading_its_own_name_sees_the_job_value_s14(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: list[dict[str, str]] = []

    async def look(ctx: ts.StepContext) -> None:
        seen.append({key: ctx.env[key] for key in ("X", "Y", "Z")})

    await ts.run_job(
        ts.Job(
            [
                ts.Step(
                    look,
                    env={
                        "X": "step-${{ env.X }}",
                        # Step entries see the job env, never each other.
                        "Y": "${{ env.X }}/${{ env.Z }}",
                        "Z": "z",
                    },
                )
            ],
            env={"X": "job", "Y": "job-y"},
        )
    )
    assert seen == [{"X": "step-job", "Y": "job/", "Z": "z"}]


async def test_condition_sees_the_step_env_expanded_s14(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(
                    work(1),
                    id="runs",
                    condition="env.MODE == 'on-job'",
                    env={"MODE": "${{ env.BASE }}"},
                ),
                ts.Step(
                    work(1),
                    id="skipped",
                    condition="contains(env.MODE, '{{')",
                    env={"MODE": "${{ env.BASE }}"},
                ),
            ],
            env={"BASE": "on-job"},
        )
    )
    assert results(report, "runs") == (S, S)
    assert results(report, "skipped") == (K, K)
    assert report.steps["runs"].started_at == 0


async def test_step_env_that_fails_fails_the_step_before_its_condition_r3_6(
    autojump_clock: trio.testing.MockClock,
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(
                    work(1),
                    id="bad",
                    condition="false",
                    env={"A": "${{ fromJSON('{') }}"},
                ),
                ts.Step(work(1), id="after", condition="always()"),
            ]
        )
    )
    bad = report.steps["bad"]
    assert (bad.outcome, bad.conclusion, bad.started_at) == (F, F, None)
    assert bad.error is not None and "Interpolation failed" in bad.error
    assert results(report, "after") == (S, S)
    assert report.result is F


async def test_arrays_and_objects_print_as_in_format_s14(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: list[tuple[str, str, str]] = []

    async def look(ctx: ts.StepContext) -> None:
        seen.append((ctx.name, ctx.env["LIST"], ctx.env["WHOLE"]))

    await ts.run_job(
        ts.Job(
            [
                ts.Step(
                    look,
                    name="n ${{ fromJSON('{\"a\": 1}') }}",
                    env={
                        "LIST": "[${{ fromJSON('[1, 2]') }}]",
                        "WHOLE": "${{ fromJSON('[]') }}",
                    },
                )
            ]
        )
    )
    assert seen == [("n Object", "[Array]", "Array")]
