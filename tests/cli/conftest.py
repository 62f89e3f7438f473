"""Fixtures for end-to-end tests of the ``trio-steps`` command (real clock)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from .cli_helpers import TIMEOUT, cli_command, cli_env


@pytest.fixture
def workflow(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a workflow file into the test's directory and return its path."""

    def write(text: str, name: str = "workflow.yml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``trio-steps`` to the end in the test's directory."""

    def run(
        *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cli_command(*args),
            cwd=cwd or tmp_path,
            env=env or cli_env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    return run


@pytest.fixture
def spawn_cli(
    tmp_path: Path,
) -> Iterator[Callable[[Sequence[str]], subprocess.Popen[str]]]:
    """Start ``trio-steps`` in the background; killed at teardown if still alive."""
    started: list[subprocess.Popen[str]] = []

    def spawn(args: Sequence[str]) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            cli_command(*args),
            cwd=tmp_path,
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        return proc

    yield spawn
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=TIMEOUT)
