"""``trio-steps run`` with actions: local, fetched, cached (rules §16)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from ..actions.action_helpers import publish

Run = Callable[..., subprocess.CompletedProcess[str]]
Write = Callable[..., Path]

HEAD = "on: push\njobs:\n  job:\n    runs-on: ubuntu-latest\n    steps:\n"
ACTION = """\
inputs:
  who: {default: you}
runs:
  using: composite
  steps:
    - {shell: bash, run: "echo hello ${{ inputs.who }}"}
"""


def test_run_fetches_into_the_cache_then_runs_offline_r16_8(
    run_cli: Run, workflow: Write, tmp_path: Path
) -> None:
    server = tmp_path / "server"
    publish(server, "octo", "hello", {"action.yml": ACTION}, "v1")
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "action.yml").write_text(ACTION)
    path = workflow(
        HEAD
        + "      - {id: remote, uses: octo/hello@v1, with: {who: remote}}\n"
        + "      - {id: here, uses: ./local}\n"
    )
    cache = tmp_path / "cache"
    args = ("run", str(path), "--actions-url", f"file://{server}")
    result = run_cli(*args, "--action-cache", str(cache))
    assert result.returncode == 0, result.stderr
    assert "[remote] hello remote" in result.stdout
    assert "[here] hello you" in result.stdout
    assert (cache / "octo" / "hello" / "v1" / "action.yml").is_file()
    offline = run_cli(
        "run",
        str(path),
        "--actions-url",
        "file:///nowhere",
        "--action-cache",
        str(cache),
    )
    assert offline.returncode == 0, offline.stderr
    refreshed = run_cli(
        "run",
        str(path),
        "--actions-url",
        "file:///nowhere",
        "--action-cache",
        str(cache),
        "--refresh-actions",
    )
    assert refreshed.returncode == 2
    assert (
        f"{path}:6:28: cannot fetch octo/hello@v1 from file:///nowhere/octo/hello: "
        "fatal: '/nowhere/octo/hello' does not appear to be a git repository"
    ) in refreshed.stderr


def test_validate_checks_action_files_r16_1(
    run_cli: Run, workflow: Write, tmp_path: Path
) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "action.yml").write_text("runs: {using: node20}\n")
    path = workflow(HEAD + "      - uses: ./bad\n")
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert f"{tmp_path}/bad/action.yml:1:8: a node20 action needs 'main'" in (
        result.stderr
    )
    assert f"{path}:6:15: 'uses: ./bad': the action is not valid" in result.stderr
