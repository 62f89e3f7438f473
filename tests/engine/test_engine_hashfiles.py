"""hashFiles() runs off the event loop, and stops when the job does (issue 12,
item 15): a huge workspace must not hold up Ctrl-C, a hard stop or the job
timeout, nor leave its thread running.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
import trio.testing

import trio_steps as ts
from trio_steps.expressions import _hashfiles

from .engine_helpers import work


class EndlessTree:
    """Stands in for a workspace walk that never ends."""

    def __init__(self) -> None:
        self.files = 0
        self.in_loop_thread = False
        self.closed = threading.Event()
        self.loop_thread: threading.Thread | None = None

    def walk(
        self, start: tuple[str, ...] | None, root: tuple[str, ...]
    ) -> Iterator[tuple[str, ...]]:
        try:
            while self.files < 1_000_000:  # never told to stop: fail, not hang
                if threading.current_thread() is self.loop_thread:
                    self.in_loop_thread = True
                    raise RuntimeError("hashFiles() walked in the event loop")
                self.files += 1
                yield (*root, f"file{self.files}")
            raise RuntimeError("hashFiles() was never told to stop")
        finally:
            self.closed.set()


@pytest.fixture
def endless(monkeypatch: pytest.MonkeyPatch) -> EndlessTree:
    tree = EndlessTree()
    tree.loop_thread = threading.current_thread()
    monkeypatch.setattr(_hashfiles, "_files_under", tree.walk)
    return tree


async def test_the_job_timeout_interrupts_hash_files_in_a_condition(
    autojump_clock: trio.testing.MockClock, endless: EndlessTree
) -> None:
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work(1), id="a"),
                ts.Step(work(1), id="h", condition="hashFiles('**') != ''"),
                ts.Step(work(1), id="after", condition="always()"),
            ],
            timeout=5,
        )
    )
    # R6.1 at 5: the condition is evaluated again under the new status;
    # success() && … is false without hashing.
    assert report.result is ts.Result.CANCELED
    assert report.steps["h"].conclusion is ts.Result.SKIPPED
    assert report.steps["after"].started_at == 5
    assert report.steps["after"].conclusion is ts.Result.SUCCEEDED
    assert endless.closed.is_set()  # the thread stopped before run() returned
    assert not endless.in_loop_thread


async def test_a_hard_stop_interrupts_hash_files_in_a_step_field(
    autojump_clock: trio.testing.MockClock, endless: EndlessTree
) -> None:
    runner = ts.JobRunner(
        ts.Job([ts.Step(work(1), id="h", name="${{ hashFiles('**') }}")])
    )
    with trio.move_on_after(3) as scope:
        await runner.run()
    assert scope.cancelled_caught
    assert trio.current_time() == 3
    assert runner.report.result is ts.Result.CANCELED
    assert runner.report.steps["h"].started_at is None
    assert endless.closed.is_set()
    assert not endless.in_loop_thread


async def test_hash_files_in_job_env_is_interruptible(
    autojump_clock: trio.testing.MockClock, endless: EndlessTree
) -> None:
    job = ts.Job([ts.Step(work(1), id="s")], env={"H": "${{ hashFiles('**') }}"})
    with trio.move_on_after(2) as scope:
        await ts.run_job(job)
    assert scope.cancelled_caught
    assert endless.closed.is_set()


async def test_hash_files_results_and_errors_reach_the_step(
    autojump_clock: trio.testing.MockClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "a.txt").write_text("a")
    monkeypatch.chdir(tmp_path)
    expected = hashlib.sha256(hashlib.sha256(b"a").digest()).hexdigest()
    seen: dict[str, str] = {}

    async def show(ctx: ts.StepContext) -> None:
        seen["name"] = ctx.name

    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(
                    show,
                    id="ok",
                    # Two calls in one expression, one depending on the other.
                    condition=(
                        "hashFiles(hashFiles('a.txt') != '' && 'a.txt' || 'x') "
                        f"== '{expected}'"
                    ),
                    name="h=${{ hashFiles('a.txt') }}",
                ),
                ts.Step(work(1), id="bad", condition="hashFiles('[z-a]') == ''"),
            ],
            workspace=str(tmp_path),
        )
    )
    assert report.steps["ok"].conclusion is ts.Result.SUCCEEDED
    assert seen["name"] == f"h={expected}"
    assert report.steps["bad"].conclusion is ts.Result.FAILED
    assert "bad character range" in (report.steps["bad"].error or "")
