"""Actions from Python: action_step and action_phases (rules §16)."""

from __future__ import annotations

import shutil

import pytest

import trio_steps as ts

from .action_helpers import Workspace

COMPOSITE = """\
    inputs:
      n: {required: true}
    outputs:
      twice: {value: "${{ steps.s.outputs.v }}"}
    runs:
      using: composite
      steps:
        - {id: s, shell: bash, run: 'echo "v=${{ inputs.n }}${{ inputs.n }}" >> "$GITHUB_OUTPUT"'}
"""


async def test_action_step_in_a_python_job_r16_9(ws: Workspace) -> None:
    ws.action("acts/twice", COMPOSITE)

    async def check(ctx: ts.StepContext) -> None:
        ctx.set_output("seen", ctx.steps["t"].outputs["twice"])

    job = ts.Job(
        [
            ts.action_step("./acts/twice", id="t", with_={"n": "${{ env.N }}"}),
            ts.Step(check, id="check"),
        ],
        env={"N": "4"},
    )
    report = await ts.run_job(job)
    assert report.steps["t"].name == "Run ./acts/twice"
    assert report.steps["check"].outputs == {"seen": "44"}


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
async def test_action_phases_give_pre_main_post_r16_6_r16_7(ws: Workspace) -> None:
    ws.action(
        "acts/js",
        "runs: {using: node20, pre: a.js, main: b.js, post: c.js}\n",
        a__js="console.log('a')\n",
        b__js="console.log('b')\n",
        c__js="console.log('c')\n",
    )
    pre, main, post = ts.action_phases("./acts/js", id="js", name="JS", background=True)
    assert pre is not None and post is not None
    assert (pre.name, main.name, post.name) == ("Pre JS", "JS", "Post JS")
    job = ts.Job([pre, main], post_steps=[post])
    report = await ts.run_job(job)
    runs = [s for s in report.steps.values() if s.kind == "run"]
    assert [s.log for s in runs] == [("a",), ("b",), ("c",)]
    with pytest.raises(ts.JobDefinitionError, match="use action_phases"):
        ts.action_step("./acts/js")


def test_problems_are_job_definition_errors(ws: Workspace) -> None:
    ws.action("acts/twice", COMPOSITE)
    with pytest.raises(ts.JobDefinitionError) as info:
        ts.action_step("./acts/twice")
    assert info.value.problems == (
        "./acts/twice requires the input 'n'; add it under 'with:'",
    )
    ws.action("acts/bad", "runs: {using: nope}\n")
    with pytest.raises(ts.JobDefinitionError) as info:
        ts.action_step("./acts/bad")
    assert ":1:15: unknown runs.using 'nope'" in info.value.problems[0]
    with pytest.raises(ts.JobDefinitionError, match="timeout"):
        ts.action_step("./acts/twice", with_={"n": "1"}, timeout=-1)


def test_the_call_refuses_to_run_as_a_plain_callable(ws: Workspace) -> None:
    ws.action("acts/twice", COMPOSITE)
    step = ts.action_step("./acts/twice", with_={"n": "1"})
    assert callable(step.run)
    with pytest.raises(RuntimeError, match="only in a trio_steps job"):
        step.run(None).send(None)  # type: ignore[arg-type, attr-defined]
