"""``hashFiles()``: one SHA-256 over the files that glob patterns match.

Patterns follow GitHub (``@actions/glob``): relative to the workspace;
``*``, ``?`` and ``[...]`` within a path segment, ``**`` for any number of
segments; dot files match; a leading ``!`` excludes; the last pattern that
matches a path decides; a pattern that matches a directory matches every
file below it; a trailing ``/`` matches directories only; blank lines and
lines starting with ``#`` are ignored. Only regular files inside the
workspace count (symbolic links are followed to files, never to directories
or outside the workspace).

Matching never backtracks: a pattern of ``m`` parts is matched against a
name of ``n`` characters in at most ``(m + 1) * (n + 1)`` comparisons
(``'*' * 34 + 'b'`` made a regular expression run for minutes). The work
still grows with the workspace and the files' sizes, so the engine runs it
in a worker thread (see :func:`deferred_hash_files`); ``stop`` makes that
thread end early.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from ._errors import Fault

__all__ = [
    "HashFilesPending",
    "HashFilesStopped",
    "HashKey",
    "deferred_hash_files",
    "hash_files",
]

_GLOB_CHARS = frozenset("*?[")
_CHUNK = 1024 * 1024
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)

#: One ``hashFiles()`` call: its patterns and the workspace.
HashKey = tuple[tuple[str, ...], str]


class HashFilesPending(BaseException):
    """A ``hashFiles()`` call whose result is not known yet (deferred mode).

    A :class:`BaseException`, so that no ``except Exception`` of an
    evaluation turns it into an expression error: it reaches the caller of
    :func:`deferred_hash_files`, which hashes off the event loop and
    evaluates again.
    """

    def __init__(self, key: HashKey) -> None:
        super().__init__(key)
        self.key = key


class HashFilesStopped(Exception):
    """``hash_files`` gave up because its ``stop`` callable said so."""


_DEFERRED: ContextVar[dict[HashKey, str | Fault] | None] = ContextVar(
    "trio_steps_hash_files", default=None
)


@contextlib.contextmanager
def deferred_hash_files(results: dict[HashKey, str | Fault]) -> Iterator[None]:
    """Within this block, ``hashFiles()`` only looks its result up.

    A call found in ``results`` returns (or raises) what is there; any other
    raises :class:`HashFilesPending` with its key, so that an event loop can
    compute it elsewhere (:func:`hash_files` in a thread), add it to
    ``results`` and evaluate again. Evaluation is pure apart from
    ``hashFiles()``, so evaluating again is safe.

    Args:
        results: Results of calls made so far, by :data:`HashKey`.
    """
    token = _DEFERRED.set(results)
    try:
        yield
    finally:
        _DEFERRED.reset(token)


_STAR = "*"  # a token: any run of characters
_ANY = "?"  # a token: any one character
_GLOBSTAR = None  # a path part: any number of segments


@dataclass(frozen=True, slots=True)
class _Class:
    """A ``[...]`` token."""

    chars: frozenset[str]
    ranges: tuple[tuple[str, str], ...]
    negated: bool

    def matches(self, char: str) -> bool:
        inside = char in self.chars or any(lo <= char <= hi for lo, hi in self.ranges)
        return inside != self.negated


#: A segment pattern: a literal name (no glob characters), or tokens, each
#: :data:`_STAR`, :data:`_ANY`, a one-character literal or a :class:`_Class`.
_Segment = str | tuple[str | _Class, ...]


@dataclass(frozen=True, slots=True)
class _Rule:
    negate: bool
    parts: tuple[_Segment | None, ...]  # None: "**"
    directories_only: bool
    search_root: tuple[str, ...]  # the literal leading segments


def hash_files(
    patterns: Sequence[str],
    workspace: str,
    stop: Callable[[], bool] | None = None,
) -> str:
    """Hash the files under ``workspace`` that ``patterns`` select.

    Args:
        patterns: The glob patterns (each may hold several lines).
        workspace: The directory the patterns are relative to.
        stop: Checked between files, directory entries and chunks read;
            when it returns true the work stops.

    Returns:
        The hex SHA-256 of the concatenated SHA-256 digests of the matched
        files' contents, in path order; ``""`` when nothing matches.

    Raises:
        Fault: A pattern is invalid or a matched file could not be read.
        HashFilesPending: Within :func:`deferred_hash_files`, for a call
            whose result is not known yet.
        HashFilesStopped: ``stop`` returned true.
    """
    deferred = _DEFERRED.get()
    if deferred is not None:
        key = (tuple(patterns), workspace)
        try:
            found = deferred[key]
        except KeyError:
            raise HashFilesPending(key) from None
        if isinstance(found, Fault):
            raise Fault(found.message)
        return found
    check = stop if stop is not None else _never
    root = _segments(os.path.realpath(workspace))
    rules = [rule for text in patterns for rule in _parse(text, root)]
    candidates: set[tuple[str, ...]] = set()
    for rule in rules:
        if not rule.negate:
            for path in _files_under(_search_root(rule.search_root, root), root):
                if check():
                    raise HashFilesStopped
                candidates.add(path)
    selected = []
    for path in candidates:
        if check():
            raise HashFilesStopped
        if _selected(rules, path):
            selected.append(("/" + "/".join(path), path))
    selected.sort()
    if not selected:
        return ""
    total = hashlib.sha256()
    for shown, path in selected:
        total.update(_digest(shown, path, check))
    return total.hexdigest()


def _never() -> bool:
    return False


def _digest(shown: str, path: tuple[str, ...], stop: Callable[[], bool]) -> bytes:
    digest = hashlib.sha256()
    try:
        # Non-blocking: a file swapped for a FIFO since the walk must not
        # block the thread for ever (it is not hashed: not a regular file).
        fd = os.open(_native(path), _OPEN_FLAGS)
    except OSError as error:
        raise Fault(
            f"hashFiles() failed: cannot read '{shown}': {error.strerror}"
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Fault(f"hashFiles() failed: '{shown}' is not a regular file")
        while chunk := os.read(fd, _CHUNK):
            if stop():
                raise HashFilesStopped
            digest.update(chunk)
    except OSError as error:
        raise Fault(
            f"hashFiles() failed: cannot read '{shown}': {error.strerror}"
        ) from None
    finally:
        os.close(fd)
    return digest.digest()


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
        parts: list[_Segment | None] = []
        for part in segments:
            if part == "**":
                if not parts or parts[-1] is not _GLOBSTAR:  # "**/**" is "**"
                    parts.append(_GLOBSTAR)
            else:
                parts.append(_segment_pattern(part, line))
        yield _Rule(
            negate=negate,
            parts=tuple(parts),
            directories_only=directories_only,
            search_root=tuple(segments[:literal]),
        )


def _segment_pattern(segment: str, line: str) -> _Segment:
    """Compile one segment of a pattern (``line``, for error messages)."""
    if not _GLOB_CHARS & set(segment):
        return segment
    out: list[str | _Class] = []
    index = 0
    while index < len(segment):
        char = segment[index]
        index += 1
        if char == "*":
            if not out or out[-1] != _STAR:  # "**" within a segment is "*"
                out.append(_STAR)
        elif char == "?":
            out.append(_ANY)
        elif char == "[":
            # A class: "[abc]", "[a-z]", "[!abc]"; a "]" right after the
            # opening (or after "!") belongs to the class.
            body_start = index
            if segment[body_start : body_start + 1] in ("!", "^"):
                body_start += 1
            search_from = body_start + (segment[body_start : body_start + 1] == "]")
            close = segment.find("]", search_from)
            if close < 0:
                out.append(char)
                continue
            negated = body_start > index
            # A class never matches the separator.
            body = segment[body_start:close].replace("/", "")
            index = close + 1
            out.append(_character_class(body, negated, line))
        else:
            out.append(char)
    return tuple(out)


def _character_class(body: str, negated: bool, line: str) -> _Class:
    chars: set[str] = set()
    ranges: list[tuple[str, str]] = []
    at = 0
    while at < len(body):
        if at + 2 < len(body) and body[at + 1] == "-":
            low, high = body[at], body[at + 2]
            if low > high:
                raise Fault(
                    f"hashFiles(): invalid pattern '{line}': bad character range "
                    f"{low}-{high}"
                )
            ranges.append((low, high))
            at += 3
        else:
            chars.add(body[at])
            at += 1
    return _Class(frozenset(chars), tuple(ranges), negated)


def _token_matches(token: str | _Class, char: str) -> bool:
    if isinstance(token, _Class):
        return token.matches(char)
    return token in (_ANY, char)


def _segment_matches(pattern: _Segment, name: str) -> bool:
    """Whether one path segment matches, without backtracking.

    The classic wildcard walk: on a mismatch, only the latest ``*`` takes
    one more character; an earlier one never needs to (whatever it could
    absorb, the latest one can). At most ``(m + 1) * (n + 1)`` steps.
    """
    if isinstance(pattern, str):
        return pattern == name
    t = n = 0
    star = -1
    star_n = 0
    while n < len(name):
        if t < len(pattern) and pattern[t] == _STAR:
            star, star_n = t, n
            t += 1
        elif t < len(pattern) and _token_matches(pattern[t], name[n]):
            t += 1
            n += 1
        elif star >= 0:
            star_n += 1
            t, n = star + 1, star_n
        else:
            return False
    while t < len(pattern) and pattern[t] == _STAR:
        t += 1
    return t == len(pattern)


def _path_matches(parts: Sequence[_Segment | None], path: Sequence[str]) -> bool:
    """Whether a path's segments match, ``**`` standing for any number.

    The same walk as :func:`_segment_matches`, one level up.
    """
    t = n = 0
    star = -1
    star_n = 0
    while n < len(path):
        if t < len(parts) and parts[t] is _GLOBSTAR:
            star, star_n = t, n
            t += 1
            continue
        part = parts[t] if t < len(parts) else None
        if part is not None and _segment_matches(part, path[n]):
            t += 1
            n += 1
        elif star >= 0:
            star_n += 1
            t, n = star + 1, star_n
        else:
            return False
    while t < len(parts) and parts[t] is _GLOBSTAR:
        t += 1
    return t == len(parts)


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
    for rule in rules:
        if selected == (not rule.negate):
            continue  # this rule could not change the outcome
        # A match of the path itself, or of a directory above it.
        last = len(path) - 1 if rule.directories_only else len(path)
        if any(_path_matches(rule.parts, path[:end]) for end in range(1, last + 1)):
            selected = not rule.negate
    return selected
