"""Fixtures for the shell executor tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from trio_steps._shell import _process

from .shell_helpers import ShellRunner, make_shell_runner


@pytest.fixture(params=["posix_spawn", "popen"])
def spawn_method(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> str:
    """How processes are started: ``posix_spawn`` or ``subprocess.Popen``.

    The executor uses :func:`os.posix_spawn` when the process runs in the
    test's own working directory, else Popen: every shell test runs both ways.
    """
    if request.param == "popen":
        monkeypatch.setattr(_process, "_posix_spawn", None)
    elif _process._posix_spawn is None:
        pytest.skip("no os.posix_spawn here")
    return str(request.param)


@pytest.fixture
def shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spawn_method: str
) -> ShellRunner:
    """Run a script with ``run_shell`` in ``tmp_path`` (see ``make_shell_runner``).

    The test's working directory is ``tmp_path`` too, so that the executor
    may start processes with ``posix_spawn`` (see ``spawn_method``).
    """
    monkeypatch.chdir(tmp_path)
    return make_shell_runner(tmp_path)
