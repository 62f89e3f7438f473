"""The ``trio-steps`` command: run or validate a workflow job (rules §13).

Start-up time matters (``trio-steps --version`` must be quick), so this
module imports only the standard library at the top: Trio, rich,
ruamel.yaml and the engine are imported inside the functions that need
them.

Exit codes: 0 the job succeeded (or every file is valid), 1 the job failed,
2 invalid input (nothing ran), 130 the job was cancelled (Ctrl-C or its
timeout).
"""

from __future__ import annotations

import io
import os
import sys

# typing.TYPE_CHECKING without importing typing, for start-up time.
TYPE_CHECKING = False

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from typing import IO, Final, TextIO

    from .._actions._definition import ActionSettings
    from .._job import Job
    from .._results import JobReport
    from .._workflow._loader import LoadedWorkflow
    from .._workflows import Workflow

__all__ = ["main"]

EXIT_SUCCESS: Final = 0
EXIT_FAILED: Final = 1
EXIT_INVALID: Final = 2
EXIT_CANCELLED: Final = 130


def _version() -> str:
    from .._version import __version__

    return str(__version__)


def _key_value(text: str) -> tuple[str, str]:
    import argparse

    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, not {text!r}")
    return name, value


def _non_negative(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, not {text!r}")
    return value


def _positive_int(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, not {text!r}")
    return value


def _trace_path(text: str) -> str:
    import argparse

    # The rule write_trace() applies: ".json" alone is a name with no suffix.
    if os.path.splitext(text)[1].lower() not in (".json", ".jsonl"):
        name = os.path.basename(text)
        if name.lower() in (".json", ".jsonl"):
            raise argparse.ArgumentTypeError(
                f"{text!r}: the trace file needs a name before its suffix, "
                f"such as trace{name}"
            )
        raise argparse.ArgumentTypeError(
            f"{text!r}: the trace file name must end in .json (Chrome trace "
            "events, for Perfetto) or .jsonl (JSON Lines)"
        )
    return text


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``trio-steps``.

    Returns:
        The parser, with the ``run``, ``validate`` and ``explore``
        subcommands (and ``timeline``/``stats`` when the trace tools are
        installed).
    """
    import argparse

    parser = argparse.ArgumentParser(
        prog="trio-steps",
        description=(
            "Run the steps of a GitHub Actions workflow job on this machine, "
            "background steps included."
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"trio-steps {_version()}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    run = commands.add_parser(
        "run",
        help="run the jobs of a workflow file",
        description=(
            "Run every job of a workflow file (or --job and the jobs it needs). "
            "Exit status: 0 every job succeeded, 1 a job failed, 2 invalid "
            "input (nothing ran), 130 it was cancelled. Ctrl-C cancels the "
            "jobs (always() steps still run); a second Ctrl-C stops every "
            "step at once."
        ),
    )
    run.add_argument("file", metavar="FILE", help="the workflow file")
    run.add_argument(
        "--job",
        metavar="ID",
        help="run this job and the jobs it needs (default: every job)",
    )
    run.add_argument(
        "--max-jobs",
        metavar="N",
        type=_positive_int,
        help="how many jobs may run at once (default: the CPU count)",
    )
    run.add_argument(
        "--env",
        metavar="NAME=VALUE",
        action="append",
        type=_key_value,
        default=[],
        help="set an environment variable for the job (lowest precedence)",
    )
    run.add_argument(
        "--secret",
        metavar="NAME=VALUE",
        action="append",
        type=_key_value,
        default=[],
        help="a value for ${{ secrets.NAME }} (masked in the output)",
    )
    run.add_argument(
        "--var",
        metavar="NAME=VALUE",
        action="append",
        type=_key_value,
        default=[],
        help="a value for ${{ vars.NAME }}",
    )
    run.add_argument(
        "--event",
        metavar="NAME",
        default="push",
        help="the event name the run pretends to be triggered by (default: push)",
    )
    run.add_argument(
        "--max-background",
        metavar="N",
        type=_positive_int,
        help="how many background steps may run at once (default: 10)",
    )
    run.add_argument(
        "--interrupt-grace",
        metavar="S",
        type=_non_negative,
        help="seconds between SIGINT and SIGTERM when stopping a step (default: 7.5)",
    )
    run.add_argument(
        "--terminate-grace",
        metavar="S",
        type=_non_negative,
        help="seconds between SIGTERM and SIGKILL (default: 2.5)",
    )
    run.add_argument(
        "--trace",
        metavar="PATH",
        type=_trace_path,
        help="write the job's events to PATH (.json: Chrome trace, .jsonl: JSON Lines)",
    )
    run.add_argument(
        "--skip-unsupported",
        action="store_true",
        help="skip 'uses:' steps trio-steps cannot run (Docker actions) instead "
        "of refusing to run",
    )
    _action_arguments(run)
    run.add_argument(
        "--no-color", action="store_true", help="plain output, even on a terminal"
    )
    run.add_argument(
        "--log-dir",
        metavar="DIR",
        help="write every line of each step's log to DIR/<id>.log",
    )
    run.add_argument(
        "--semantics",
        choices=("trio-steps", "github-runner"),
        default="trio-steps",
        help=(
            "whose semantics to run under: this project's (default) or "
            "GitHub's runner as it is, defects included (docs: research)"
        ),
    )

    validate = commands.add_parser(
        "validate",
        help="check workflow files without running them",
        description=(
            "Check workflow files without running anything. Problems are printed "
            "as FILE:LINE:COLUMN: MESSAGE. Exit status 0 when every file is "
            "valid, 2 otherwise."
        ),
    )
    validate.add_argument("files", metavar="FILE", nargs="+", help="workflow files")
    validate.add_argument(
        "--skip-unsupported",
        action="store_true",
        help="accept 'uses:' steps that 'run --skip-unsupported' would skip",
    )
    _action_arguments(validate)

    from ._explore import register as register_explore
    from ._trace import register

    register(commands)
    register_explore(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``trio-steps`` command.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``, the command line of
            a process that ends when this returns).

    Returns:
        The exit status.
    """
    command_line = argv is None
    if argv is None:
        argv = sys.argv[1:]
    if len(argv) == 1 and argv[0] == "--version":
        # The fast path, for start-up time: no parser, no imports.
        print(f"trio-steps {_version()}")
        return EXIT_SUCCESS
    if command_line:
        _collect_less()
        _reserve_standard_fds()
    stdout, stderr = sys.stdout, sys.stderr
    nulls: list[IO[str]] = []

    def present(stream: IO[str] | None) -> IO[str]:
        # ``trio-steps run … >&-``: Python leaves a closed stream None. What
        # would go there goes nowhere, as with ``>/dev/null`` (issue 12).
        if stream is not None:
            return stream
        nulls.append(open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
        return nulls[-1]

    # Output never fails the command: a closed pipe (``| head -1``), a full
    # disk or text the stream cannot encode must not cost the job or its
    # trace (issue 12).
    sys.stderr = _as_text(_GuardedStream(present(stderr)))
    guarded = _GuardedStream(present(stdout), report=True)
    sys.stdout = _as_text(guarded)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        handler: Callable[[argparse.Namespace], int] | None
        handler = {"run": _run_command, "validate": _validate_command}.get(args.command)
        if handler is None:
            handler = getattr(args, "handler", None) or getattr(args, "func", None)
            if handler is None:  # pragma: no cover - every subcommand has one
                parser.error(f"unknown command {args.command!r}")
        try:
            status = handler(args)
        except KeyboardInterrupt:
            # Ctrl-C before the job started (or after it ended): nothing to stop.
            print("trio-steps: interrupted", file=sys.stderr)
            return EXIT_CANCELLED
        sys.stdout.flush()
        failure = guarded.failure
        if (
            args.command != "run"
            and failure
            and not isinstance(failure, BrokenPipeError)
        ):
            # What stats or timeline printed is lost (a full disk); a run's
            # status stays the job's.
            return max(status, EXIT_INVALID)
        return status
    finally:
        sys.stdout.flush()
        sys.stdout, sys.stderr = stdout, stderr
        for null in nulls:
            null.close()


def _reserve_standard_fds() -> None:
    """Point a closed standard file descriptor (0, 1 or 2) at ``/dev/null``.

    Else the first file the command opens — the trace, a log file — takes
    the free number, and whatever writes to that descriptor (a child that
    inherits it) writes into that file.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def _as_text(stream: _GuardedStream) -> TextIO:
    """The guarded stream, typed as what it stands in for."""
    return stream  # type: ignore[return-value]


class _GuardedStream(io.TextIOBase):
    """A text stream whose writes never raise.

    Text the stream cannot encode (a lone surrogate from ``fromJSON``) is
    written with backslash escapes. The first ``OSError`` (a closed pipe, a
    full disk) ends the output: later writes are dropped, and the file
    descriptor is pointed at ``/dev/null`` so that the interpreter's own last
    flush does not fail either.

    Args:
        stream: The stream to write to.
        report: Say once on standard error why the output stopped (not for
            a closed pipe: ``| head`` closes it on purpose).
    """

    def __init__(self, stream: IO[str], *, report: bool = False) -> None:
        super().__init__()
        self._stream = stream
        self._report = report
        self.failure: OSError | None = None

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", None) or "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        try:
            return self._stream.isatty()
        except (OSError, ValueError):
            return False

    def fileno(self) -> int:
        return self._stream.fileno()

    def write(self, text: str) -> int:
        if self.failure is None:
            try:
                try:
                    self._stream.write(text)
                except UnicodeEncodeError:
                    encoding = self.encoding
                    escaped = text.encode(encoding, "backslashreplace")
                    self._stream.write(escaped.decode(encoding))
            except OSError as exc:
                self._fail(exc)
        return len(text)

    def flush(self) -> None:
        if self.failure is None:
            try:
                self._stream.flush()
            except OSError as exc:
                self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        self.failure = exc
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self._stream.fileno())
            finally:
                os.close(devnull)
        except (OSError, ValueError):
            pass  # not a real file (a test's StringIO): nothing flushes it later
        if self._report and not isinstance(exc, BrokenPipeError):
            print(
                f"trio-steps: cannot write to the standard output "
                f"({exc.strerror or exc}); the rest of it is dropped",
                file=sys.stderr,
            )


#: Whether :func:`_collect_less` paused the cycle collector.
_collection_paused = False


def _collect_less() -> None:
    """Keep Python's cycle collector out of start-up and exit (issue 18).

    Before the first step, the command makes some 30,000 objects that live
    to the end (modules, classes, the loaded job): the collector ran some
    sixty times on the way, and walked every one of them at interpreter
    exit, together longer than a 4-step job's steps. So the collector pauses
    until the job starts (:func:`_collect_from_here`), and ``gc.freeze()``
    is the last exit handler (registered first: they run last to first).
    Reference counting frees what it can meanwhile; loading a workflow
    leaves only about one cyclic object per ten steps for the collector.
    """
    import atexit
    import gc

    global _collection_paused
    gc.disable()
    _collection_paused = True
    atexit.register(gc.freeze)


def _collect_from_here() -> None:
    """Resume the collector paused by :func:`_collect_less`, for new objects."""
    global _collection_paused
    if _collection_paused:
        import gc

        gc.freeze()  # what lives now lives to the end: not worth walking
        gc.enable()
        _collection_paused = False


# --------------------------------------------------------------------------
# actions (rules §16)


def _action_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--actions-url",
        metavar="URL",
        default="https://github.com",
        help="fetch owner/repo@ref actions from URL/owner/repo with git "
        "(default: %(default)s; file:// URLs work too)",
    )
    parser.add_argument(
        "--action-cache",
        metavar="DIR",
        help="keep fetched actions in DIR and reuse them offline "
        "(default: $XDG_CACHE_HOME/trio-steps/actions)",
    )
    parser.add_argument(
        "--refresh-actions",
        action="store_true",
        help="fetch remote actions again even when the cache has them",
    )


def _action_settings(args: argparse.Namespace) -> ActionSettings:
    from .._actions._definition import ActionSettings

    return ActionSettings(
        url=args.actions_url,
        cache_dir=args.action_cache,
        refresh=args.refresh_actions,
    )


# --------------------------------------------------------------------------
# validate


def _validate_command(args: argparse.Namespace) -> int:
    from .._workflow._nodes import WorkflowError
    from .._workflow._read import read_workflow

    status = EXIT_SUCCESS
    settings = _action_settings(args)
    for file in args.files:
        try:
            workflow = read_workflow(
                _as_path(file),
                skip_unsupported=args.skip_unsupported,
                actions=settings,
            )
        except WorkflowError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            status = EXIT_INVALID
        else:
            for warning in workflow.warnings:
                print(
                    f"{warning.file}:{warning.line}:{warning.column}: warning: "
                    f"{warning.message}",
                    file=sys.stderr,
                )
    return status


def _as_path(file: str) -> os.PathLike[str]:
    from pathlib import Path

    return Path(file)


# --------------------------------------------------------------------------
# run


def _run_command(args: argparse.Namespace) -> int:
    from .._errors import JobDefinitionError
    from .._workflow._nodes import WorkflowError
    from .._workflow._read import read_workflow, select_job, select_workflow
    from ._workflows import runs_as_one_job

    try:
        workflow = read_workflow(
            _as_path(args.file),
            skip_unsupported=args.skip_unsupported,
            actions=_action_settings(args),
        )
        # Every job, or --job and what it needs (R15.1); one plain job
        # runs and prints as it always did.
        whole = select_workflow(workflow, args.job)
        if runs_as_one_job(whole):
            args.job = whole.jobs[0].id
        job = select_job(workflow, args.job) if args.job is not None else None
    except WorkflowError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    for warning in workflow.warnings:
        print(
            f"{warning.file}:{warning.line}:{warning.column}: warning: {warning.message}",
            file=sys.stderr,
        )
    if job is None or not runs_as_one_job(whole):
        return _run_workflow(whole, workflow, args)
    try:
        job = _configure(job, workflow, args)
    except JobDefinitionError as exc:
        print(f"trio-steps: {exc}", file=sys.stderr)
        return EXIT_INVALID
    unwritable = _check_outputs(args)
    if unwritable is not None:
        print(f"trio-steps: {unwritable}", file=sys.stderr)
        return EXIT_INVALID
    # The environment trio-steps runs in is the lowest env layer (rules §13):
    # --env values join it, below the workflow's, job's and step's env.
    for name, value in args.env:
        os.environ[name] = value
    use_color = (
        not args.no_color
        and "NO_COLOR" not in os.environ
        and sys.stdout.isatty()
        and os.environ.get("TERM") != "dumb"
    )
    _collect_from_here()
    status = EXIT_INVALID
    try:
        status = _run_job(job, args, use_color=use_color)
    except* JobDefinitionError as group:
        # The job env did not expand (the engine's first act): nothing ran.
        for error in group.exceptions:
            print(f"trio-steps: {error}", file=sys.stderr)
    return status


def _run_workflow(
    whole: Workflow, workflow: LoadedWorkflow, args: argparse.Namespace
) -> int:
    """Run several jobs (rules §15): see ``_workflows.py``."""
    from .._errors import JobDefinitionError
    from .._results import Result
    from ._workflows import configure, run_workflow_command

    try:
        whole = configure(whole, workflow, args)
    except JobDefinitionError as exc:
        print(f"trio-steps: {exc}", file=sys.stderr)
        return EXIT_INVALID
    unwritable = _check_outputs(args)
    if unwritable is not None:
        print(f"trio-steps: {unwritable}", file=sys.stderr)
        return EXIT_INVALID
    for name, value in args.env:
        os.environ[name] = value
    use_color = (
        not args.no_color
        and "NO_COLOR" not in os.environ
        and sys.stdout.isatty()
        and os.environ.get("TERM") != "dumb"
    )
    _collect_from_here()
    report, interrupted = run_workflow_command(
        whole, args, use_color=use_color, stopping_signals=_terminating_signals()
    )
    # R15.11: as for one job, an interrupted run that did not succeed was
    # cancelled; otherwise a failed job fails the run.
    if report.cancelled or (interrupted and report.result is not Result.SUCCEEDED):
        return EXIT_CANCELLED
    if report.result is Result.FAILED:
        return EXIT_FAILED
    return EXIT_SUCCESS


def _check_outputs(args: argparse.Namespace) -> str | None:
    """Check, before anything runs, that the log folder and trace can be written.

    Returns:
        What is wrong, or ``None``.
    """
    from pathlib import Path

    if args.log_dir is not None:
        log_dir = Path(args.log_dir)
        if log_dir.exists() and not log_dir.is_dir():
            return f"--log-dir {args.log_dir}: exists and is not a folder"
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return f"--log-dir {args.log_dir}: cannot create it: {exc.strerror or exc}"
        if not os.access(log_dir, os.W_OK | os.X_OK):
            return f"--log-dir {args.log_dir}: cannot write in this folder"
    if args.trace is not None:
        trace = str(args.trace)
        parent = os.path.dirname(trace) or "."
        if os.path.isdir(trace):
            return f"--trace {trace}: is a folder; give a file name"
        if not os.path.isdir(parent):
            return f"--trace {trace}: there is no folder {parent}"
        existed = os.path.lexists(trace)
        try:
            # Non-blocking: a FIFO without a reader fails instead of hanging.
            fd = os.open(trace, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK)
        except OSError as exc:
            return f"--trace {trace}: cannot write it: {exc.strerror or exc}"
        os.close(fd)
        if not existed:
            os.unlink(trace)  # written when the job ends
    return None


def _job_id(workflow: LoadedWorkflow, requested: str | None) -> str:
    if requested is None:
        return workflow.job_ids[0]
    for job_id in workflow.job_ids:
        if job_id.casefold() == requested.casefold():
            return job_id
    return requested  # pragma: no cover - select_job checked it


def _configure(job: Job, workflow: LoadedWorkflow, args: argparse.Namespace) -> Job:
    """Apply the command-line settings and the local contexts to ``job``."""
    from .._engine._github import github_context

    github = github_context(
        event_name=args.event,
        workflow=workflow.name or workflow.file,
        job=_job_id(workflow, args.job),
    )
    # The job env's ${{ }} are the engine's to expand, once, as the job
    # starts: from these contexts.
    changes: dict[str, object] = {
        "github": github,
        "secrets": dict(args.secret),
        "vars": dict(args.var),
    }
    if args.max_background is not None:
        changes["max_background"] = args.max_background
    if args.interrupt_grace is not None:
        changes["interrupt_grace"] = args.interrupt_grace
    if args.terminate_grace is not None:
        changes["terminate_grace"] = args.terminate_grace
    return job.evolve(**changes)


def _terminating_signals() -> list[int]:
    """The signals that would end the process, and that it can catch.

    Each stops every step now, as ``SIGTERM`` does: left at their default,
    ``SIGHUP`` (a closed terminal), ``SIGQUIT`` and the others killed the
    command and left its steps running (they are in sessions of their own)
    and their directories, secrets included, on disk. Not handled: the
    signals Python ignores (``SIGPIPE``, ``SIGXFSZ``), the faults of the
    process itself (``SIGSEGV``, ``SIGBUS``, ``SIGILL``, ``SIGFPE``,
    ``SIGABRT``, ``SIGTRAP``, ``SIGSYS``) and ``SIGKILL``/``SIGSTOP``.
    """
    import signal

    names = (
        "SIGTERM",
        "SIGHUP",
        "SIGQUIT",
        "SIGUSR1",
        "SIGUSR2",
        "SIGALRM",
        "SIGVTALRM",
        "SIGPROF",
        "SIGXCPU",
        "SIGIO",
        "SIGPWR",
        "SIGSTKFLT",
    )
    found = [getattr(signal, name) for name in names if hasattr(signal, name)]
    low = getattr(signal, "SIGRTMIN", None)
    high = getattr(signal, "SIGRTMAX", None)
    if low is not None and high is not None:
        found.extend(range(low, high + 1))
    valid = signal.valid_signals()
    return [signum for signum in dict.fromkeys(found) if signum in valid]


def _run_job(job: Job, args: argparse.Namespace, *, use_color: bool) -> int:
    import trio

    from ._printer import _Printer

    printer = _Printer(job, color=use_color, stream=sys.stdout)
    outcome: dict[str, object] = {}

    async def run() -> None:
        import signal

        from .._engine._runner import JobRunner

        runner = JobRunner(
            job,
            on_event=printer.on_event,
            log_dir=args.log_dir,
            semantics=args.semantics,
        )
        # The runner's values grow with ``::add-mask::``: print through them.
        printer.mask = runner.mask

        def name_of(step: str) -> str | None:
            report = runner.report.steps.get(step)
            return None if report is None else report.name

        printer.name_of = name_of
        hard_stop = trio.CancelScope()
        signals = [signal.SIGINT, *_terminating_signals()]
        with trio.open_signal_receiver(*signals) as received:

            async def watch() -> None:
                count = 0
                async for signum in received:
                    count += 1
                    if count == 1 and signum == signal.SIGINT:
                        printer.notice(
                            "Cancelling the job (always() steps still run); "
                            "press Ctrl-C again to stop every step now"
                        )
                        outcome["interrupted"] = True
                        runner.cancel()
                    else:
                        printer.notice("Stopping every step now")
                        outcome["interrupted"] = True
                        hard_stop.cancel()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(watch)
                printer.start()
                try:
                    with hard_stop:
                        outcome["report"] = await runner.run()
                    if "report" not in outcome:  # hard stop (R6.2)
                        outcome["report"] = runner.report
                finally:
                    printer.stop()
                    nursery.cancel_scope.cancel()

    trio.run(run)
    report: JobReport = outcome["report"]  # type: ignore[assignment]
    printer.summary(report)
    if args.trace is not None:
        from .._trace._write import write_trace

        try:
            write_trace(report, args.trace)
        except (OSError, ValueError) as exc:
            print(f"trio-steps: could not write the trace: {exc}", file=sys.stderr)
    return _exit_status(report, interrupted=bool(outcome.get("interrupted")))


def _exit_status(report: JobReport, *, interrupted: bool) -> int:
    from .._results import Result

    if report.result in (Result.CANCELED, Result.ABANDONED) or (
        interrupted and report.result is not Result.SUCCEEDED
    ):
        return EXIT_CANCELLED
    if report.result is Result.FAILED:
        return EXIT_FAILED
    return EXIT_SUCCESS
