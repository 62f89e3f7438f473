"""``trio-steps run``: the job env is expanded once, by the engine (issue 18).

End to end, in subprocesses on the real clock. The command sets the
contexts (``--secret``, ``--var``, ``--event``) on the job and leaves the
``${{ }}`` of the workflow's and job's env to the engine, which expands
them once as the job starts.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

Run = Callable[..., subprocess.CompletedProcess[str]]
Write = Callable[..., Path]

HEAD = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n"


def test_a_value_that_looks_like_an_expression_is_not_expanded_again(
    run_cli: Run, workflow: Write
) -> None:
    # On GitHub, what an expression gives is data: a secret that holds
    # "${{ ... }}" reaches the step as that text.
    path = workflow(
        HEAD + "    env:\n      T: ${{ vars.TEXT }}\n"
        '    steps:\n      - id: show\n        run: echo "[$T]"\n'
    )
    result = run_cli("run", str(path), "--var", "TEXT=${{ github.event_name }}")
    assert result.returncode == 0, result.stderr
    assert "[show] [${{ github.event_name }}]" in result.stdout


def test_every_job_env_problem_is_shown_and_nothing_runs(
    run_cli: Run, workflow: Write, tmp_path: Path
) -> None:
    path = workflow(
        "on: push\nenv:\n  A: ${{ fromJSON('x') }}\njobs:\n  build:\n"
        "    env:\n      B: ${{ fromJSON('y') }}\n"
        "    steps:\n      - run: touch ran\n"
    )
    result = run_cli("run", str(path), "--trace", "trace.jsonl")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "trio-steps: 2 problems in the job definition:"
    assert lines[1].startswith("  - job env 'A': ")
    assert lines[2].startswith("  - job env 'B': ")
    assert not (tmp_path / "ran").exists()
    assert not (tmp_path / "trace.jsonl").exists()
