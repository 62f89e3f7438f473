"""File-command and workflow-command parsing (rules §12), without processes."""

from __future__ import annotations

import pytest

from trio_steps._shell._commands import (
    FileCommandError,
    parse_key_values,
    parse_path_file,
    parse_workflow_command,
    unescape_data,
    unescape_property,
)


def parse(data: bytes, file: str = "GITHUB_OUTPUT") -> list[tuple[str, str]]:
    return list(parse_key_values(data, file))


def test_key_value_lines_and_empty_lines_spec_12() -> None:
    data = b"a=1\n\nb=x=y\r\nc=\n"
    assert parse(data) == [("a", "1"), ("b", "x=y"), ("c", "")]


def test_heredoc_keeps_inner_lines_and_empty_lines_spec_12() -> None:
    data = b"multi<<EOF\nline 1\n\nline=3\nEOF\nafter=yes\n"
    assert parse(data) == [("multi", "line 1\n\nline=3"), ("after", "yes")]


def test_heredoc_closed_on_last_line_without_newline_spec_12() -> None:
    assert parse(b"x<<END\nv\nEND") == [("x", "v")]


def test_empty_heredoc_value_spec_12() -> None:
    assert parse(b"x<<END\nEND\n") == [("x", "")]


def test_first_of_equals_and_heredoc_decides_the_form_spec_12() -> None:
    # '=' first: a plain value that happens to contain '<<'.
    assert parse(b"a=b<<c\n") == [("a", "b<<c")]
    # '<<' first: the delimiter may contain '='.
    assert parse(b"a<<E=F\nv\nE=F\n") == [("a", "v")]


def test_duplicate_names_are_yielded_in_order_spec_12() -> None:
    assert parse(b"a=1\na=2\n") == [("a", "1"), ("a", "2")]


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"ok=1\njunk\n", 2, "expected 'name=value'"),
        (b"=value\n", 1, "empty name before '='"),
        (b"<<EOF\nx\nEOF\n", 1, "empty name before '<<'"),
        (b"name<<\n", 1, "empty delimiter"),
        (b"a=1\nname<<EOF\nx\ny\n", 2, "never closed"),
        (b"a=1\n\nb=\xff\xfe\x00\n", 3, "not valid UTF-8"),
        (b"a=1\nb=x\x00y\n", 2, "NUL"),
        (b"h<<E\nval\xc3\n", 2, "not valid UTF-8"),
    ],
)
def test_malformed_file_names_file_and_line_spec_12(
    data: bytes, line: int, reason: str
) -> None:
    with pytest.raises(FileCommandError) as info:
        parse(data, "GITHUB_ENV")
    assert info.value.file == "GITHUB_ENV"
    assert info.value.line == line
    assert reason in info.value.reason
    assert str(info.value).startswith(f"GITHUB_ENV line {line}: ")


def test_pairs_before_a_bad_line_are_yielded_first_spec_12() -> None:
    got: list[tuple[str, str]] = []
    with pytest.raises(FileCommandError):
        got.extend(parse_key_values(b"a=1\nb=2\nbad\nc=3\n", "GITHUB_OUTPUT"))
    assert got == [("a", "1"), ("b", "2")]


def test_error_message_does_not_contain_the_line_spec_12() -> None:
    with pytest.raises(FileCommandError) as info:
        parse(b"supersecretvalue\n")
    assert "supersecretvalue" not in str(info.value)


def test_path_file_one_entry_per_line_spec_12() -> None:
    assert list(parse_path_file(b"/a\n\n/b c\r\n/d")) == ["/a", "/b c", "/d"]
    with pytest.raises(FileCommandError) as info:
        list(parse_path_file(b"/a\n/\xff\n"))
    assert (info.value.file, info.value.line) == ("GITHUB_PATH", 2)


def test_unescape_data_and_properties_spec_12() -> None:
    assert unescape_data("a%0Ab%0Dc%25d%3A") == "a\nb\rc%d%3A"
    assert unescape_data("%250A") == "%0A"  # one pass, not repeated
    assert unescape_property("x%3Ay%2Cz%25") == "x:y,z%"


def test_parse_workflow_command_with_properties_spec_12() -> None:
    cmd = parse_workflow_command(
        "  ::error file=a%2Cb.py,line=3,title=T%3A1,empty=,=x::bad%0Athing"
    )
    assert cmd is not None
    assert cmd.name == "error"
    assert dict(cmd.properties) == {"file": "a,b.py", "line": "3", "title": "T:1"}
    assert cmd.data == "bad\nthing"


@pytest.mark.parametrize(
    "line",
    ["hello", ":: not", "::warning no end", "::unknown::x", "x ::warning::y", "::"],
)
def test_non_commands_spec_12(line: str) -> None:
    assert parse_workflow_command(line) is None


def test_command_without_data_and_custom_names_spec_12() -> None:
    cmd = parse_workflow_command("::endgroup::")
    assert cmd is not None
    assert (cmd.name, cmd.data) == ("endgroup", "")
    assert parse_workflow_command("::tok123::", frozenset({"tok123"})) is not None
    assert parse_workflow_command("::warning::x", frozenset({"tok123"})) is None
