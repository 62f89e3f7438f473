"""Fetching remote actions (``owner/repo[/path]@ref``) with git, into a cache.

A fetched action is kept under ``<cache>/<owner>/<repo>/<ref>`` and reused
from there, without the network, until a refresh is asked for (R16.8).
The checkout replaces the cached copy in one rename, so that a failed or
interrupted fetch leaves the cache as it was.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import urllib.parse
from typing import Final

from .._actions._definition import ActionSettings

__all__ = ["FetchError", "default_cache_dir", "fetch_action"]

#: Seconds one git command may take.
GIT_TIMEOUT: Final = 300.0


class FetchError(Exception):
    """An action could not be fetched; the message says why."""


def default_cache_dir() -> str:
    """The user's cache directory for actions (``$XDG_CACHE_HOME`` or ``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return os.path.join(base, "trio-steps", "actions")


def _git(args: list[str], cwd: str) -> None:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true")
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise FetchError("git is not installed (it fetches remote actions)") from None
    except subprocess.TimeoutExpired:
        raise FetchError(f"git {args[0]} took more than {GIT_TIMEOUT:g} s") from None
    if done.returncode != 0:
        lines = [ln.strip() for ln in done.stderr.splitlines() if ln.strip()]
        # git's first "fatal:" says what went wrong; advice follows it.
        fatal = [ln for ln in lines if ln.startswith("fatal:")]
        raise FetchError((fatal or lines or [f"git {args[0]} failed"])[0])


def fetch_action(owner: str, repo: str, ref: str, settings: ActionSettings) -> str:
    """The directory of ``owner/repo`` at ``ref``: from the cache, or fetched.

    Args:
        owner: The repository's owner.
        repo: The repository's name.
        ref: A branch, a tag or a commit.
        settings: Where to fetch from, where the cache is, whether to refresh.

    Returns:
        The checked-out repository in the cache.

    Raises:
        FetchError: git failed (unknown repository or ref, no network …).
    """
    cache = settings.cache_dir or default_cache_dir()
    parent = os.path.join(cache, owner, repo)
    target = os.path.join(parent, urllib.parse.quote(ref, safe=""))
    if os.path.isdir(target) and not settings.refresh:
        return target
    url = f"{settings.url.rstrip('/')}/{owner}/{repo}"
    try:
        os.makedirs(parent, exist_ok=True)
        temporary = tempfile.mkdtemp(prefix=".fetch-", dir=parent)
    except OSError as exc:
        raise FetchError(f"cannot write the action cache {cache}: {exc}") from None
    try:
        _git(["init", "-q", "."], temporary)
        # "--": a ref or URL that starts with "-" is never an option.
        _git(["fetch", "-q", "--depth", "1", "--", url, ref], temporary)
        _git(["checkout", "-q", "FETCH_HEAD"], temporary)
        shutil.rmtree(os.path.join(temporary, ".git"))
        if os.path.isdir(target):
            old = tempfile.mkdtemp(prefix=".old-", dir=parent)
            os.rename(target, os.path.join(old, "x"))
            os.rename(temporary, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(temporary, target)
    except FetchError as exc:
        raise FetchError(
            f"cannot fetch {owner}/{repo}@{ref} from {url}: {exc}"
        ) from None
    except OSError as exc:
        raise FetchError(f"cannot write the action cache {cache}: {exc}") from None
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return target
