"""Writing fixture actions and workflows, and running them (rules §16)."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import trio_steps as ts
from trio_steps._workflow._read import read_workflow, select_job

HEAD = "on: push\njobs:\n  job:\n    runs-on: ubuntu-latest\n    steps:\n"


class Workspace:
    """A workspace directory with fixture actions in it."""

    def __init__(self, root: Path, cache: Path) -> None:
        self.root = root
        self.cache = cache

    def action(self, path: str, action_yml: str, **files: str) -> Path:
        """Write ``path/action.yml`` (dedented) and other files beside it."""
        directory = self.root / path
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "action.yml").write_text(textwrap.dedent(action_yml))
        for name, text in files.items():
            (directory / name.replace("__", ".")).write_text(textwrap.dedent(text))
        return directory

    def settings(
        self, url: str = "file:///nonexistent", **changes: object
    ) -> ts.ActionSettings:
        return ts.ActionSettings(url=url, cache_dir=str(self.cache), **changes)  # type: ignore[arg-type]

    def load(
        self, steps: str, *, url: str = "file:///nonexistent", refresh: bool = False
    ) -> ts.Job:
        """The job of a workflow whose steps are ``steps`` (dedented, indented here)."""
        body = textwrap.indent(textwrap.dedent(steps), "      ")
        return select_job(
            read_workflow(HEAD + body, actions=self.settings(url, refresh=refresh)),
            None,
        )

    async def run(self, steps: str, **kwargs: object) -> ts.JobReport:
        return await ts.run_job(self.load(steps, **kwargs))  # type: ignore[arg-type]


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        env={
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
            "HOME": str(cwd),
            "PATH": "/usr/bin:/bin",
        },
    ).stdout.strip()


def publish(
    server: Path, owner: str, repo: str, files: dict[str, str], tag: str
) -> str:
    """Commit ``files`` to the bare repository ``server/owner/repo`` under ``tag``.

    Returns:
        The commit's hash.
    """
    work = server / ".work" / owner / repo
    bare = server / owner / repo
    if not bare.exists():
        bare.mkdir(parents=True)
        git("init", "-q", "--bare", ".", cwd=bare)
        work.mkdir(parents=True)
        git("init", "-q", ".", cwd=work)
        git("remote", "add", "origin", str(bare), cwd=work)
    for name, text in files.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "publish", cwd=work)
    git("tag", "-f", tag, cwd=work)
    git(
        "push",
        "-q",
        "-f",
        "origin",
        "HEAD:refs/heads/main",
        f"refs/tags/{tag}",
        cwd=work,
    )
    return git("rev-parse", "HEAD", cwd=work)
