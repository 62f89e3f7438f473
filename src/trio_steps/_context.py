"""What a running step gets: its context, and the record executors fill in.

:class:`StepContext` is the public face a Python step sees.
:class:`StepRun` is the engine's per-run record that every executor (Python
or shell) writes to; the engine publishes it per R4.1 or defers it per R5.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol, final

import trio

from ._face import public

if TYPE_CHECKING:
    from ._masking import Masker

__all__ = [
    "ANNOTATION_LIMIT",
    "ERROR_LIMIT",
    "StepContext",
    "StepFailed",
    "StepRun",
    "shorten_error",
]

#: How many annotations a running step keeps (the first ones); every
#: annotation is a log line as well, whatever their number.
ANNOTATION_LIMIT: Final = 100
#: How many characters of an error message a report keeps.
ERROR_LIMIT: Final = 4096


def shorten_error(text: str) -> str:
    """``text`` cut to :data:`ERROR_LIMIT` characters, saying how much was cut.

    Cut only after masking: a secret across the cut is masked whole.
    """
    if len(text) <= ERROR_LIMIT:
        return text
    more = len(text) - ERROR_LIMIT
    return (
        f"{text[:ERROR_LIMIT]}… ({more} more characters; "
        "the whole message is in the step's log)"
    )


class StepFailed(Exception):
    """Raised by an executor when a step fails in a way it can explain.

    Args:
        message: One line for the report and the log.
        exit_code: The process exit code, if there was one.
    """

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class _Sink(Protocol):
    def output(self, run: StepRun, line: str, stream: str) -> None: ...
    def signal_sent(self, run: StepRun, signal: str) -> None: ...
    def grace_expired(self, run: StepRun, which: str) -> None: ...
    def add_mask(self, value: str) -> None: ...


@final
class StepRun:
    """The mutable record of one running step, shared with its executor.

    Executors read what the step was asked to do (already interpolated) and
    write what it produced. Nothing here is visible to other steps until the
    engine publishes it. What only one executor needs (a Python step's
    callable, the job's shared shell state) the engine hands to that
    executor: this record knows neither the step definitions nor the shell.
    """

    __slots__ = (
        "_annotations",
        "_env_changes",
        "_outputs",
        "_path_added",
        "_sink",
        "_state",
        "env",
        "exit_code",
        "failure",
        "id",
        "interrupt_grace",
        "log_path",
        "masker",
        "name",
        "path",
        "runner_temp",
        "script",
        "shell",
        "steps",
        "summary",
        "terminate_grace",
        "working_directory",
        "workspace",
    )

    def __init__(
        self,
        *,
        sink: _Sink,
        id: str,
        name: str,
        env: Mapping[str, str],
        steps: Mapping[str, Any],
        path: tuple[str, ...],
        script: str | None,
        shell: str | None,
        working_directory: str | None,
        workspace: str,
        interrupt_grace: float,
        terminate_grace: float,
        log_path: str | None = None,
        runner_temp: str | None = None,
        masker: Masker | None = None,
    ) -> None:
        self._sink = sink
        self.id = id
        self.name = name
        self.env = env
        self.steps = steps
        self.path = path
        self.script = script
        self.shell = shell
        self.working_directory = working_directory
        self.workspace = workspace
        self.interrupt_grace = interrupt_grace
        self.terminate_grace = terminate_grace
        self.log_path = log_path
        #: The job's ``RUNNER_TEMP`` directory, shared by its steps.
        self.runner_temp = runner_temp
        #: The job's masked values: executors that cut long lines ask it
        #: where a cut splits no secret (the sink masks the lines).
        self.masker = masker
        # What the step produced; allocated on first write, since most
        # steps write nothing and a job may hold 100,000 of them.
        self._outputs: dict[str, str] | None = None
        self._env_changes: dict[str, str] | None = None
        self._path_added: list[str] | None = None
        self._annotations: list[tuple[str, str]] | None = None
        self._state: dict[str, str] | None = None
        self.summary: str | None = None
        self.exit_code: int | None = None
        #: Set when the step broke a rule that must fail it even if its code
        #: swallowed the exception (for example a non-string output value).
        self.failure: str | None = None

    @property
    def outputs(self) -> dict[str, str]:
        """The outputs set so far."""
        if self._outputs is None:
            self._outputs = {}
        return self._outputs

    @property
    def env_changes(self) -> dict[str, str]:
        """The job env changes made so far, in order."""
        if self._env_changes is None:
            self._env_changes = {}
        return self._env_changes

    @property
    def path_added(self) -> list[str]:
        """The job path entries added so far, in order."""
        if self._path_added is None:
            self._path_added = []
        return self._path_added

    @property
    def annotations(self) -> list[tuple[str, str]]:
        """``(level, message)`` annotations recorded so far."""
        if self._annotations is None:
            self._annotations = []
        return self._annotations

    @property
    def state(self) -> dict[str, str]:
        """The ``save-state`` values of a shell step."""
        if self._state is None:
            self._state = {}
        return self._state

    def wrote_anything(self) -> bool:
        """Whether the step set an output, an env variable or a path entry."""
        return bool(self._outputs or self._env_changes or self._path_added)

    # What executors report as it happens.
    def output(self, line: str, stream: str = "log") -> None:
        """Record one line of the step's log and emit a ``step-output`` event."""
        self._sink.output(self, line, stream)

    def signal_sent(self, signal: str) -> None:
        """Record that ``signal`` (``"SIGINT"`` …) was sent to the step."""
        self._sink.signal_sent(self, signal)

    def grace_expired(self, which: str) -> None:
        """Record that a grace period (``interrupt``/``terminate``) ran out."""
        self._sink.grace_expired(self, which)

    def add_mask(self, value: str) -> None:
        """Mask ``value`` in every later log line, event and error of the job."""
        self._sink.add_mask(value)

    # What executors produce.
    def set_output(self, name: str, value: str) -> None:
        """Set an output, published per R4.1/R5.2."""
        self.outputs[name] = value

    def set_env(self, name: str, value: str) -> None:
        """Set a job env variable for later steps, published per R4.1/R5.2."""
        changes = self.env_changes
        changes.pop(name, None)
        changes[name] = value

    def add_path(self, entry: str) -> None:
        """Add a job path entry, published per R4.1/R5.2."""
        self.path_added.append(entry)

    def annotate(self, level: str, message: str) -> None:
        """Record an annotation (``notice``, ``warning`` or ``error``).

        Only the first :data:`ANNOTATION_LIMIT` are kept in
        :attr:`annotations`; each one is logged.
        """
        annotations = self.annotations
        if len(annotations) < ANNOTATION_LIMIT:
            annotations.append((level, message))
        self.output(f"{level.capitalize()}: {message}", "log")


def _check_str(what: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, not {type(value).__name__}")
    return value


@final
class StepContext:
    """What a Python step receives: its view of the job and ways to write.

    Outputs, env changes and path entries a step writes reach later steps
    when the step ends (foreground, R4.1) or when it is flushed
    (background, R5).
    """

    __slots__ = ("_nursery", "_run")

    def __init__(self, run: StepRun, nursery: trio.Nursery) -> None:
        self._run = run
        self._nursery = nursery

    @property
    def id(self) -> str:
        """The step id."""
        return self._run.id

    @property
    def name(self) -> str:
        """The display name."""
        return self._run.name

    @property
    def env(self) -> Mapping[str, str]:
        """The environment the step runs with."""
        return self._run.env

    @property
    def steps(self) -> Mapping[str, Any]:
        """The steps this step may see, as :class:`~trio_steps.StepView`."""
        return self._run.steps

    @property
    def path(self) -> tuple[str, ...]:
        """Job path entries, highest precedence first."""
        return self._run.path

    @property
    def workspace(self) -> str:
        """The job's workspace directory."""
        return self._run.workspace

    def log(self, line: str) -> None:
        """Write a line to the step's log (a ``step-output`` event)."""
        for part in str(line).splitlines() or [""]:
            self._run.output(part, "log")

    def set_output(self, name: str, value: str) -> None:
        """Set the output ``name`` (``steps.<id>.outputs.<name>``).

        Raises:
            TypeError: ``name`` or ``value`` is not a string; the step fails
                even if the exception is caught.
        """
        try:
            _check_str("output name", name)
            _check_str(f"output {name!r} value", value)
        except TypeError as exc:
            self._run.failure = self._run.failure or str(exc)
            raise
        self._run.set_output(name, value)

    def set_env(self, name: str, value: str) -> None:
        """Set ``name`` in the job env for later steps.

        Raises:
            TypeError: ``name`` or ``value`` is not a string (the step fails).
        """
        try:
            _check_str("env name", name)
            _check_str(f"env {name!r} value", value)
            if not name or "=" in name:
                raise TypeError(f"env name {name!r} must be non-empty without '='")
        except TypeError as exc:
            self._run.failure = self._run.failure or str(exc)
            raise
        self._run.set_env(name, value)

    def add_path(self, path: str) -> None:
        """Put ``path`` at the front of the job path for later steps.

        Raises:
            TypeError: ``path`` is not a string (the step fails).
        """
        try:
            _check_str("path entry", path)
        except TypeError as exc:
            self._run.failure = self._run.failure or str(exc)
            raise
        self._run.add_path(path)

    def notice(self, message: str) -> None:
        """Record a notice annotation."""
        self._run.annotate("notice", str(message))

    def warning(self, message: str) -> None:
        """Record a warning annotation."""
        self._run.annotate("warning", str(message))

    def error(self, message: str) -> None:
        """Record an error annotation (it does not fail the step by itself)."""
        self._run.annotate("error", str(message))

    def add_mask(self, value: str) -> None:
        """Mask ``value`` in every later log line, event and error of the job."""
        self._run.add_mask(_check_str("mask", value))

    def start_soon(
        self,
        fn: Callable[..., Awaitable[object]],
        *args: object,
        name: str | None = None,
    ) -> None:
        """Start a task that belongs to this step.

        The step ends when its own code and every task it started have ended;
        stopping the step cancels them all.
        """
        self._nursery.start_soon(fn, *args, name=name)


public(StepContext)
