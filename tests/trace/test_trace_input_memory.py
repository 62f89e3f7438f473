"""Refusing a trace costs no memory (issue 12, item 9).

``trio-steps stats`` on ``/dev/zero`` or on a sparse file over the limit
peaked at 274 MB: the loader read everything up to the 256 MiB limit before
it looked. Each load runs in a fresh interpreter, whose peak resident size
(``VmHWM``, reset by ``exec``) is then the loader's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trio_steps._trace import _load
from trio_steps._trace._json import TraceError
from trio_steps._trace._load import MAX_TRACE_BYTES, load_trace

#: Far below the limit, far above an interpreter that imported the loader.
PEAK_LIMIT_MB = 120

_PROBE = """
import json, re, sys
from trio_steps import load_trace, TraceError
try:
    load_trace(sys.argv[1])
    message = None
except TraceError as error:
    message = error.message
status = open("/proc/self/status").read()
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status)[1]) / 1024
print(json.dumps({"message": message, "peak_mb": peak}))
"""


def _probe(
    path: Path | str, pass_fds: tuple[int, ...] = ()
) -> tuple[str | None, float]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        pass_fds=pass_fds,
    )
    value = json.loads(result.stdout)
    return value["message"], value["peak_mb"]


def test_a_sparse_file_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as file:
        file.write(b"\n")
        file.truncate(MAX_TRACE_BYTES + 1)
    message, peak = _probe(path)
    assert message is not None and message.startswith("larger than 268,435,456")
    assert peak < PEAK_LIMIT_MB


def test_dev_zero_is_refused_at_its_first_chunk() -> None:
    message, peak = _probe("/dev/zero")
    assert message == "binary data (a NUL byte): not a trace file"
    assert peak < PEAK_LIMIT_MB


def test_an_endless_pipe_of_text_stops_at_its_first_line() -> None:
    """A first line no trace starts with: nothing more is read."""
    read, write = os.pipe()
    # 'yes' writes "y\n" for ever; it ends on EPIPE once every reader is gone.
    writer = subprocess.Popen(["yes"], stdout=write, stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        message, peak = _probe(f"/proc/self/fd/{read}", pass_fds=(read,))
    finally:
        os.close(read)
        writer.kill()
        writer.wait()
    assert message is not None and message.startswith("not JSON")
    assert peak < PEAK_LIMIT_MB


def test_a_nul_byte_later_in_a_trace_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "nul.jsonl"
    path.write_bytes(b'{"type": "header"}\n' * 3 + b"x\0y\n")
    with pytest.raises(TraceError) as info:
        load_trace(path)
    assert (info.value.line, info.value.message) == (
        4,
        "binary data (a NUL byte): not a trace file",
    )


def test_a_limit_crossed_while_reading_a_pipe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No size is known up front: reading stops at the limit.

    A first line that opens a JSON object may begin a Chrome trace, which is
    one document: it is read on, but never past the limit.
    """
    monkeypatch.setattr(_load, "MAX_TRACE_BYTES", 4096)
    monkeypatch.setattr(_load, "_CHUNK_BYTES", 1000)
    read, write = os.pipe()
    writer = subprocess.Popen(["yes", "{"], stdout=write, stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        with pytest.raises(TraceError) as info:
            load_trace(f"/proc/self/fd/{read}")
    finally:
        os.close(read)
        writer.kill()
        writer.wait()
    assert info.value.message.startswith("larger than 4,096 bytes")
