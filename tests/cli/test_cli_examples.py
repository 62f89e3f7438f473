"""The examples a new user runs first (examples/*.yml) do what they say."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .cli_helpers import TIMEOUT, cli_command, cli_env

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "exit_code", "expected"),
    [
        ("service.yml", 0, "[Tests] GET / -> 200: tests pass"),
        ("parallel-builds.yml", 0, "publishing docs.tar and pkg.whl"),
        ("failing-background.yml", 1, "[Clean up] cleaning up"),
        ("timeout.yml", 130, "[Report] the job was cancelled by its timeout"),
        ("many-jobs.yml", 0, "[report] [Report] version 1.2.3, tests success"),
        ("actions.yml", 0, "[Post Service] post: the service (pid "),
    ],
)
def test_example(name: str, exit_code: int, expected: str, tmp_path: Path) -> None:
    # actions.yml uses ./actions/...: the workspace is the examples directory.
    result = subprocess.run(
        [*cli_command("run", str(EXAMPLES / name)), "--interrupt-grace", "1"],
        cwd=EXAMPLES if name == "actions.yml" else tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == exit_code, result.stdout + result.stderr
    assert expected in result.stdout


def test_every_example_is_tested() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.yml")) == sorted(
        [
            "service.yml",
            "parallel-builds.yml",
            "failing-background.yml",
            "timeout.yml",
            "many-jobs.yml",
            "actions.yml",
        ]
    )
