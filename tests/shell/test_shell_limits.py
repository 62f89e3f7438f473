"""File-command files are size-checked before they are read (issue 12, item 19).

A file larger than its limit (``FILE_COMMAND_LIMIT`` for ``GITHUB_OUTPUT``,
``GITHUB_ENV``, ``GITHUB_STATE`` and ``GITHUB_PATH``; ``SUMMARY_LIMIT`` for
``GITHUB_STEP_SUMMARY``) fails its step with a message naming the file and
the limit, and is not read: never more than ``limit + 1`` bytes of it are
read, whatever it is (a sparse file, ``/dev/zero``, a file that grows).
The bytes read are counted, not timed.
"""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest
import trio

import trio_steps as ts
from trio_steps._context import StepFailed
from trio_steps._shell import _workspace
from trio_steps._shell._commands import parse_key_values

from .shell_helpers import ShellRunner

GIB = 1 << 30
LIMIT = _workspace.FILE_COMMAND_LIMIT


def _proc_read_bytes() -> int:
    """Bytes this process has read with read(2) and friends (/proc/self/io)."""
    with open("/proc/self/io") as io:
        for line in io:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


class _CountingRead:
    """``os.read`` that counts the bytes it returned (synchronous tests only)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.total = 0
        self._read = os.read
        monkeypatch.setattr(os, "read", self)

    def __call__(self, fd: int, n: int) -> bytes:
        data = self._read(fd, n)
        self.total += len(data)
        return data


def _read(path: Path, limit: int) -> bytes:
    return _workspace._StepFiles.read(str(path), "GITHUB_OUTPUT", limit)


def test_a_sparse_file_over_the_limit_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sparse = tmp_path / "output"
    with open(sparse, "wb") as f:
        f.truncate(2 * GIB)
    reads = _CountingRead(monkeypatch)
    with pytest.raises(_workspace._TooLarge) as info:
        _read(sparse, LIMIT)
    assert reads.total == 0
    assert str(info.value) == (
        f"GITHUB_OUTPUT is {2 * GIB} bytes, more than the 4 MiB a step may "
        "write to it; it was not read"
    )


def test_at_the_limit_is_read_one_more_byte_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "output"
    file.write_bytes(b"a=" + b"x" * 998)
    assert _read(file, 1000) == b"a=" + b"x" * 998
    file.write_bytes(b"a=" + b"x" * 999)
    reads = _CountingRead(monkeypatch)
    with pytest.raises(
        _workspace._TooLarge, match="is 1001 bytes, more than the 1000 bytes"
    ):
        _read(file, 1000)
    assert reads.total == 0


def test_a_file_that_grows_while_it_is_read_stops_at_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fstat said it was small; by the time it is read it is 8 MiB."""
    file = tmp_path / "output"
    file.write_bytes(b"x" * (8 << 20))
    real_fstat = os.fstat

    def small_fstat(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        fields = list(info)
        fields[6] = 10  # st_size when it was looked at
        return os.stat_result(fields)

    monkeypatch.setattr(os, "fstat", small_fstat)
    reads = _CountingRead(monkeypatch)
    with pytest.raises(_workspace._TooLarge, match="GITHUB_OUTPUT holds more than"):
        _read(file, 1 << 20)
    assert reads.total == (1 << 20) + 1


def test_dev_zero_and_a_fifo_are_read_up_to_the_limit_without_blocking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    zero = tmp_path / "zero"
    zero.symlink_to("/dev/zero")
    reads = _CountingRead(monkeypatch)
    with pytest.raises(_workspace._TooLarge):
        _read(zero, 1 << 20)
    assert reads.total == (1 << 20) + 1
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert _read(fifo, 1 << 20) == b""  # no writer: neither open nor read blocks
    null = tmp_path / "null"
    null.symlink_to("/dev/null")
    assert _read(null, 1 << 20) == b""
    assert _read(tmp_path / "deleted", 1 << 20) == b""


def test_parsing_keeps_no_list_of_lines() -> None:
    """Many short lines: the parser's peak is a small part of the file's size."""
    data = b"k=v\n" * (1 << 18)  # 1 MiB, 262,144 lines
    tracemalloc.start()
    try:
        for _ in parse_key_values(data, "GITHUB_OUTPUT"):
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < len(data) // 8


@pytest.mark.parametrize(
    ("file", "variable", "size", "limit"),
    [
        ("GITHUB_STEP_SUMMARY", "GITHUB_STEP_SUMMARY", 2 * GIB, "1 MiB"),
        ("GITHUB_OUTPUT", "GITHUB_OUTPUT", GIB, "4 MiB"),
        ("GITHUB_ENV", "GITHUB_ENV", LIMIT + 1, "4 MiB"),
        ("GITHUB_PATH", "GITHUB_PATH", GIB, "4 MiB"),
        ("GITHUB_STATE", "GITHUB_STATE", GIB, "4 MiB"),
    ],
)
async def test_a_huge_file_fails_its_step_and_nothing_more(
    shell: ShellRunner, file: str, variable: str, size: int, limit: str
) -> None:
    before = _proc_read_bytes()
    result = await shell(
        'echo "kept=yes" >> "$GITHUB_ENV"; echo "out=1" >> "$GITHUB_OUTPUT"\n'
        f'truncate -s {size} "${variable}"'
    )
    read = _proc_read_bytes() - before
    assert read < 16 << 20  # the file was not read (it is sparse)
    assert isinstance(result.error, StepFailed)
    message = str(result.error)
    assert message.startswith(f"{file} is {size} bytes, more than the {limit} ")
    assert ("error", message) in result.run.annotations
    # the other files are applied as usual
    if file != "GITHUB_ENV":
        assert result.run.env_changes == {"kept": "yes"}
    if file != "GITHUB_OUTPUT":
        assert result.run.outputs == {"out": "1"}
    assert result.run.summary is None


async def test_through_the_engine_only_that_step_fails(tmp_path: Path) -> None:
    job = ts.Job(
        [
            ts.Step('truncate -s 2G "$GITHUB_STEP_SUMMARY"', id="big"),
            ts.Step("echo next", id="next", condition="always()"),
        ],
        workspace=str(tmp_path),
    )
    with trio.fail_after(30):
        report = await ts.run_job(job)
    big = report.steps["big"]
    assert big.outcome is ts.Result.FAILED
    assert big.error == (
        "GITHUB_STEP_SUMMARY is 2147483648 bytes, more than the 1 MiB a step "
        "may write to it; it was not read"
    )
    assert report.steps["next"].outcome is ts.Result.SUCCEEDED
    assert report.result is ts.Result.FAILED
