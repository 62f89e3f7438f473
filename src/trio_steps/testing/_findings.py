"""Hangs and crashes as findings: running a job with deadlines.

A job whose engine run never returns (a step that shields itself forever,
say) or raises must not hang a fuzzing campaign or end it with a raw
traceback: it is a finding like a disagreement, which Hypothesis shrinks to a
minimal job. :func:`run_guarded` runs :func:`trio.run` in a helper thread,
with a deadline on MockClock time (a job that keeps going in virtual time)
and one on wall time (a job that blocks without a deadline, or spins).
"""

from __future__ import annotations

import queue
import threading
import traceback
from collections.abc import Awaitable, Callable
from typing import Final, Literal

import trio
import trio.testing

__all__ = [
    "DEFAULT_MOCK_DEADLINE",
    "DEFAULT_WALL_DEADLINE",
    "EngineCrash",
    "Finding",
    "JobHangs",
    "run_guarded",
]

#: Virtual seconds after which a job on the MockClock counts as hung: far
#: beyond any generated job (whose times are a few seconds each).
DEFAULT_MOCK_DEADLINE: Final = 3600.0
#: Real seconds after which a job counts as hung.
DEFAULT_WALL_DEADLINE: Final = 10.0


class Finding(AssertionError):
    """A job on which the engine does something it must not: a fuzzing finding.

    A subclass of :class:`AssertionError`, so property tests and
    :func:`hypothesis.find` treat it as a failure and shrink the job.

    Attributes:
        kind: ``"hang"`` or ``"crash"``.
    """

    kind: str = "finding"


class JobHangs(Finding):
    """The engine's run of the job did not return before a deadline.

    Attributes:
        clock: ``"mock"`` (the MockClock passed the deadline: the job kept
            going in virtual time, or waits for something that never comes)
            or ``"wall"`` (real time passed the deadline: the job blocks or
            spins without letting the clock move).
        seconds: The deadline that passed.
    """

    kind = "hang"

    def __init__(self, clock: Literal["mock", "wall"], seconds: float) -> None:
        self.clock = clock
        self.seconds = seconds
        where = "MockClock" if clock == "mock" else "wall-clock"
        super().__init__(
            f"job hangs: run_job did not return within {seconds:g} {where} seconds"
        )


class EngineCrash(Finding):
    """The engine raised instead of returning a report.

    Attributes:
        error: The exception the engine raised.
    """

    kind = "crash"

    def __init__(self, error: BaseException) -> None:
        self.error = error
        # The engine's task groups wrap one error in a group: name the error
        # in the message (``error`` keeps the group as it was raised).
        while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
            error = error.exceptions[0]
        frames = traceback.extract_tb(error.__traceback__)
        where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        super().__init__(
            f"engine crash: {type(error).__name__}: {error}{where}".rstrip()
        )


class _Run:
    """One job handed to the runner thread, and what became of it."""

    __slots__ = ("clock", "done", "error", "function", "hung", "result", "token")

    def __init__(self, function: Callable[[], object]) -> None:
        self.function = function
        self.done = threading.Event()
        self.result: object = None
        self.error: BaseException | None = None
        self.hung = False
        self.clock: trio.testing.MockClock | None = None
        self.token: trio.lowlevel.TrioToken | None = None


class _Runner:
    """A daemon thread that runs jobs one at a time.

    A thread whose job hung is left behind, frozen (its clock no longer
    jumps, so it waits without using the CPU), and a new one takes over; it
    ends with the process.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[_Run] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._serve, name="trio-steps-guarded-run", daemon=True
        )
        self._thread.start()

    def _serve(self) -> None:
        while True:
            run = self._jobs.get()
            try:
                run.result = run.function()
            except BaseException as exc:  # handed to the waiting thread
                run.error = exc
            run.done.set()
            if run.hung:
                return

    def submit(self, run: _Run) -> None:
        self._jobs.put(run)


_runner: _Runner | None = None
_runner_lock = threading.Lock()


def _current_runner() -> _Runner:
    global _runner
    with _runner_lock:
        if _runner is None:
            _runner = _Runner()
        return _runner


def _abandon_runner() -> None:
    global _runner
    with _runner_lock:
        _runner = None


def _freeze(run: _Run) -> None:
    """Stop the hung run's clock from jumping: it then waits without spinning."""
    if run.clock is not None:
        run.clock.autojump_threshold = float("inf")


def run_guarded(
    main: Callable[[], Awaitable[object]],
    *,
    mock_deadline: float = DEFAULT_MOCK_DEADLINE,
    wall_deadline: float = DEFAULT_WALL_DEADLINE,
) -> object:
    """Run ``trio.run(main)`` on an autojump MockClock, with deadlines.

    ``main`` is an async function; it runs in a helper thread, next to a
    watchdog task that fires after ``mock_deadline`` virtual seconds; the
    calling thread waits at most ``wall_deadline`` real seconds. A run that
    hangs is left behind in its thread with its clock frozen (it waits
    without using the CPU unless its code spins) until the process ends.

    Args:
        main: The async function to run.
        mock_deadline: Virtual seconds before the run counts as hung.
        wall_deadline: Real seconds before the run counts as hung.

    Returns:
        What ``main`` returned.

    Raises:
        JobHangs: A deadline passed first.
        BaseException: Whatever ``main`` raised.
    """
    run = _Run(lambda: None)
    clock = trio.testing.MockClock(autojump_threshold=0)

    async def watchdog() -> None:
        # A system task (cheaper than a nursery): cancelled when main returns.
        await trio.sleep(mock_deadline)
        run.hung = True
        _freeze(run)
        run.done.set()

    async def watched() -> object:
        run.token = trio.lowlevel.current_trio_token()
        trio.lowlevel.spawn_system_task(watchdog)
        return await main()

    run.clock = clock
    run.function = lambda: trio.run(watched, clock=clock)
    _current_runner().submit(run)
    finished = run.done.wait(wall_deadline)
    if run.hung or not finished:
        run.hung = True
        _abandon_runner()
        if not finished and run.token is not None:
            try:
                run.token.run_sync_soon(_freeze, run)
            except trio.RunFinishedError:
                pass
        if finished:
            raise JobHangs("mock", mock_deadline)
        raise JobHangs("wall", wall_deadline)
    if run.error is not None:
        raise run.error.with_traceback(run.error.__traceback__)
    return run.result
