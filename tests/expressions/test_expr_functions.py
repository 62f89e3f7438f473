"""The built-in functions, beyond the conformance cases."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from trio_steps import expressions as ex

# Evaluating this fails; it shows whether an argument is evaluated at all.
BOOM = "fromJSON('boom')"


def test_format_evaluates_only_the_arguments_it_uses() -> None:
    assert ex.evaluate(f"format('{{1}}{{1}}', {BOOM}, 'x')", {}) == "xx"
    with pytest.raises(ex.EvaluationError, match="Error parsing JSON"):
        ex.evaluate(f"format('{{0}}', {BOOM})", {})


def test_format_string_errors_come_before_arguments() -> None:
    with pytest.raises(ex.EvaluationError, match="format string is invalid"):
        ex.evaluate(f"format('{{0}} {{', {BOOM})", {})
    with pytest.raises(ex.EvaluationError, match="references more arguments"):
        ex.evaluate(f"format('{{0}}{{2}}', {BOOM}, 1)", {})


def test_format_with_a_computed_format_string() -> None:
    contexts = {"f": "{0}-{1}", "bad": "{x}"}
    assert ex.evaluate("format(f, 1, true)", contexts) == "1-true"
    with pytest.raises(ex.EvaluationError, match=r"invalid: \{x\}"):
        ex.evaluate("format(bad, 1)", contexts)


def test_format_specifiers_are_rejected() -> None:
    assert ex.evaluate("format('{0:}', 5)", {}) == "5"
    with pytest.raises(ex.EvaluationError) as info:
        ex.evaluate("format('{0:N2}', 5)", {})
    assert info.value.message == (
        "The format specifiers 'N2' are not valid for objects of type 'Number'"
    )
    with pytest.raises(ex.EvaluationError, match="'a}b' are not valid"):
        ex.evaluate("format('{0}{0:a}}b}', 's')", {})


def test_format_argument_index_limit() -> None:
    args = ", ".join(["0"] * 254)
    assert ex.evaluate(f"format('{{253}}{{00007}}', {args})", {}) == "00"
    with pytest.raises(ex.EvaluationError, match="invalid"):
        ex.evaluate("format('{256}', 1)", {})


def test_join() -> None:
    contexts = {"items": ["a", 1, None, True, [2], {"k": 3}], "one": ["only"]}
    assert ex.evaluate("join(items)", contexts) == "a,1,,true,Array,Object"
    assert (
        ex.evaluate("join(items, ' | ')", contexts)
        == "a | 1 |  | true | Array | Object"
    )
    assert (
        ex.evaluate("join(items, fromJSON('{}'))", contexts) == "a,1,,true,Array,Object"
    )
    # The separator is evaluated only when there is something to separate.
    assert ex.evaluate(f"join(one, {BOOM})", contexts) == "only"
    assert ex.evaluate("join('text', '-')", contexts) == "text"
    assert ex.evaluate("join(fromJSON('{\"a\": 1}'))", contexts) == ""


def test_contains() -> None:
    contexts = {"labels": ["bug", "Help Wanted"], "obj": {"bug": 1}}
    assert ex.evaluate("contains(labels, 'help wanted')", contexts) is True
    assert ex.evaluate("contains(labels, 'help')", contexts) is False
    assert ex.evaluate("contains(obj, 'bug')", contexts) is False
    assert ex.evaluate("contains('Hello', 'ELL')", contexts) is True
    assert ex.evaluate("contains(12.5, '2.')", contexts) is True
    assert ex.evaluate("contains('Array', labels)", contexts) is False
    # The needle is not evaluated when the haystack cannot contain anything.
    assert ex.evaluate(f"contains(obj, {BOOM})", contexts) is False
    assert ex.evaluate(f"contains(fromJSON('[]'), {BOOM})", contexts) is False


def test_starts_and_ends_with_coerce_primitives() -> None:
    assert ex.evaluate("startsWith(1.5, 1)", {}) is True
    assert ex.evaluate("endsWith(null, '')", {}) is True
    assert ex.evaluate("startsWith(fromJSON('[]'), '')", {}) is False
    assert ex.evaluate(f"endsWith(fromJSON('{{}}'), {BOOM})", {}) is False


def test_case_evaluates_lazily() -> None:
    assert ex.evaluate(f"case(true, 1, {BOOM}, 2, 3)", {}) == 1
    assert ex.evaluate(f"case(false, {BOOM}, 'd')", {}) == "d"
    with pytest.raises(ex.EvaluationError, match="case predicate"):
        ex.evaluate("case(false, 1, 'true', 2, 3)", {})


def test_to_json_and_from_json() -> None:
    assert ex.evaluate("fromJSON(' [1, {\"a\": null}] ')", {}) == [1.0, {"a": None}]
    assert ex.evaluate("fromJSON('NaN') == fromJSON('NaN')", {}) is False
    assert ex.evaluate("fromJSON('\"x\"')", {}) == "x"
    assert ex.evaluate("toJSON('a''b')", {}) == '"a\'b"'
    with pytest.raises(ex.EvaluationError, match="line 1 column 3"):
        ex.evaluate("fromJSON('1 2')", {})


def test_memory_limit_stops_runaway_growth() -> None:
    # Each level multiplies the size by 10: without a limit, 10 ** 30 bytes.
    expression = "format('{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}', " * 30 + "'x'" + ")" * 30
    with pytest.raises(ex.EvaluationError) as info:
        ex.evaluate(expression, {})
    assert info.value.message.startswith(
        "The maximum allowed memory size was exceeded while evaluating the "
        "following expression: format("
    )
    big = "x" * (ex.MAX_MEMORY // 2 + 1)
    with pytest.raises(ex.EvaluationError, match="maximum allowed memory"):
        ex.evaluate("join(a, b)", {"a": [big, big], "b": ""})
    with pytest.raises(ex.EvaluationError, match="maximum allowed memory"):
        ex.evaluate("toJSON(a)", {"a": [big]})
    # Values from the contexts themselves do not count.
    assert ex.evaluate("a[0] == a[1]", {"a": [big, big]}) is True


def test_memory_is_counted_per_evaluation() -> None:
    size = ex.MAX_MEMORY // 6
    compiled = ex.compile("format('{0}', a) != format('{0}', a)", names=["a"])
    assert compiled.evaluate({"a": "x" * size}) is False
    assert compiled.evaluate({"a": "x" * size}) is False
    triple = ex.compile(
        "format('{0}', a) != format('{0}', a) || format('{0}', a)", names=["a"]
    )
    with pytest.raises(ex.EvaluationError, match="maximum allowed memory"):
        triple.evaluate({"a": "x" * size})


# --- hashFiles ---------------------------------------------------------------------------


def _expected(*files: Path) -> str:
    if not files:
        return ""
    digests = b"".join(
        hashlib.sha256(path.read_bytes()).digest()
        for path in sorted(files, key=lambda p: str(p))
    )
    return hashlib.sha256(digests).hexdigest()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    for name, text in {
        "a.txt": "a",
        "src/b.txt": "b",
        "src/sub/c.md": "c",
        ".hidden/h.txt": "h",
        "x[1].txt": "bracket",
    }.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "outside.txt").write_text("o")
    return root


def hash_files(workspace: Path, *patterns: str) -> object:
    arguments = ", ".join("'" + p.replace("'", "''") + "'" for p in patterns)
    return ex.evaluate(
        f"hashFiles({arguments})", {"github": {"workspace": str(workspace)}}
    )


def test_hash_files_globs(workspace: Path) -> None:
    w = workspace
    assert hash_files(w, "**/*.txt") == _expected(
        w / "a.txt", w / "src/b.txt", w / ".hidden/h.txt", w / "x[1].txt"
    )
    assert hash_files(w, "*.txt") == _expected(w / "a.txt", w / "x[1].txt")
    assert hash_files(w, "src/*/*.md", "a.?xt") == _expected(
        w / "src/sub/c.md", w / "a.txt"
    )
    assert hash_files(w, "x[[]1].txt") == _expected(w / "x[1].txt")
    assert hash_files(w, "[!a].txt") == ""
    assert hash_files(w, "./src/../a.txt") == _expected(w / "a.txt")
    assert hash_files(w, str(w / "src" / "b.txt")) == _expected(w / "src/b.txt")


def test_hash_files_directories_and_negation(workspace: Path) -> None:
    w = workspace
    everything_in_src = _expected(w / "src/b.txt", w / "src/sub/c.md")
    assert hash_files(w, "src") == everything_in_src
    assert hash_files(w, "src/") == everything_in_src
    assert hash_files(w, "src/b.txt/") == ""  # a trailing "/" wants directories
    assert hash_files(w, "src", "!src/sub") == _expected(w / "src/b.txt")
    assert hash_files(w, "**", "!**/*.txt", "a.txt") == _expected(
        w / "src/sub/c.md", w / "a.txt"
    )
    assert hash_files(w, "# comment\nsrc/b.txt\n\n") == _expected(w / "src/b.txt")
    assert hash_files(w, "!!a.txt") == _expected(w / "a.txt")


def test_hash_files_stays_inside_the_workspace(workspace: Path) -> None:
    assert hash_files(workspace, "../outside.txt") == ""
    assert hash_files(workspace, "../**") == hash_files(workspace, "**")
    assert hash_files(workspace, "nothing/**") == ""


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_hash_files_symbolic_links(workspace: Path) -> None:
    outside = workspace.parent / "outside.txt"
    (workspace / "out.txt").symlink_to(outside)
    (workspace / "in.txt").symlink_to(workspace / "a.txt")
    (workspace / "dir").symlink_to(workspace.parent, target_is_directory=True)
    assert hash_files(workspace, "*.txt") == _expected(
        workspace / "a.txt", workspace / "in.txt", workspace / "x[1].txt"
    )
    assert hash_files(workspace, "dir/**") == ""


def test_hash_files_defaults_to_the_current_directory(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workspace)
    assert ex.evaluate("hashFiles('src/**')", {}) == hash_files(workspace, "src/**")


def test_hash_files_invalid_pattern(workspace: Path) -> None:
    with pytest.raises(ex.EvaluationError, match="invalid pattern"):
        hash_files(workspace, "[z-a]")
