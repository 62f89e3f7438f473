"""``trio-steps run --semantics`` (rules §17), end to end on real processes."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]
Write = Callable[..., Path]

HEAD = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"

# §11.11: cancel svc, then wait [svc, f] with f failed.
CANCELLED_AND_FAILED = HEAD + (
    "      - id: svc\n        run: sleep 30\n        background: true\n"
    "      - id: f\n        run: exit 1\n        background: true\n"
    "      - cancel: svc\n"
    "      - id: w\n        wait: [svc, f]\n"
    "      - id: after\n        run: echo after-ran\n"
)

# §11.12: 'late' waits for the only slot while x publishes v; y lets hold end.
QUEUED_READS_LATE = HEAD + (
    "      - id: hold\n"
    "        run: while [ ! -e go ]; do sleep 0.02; done\n"
    "        background: true\n"
    '      - id: late\n        run: echo "seen=[${{ steps.x.outputs.v }}]"\n'
    "        background: true\n"
    '      - id: x\n        run: echo v=42 >> "$GITHUB_OUTPUT"\n'
    "      - id: y\n        run: touch go\n"
    "      - wait: [hold, late]\n"
)

# §11.1: q is cancelled while it waits for the only slot.
CANCELLED_IN_QUEUE = HEAD + (
    "      - id: hold\n        run: sleep 30\n        background: true\n"
    "      - id: q\n        run: echo q-ran\n        background: true\n"
    "      - id: c\n        cancel: q\n"
    "      - cancel: hold\n"
)


def test_default_is_trio_steps_semantics(run_cli: Run, workflow: Write) -> None:
    path = str(workflow(CANCELLED_AND_FAILED))
    default = run_cli("run", path)
    explicit = run_cli("run", "--semantics", "trio-steps", path)
    for result in (default, explicit):
        assert result.returncode == 1, result.stderr
        assert "[w] finished: failure" in result.stdout
        assert "[after] skipped" in result.stdout
        assert "[after] after-ran" not in result.stdout


def test_github_runner_cancelled_target_hides_the_failure_until_the_end(
    run_cli: Run, workflow: Write
) -> None:
    result = run_cli(
        "run", "--semantics", "github-runner", str(workflow(CANCELLED_AND_FAILED))
    )
    assert result.returncode == 1, result.stderr  # failed at the end (R17.7)
    assert "[w] finished: cancelled" in result.stdout  # R17.3
    assert "[after] after-ran" in result.stdout
    assert "Job failed" in result.stdout


def test_github_runner_queued_step_reads_steps_at_its_slot(
    run_cli: Run, workflow: Write
) -> None:
    path = str(workflow(QUEUED_READS_LATE))
    ours = run_cli("run", "--max-background", "1", path)
    assert ours.returncode == 0, ours.stderr
    assert "[late] seen=[]" in ours.stdout
    (Path(path).parent / "go").unlink()
    theirs = run_cli(
        "run", "--max-background", "1", "--semantics", "github-runner", path
    )
    assert theirs.returncode == 0, theirs.stderr
    assert "[late] seen=[42]" in theirs.stdout  # R17.8


def test_github_runner_reports_a_step_that_never_completes(
    run_cli: Run, workflow: Write
) -> None:
    path = str(workflow(CANCELLED_IN_QUEUE))
    ours = run_cli("run", "--max-background", "1", path)
    assert ours.returncode == 0, ours.stderr
    assert "never completed" not in ours.stdout
    theirs = run_cli(
        "run", "--max-background", "1", "--semantics", "github-runner", path
    )
    assert theirs.returncode == 0, theirs.stderr
    assert "[q] q-ran" not in theirs.stdout
    assert "[c] finished: success" in ours.stdout
    assert "never completed (GitHub's runner)" in theirs.stdout  # R17.4
    assert "[c] finished: cancelled" in theirs.stdout


def test_unknown_semantics_is_a_usage_error(run_cli: Run, workflow: Write) -> None:
    result = run_cli(
        "run", "--semantics", "github", str(workflow(HEAD + "      - run: 'true'\n"))
    )
    assert result.returncode == 2
    assert "invalid choice: 'github'" in result.stderr


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _summary(stdout: str) -> list[str]:
    """The step table and verdict, without the durations."""
    table = stdout[stdout.index("\nStep ") :].splitlines()
    return [re.sub(r"\s+(\d+\.\d+s|-)$", "", line).rstrip() for line in table]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["failing-background", "service", "parallel-builds"])
def test_the_examples_end_alike_under_both_semantics(run_cli: Run, name: str) -> None:
    """docs/source/research.rst: none of them meets a divergence of §17."""
    path = str(EXAMPLES / f"{name}.yml")
    ours = run_cli("run", path)
    theirs = run_cli("run", "--semantics", "github-runner", path)
    assert theirs.returncode == ours.returncode
    assert _summary(theirs.stdout) == _summary(ours.stdout)
    assert len(_summary(ours.stdout)) > 3
