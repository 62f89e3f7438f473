"""Action steps in the background: waited, cancelled, parallel, timed out (R16.9).

Real processes on the real clock, with bounded waits: each test ends in a
few seconds at most.
"""

from __future__ import annotations

import os
import shutil

import pytest

import trio_steps as ts

from .action_helpers import Workspace

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs node")

#: A JavaScript action that writes its pid, then waits until it is stopped,
#: logging the signals it gets.
SERVICE_JS = """\
    const fs = require("fs");
    fs.writeFileSync(process.env.INPUT_PIDFILE, String(process.pid));
    for (const sig of ["SIGINT", "SIGTERM"]) {
      process.on(sig, () => { console.log("got " + sig); process.exit(0); });
    }
    console.log("serving");
    setInterval(() => {}, 1000);
"""
SERVICE = """\
    inputs:
      pidfile: {required: true}
    runs:
      using: node20
      main: main.js
      post: post.js
"""


def _service(ws: Workspace) -> None:
    ws.action(
        "acts/svc",
        SERVICE,
        main__js=SERVICE_JS,
        post__js="console.log('post after ' + process.env.STATE_x)\n",
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


async def test_cancelled_background_node_action_gets_sigint_r16_9(
    ws: Workspace,
) -> None:
    _service(ws)
    pidfile = ws.root / "svc.pid"
    report = await ws.run(
        f"""\
        - id: svc
          uses: ./acts/svc
          background: true
          with: {{pidfile: {pidfile}}}
        - run: while [ ! -s {pidfile} ]; do sleep 0.05; done
        - cancel: svc
        - id: after
          run: echo after
        """
    )
    svc = report.steps["svc"]
    assert svc.conclusion is ts.Result.CANCELED
    assert svc.explicitly_canceled
    assert "got SIGINT" in svc.log
    assert not _alive(int(pidfile.read_text()))
    assert report.steps["after"].conclusion is ts.Result.SUCCEEDED
    # Its post runs at the job's end: the main started.
    post = report.steps[list(report.steps)[-1]]
    assert post.name == "Post Run ./acts/svc"
    assert post.conclusion is ts.Result.SUCCEEDED


async def test_background_composite_is_waited_and_published_r16_9(
    ws: Workspace,
) -> None:
    ws.action(
        "acts/slow",
        """\
        outputs:
          v: {value: "${{ steps.s.outputs.v }}"}
        runs:
          using: composite
          steps:
            - id: s
              shell: bash
              run: sleep 0.3 && echo "v=done" >> "$GITHUB_OUTPUT"
        """,
    )
    report = await ws.run(
        """\
        - {id: slow, uses: ./acts/slow, background: true}
        - {id: during, run: 'echo "during=[${{ steps.slow.outputs.v }}]"'}
        - wait: slow
        - {id: after, run: 'echo "after=[${{ steps.slow.outputs.v }}]"'}
        """
    )
    assert report.steps["slow"].conclusion is ts.Result.SUCCEEDED
    assert report.steps["during"].log == ("during=[]",)
    assert report.steps["after"].log == ("after=[done]",)


async def test_failing_background_action_fails_its_wait_r16_9(ws: Workspace) -> None:
    ws.action(
        "acts/fail", "runs: {using: node20, main: m.js}\n", m__js="process.exit(2)\n"
    )
    report = await ws.run(
        """\
        - {id: f, uses: ./acts/fail, background: true}
        - {id: w, wait: f}
        - {id: later, run: echo later}
        """
    )
    assert report.steps["f"].conclusion is ts.Result.FAILED
    assert report.steps["f"].exit_code == 2
    assert report.steps["w"].conclusion is ts.Result.FAILED
    assert report.steps["later"].conclusion is ts.Result.SKIPPED


async def test_actions_in_a_parallel_group_run_at_once_r16_9(ws: Workspace) -> None:
    ws.action(
        "acts/nap",
        """\
        inputs:
          name: {required: true}
        runs:
          using: composite
          steps:
            - {shell: bash, run: "sleep 0.5 && echo ${{ inputs.name }}"}
        """,
    )
    report = await ws.run(
        """\
        - parallel:
            - {id: a, uses: ./acts/nap, with: {name: A}}
            - {id: b, uses: ./acts/nap, with: {name: B}}
            - {id: c, uses: ./acts/nap, with: {name: C}}
        """
    )
    steps = [report.steps[i] for i in "abc"]
    assert [s.log[-1] for s in steps] == ["A", "B", "C"]
    # All three ran at once: each started before any finished.
    starts = [s.started_at or 0.0 for s in steps]
    ends = [s.finished_at or 0.0 for s in steps]
    assert max(starts) < min(ends)


async def test_timeout_minutes_stops_an_action_r16_9(ws: Workspace) -> None:
    _service(ws)
    pidfile = ws.root / "svc.pid"
    report = await ws.run(
        f"""\
        - id: svc
          uses: ./acts/svc
          timeout-minutes: 0.01
          with: {{pidfile: {pidfile}}}
        """
    )
    svc = report.steps["svc"]
    assert svc.conclusion is ts.Result.FAILED
    assert svc.timed_out
    assert "got SIGINT" in svc.log
    assert not _alive(int(pidfile.read_text()))


async def test_a_post_runs_after_the_implicit_wait_all_r16_7(ws: Workspace) -> None:
    ws.action(
        "acts/p",
        "runs: {using: node20, main: m.js, post: p.js}\n",
        m__js="setTimeout(() => console.log('main done'), 400)\n",
        p__js="console.log('post')\n",
    )
    report = await ws.run("- {id: p, uses: ./acts/p, background: true}\n")
    main = report.steps["p"]
    post = report.steps[list(report.steps)[-1]]
    assert main.log == ("main done",)
    assert post.log == ("post",)
    assert post.started_at >= main.finished_at  # type: ignore[operator]


async def test_a_cancelled_composite_stops_its_inner_process_r16_9(
    ws: Workspace,
) -> None:
    pidfile = ws.root / "inner.pid"
    ws.action(
        "acts/long",
        f"""\
        runs:
          using: composite
          steps:
            - shell: bash
              run: echo first
            - shell: bash
              run: |
                trap 'echo inner got INT; exit 0' INT
                echo $$ > {pidfile}
                while true; do sleep 0.05; done
            - shell: bash
              if: always()
              run: echo never after a cancel
        """,
    )
    report = await ws.run(
        f"""\
        - {{id: long, uses: ./acts/long, background: true}}
        - run: while [ ! -s {pidfile} ]; do sleep 0.05; done
        - cancel: long
        """
    )
    long = report.steps["long"]
    assert long.conclusion is ts.Result.CANCELED
    assert "inner got INT" in long.log
    assert "never after a cancel" not in long.log
    assert not _alive(int(pidfile.read_text()))


async def test_job_timeout_stops_the_action_and_its_post_still_runs_r16_7(
    ws: Workspace,
) -> None:
    _service(ws)
    pidfile = ws.root / "svc.pid"
    job = ws.load(
        f"""\
        - id: svc
          uses: ./acts/svc
          with: {{pidfile: {pidfile}}}
        """
    )
    report = await ts.run_job(job.evolve(timeout=1.0))
    svc = report.steps["svc"]
    assert svc.conclusion is ts.Result.CANCELED
    assert "got SIGINT" in svc.log
    post = report.steps[list(report.steps)[-1]]
    assert post.name == "Post Run ./acts/svc"
    assert post.conclusion is ts.Result.SUCCEEDED
    assert report.result is ts.Result.CANCELED
