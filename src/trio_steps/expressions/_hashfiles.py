"""``hashFiles()``: one SHA-256 over the files that glob patterns match.

Patterns follow GitHub (``@actions/glob``): relative to the workspace;
``*``, ``?`` and ``[...]`` within a path segment, ``**`` for any number of
segments; dot files match; a leading ``!`` excludes; the last pattern that
matches a path decides; a pattern that matches a directory matches every
file below it; a trailing ``/`` matches directories only; blank lines and
lines starting with ``#`` are ignored. Only regular files inside the
workspace count (symbolic links are followed to files, never to directories
or outside the workspace).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ._errors import Fault

__all__ = ["hash_files"]

_GLOB_CHARS = frozenset("*?[")
_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Rule:
    negate: bool
    regex: re.Pattern[str]
    directories_only: bool
    search_root: tuple[str, ...]  # the literal leading segments


def hash_files(patterns: Sequence[str], workspace: str) -> str:
    """Hash the files under ``workspace`` that ``patterns`` select.

    Returns:
        The hex SHA-256 of the concatenated SHA-256 digests of the matched
        files' contents, in path order; ``""`` when nothing matches.

    Raises:
        Fault: A matched file could not be read.
    """
    root = _segments(os.path.realpath(workspace))
    rules = [rule for text in patterns for rule in _parse(text, root)]
    candidates: set[tuple[str, ...]] = set()
    for rule in rules:
        if not rule.negate:
            candidates.update(_files_under(_search_root(rule.search_root, root), root))
    matched = sorted(
        ("/" + "/".join(path), path) for path in candidates if _selected(rules, path)
    )
    if not matched:
        return ""
    total = hashlib.sha256()
    for shown, path in matched:
        digest = hashlib.sha256()
        try:
            with open(_native(path), "rb") as stream:
                while chunk := stream.read(_CHUNK):
                    digest.update(chunk)
        except OSError as error:
            raise Fault(
                f"hashFiles() failed: cannot read '{shown}': {error.strerror}"
            ) from None
        total.update(digest.digest())
    return total.hexdigest()


def _segments(path: str) -> tuple[str, ...]:
    path = path.replace(os.sep, "/")
    return tuple(part for part in path.split("/") if part)


def _native(path: tuple[str, ...]) -> str:
    joined = "/".join(path)
    return joined if os.sep != "/" and ":" in path[0] else "/" + joined


def _parse(text: str, root: tuple[str, ...]) -> Iterator[_Rule]:
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = False
        while line.startswith("!"):
            negate = not negate
            line = line[1:]
        directories_only = line.endswith(("/", os.sep))
        absolute = os.path.isabs(line)
        segments: list[str] = [] if absolute else list(root)
        for part in line.replace(os.sep, "/").split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if segments:
                    segments.pop()
                continue
            segments.append(part)
        literal = 0
        while literal < len(segments) and not _GLOB_CHARS & set(segments[literal]):
            literal += 1
        regex = "".join(
            r"(?:/[^/]+)*" if part == "**" else "/" + _segment_regex(part)
            for part in segments
        )
        try:
            compiled = re.compile(regex, re.DOTALL)
        except re.error as error:
            raise Fault(f"hashFiles(): invalid pattern '{line}': {error}") from None
        yield _Rule(
            negate=negate,
            regex=compiled,
            directories_only=directories_only,
            search_root=tuple(segments[:literal]),
        )


def _segment_regex(segment: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(segment):
        char = segment[index]
        index += 1
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            # A class: "[abc]", "[a-z]", "[!abc]"; a "]" right after the
            # opening (or after "!") belongs to the class.
            body_start = index
            if segment[body_start : body_start + 1] in ("!", "^"):
                body_start += 1
            search_from = body_start + (segment[body_start : body_start + 1] == "]")
            close = segment.find("]", search_from)
            if close < 0:
                out.append(re.escape(char))
                continue
            negated = body_start > index
            body = segment[body_start:close]
            index = close + 1
            # A class never matches the separator.
            members = "".join(c if c == "-" else re.escape(c) for c in body if c != "/")
            if negated:
                out.append(f"[^/{members}]")
            else:
                out.append(f"[{members}]" if members else "(?!)")
        else:
            out.append(re.escape(char))
    return "".join(out)


def _search_root(
    literal: tuple[str, ...], root: tuple[str, ...]
) -> tuple[str, ...] | None:
    """Where to look for a pattern: its literal prefix, within the workspace."""
    if literal[: len(root)] == root:
        return literal
    if root[: len(literal)] == literal:
        return root
    return None


def _files_under(
    start: tuple[str, ...] | None, root: tuple[str, ...]
) -> Iterator[tuple[str, ...]]:
    if start is None:
        return
    native = _native(start)
    if os.path.isfile(native):
        if _inside(native, root):
            yield start
        return
    real = _segments(os.path.realpath(native))
    if real[: len(root)] != root:
        return  # a symbolic link out of the workspace
    pending = [start]
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(_native(directory)))
        except OSError:
            continue
        for entry in entries:
            path = (*directory, entry.name)
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(path)
                elif entry.is_file() and (
                    not entry.is_symlink() or _inside(entry.path, root)
                ):
                    yield path
            except OSError:
                continue


def _inside(native: str, root: tuple[str, ...]) -> bool:
    real = _segments(os.path.realpath(native))
    return real[: len(root)] == root and len(real) > len(root)


def _selected(rules: Sequence[_Rule], path: tuple[str, ...]) -> bool:
    selected = False
    texts = ["/" + "/".join(path[:end]) for end in range(1, len(path) + 1)]
    for rule in rules:
        if selected == (not rule.negate):
            continue  # this rule could not change the outcome
        # A match of the path itself, or of a directory above it.
        candidates = texts[:-1] if rule.directories_only else texts
        if any(rule.regex.fullmatch(text) for text in candidates):
            selected = not rule.negate
    return selected
