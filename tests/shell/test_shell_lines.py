"""Splitting a byte stream into log lines (rules §12)."""

from __future__ import annotations

from trio_steps._shell._execution import MAX_LINE_CHARS, LineSplitter


def split(chunks: list[bytes], max_chars: int = MAX_LINE_CHARS) -> list[str]:
    lines: list[str] = []
    splitter = LineSplitter(lines.append, max_chars)
    for chunk in chunks:
        splitter.feed(chunk)
    splitter.close()
    return lines


def test_lines_and_last_line_without_newline_spec_12() -> None:
    assert split([b"a\nb\n", b"c"]) == ["a", "b", "c"]
    assert split([b"a\n"]) == ["a"]
    assert split([b"\n\n"]) == ["", ""]
    assert split([]) == []


def test_crlf_split_across_chunks_is_one_terminator_spec_12() -> None:
    assert split([b"a\r", b"\nb\r\n"]) == ["a", "b"]
    assert split([b"a\r", b"b"]) == ["a", "b"]  # lone CR ends a line
    assert split([b"a\r"]) == ["a"]


def test_lines_are_emitted_as_soon_as_complete_spec_12() -> None:
    lines: list[str] = []
    splitter = LineSplitter(lines.append)
    splitter.feed(b"one\ntw")
    assert lines == ["one"]
    splitter.feed(b"o\n")
    assert lines == ["one", "two"]


def test_utf8_sequence_split_across_chunks_spec_12() -> None:
    data = "é€😀\n".encode()
    assert split([data[i : i + 1] for i in range(len(data))]) == ["é€😀"]


def test_invalid_utf8_is_replaced_not_fatal_spec_12() -> None:
    assert split([b"a\xff\xfeb\n", b"\xc3"]) == ["a\ufffd\ufffdb", "\ufffd"]


def test_long_lines_are_split_at_the_bound_spec_12() -> None:
    assert split([b"x" * 10 + b"\n"], max_chars=4) == ["xxxx", "xxxx", "xx"]
    # A long line arriving in small chunks is not buffered whole.
    lines: list[str] = []
    splitter = LineSplitter(lines.append, 4)
    for _ in range(5):
        splitter.feed(b"yy")
    assert lines == ["yyyy", "yyyy"]
    splitter.feed(b"\n")
    assert lines == ["yyyy", "yyyy", "yy"]


def test_default_bound_is_64_kib_of_characters_spec_12() -> None:
    lines = split([b"z" * (MAX_LINE_CHARS + 1) + b"\n"])
    assert [len(line) for line in lines] == [MAX_LINE_CHARS, 1]
