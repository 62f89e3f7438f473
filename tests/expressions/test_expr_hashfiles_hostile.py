"""hashFiles() against hostile patterns (issue 12, item 15).

The glob matcher never backtracks: its work is counted, not timed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from trio_steps import expressions as ex
from trio_steps.expressions import _hashfiles
from trio_steps.expressions._errors import Fault
from trio_steps.expressions._hashfiles import (
    HashFilesStopped,
    _path_matches,
    _segment_matches,
    _segment_pattern,
)


def test_the_catastrophic_glob_of_the_issue_finishes(tmp_path: Path) -> None:
    """``'*' * 34 + 'b'`` ran for minutes as a regular expression."""
    (tmp_path / "redos").mkdir()
    (tmp_path / "redos" / ("a" * 60)).write_text("x")
    (tmp_path / "redos" / ("a" * 60 + "b")).write_text("y")
    script = textwrap.dedent(
        f"""
        from trio_steps import expressions as ex

        print(ex.evaluate(
            "hashFiles('redos/{"*" * 34}b')",
            {{"github": {{"workspace": {str(tmp_path)!r}}}}},
        ))
        """
    )
    # In a child process: without the fix it would hold this one for minutes.
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    alone = ex.evaluate(
        f"hashFiles('redos/{'a' * 60}b')", {"github": {"workspace": str(tmp_path)}}
    )
    assert done.stdout.strip() == alone != ""


class _Counter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.count = 0
        original = getattr(_hashfiles, name)

        def counted(*args: object) -> object:
            self.count += 1
            return original(*args)

        monkeypatch.setattr(_hashfiles, name, counted)


@pytest.mark.parametrize(
    "pattern",
    ["*" * 34 + "b", "*a" * 20 + "b", "?*" * 15 + "[b]", "*a*?" * 10 + "c"],
)
def test_segment_matching_is_bounded_by_pattern_times_name(
    monkeypatch: pytest.MonkeyPatch, pattern: str
) -> None:
    counter = _Counter(monkeypatch, "_token_matches")
    name = "a" * 300
    assert not _segment_matches(_segment_pattern(pattern, pattern), name)
    assert counter.count <= (len(pattern) + 1) * (len(name) + 1)


def test_path_matching_is_bounded_by_parts_times_depth(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counter = _Counter(monkeypatch, "_segment_matches")
    # "**/a/**/a/…/b": a regular expression backtracks over every split.
    parts = [None, "a"] * 15 + ["b"]
    path = ["a"] * 200
    assert not _path_matches(parts, path)
    assert counter.count <= (len(parts) + 1) * (len(path) + 1)


def _regex(segment: str) -> str:
    """The regular expression the matcher used to build (the reference)."""
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
            members = "".join(c if c == "-" else re.escape(c) for c in body if c != "/")
            if negated:
                out.append(f"[^/{members}]")
            else:
                out.append(f"[{members}]" if members else "(?!)")
        else:
            out.append(re.escape(char))
    return "".join(out)


@given(
    st.text(alphabet="ab*?[]!-", max_size=8),
    st.text(alphabet="ab-]![", max_size=6),
)
@example("[?--]", "a")  # a reference regex Python warns about
def test_segment_matching_agrees_with_the_regular_expression(
    pattern: str, name: str
) -> None:
    try:
        with warnings.catch_warnings():
            # ``--`` in a class is a range today; Python only warns that it
            # may one day mean set difference. The reference keeps today's.
            warnings.simplefilter("ignore", FutureWarning)
            regex = re.compile(_regex(pattern), re.DOTALL)
    except re.error:
        with pytest.raises(Fault, match="bad character range"):
            _segment_pattern(pattern, pattern)
        return
    compiled = _segment_pattern(pattern, pattern)
    assert _segment_matches(compiled, name) == bool(regex.fullmatch(name))


def test_a_stop_request_ends_the_walk(tmp_path: Path) -> None:
    for index in range(5):
        (tmp_path / f"f{index}").write_text("x")
    calls = 0

    def stop() -> bool:
        nonlocal calls
        calls += 1
        return calls > 2

    with pytest.raises(HashFilesStopped):
        _hashfiles.hash_files(["**"], str(tmp_path), stop)
    assert calls == 3


def test_a_fifo_in_place_of_a_file_does_not_block(tmp_path: Path) -> None:
    """Opened without blocking, it is refused: it is not a regular file."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(Fault, match="not a regular file"):
        _hashfiles._digest("/pipe", _hashfiles._segments(str(fifo)), lambda: False)
