"""Differential fuzzing outside pytest: engine vs. reference model, in campaigns."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Final, TextIO

import attrs
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import Flaky

from .._job import Job
from .._semantics import Semantics, coerce_semantics
from .._steps import Step
from ._findings import Finding
from ._invariants import check_job
from ._python import job_text
from ._strategies import jobs

__all__ = ["FuzzResult", "campaign", "describe", "fuzz"]

#: Where ``--workers`` campaigns keep their shared example database by default.
DEFAULT_DATABASE: Final = Path(".hypothesis") / "trio-steps-fuzz"
#: Seconds a stopped worker gets to send its summary before it is killed.
STOP_GRACE: Final = 30.0


class _TimeUp(BaseException):
    """Raised inside the Hypothesis test to end a run at its time budget.

    A :class:`BaseException`, so Hypothesis lets it through at once (no
    shrinking, nothing saved) instead of treating it as a failure.
    """


class _Stopped(BaseException):
    """Raised inside the Hypothesis test when the run was asked to stop (Ctrl-C)."""


@contextlib.contextmanager
def _ctrl_c_stops(stop: threading.Event) -> Iterator[None]:
    """The first Ctrl-C sets ``stop`` (the run ends after the current job, with
    its summary); a second one interrupts at once.

    A flag rather than :class:`KeyboardInterrupt`, which could land anywhere,
    even in a callback that swallows it. Only in the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@attrs.frozen(kw_only=True)
class FuzzResult:
    """What a fuzzing run or campaign found.

    Attributes:
        runs: How many jobs were run (generated and shrinking together).
        seconds: How long it took.
        failure: The message of the minimal failing job, if any.
        job: The minimal failing job, if any (``None`` from a campaign's
            workers: see ``job_code``).
        kind: What the failure is: ``"assertion"`` (a disagreement, a
            broken invariant, or your check's assertion), ``"hang"`` (:class:`JobHangs`), ``"crash"``
            (:class:`EngineCrash`), ``"flaky"`` (it failed once and passed
            when Hypothesis replayed it) or ``"error"`` (anything else
            raised).
        job_code: The minimal failing job as Python (or as a compact
            listing when it cannot be written as Python).
        interrupted: The run was ended early by Ctrl-C.
        workers: How many processes ran.
    """

    runs: int
    seconds: float
    failure: str | None = None
    job: Job | None = None
    kind: str | None = None
    job_code: str | None = None
    interrupted: bool = False
    workers: int = 1

    @property
    def rate(self) -> float:
        """Runs per second."""
        return self.runs / self.seconds if self.seconds > 0 else 0.0

    @property
    def failed(self) -> bool:
        """Whether a failing job was found."""
        return self.failure is not None


def _kind(error: BaseException) -> str:
    if isinstance(error, Finding):
        return error.kind
    if isinstance(error, AssertionError):
        return "assertion"
    return "error"


def _message(error: BaseException) -> str:
    if isinstance(error, AssertionError):
        return str(error) or "AssertionError"
    return f"{type(error).__name__}: {error}".rstrip(": ")


class _Progress:
    """The live progress line: rewritten in place on a terminal, else a line every few seconds."""

    def __init__(self, stream: TextIO | None, every: float) -> None:
        self.stream = stream
        self.live = stream is not None and stream.isatty()
        self.every = 0.5 if self.live else every
        self.start = time.monotonic()
        self.shown = self.start

    def update(
        self, runs: int, failures: int, workers: int = 1, force: bool = False
    ) -> None:
        now = time.monotonic()
        if self.stream is None or (now - self.shown < self.every and not force):
            return
        self.shown = now
        elapsed = now - self.start
        rate = runs / elapsed if elapsed > 0 else 0.0
        text = f"{runs} jobs, {rate:.0f} jobs/s, {failures} failures, {elapsed:.0f} s"
        if workers > 1:
            text += f", {workers} workers"
        if self.live:
            self.stream.write(f"\r{text}\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.live:
            self.stream.write("\n")
            self.stream.flush()


def fuzz(
    examples: int | None = 1000,
    *,
    seed_value: int = 0,
    max_background: int | None = None,
    max_steps: int = 8,
    progress: TextIO | None = sys.stderr,
    every: float = 5.0,
    seconds: float | None = None,
    database: str | os.PathLike[str] | None = None,
    extra_steps: st.SearchStrategy[Step] | None = None,
    check: Callable[[Job], object] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
    semantics: Semantics | str = Semantics.TRIO_STEPS,
) -> FuzzResult:
    """Compare the engine with the model on generated jobs.

    Hypothesis draws the jobs from :func:`~trio_steps.testing.jobs` with the
    given seed, checks each with :func:`~trio_steps.testing.check_job` (a
    fresh :func:`trio.run` on a :class:`~trio.testing.MockClock`, with
    deadlines), and on a disagreement, a broken invariant, a hang or a crash
    shrinks it to a minimal job. Ctrl-C ends the run early with what it has.

    Args:
        examples: How many jobs to generate (``None``: no limit, give
            ``seconds``).
        seed_value: The Hypothesis seed (same seed, same jobs).
        max_background: Fix ``max_background``; ``None`` draws 1..12.
        max_steps: Most main entries per job.
        progress: Where to write the progress line (``None``: nowhere).
        every: Seconds between progress lines when ``progress`` is not a
            terminal (on a terminal the line is rewritten twice a second).
        seconds: A time budget: no new job is generated after it (a failure
            found before it is still shrunk).
        database: A Hypothesis example database directory: failures found
            are saved there and replayed first by every later run using it.
        extra_steps: Your steps to mix into the jobs (see
            :func:`~trio_steps.testing.jobs`).
        check: What to check on each job (default:
            :func:`~trio_steps.testing.check_job`).
        on_progress: Called with the runs and failing runs so far, after
            each job.
        stop: Setting it ends the run after the current job, as Ctrl-C does
            (the first Ctrl-C sets it; a second one interrupts at once).
        semantics: The semantics engine and model both run under (§17), for
            the default ``check``.

    Returns:
        The number of runs, the time taken, and the minimal failing job.
    """
    if examples is None and seconds is None:
        raise ValueError("give examples, seconds, or both")
    checker: Callable[[Job], object]
    if check is not None:
        checker = check
    elif semantics == Semantics.TRIO_STEPS or semantics == "trio-steps":
        checker = check_job
    else:

        def checker(job: Job) -> object:
            return check_job(job, semantics=semantics)

    stop = threading.Event() if stop is None else stop
    runs = 0
    failing = 0
    last_failing: tuple[Job, BaseException] | None = None
    start = time.monotonic()
    deadline = None if seconds is None else start + seconds
    shown = _Progress(progress, every)

    @settings(
        max_examples=examples if examples is not None else 10**9,
        database=None if database is None else DirectoryBasedExampleDatabase(database),
        deadline=None,
        derandomize=False,
        phases=(
            [Phase.generate, Phase.shrink]
            if database is None
            else [Phase.reuse, Phase.generate, Phase.shrink]
        ),
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @seed(seed_value)
    @given(
        jobs(
            max_background=max_background, max_steps=max_steps, extra_steps=extra_steps
        )
    )
    def test_job(job: Job) -> None:
        nonlocal runs, failing, last_failing
        if stop.is_set():
            raise _Stopped
        if deadline is not None and not failing and time.monotonic() >= deadline:
            raise _TimeUp
        runs += 1
        try:
            checker(job)
        except Exception as exc:
            failing += 1
            last_failing = (job, exc)
            raise
        finally:
            shown.update(runs, 1 if failing else 0)
            if on_progress is not None:
                on_progress(runs, failing)

    def result(
        error: BaseException | None,
        job: Job | None,
        *,
        flaky: BaseException | None = None,
        **more: Any,
    ) -> FuzzResult:
        shown.update(runs, 1 if error is not None else 0, force=True)
        shown.close()
        if error is None:
            return FuzzResult(runs=runs, seconds=time.monotonic() - start, **more)
        message = _message(error)
        if flaky is not None:  # Hypothesis' own message repeats the whole job
            message = (
                "the job failed, then passed when replayed; the failure: "
                + _message(flaky)
            )
        return FuzzResult(
            runs=runs,
            seconds=time.monotonic() - start,
            failure=message,
            job=job,
            kind="flaky" if flaky is not None else _kind(error),
            job_code=None if job is None else job_text(job),
            **more,
        )

    try:
        with _ctrl_c_stops(stop):
            test_job()
    except _TimeUp:
        return result(None, None)
    except (_Stopped, KeyboardInterrupt):
        # Mid-shrink, the last failing job is the smallest found so far.
        if last_failing is not None:
            return result(last_failing[1], last_failing[0], interrupted=True)
        return result(None, None, interrupted=True)
    except Exception as exc:
        # Hypothesis replays the minimal example last and raises its error;
        # an error of our check has its job, one raised while drawing none.
        # When the replay passed (Flaky: a job that hangs only under load,
        # say), the last failing job is still the one to look at.
        if last_failing is not None and isinstance(exc, Flaky):
            return result(exc, last_failing[0], flaky=last_failing[1])
        if last_failing is not None and last_failing[1] is exc:
            return result(exc, last_failing[0])
        return result(exc, None)
    return result(None, None)


def describe(result: FuzzResult) -> str:
    """The report ``python -m trio_steps.testing fuzz`` prints at the end."""
    head = f"{result.runs} runs in {result.seconds:.1f} s ({result.rate:.0f} jobs/s)"
    if result.workers > 1:
        head += f", {result.workers} workers"
    if result.interrupted:
        head += ", interrupted"
    if result.failure is None:
        return f"{head}: engine and model agree"
    code = result.job_code
    failure = result.failure
    if code is None:  # raised while the job was drawn or built
        return f"{head}: FAILED ({result.kind})\n{failure}\n(no job was built)"
    if failure.endswith(code):  # the message already ends with the job
        failure = failure[: -len(code)].rstrip()
    return f"{head}: FAILED ({result.kind})\n{failure}\n\n# minimal job:\n{code}"


# --------------------------------------------------------------------------
# Campaigns: worker processes, one seed each, one shared example database
# --------------------------------------------------------------------------


def _watch_stdin(stop: threading.Event) -> None:
    """In a worker: end the run (as Ctrl-C does) when the parent closes stdin or dies."""

    def watch() -> None:
        # os.read, not sys.stdin: a daemon thread blocked in a buffered
        # reader would hold its lock at interpreter shutdown.
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        stop.set()

    threading.Thread(target=watch, name="trio-steps-fuzz-stdin", daemon=True).start()


def worker_main(
    *,
    examples: int | None,
    seconds: float | None,
    seed_value: int,
    database: str,
    max_background: int | None,
    max_steps: int,
    semantics: str = "trio-steps",
) -> int:
    """One worker of a campaign: JSON lines on stdout (progress, then the result)."""
    out = sys.stdout
    lock = threading.Lock()
    sent = [0.0]

    def emit(message: dict[str, object]) -> None:
        with lock:
            out.write(json.dumps(message) + "\n")
            out.flush()

    def on_progress(runs: int, failing: int) -> None:
        now = time.monotonic()
        if now - sent[0] >= 0.25:
            sent[0] = now
            emit({"runs": runs, "failing": failing})

    stop = threading.Event()
    _watch_stdin(stop)
    try:
        result = fuzz(
            examples,
            seconds=seconds,
            seed_value=seed_value,
            database=database,
            max_background=max_background,
            max_steps=max_steps,
            progress=None,
            on_progress=on_progress,
            stop=stop,
            semantics=semantics,
        )
    except KeyboardInterrupt:  # stopped before Hypothesis started
        result = FuzzResult(runs=0, seconds=0.0, interrupted=True)
    emit(
        {
            "done": True,
            "runs": result.runs,
            "seconds": result.seconds,
            "failure": result.failure,
            "kind": result.kind,
            "job_code": result.job_code,
            "interrupted": result.interrupted,
        }
    )
    return 0


class _Worker:
    """The parent's view of one worker process."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.runs = 0
        self.failing = 0
        self.final: dict[str, Any] | None = None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        for line in stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            self.runs = int(message.get("runs", self.runs))
            self.failing = int(message.get("failing", self.failing))
            if message.get("done"):
                self.failing = 1 if message.get("failure") else 0
                self.final = message

    def stop(self) -> None:
        stdin: IO[str] | None = self.process.stdin
        if stdin is not None and not stdin.closed:
            try:
                stdin.close()
            except OSError:
                pass

    def wait(self, timeout: float) -> None:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(timeout=5.0)


def campaign(
    workers: int,
    *,
    examples: int | None = None,
    seconds: float | None = None,
    seed_value: int = 0,
    database: str | os.PathLike[str] | None = None,
    max_background: int | None = None,
    max_steps: int = 8,
    progress: TextIO | None = sys.stderr,
    every: float = 5.0,
    semantics: Semantics | str = Semantics.TRIO_STEPS,
) -> FuzzResult:
    """Fuzz in ``workers`` processes, one seed each, sharing one example database.

    Worker ``i`` runs :func:`fuzz` with seed ``seed_value + i`` and
    ``examples / workers`` jobs (or until ``seconds``). They share a
    directory example database, so a failure one of them saved is replayed
    first by every later campaign using it. The first failure found ends
    the campaign: the other workers stop and send their counts. Ctrl-C stops
    every worker the same way and still prints the summary.

    Args:
        workers: How many processes.
        examples: Jobs in all (``None``: until ``seconds``).
        seconds: The time budget.
        seed_value: The first worker's seed.
        database: The shared database directory (default
            ``.hypothesis/trio-steps-fuzz``).
        max_background: Fix ``max_background``.
        max_steps: Most main entries per job.
        progress: Where the progress line goes.
        every: Seconds between progress lines when not on a terminal.
        semantics: The semantics engine and model both run under (§17).

    Returns:
        The total runs, the time, and the first failure found (``job`` is
        ``None``; the job is in ``job_code``).
    """
    if examples is None and seconds is None:
        raise ValueError("give examples, seconds, or both")
    where = str(DEFAULT_DATABASE if database is None else database)
    start = time.monotonic()
    shown = _Progress(progress, every)
    started: list[_Worker] = []
    interrupted = False
    stop = threading.Event()
    with _ctrl_c_stops(stop):
        try:
            for number in range(workers):
                command = [
                    sys.executable,
                    "-m",
                    "trio_steps.testing",
                    "fuzz",
                    "--worker",
                    "--seed",
                    str(seed_value + number),
                    "--database",
                    where,
                    "--max-steps",
                    str(max_steps),
                    "--semantics",
                    coerce_semantics(semantics).value,
                ]
                if examples is not None:
                    share = examples // workers + (number < examples % workers)
                    command += ["--examples", str(max(share, 1))]
                if seconds is not None:
                    command += ["--seconds", str(seconds)]
                if max_background is not None:
                    command += ["--max-background", str(max_background)]
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    # Ctrl-C reaches the campaign only; it stops the workers.
                    start_new_session=True,
                )
                started.append(_Worker(process))
            while not stop.is_set():
                finals = [w.final for w in started]
                if all(f is not None for f in finals):
                    break
                if any(f is not None and f.get("failure") for f in finals):
                    break  # the first failure ends the campaign
                if any(
                    w.process.poll() is not None and w.final is None for w in started
                ):
                    time.sleep(0.2)  # let the reader take the last line
                    if any(
                        w.process.poll() is not None and w.final is None
                        for w in started
                    ):
                        break  # a worker died
                shown.update(
                    sum(w.runs for w in started),
                    sum(1 for w in started if w.failing),
                    workers,
                )
                time.sleep(0.05)
        except KeyboardInterrupt:  # a second Ctrl-C
            stop.set()
        finally:
            interrupted = stop.is_set()
            for worker in started:
                worker.stop()
            try:
                for worker in started:
                    worker.wait(STOP_GRACE)
            except KeyboardInterrupt:  # another Ctrl-C: no more waiting
                for worker in started:
                    worker.process.kill()
                    worker.wait(STOP_GRACE)
    runs = sum(w.runs for w in started)
    failures = [
        w.final for w in started if w.final is not None and w.final.get("failure")
    ]
    shown.update(runs, len(failures), workers, force=True)
    shown.close()
    seconds_taken = time.monotonic() - start
    lost = [i for i, w in enumerate(started) if w.final is None]
    if failures:
        first = failures[0]
        return FuzzResult(
            runs=runs,
            seconds=seconds_taken,
            failure=str(first["failure"]),
            kind=str(first["kind"]),
            job_code=first.get("job_code"),
            interrupted=interrupted,
            workers=workers,
        )
    if lost and not interrupted:
        return FuzzResult(
            runs=runs,
            seconds=seconds_taken,
            failure=f"worker(s) {lost} ended without a summary",
            kind="error",
            workers=workers,
        )
    return FuzzResult(
        runs=runs, seconds=seconds_taken, interrupted=interrupted, workers=workers
    )
