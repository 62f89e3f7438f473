"""Fixtures for the shell executor tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from shell_helpers import ShellRunner, make_shell_runner


@pytest.fixture
def shell(tmp_path: Path) -> ShellRunner:
    """Run a script with ``run_shell`` in ``tmp_path`` (see ``make_shell_runner``)."""
    return make_shell_runner(tmp_path)
