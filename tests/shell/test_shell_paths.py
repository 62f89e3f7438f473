"""Both ways of watching a step's process behave alike.

Where the kernel allows it, a step is first watched by its own task with a
private epoll instance; when that cannot finish the step (a cancel, an
escaped process still holding a pipe, leftovers in the group), pump tasks
take over, keeping the partial lines read so far. Without epoll or a pidfd,
the pump tasks do it all. Each scenario runs both ways.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import trio

from trio_steps._context import StepFailed
from trio_steps._shell import _execution, _process

from .shell_helpers import ShellRunner


@pytest.fixture(params=["poller", "pumps"])
def either(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, shell: ShellRunner
) -> ShellRunner:
    """The ``shell`` runner, with the private poller first or pump tasks only."""
    if request.param == "poller" and not _process._FAST_PATH:
        pytest.skip("no epoll here")
    monkeypatch.setattr(_process, "_FAST_PATH", request.param == "poller")
    return shell


async def test_output_both_streams_and_files(either: ShellRunner) -> None:
    result = await either(
        'for i in $(seq 1 3000); do echo "line $i of stdout, padded ........."; done\n'
        "echo err1 >&2\n"
        "printf 'no newline'\n"
        "printf 'err2' >&2\n"
        'echo "k=v" >> "$GITHUB_OUTPUT"\n'
        'echo "/opt/x" >> "$GITHUB_PATH"\n'
    )
    assert result.error is None
    out = result.sink.stream("stdout")
    assert len(out) == 3001
    assert out[0] == "line 1 of stdout, padded ........."
    assert out[-1] == "no newline"
    assert result.sink.stream("stderr") == ["err1", "err2"]
    assert result.run.outputs == {"k": "v"}
    assert result.run.path_added == ["/opt/x"]


async def test_failure_exit_code(either: ShellRunner) -> None:
    result = await either("echo oops >&2\nexit 3\n")
    assert isinstance(result.error, StepFailed)
    assert result.error.exit_code == 3
    assert result.sink.stream("stderr") == ["oops"]


async def test_partial_line_completed_after_exit(
    either: ShellRunner, tmp_path: Path
) -> None:
    ready = tmp_path / "escaped"
    # The escaped process ends the line the main process began; the pipe is
    # read to its end after the main process has exited.
    result = await either(
        "printf 'abc'\n"
        f"setsid sh -c 'touch {ready}; sleep 0.3; echo def' &\n"
        f"while [ ! -e {ready} ]; do sleep 0.01; done\n",
        limit=10,
    )
    assert result.error is None
    assert result.sink.stream("stdout") == ["abcdef"]
    assert result.sink.signals() == []
    assert result.elapsed < _execution.DRAIN_TIMEOUT


async def test_leftovers_killed(either: ShellRunner) -> None:
    result = await either("sleep 30 &\necho started\n", limit=10)
    assert result.error is None
    assert result.sink.stream("stdout") == ["started"]
    assert result.elapsed < 5


async def test_cancel_while_running(either: ShellRunner) -> None:
    result = await either(
        "echo before\nsleep 30\necho never\n", cancel_after=0.3, limit=10
    )
    assert isinstance(result.error, trio.Cancelled)
    assert result.sink.stream("stdout") == ["before"]
    assert result.sink.signals() == ["SIGINT"]


async def test_partial_line_of_an_escaped_process_kept_at_drain_timeout(
    either: ShellRunner, tmp_path: Path
) -> None:
    ready = tmp_path / "escaped"
    result = await either(
        f"setsid sh -c 'printf xyz; touch {ready}; exec sleep 30' &\n"
        "echo $!\n"
        f"while [ ! -e {ready} ]; do sleep 0.01; done\n",
        limit=10,
    )
    escaped = int(result.sink.stream("stdout")[0])
    try:
        assert result.error is None
        assert result.sink.stream("stdout") == [str(escaped), "xyz"]
        assert result.sink.signals() == []
        assert _execution.DRAIN_TIMEOUT <= result.elapsed < _execution.DRAIN_TIMEOUT + 2
    finally:
        os.killpg(escaped, signal.SIGKILL)
