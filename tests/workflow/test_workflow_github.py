"""The local ``github`` context (rules §13): workspace, event, checkout."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from trio_steps._engine._github import github_context


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()


def test_outside_a_checkout_everything_git_is_empty(tmp_path: Path) -> None:
    context = github_context(workspace=tmp_path, event_name="workflow_dispatch")
    assert context["workspace"] == str(tmp_path.resolve())
    assert context["event_name"] == "workflow_dispatch"
    assert (context["repository"], context["sha"], context["ref"]) == ("", "", "")
    assert context["run_id"].isdigit()
    assert context["run_number"] == "1"


def test_reads_the_checkout_like_git_does(tmp_path: Path) -> None:
    try:
        _git(tmp_path, "init", "-q", "-b", "trunk")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("git is not available")
    _git(
        tmp_path,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@e",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "one",
    )
    _git(tmp_path, "remote", "add", "origin", "git@github.com:octo/hello-world.git")
    sub = tmp_path / "sub"
    sub.mkdir()
    context = github_context(workspace=sub)
    assert context["sha"] == _git(tmp_path, "rev-parse", "HEAD")
    assert context["ref"] == "refs/heads/trunk"
    assert (context["ref_name"], context["ref_type"]) == ("trunk", "branch")
    assert context["repository"] == "octo/hello-world"
    assert context["repository_owner"] == "octo"
    # Packed refs (after git gc) are read too.
    _git(tmp_path, "pack-refs", "--all")
    assert github_context(workspace=sub)["sha"] == context["sha"]
    # A detached HEAD has a sha but no ref.
    _git(tmp_path, "checkout", "-q", "--detach")
    detached = github_context(workspace=tmp_path)
    assert (detached["sha"], detached["ref"]) == (context["sha"], "")


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/octo/hello-world.git",
        "https://token@github.com/octo/hello-world",
        "ssh://git@github.com/octo/hello-world.git",
        "git@github.com:octo/hello-world.git",
    ],
)
def test_remote_url_forms(tmp_path: Path, url: str) -> None:
    git = tmp_path / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text("a" * 40 + "\n")
    (git / "config").write_text(
        f'[core]\n\tbare = false\n[remote "origin"]\n\turl = {url}\n'
    )
    context = github_context(workspace=tmp_path)
    assert context["repository"] == "octo/hello-world"
    assert context["sha"] == "a" * 40
