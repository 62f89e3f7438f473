"""Composite actions: a nested sequence inside one step (R16.3, R16.4)."""

from __future__ import annotations

from typing import Any

import pytest

import trio_steps as ts

from .action_helpers import Workspace

GREET = """\
    name: greet
    inputs:
      who: {required: true}
      greeting: {default: Hello}
    outputs:
      said:
        value: ${{ steps.say.outputs.text }}
      where:
        value: ${{ github.action_path }}
    runs:
      using: composite
      steps:
        - id: say
          shell: bash
          run: |
            echo "${{ inputs.greeting }}, ${{ inputs.who }}"
            echo "text=${{ inputs.greeting }} ${{ inputs.who }}" >> "$GITHUB_OUTPUT"
"""


async def test_inputs_defaults_and_outputs_r16_4(ws: Workspace) -> None:
    directory = ws.action("acts/greet", GREET)
    report = await ws.run(
        """\
        - id: g
          uses: ./acts/greet
          with: {who: World}
        - id: after
          run: echo "got ${{ steps.g.outputs.said }}"
        """
    )
    g = report.steps["g"]
    assert g.conclusion is ts.Result.SUCCEEDED
    assert "Hello, World" in g.log
    assert g.outputs == {"said": "Hello World", "where": str(directory)}
    assert report.steps["after"].log == ("got Hello World",)


async def test_with_expressions_see_the_job_r16_3(ws: Workspace) -> None:
    ws.action("acts/greet", GREET)
    report = await ws.run(
        """\
        - id: first
          run: echo "name=Ada" >> "$GITHUB_OUTPUT"
        - id: g
          uses: ./acts/greet
          env: {HI: Hey}
          with:
            who: ${{ steps.first.outputs.name }}
            greeting: ${{ env.HI }}
        """
    )
    assert report.steps["g"].outputs["said"] == "Hey Ada"


async def test_inner_if_env_and_continue_on_error_r16_4(ws: Workspace) -> None:
    ws.action(
        "acts/flow",
        """\
        runs:
          using: composite
          steps:
            - id: bad
              shell: bash
              run: exit 3
              continue-on-error: true
            - shell: bash
              run: echo "after bad ${{ steps.bad.outcome }}/${{ steps.bad.conclusion }}"
            - shell: bash
              if: ${{ inputs.never == 'yes' }}
              run: echo never
            - shell: bash
              env: {MINE: "${{ env.JOB_LEVEL }}-inner"}
              run: echo "MINE=$MINE"
        """,
    )
    report = await ws.run(
        """\
        - id: f
          uses: ./acts/flow
          env: {JOB_LEVEL: outer}
        """
    )
    f = report.steps["f"]
    assert f.conclusion is ts.Result.SUCCEEDED, f.error
    assert "after bad failure/success" in f.log
    assert "never" not in f.log
    assert "MINE=outer-inner" in f.log


async def test_a_failing_inner_step_fails_the_step_and_skips_the_rest_r16_4(
    ws: Workspace,
) -> None:
    ws.action(
        "acts/fail",
        """\
        runs:
          using: composite
          steps:
            - name: breaks
              shell: bash
              run: exit 4
            - shell: bash
              run: echo not reached
            - shell: bash
              if: failure()
              run: echo cleanup
        """,
    )
    report = await ws.run(
        """\
        - id: f
          uses: ./acts/fail
        - id: next
          run: echo next
        """
    )
    f = report.steps["f"]
    assert f.conclusion is ts.Result.FAILED
    assert f.error is not None and "breaks" in f.error
    assert "not reached" not in f.log
    assert "cleanup" in f.log
    assert report.steps["next"].conclusion is ts.Result.SKIPPED
    assert report.result is ts.Result.FAILED


async def test_env_and_path_reach_later_inner_steps_and_the_job_r16_4(
    ws: Workspace,
) -> None:
    ws.action(
        "acts/setenv",
        """\
        runs:
          using: composite
          steps:
            - shell: bash
              run: |
                echo "FROM_ACTION=yes" >> "$GITHUB_ENV"
                mkdir -p "$RUNNER_TEMP/bin"
                printf '#!/bin/sh\\necho tool ran\\n' > "$RUNNER_TEMP/bin/mytool"
                chmod +x "$RUNNER_TEMP/bin/mytool"
                echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
            - shell: bash
              run: echo "inner sees $FROM_ACTION" && mytool
        """,
    )
    report = await ws.run(
        """\
        - id: s
          uses: ./acts/setenv
        - id: later
          run: echo "job sees $FROM_ACTION" && mytool
        """
    )
    assert report.steps["s"].conclusion is ts.Result.SUCCEEDED, report.steps["s"].log
    assert "inner sees yes" in report.steps["s"].log
    assert "tool ran" in report.steps["s"].log
    assert report.steps["later"].log == ("job sees yes", "tool ran")
    assert report.env["FROM_ACTION"] == "yes"


async def test_nested_composite_with_inputs_r16_4(ws: Workspace) -> None:
    ws.action("acts/greet", GREET)
    ws.action(
        "acts/outer",
        """\
        inputs:
          name: {default: Bob}
        outputs:
          both:
            value: ${{ steps.inner.outputs.said }}!
        runs:
          using: composite
          steps:
            - id: inner
              uses: ./acts/greet
              with:
                who: ${{ inputs.name }}
                greeting: Hi
        """,
    )
    report = await ws.run("- {id: o, uses: ./acts/outer}\n")
    o = report.steps["o"]
    assert o.conclusion is ts.Result.SUCCEEDED, o.log
    assert o.outputs == {"both": "Hi Bob!"}
    assert "Hi, Bob" in o.log


async def test_masks_apply_to_inner_steps_r16_9(ws: Workspace) -> None:
    ws.action(
        "acts/secret",
        """\
        runs:
          using: composite
          steps:
            - shell: bash
              run: |
                echo "::add-mask::hunter2"
                echo "the password is hunter2"
        """,
    )
    report = await ws.run(
        "- {id: s, uses: ./acts/secret}\n- {id: t, run: echo hunter2}\n"
    )
    assert "the password is ***" in report.steps["s"].log
    assert not any("hunter2" in line for line in report.steps["s"].log)
    assert report.steps["t"].log == ("***",)


async def test_step_level_if_and_continue_on_error_r16_9(ws: Workspace) -> None:
    ws.action(
        "acts/fail",
        "runs:\n  using: composite\n  steps:\n    - {shell: bash, run: exit 1}\n",
    )
    report = await ws.run(
        """\
        - id: skipped
          if: ${{ false }}
          uses: ./acts/fail
        - id: tolerated
          uses: ./acts/fail
          continue-on-error: true
        - id: after
          run: echo after
        """
    )
    assert report.steps["skipped"].conclusion is ts.Result.SKIPPED
    assert report.steps["tolerated"].outcome is ts.Result.FAILED
    assert report.steps["tolerated"].conclusion is ts.Result.SUCCEEDED
    assert report.steps["after"].conclusion is ts.Result.SUCCEEDED


async def test_inner_steps_are_announced_with_their_rendered_text_r16_4(
    ws: Workspace,
) -> None:
    ws.action(
        "acts/say",
        """\
        inputs:
          word: {default: bird}
        runs:
          using: composite
          steps:
            - {shell: bash, run: "echo ${{ inputs.word }}"}
            - {name: "Named ${{ inputs.word }}", shell: bash, run: "true"}
        """,
    )
    report = await ws.run("- {id: s, uses: ./acts/say}\n")
    assert report.steps["s"].log == ("Run echo bird", "bird", "Named bird")


async def test_hash_files_in_a_composite_step_r16_4(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Computed in the engine's worker thread, as in the workflow's steps."""
    from trio_steps._engine import _hashing

    computed: list[object] = []
    in_thread = _hashing.hash_files_in_thread

    async def counting(key: Any) -> Any:
        computed.append(key)
        return await in_thread(key)

    monkeypatch.setattr(_hashing, "hash_files_in_thread", counting)
    (ws.root / "data.txt").write_text("some data\\n")
    ws.action(
        "acts/hash",
        """\
        runs:
          using: composite
          steps:
            - {shell: bash, run: "echo inner=${{ hashFiles('data.txt') }}"}
        """,
    )
    report = await ws.run(
        """\
        - {id: h, uses: ./acts/hash}
        - {id: outer, run: "echo inner=${{ hashFiles('data.txt') }}"}
        """
    )
    outer = report.steps["outer"].log[-1]
    assert len(outer) == len("inner=") + 64
    assert report.steps["h"].log[-1] == outer
    # Once for the action's step, once for the workflow's.
    assert computed == [(("data.txt",), str(ws.root))] * 2


async def test_checkout_in_a_composite_does_nothing_and_action_path_is_set_r16_4(
    ws: Workspace,
) -> None:
    directory = ws.action(
        "acts/co",
        """\
        runs:
          using: composite
          steps:
            - uses: actions/checkout@v4
            - {shell: bash, run: 'echo "path=$GITHUB_ACTION_PATH"'}
        """,
    )
    report = await ws.run("- {id: co, uses: ./acts/co}\n")
    co = report.steps["co"]
    assert co.conclusion is ts.Result.SUCCEEDED, co.log
    assert co.log == (
        "Run actions/checkout@v4",
        'Run echo "path=$GITHUB_ACTION_PATH"',
        f"path={directory}",
    )
    assert not ws.cache.exists()


async def test_a_with_that_fails_to_evaluate_fails_the_step_r16_3(
    ws: Workspace,
) -> None:
    ws.action("acts/greet", GREET)
    report = await ws.run(
        """\
        - id: g
          uses: ./acts/greet
          with: {who: "${{ fromJSON('not json') }}"}
        - {id: after, if: always(), run: echo after}
        """
    )
    g = report.steps["g"]
    assert g.conclusion is ts.Result.FAILED
    assert g.error is not None and g.error.startswith("Interpolation of with: failed")
    assert g.outputs == {}
    assert report.steps["after"].conclusion is ts.Result.SUCCEEDED
