"""``trio-steps explore``: the outcome table of a workflow job (R18.1), and
replaying a real run's trace in the model (R18.7)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

import trio_steps as ts
from trio_steps._cli._main import main
from trio_steps.testing import explore, job_from_trace, simulate

Run = Callable[..., subprocess.CompletedProcess[str]]
Write = Callable[..., Path]

CANCEL = """\
on: push
jobs:
  test:
    steps:
      - id: svc
        run: ./server
        background: true
      - id: build
        run: make
      - cancel: svc
"""

MANY = """\
on: push
jobs:
  test:
    timeout-minutes: 10
    steps:
      - id: svc
        run: ./server
        background: true
      - id: build
        run: make
        timeout-minutes: 1
      - id: notify
        if: failure()
        run: echo failed
      - cancel: svc
      - id: report
        if: ${{ always() }}
        run: echo done
  other:
    steps:
      - run: "true"
"""


def test_the_issue_example_has_two_outcomes(
    workflow: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["explore", str(workflow(CANCEL))])
    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out[0] == "test: 3 steps, durations free, semantics trio-steps"
    assert out[1].split() == ["#", "svc", "build", "__cancel_3", "job"]
    assert out[2].split() == [
        "1",
        "succeeded[x]",
        "succeeded",
        "succeeded",
        "succeeded",
    ]
    assert out[3].split() == ["2", "canceled[x]", "succeeded", "succeeded", "succeeded"]
    assert out[4].startswith("2 outcomes;") and "; covered;" in out[4]


def test_timeouts_conditions_and_failing_steps(
    workflow: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(workflow(MANY))
    assert main(["explore", path, "--job", "test"]) == 0
    table = capsys.readouterr().out
    rows = [line.split() for line in table.splitlines()[2:-1]]
    # build succeeds, or times out (then notify runs); the job timeout may
    # come first or not.
    assert {row[2] for row in rows} == {"succeeded", "failed[t]"}
    assert {row[3] for row in rows} == {"skipped", "succeeded", "canceled"}
    assert {row[-1] for row in rows} == {"succeeded", "failed", "canceled"}
    assert main(["explore", path, "--job", "test", "--fail", "build"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:-1]]
    assert {row[2] for row in rows} == {"failed", "failed[t]"}


def test_a_bound_that_stops_the_search_exits_1(
    workflow: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(workflow(MANY))
    assert main(["explore", path, "--job", "test", "--max-schedules", "3"]) == 1
    assert "NOT covered" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        (MANY, [], "choose one with --job ID"),
        (CANCEL, ["--fail", "nope"], "--fail: no step 'nope' in this job"),
        (
            CANCEL.replace("run: make", "run: make\n        if: github.ref == 'x'"),
            [],
            "explore supports if: success(), failure(), always(), cancelled(), "
            "!cancelled() only",
        ),
        (CANCEL, ["--max-seconds", "0"], "Limit: seconds must be a number > 0"),
    ],
)
def test_bad_input_exits_2_and_says_why(
    workflow: Write,
    capsys: pytest.CaptureFixture[str],
    text: str,
    args: list[str],
    message: str,
) -> None:
    assert main(["explore", str(workflow(text)), *args]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_a_real_run_is_replayed_and_explored(run_cli: Run, workflow: Write) -> None:
    """R18.7 on the real clock: same results, durations as recorded."""
    path = workflow(
        """\
on: push
jobs:
  test:
    steps:
      - id: svc
        run: sleep 30
        background: true
      - id: build
        run: sleep 0.2
      - id: check
        run: exit 3
        continue-on-error: true
      - cancel: svc
      - id: late
        run: sleep 0.1
        background: true
"""
    )
    done = run_cli("run", str(path), "--trace", "run.jsonl")
    assert done.returncode == 0, done.stderr
    recorded = ts.load_trace(path.parent / "run.jsonl")
    job = job_from_trace(path.parent / "run.jsonl")
    replayed = simulate(job)
    assert replayed.result is recorded.result
    assert recorded.steps["svc"].conclusion is ts.Result.CANCELED
    for id, step in recorded.steps.items():
        assert replayed.steps[id].conclusion is step.conclusion, id
        if step.kind == "run" and step.id != "svc" and step.duration is not None:
            # Ended on its own: the recorded duration exactly.
            assert replayed.steps[id].duration == pytest.approx(step.duration), id
    # svc is stopped when the cancel step is reached: in the model that is
    # the sum of the steps' durations, without the engine's own time.
    svc = replayed.steps["svc"].duration
    assert svc == pytest.approx(recorded.steps["svc"].duration, abs=0.05)
    assert explore(job).results_of("svc") == {ts.Result.SUCCEEDED, ts.Result.CANCELED}


def test_semantics_github_runner(
    workflow: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    text = """\
on: push
jobs:
  test:
    steps:
      - id: svc
        run: ./server
        background: true
      - id: f
        run: ./flaky
        background: true
      - id: b
        run: make
      - cancel: svc
      - wait: [svc, f]
      - id: after
        run: echo after
"""
    path = str(workflow(text))
    assert main(["explore", path, "--fail", "f", "--semantics", "github-runner"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "test: 6 steps, durations free, semantics github-runner"
    rows = [line.split() for line in out[2:-1]]
    assert [
        "canceled[x]",
        "failed",
        "succeeded",
        "succeeded",
        "canceled",
        "succeeded",
        "failed",
    ] in [row[1:] for row in rows]
    assert main(["explore", path, "--fail", "f"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:-1]]
    assert all(row[5] == "failed" and row[6] == "skipped" for row in rows)


def test_parallel_groups_wait_all_and_post_conditions(
    workflow: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    text = """\
on: push
jobs:
  test:
    steps:
      - parallel:
          - id: p1
            run: ./one
          - id: p2
            run: ./two
      - id: bg
        run: ./bg
        background: true
      - wait-all:
      - id: last
        if: ${{ !cancelled() }}
        run: echo last
"""
    assert main(["explore", str(workflow(text)), "--fail", "p2"]) == 0
    out = capsys.readouterr().out.splitlines()
    header = out[1].split()
    assert header[1:3] == ["p1", "p2"] and header[-2:] == ["last", "job"]
    rows = [dict(zip(header, line.split(), strict=True)) for line in out[2:-1]]
    # p2 fails whatever the order; the group's wait fails, the job fails,
    # and `last` (!cancelled()) still runs.
    assert {r["p2"] for r in rows} == {"failed"}
    assert {(r["last"], r["job"]) for r in rows} == {("succeeded", "failed")}
