"""Hostile workflow input: a typed error at a position, never a crash (issue 12).

Rules cited: rules §13 (workflow files), §7 (validation); the limits are in
``docs/source/limits.rst``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trio_steps._workflow._loader import MAX_YAML_DEPTH
from trio_steps._workflow._nodes import Problem, WorkflowError
from trio_steps._workflow._read import MAX_WORKFLOW_BYTES, load_workflow, read_workflow

GOOD = "on: push\njobs:\n  j:\n    steps:\n      - run: echo hi\n"


def _problems(source: str | os.PathLike[str]) -> list[Problem]:
    with pytest.raises(WorkflowError) as info:
        read_workflow(source)
    return list(info.value.problems)


@pytest.mark.parametrize(
    ("text", "column"),
    [
        pytest.param("a: " + "[" * 300 + "]" * 300, 4 + MAX_YAML_DEPTH - 1, id="lists"),
        pytest.param("a: " + "[" * 3000, 4 + MAX_YAML_DEPTH - 1, id="unclosed"),
        pytest.param("{x: " * 3000, 1 + 4 * MAX_YAML_DEPTH, id="mappings"),
        pytest.param("- " * 3000 + "x", 1 + 2 * MAX_YAML_DEPTH, id="block"),
    ],
)
def test_deep_nesting_is_a_workflow_error(text: str, column: int) -> None:
    """Item 7: ruamel recursed once per level and raised RecursionError."""
    problems = _problems(text)
    assert len(problems) == 1
    assert (problems[0].line, problems[0].column) == (1, column)
    assert f"deeper than {MAX_YAML_DEPTH} levels" in problems[0].message


def test_nesting_up_to_the_limit_is_read() -> None:
    # The root mapping is one level: MAX_YAML_DEPTH - 1 lists fit inside it.
    fits = f"{GOOD}x: {'[' * (MAX_YAML_DEPTH - 1)}{']' * (MAX_YAML_DEPTH - 1)}\n"
    assert "unknown key 'x'" in _problems(fits)[0].message
    deeper = f"{GOOD}x: {'[' * MAX_YAML_DEPTH}{']' * MAX_YAML_DEPTH}\n"
    [problem] = _problems(deeper)
    assert (problem.line, problem.column) == (6, 4 + MAX_YAML_DEPTH - 1)
    assert "nest deeper" in problem.message


def test_deep_nesting_in_a_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "deep.yml"
    path.write_text(GOOD + "x: " + "[" * 500 + "]" * 500 + "\n")
    with pytest.raises(WorkflowError) as info:
        load_workflow(path)
    assert str(info.value).startswith(f"{path}:6:{4 + MAX_YAML_DEPTH - 1}: ")


def test_endless_input_is_cut_at_the_size_limit() -> None:
    """Item 9: /dev/zero was read without end."""
    [problem] = _problems(Path("/dev/zero"))
    assert (problem.file, problem.line, problem.column) == ("/dev/zero", 1, 1)
    assert f"larger than {MAX_WORKFLOW_BYTES:,} bytes" in problem.message


def test_a_file_one_byte_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yml"
    padding = "#" * (MAX_WORKFLOW_BYTES - len(GOOD) - 1) + "\n"
    path.write_text(GOOD + padding)
    assert os.path.getsize(path) == MAX_WORKFLOW_BYTES
    assert read_workflow(path).job_ids == ("j",)
    with path.open("a") as file:
        file.write("#")
    [problem] = _problems(path)
    assert "larger than" in problem.message


def test_text_over_the_limit_is_refused() -> None:
    [problem] = _problems(GOOD + "#" * MAX_WORKFLOW_BYTES)
    assert problem.file == "<string>"
    assert "larger than" in problem.message


def test_not_utf8_gives_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yml"
    path.write_bytes(GOOD.encode() + b"# caf\xe9\n")
    [problem] = _problems(path)
    assert (problem.line, problem.column) == (6, 6)
    assert "not UTF-8" in problem.message


def test_utf16_is_named(tmp_path: Path) -> None:
    path = tmp_path / "utf16.yml"
    path.write_bytes(GOOD.encode("utf-16"))
    [problem] = _problems(path)
    assert "UTF-16" in problem.message


def test_utf8_bom_and_crlf_are_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.yml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())
    assert read_workflow(path).job_ids == ("j",)
    path.write_bytes(
        (GOOD + "      - run: echo ${{ nope( }}\n").replace("\n", "\r\n").encode()
    )
    [problem] = _problems(path)
    assert (problem.line, problem.column) == (6, 23)


def test_binary_input_gives_a_position() -> None:
    """A control character: ruamel's ReaderError has no mark; it said 1:1."""
    [problem] = _problems(GOOD + "      - run: echo \x00\n")
    assert (problem.line, problem.column) == (6, 19)
    assert "U+0000" in problem.message


@pytest.mark.parametrize("separator", ["\x85", "\u2028", "\u2029"])
def test_unicode_line_separators_do_not_shift_positions(separator: str) -> None:
    """YAML 1.2 ends lines only at line feeds; positions were off by a line."""
    text = (
        f"on: push\nname: a {separator} b\n"
        "jobs:\n  j:\n    steps:\n"
        "      - run: echo ${{ 1 }}\n"
        "      - run: echo ${{ nope( }}\n"
    )
    [problem] = _problems(text)
    assert (problem.line, problem.column) == (7, 23)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param("9" * 5000, "4300 digits", id="huge-int"),
        pytest.param("!!timestamp 2001-13-45", "month must be", id="timestamp"),
        pytest.param("!!float abc", "could not convert", id="float"),
    ],
)
def test_values_ruamel_cannot_convert_are_workflow_errors(
    value: str, fragment: str
) -> None:
    text = f"on: push\njobs:\n  j:\n    timeout-minutes: {value}\n    steps:\n"
    [problem] = _problems(text + "      - run: echo\n")
    assert (problem.line, problem.column) == (4, 22)
    assert fragment in problem.message
    assert "set_int_max_str_digits" not in problem.message


def test_directories_and_symlink_loops(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path)
    assert "directory" in problem.message
    loop = tmp_path / "loop.yml"
    loop.symlink_to(loop)
    [problem] = _problems(loop)
    assert problem.message.startswith("cannot read the file: Too many levels")


def test_a_fifo_without_a_writer_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yml"
    os.mkfifo(fifo)
    [problem] = _problems(fifo)
    assert "empty" in problem.message
