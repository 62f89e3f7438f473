"""JavaScript actions: main, pre and post with the host's node (R16.5-R16.7)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import trio_steps as ts

from .action_helpers import Workspace

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs node")

PHASES = """\
    name: phases
    inputs:
      My Input-x: {required: true}
      other: {default: dflt}
    outputs:
      out: {description: the output}
    runs:
      using: node20
      pre: pre.js
      main: main.js
      post: post.js
"""
PRE_JS = """\
    const fs = require("fs");
    console.log("pre input=" + process.env["INPUT_MY_INPUT-X"]);
    fs.appendFileSync(process.env.GITHUB_STATE, "from_pre=p1\\n");
"""
MAIN_JS = """\
    const fs = require("fs");
    const e = process.env;
    console.log(`main input=${e["INPUT_MY_INPUT-X"]} other=${e.INPUT_OTHER} state=${e.STATE_from_pre}`);
    console.log("::save-state name=token::t0k");
    fs.appendFileSync(e.GITHUB_OUTPUT, "out=" + e["INPUT_MY_INPUT-X"] + "\\n");
    console.log("::notice::from main");
    if (e.INPUT_OTHER === "fail") process.exit(7);
"""
POST_JS = """\
    console.log("post state=" + process.env.STATE_token + "," + process.env.STATE_from_pre);
"""


def _phases(ws: Workspace, path: str = "acts/js") -> Path:
    return ws.action(path, PHASES, pre__js=PRE_JS, main__js=MAIN_JS, post__js=POST_JS)


async def test_main_pre_post_inputs_and_state_r16_5_r16_7(ws: Workspace) -> None:
    _phases(ws)
    report = await ws.run(
        """\
        - run: echo first
          id: first
        - id: js
          uses: ./acts/js
          with: {My Input-x: "${{ format('v{0}', 2) }}"}
        - id: after
          run: echo "out=${{ steps.js.outputs.out }}"
        """
    )
    names = list(report.steps)
    assert names[0].startswith("__")  # the pre step, before every main step
    pre = report.steps[names[0]]
    assert pre.name == "Pre Run ./acts/js"
    assert pre.log == ("pre input=v2",)
    js = report.steps["js"]
    assert js.conclusion is ts.Result.SUCCEEDED, js.log
    assert js.log[0] == "main input=v2 other=dflt state=p1"
    assert "Notice: from main" in js.log
    assert js.outputs == {"out": "v2"}
    assert report.steps["after"].log == ("out=v2",)
    post = report.steps[names[-1]]
    assert post.name == "Post Run ./acts/js"
    assert post.log == ("post state=t0k,p1",)
    assert post.started_at is not None and js.finished_at is not None
    assert post.started_at >= report.steps["after"].finished_at  # type: ignore[operator]


async def test_a_failing_main_still_gets_its_post_r16_7(ws: Workspace) -> None:
    _phases(ws)
    report = await ws.run(
        """\
        - id: js
          uses: ./acts/js
          with: {My Input-x: a, other: fail}
        """
    )
    js = report.steps["js"]
    assert js.conclusion is ts.Result.FAILED
    assert js.exit_code == 7
    post = report.steps[list(report.steps)[-1]]
    assert post.conclusion is ts.Result.SUCCEEDED
    assert post.log == ("post state=t0k,p1",)


async def test_no_post_when_the_main_step_did_not_run_r16_7(ws: Workspace) -> None:
    _phases(ws)
    report = await ws.run(
        """\
        - id: js
          if: ${{ false }}
          uses: ./acts/js
          with: {My Input-x: a}
        """
    )
    assert report.steps["js"].conclusion is ts.Result.SKIPPED
    post = report.steps[list(report.steps)[-1]]
    assert post.name.startswith("Post ")
    assert post.conclusion is ts.Result.SKIPPED


async def test_posts_run_in_reverse_order_of_their_mains_r16_7(ws: Workspace) -> None:
    _phases(ws, "acts/one")
    _phases(ws, "acts/two")
    report = await ws.run(
        """\
        - {id: one, uses: ./acts/one, with: {My Input-x: a}}
        - {id: two, uses: ./acts/two, with: {My Input-x: b}}
        """
    )
    names = [step.name for step in report.steps.values()]
    assert names == [
        "Pre Run ./acts/one",
        "Pre Run ./acts/two",
        "Run ./acts/one",
        "Run ./acts/two",
        "Post Run ./acts/two",
        "Post Run ./acts/one",
    ]


async def test_pre_if_and_post_if_r16_6_r16_7(ws: Workspace) -> None:
    ws.action(
        "acts/cond",
        """\
        runs:
          using: node24
          pre: pre.js
          pre-if: ${{ env.RUN_PRE == 'yes' }}
          main: main.js
          post: post.js
          post-if: failure()
        """,
        pre__js="console.log('pre ran')\n",
        main__js="console.log('main ran')\n",
        post__js="console.log('post ran')\n",
    )
    report = await ws.run("- {id: c, uses: ./acts/cond}\n")
    names = list(report.steps)
    assert report.steps[names[0]].conclusion is ts.Result.SKIPPED
    assert report.steps["c"].log == ("main ran",)
    assert report.steps[names[-1]].conclusion is ts.Result.SKIPPED
    report = await ws.run(
        "- {id: c, uses: ./acts/cond, env: {}}\n- {id: boom, run: exit 1}\n"
    )
    assert report.steps[list(report.steps)[-1]].log == ("post ran",)


async def test_node16_warns_and_runs_r16_5(ws: Workspace) -> None:
    ws.action(
        "acts/old", "runs: {using: node16, main: m.js}\n", m__js="console.log(1)\n"
    )
    report = await ws.run("- {id: old, uses: ./acts/old}\n")
    old = report.steps["old"]
    assert old.conclusion is ts.Result.SUCCEEDED
    assert any(line.startswith("Warning:") and "node16" in line for line in old.log)


async def test_no_node_on_the_path_is_a_clear_failure_r16_5(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ws.action("acts/js", "runs: {using: node20, main: m.js}\n", m__js="1\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(shutil.which("bash") or "/bin/bash", bin_dir / "bash")
    monkeypatch.setenv("PATH", str(bin_dir))
    report = await ws.run("- {id: js, uses: ./acts/js}\n")
    js = report.steps["js"]
    assert js.conclusion is ts.Result.FAILED
    assert js.error is not None and "needs Node.js" in js.error


async def test_masks_and_workflow_commands_of_node_r16_5(ws: Workspace) -> None:
    ws.action(
        "acts/mask",
        "runs: {using: node20, main: m.js}\n",
        m__js="""\
        console.log("::add-mask::s3cr3t");
        console.log("value s3cr3t");
        console.log("::set-output name=legacy::x");
        console.log("::error::went wrong");
        """,
    )
    report = await ws.run("- {id: m, uses: ./acts/mask}\n")
    m = report.steps["m"]
    assert "value ***" in m.log
    assert "Error: went wrong" in m.log
    assert m.outputs.get("legacy") == "x"


async def test_env_path_and_a_secret_input_r16_5_r16_9(ws: Workspace) -> None:
    ws.action(
        "acts/env",
        "inputs: {token: {required: true}}\nruns: {using: node20, main: m.js}\n",
        m__js="""\
        const fs = require("fs");
        const e = process.env;
        console.log("token " + e.INPUT_TOKEN + " step env " + e.STEP_ONLY);
        fs.appendFileSync(e.GITHUB_ENV, "FROM_NODE=n1\\n");
        fs.appendFileSync(e.GITHUB_PATH, "/opt/from-node\\n");
        """,
    )
    job = ws.load(
        """\
        - id: env
          uses: ./acts/env
          env: {STEP_ONLY: here}
          with: {token: "${{ secrets.TOKEN }}"}
        - id: after
          run: echo "$FROM_NODE ${PATH%%:*} [$STEP_ONLY]"
        """
    )
    report = await ts.run_job(job.evolve(secrets={"TOKEN": "sekrit"}))
    assert report.steps["env"].log == ("token *** step env here",)
    assert report.steps["after"].log == ("n1 /opt/from-node []",)


async def test_posts_of_actions_inside_a_composite_run_in_its_post_r16_7(
    ws: Workspace,
) -> None:
    for name in ("a", "b"):
        ws.action(
            f"acts/{name}",
            "inputs: {tag: {required: true}}\n"
            "runs: {using: node20, main: m.js, post: p.js}\n",
            m__js='console.log("::save-state name=s::" + process.env.INPUT_TAG)\n',
            p__js='console.log("post " + process.env.STATE_s + " " + process.env.INPUT_TAG)\n',
        )
    ws.action(
        "acts/skip",
        "runs: {using: node20, main: m.js, post: p.js}\n",
        m__js="1\n",
        p__js='console.log("never: its main was skipped")\n',
    )
    ws.action(
        "acts/inner",
        """\
        runs:
          using: composite
          steps:
            - {uses: ./acts/b, with: {tag: "${{ inputs.x }}b"}}
        inputs:
          x: {default: y}
        """,
    )
    ws.action(
        "acts/outer",
        """\
        runs:
          using: composite
          steps:
            - {uses: ./acts/a, with: {tag: A}}
            - {uses: ./acts/skip, if: "false"}
            - {uses: ./acts/inner}
        """,
    )
    report = await ws.run("- {id: o, uses: ./acts/outer}\n- {id: t, run: echo later}\n")
    assert report.steps["o"].conclusion is ts.Result.SUCCEEDED, report.steps["o"].log
    post = report.steps[list(report.steps)[-1]]
    assert post.name == "Post Run ./acts/outer"
    assert post.log == (
        "Post Run ./acts/b",
        "post yb yb",
        "Post Run ./acts/a",
        "post A A",
    )
    assert post.started_at >= report.steps["t"].finished_at  # type: ignore[operator]


async def test_a_composite_without_nested_posts_has_no_post_step(ws: Workspace) -> None:
    ws.action(
        "acts/pre",
        "runs: {using: node20, pre: p.js, main: m.js}\n",
        p__js="1\n",
        m__js="console.log('main')\n",
    )
    ws.action(
        "acts/c",
        "runs:\n  using: composite\n  steps:\n    - uses: ./acts/pre\n",
    )
    from trio_steps._workflow._read import read_workflow

    from .action_helpers import HEAD

    loaded = read_workflow(
        HEAD + "      - {id: c, uses: ./acts/c}\n", actions=ws.settings()
    )
    [warning] = loaded.warnings
    assert "the pre script of a JavaScript action inside a composite" in warning.message
    report = await ws.run("- {id: c, uses: ./acts/c}\n")
    assert list(report.steps) == ["c"]
    assert report.steps["c"].log == ("Run ./acts/pre", "main")
