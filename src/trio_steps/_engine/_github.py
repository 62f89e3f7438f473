"""The local ``github`` context of a workflow run on this machine (rules §13).

On GitHub the runner fills ``github`` from the event that triggered the run.
Locally there is no event: the workspace is the current directory, the event
name is ``push`` unless the user says otherwise, and ``repository``, ``sha``
and ``ref`` come from the git checkout the command runs in (empty strings
outside one). ``run_id`` and ``run_number`` are generated.

The checkout is read from the files under ``.git`` rather than by running
``git``: it costs no subprocess and works where git is not installed.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Final

__all__ = ["github_context"]

_SERVER_URL: Final = "https://github.com"
_REMOTE_RE: Final = re.compile(
    r"""(?x)
    (?:^[a-z+]+://(?:[^@/]+@)?[^/]+/ | ^[^@/:]+@[^:]+: | ^[^/:]+: )
    (?P<repo>[^/]+/[^/]+?)(?:\.git)?/?$
    """
)
_SHA_RE: Final = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?\Z")


def _find_git_dir(start: Path) -> Path | None:
    """Return the git directory of the checkout containing ``start``."""
    for directory in (start, *start.parents):
        dot_git = directory / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():  # a worktree or submodule: "gitdir: <path>"
            try:
                text = dot_git.read_text(encoding="utf-8").strip()
            except OSError:
                return None
            if text.startswith("gitdir:"):
                target = Path(text.removeprefix("gitdir:").strip())
                return target if target.is_absolute() else directory / target
            return None
    return None


def _common_dir(git_dir: Path) -> Path:
    """Return where refs and config live (differs from ``git_dir`` in worktrees)."""
    try:
        common = (git_dir / "commondir").read_text(encoding="utf-8").strip()
    except OSError:
        return git_dir
    path = Path(common)
    return path if path.is_absolute() else git_dir / path


def _read_ref(git_dir: Path, common: Path, ref: str) -> str:
    """Resolve ``ref`` (``refs/heads/main``) to a sha, or return ``""``."""
    for base in (git_dir, common):
        try:
            value = (base / ref).read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if _SHA_RE.match(value):
            return value
    try:
        packed = (common / "packed-refs").read_text(encoding="utf-8")
    except OSError:
        return ""
    for line in packed.splitlines():
        sha, _, name = line.partition(" ")
        if name.strip() == ref and _SHA_RE.match(sha):
            return sha
    return ""


def _origin_repository(common: Path) -> str:
    """Return ``owner/name`` from the ``origin`` remote's URL, or ``""``."""
    try:
        config = (common / "config").read_text(encoding="utf-8")
    except OSError:
        return ""
    in_origin = False
    for raw in config.splitlines():
        line = raw.strip()
        if line.startswith("["):
            in_origin = line.replace(" ", "") in ('[remote"origin"]',)
        elif in_origin and line.partition("=")[0].strip() == "url":
            url = line.partition("=")[2].strip()
            match = _REMOTE_RE.search(url)
            return match.group("repo") if match else ""
    return ""


def _checkout(workspace: Path) -> tuple[str, str, str]:
    """Return ``(repository, sha, ref)`` of the checkout, empty outside one."""
    git_dir = _find_git_dir(workspace)
    if git_dir is None:
        return "", "", ""
    common = _common_dir(git_dir)
    try:
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
    except OSError:
        return _origin_repository(common), "", ""
    if head.startswith("ref:"):
        ref = head.removeprefix("ref:").strip()
        sha = _read_ref(git_dir, common, ref)
    else:  # a detached HEAD names no ref
        ref, sha = "", head if _SHA_RE.match(head) else ""
    return _origin_repository(common), sha, ref


def github_context(
    *,
    event_name: str = "push",
    workspace: str | os.PathLike[str] | None = None,
    workflow: str = "",
    job: str = "",
) -> dict[str, str]:
    """Build the ``github`` context of a local run.

    Args:
        event_name: The event the run pretends to be triggered by.
        workspace: The workspace directory (default: the current directory).
        workflow: The workflow's name, for ``github.workflow``.
        job: The job id, for ``github.job``.

    Returns:
        The context, with every value a string: ``workspace``,
        ``event_name``, ``repository``, ``repository_owner``, ``sha``,
        ``ref``, ``ref_name``, ``ref_type``, ``run_id``, ``run_number``,
        ``run_attempt``, ``actor``, ``server_url``, ``api_url``,
        ``graphql_url``, ``workflow`` and ``job``.
    """
    directory = Path(workspace if workspace is not None else os.getcwd()).resolve()
    repository, sha, ref = _checkout(directory)
    if ref.startswith("refs/heads/"):
        ref_name, ref_type = ref.removeprefix("refs/heads/"), "branch"
    elif ref.startswith("refs/tags/"):
        ref_name, ref_type = ref.removeprefix("refs/tags/"), "tag"
    else:
        ref_name, ref_type = ref, ""
    # A run id that grows with time, like GitHub's, and never repeats in
    # practice: microseconds since the epoch.
    run_id = str(time.time_ns() // 1000)
    return {
        "workspace": str(directory),
        "event_name": event_name,
        "repository": repository,
        "repository_owner": repository.partition("/")[0],
        "sha": sha,
        "ref": ref,
        "ref_name": ref_name,
        "ref_type": ref_type,
        "run_id": run_id,
        "run_number": "1",
        "run_attempt": "1",
        "actor": os.environ.get("GITHUB_ACTOR") or os.environ.get("USER", ""),
        "server_url": _SERVER_URL,
        "api_url": "https://api.github.com",
        "graphql_url": "https://api.github.com/graphql",
        "workflow": workflow,
        "job": job,
    }
