"""Fixtures for the action tests: a workspace to write actions and workflows in."""

from __future__ import annotations

from pathlib import Path

import pytest

from .action_helpers import Workspace


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A workspace in ``tmp_path``, the current directory (``./path`` actions).

    The action cache is ``tmp_path/cache`` so that nothing is fetched into
    the user's cache.
    """
    workspace = tmp_path / "ws"
    workspace.mkdir()
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return Workspace(workspace, tmp_path / "cache")
