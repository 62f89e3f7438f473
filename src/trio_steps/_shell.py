"""The shell executor: how a step whose ``run`` is a string runs (rules §12).

:func:`run_shell` writes the script to a fresh per-step directory, starts the
shell in its own session (so its process group is its own), streams stdout
and stderr line by line to the :class:`~trio_steps._context.StepRun`,
handles workflow commands, stops the group with the SIGINT → SIGTERM →
SIGKILL ladder when the step is cancelled (R6.3), and applies the file
commands when the process has ended (also after a cancel, R5.3).
"""

from __future__ import annotations

import atexit
import codecs
import contextlib
import os
import random
import re
import select
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final, final

import trio

from ._context import StepFailed, StepRun
from ._guardian import kill_tracked
from ._shell_commands import (
    WORKFLOW_COMMANDS,
    FileCommandError,
    WorkflowCommand,
    parse_key_values,
    parse_path_file,
    parse_workflow_command,
)

if TYPE_CHECKING:
    from ._masking import Masker

__all__ = [
    "DRAIN_TIMEOUT",
    "FILE_COMMAND_LIMIT",
    "MAX_LINE_CHARS",
    "SUMMARY_LIMIT",
    "LineSplitter",
    "ShellJob",
    "control_directory",
    "forget_shell",
    "group_alive",
    "resolve_shell",
    "run_shell",
]

#: A line longer than this many characters is emitted in pieces of this size.
MAX_LINE_CHARS: Final = 65536
#: Seconds to keep reading stdout/stderr once every process of the group is
#: gone; only a process that left the group (``setsid``) can hold them open.
DRAIN_TIMEOUT: Final = 1.0
#: A ``GITHUB_STEP_SUMMARY`` larger than this many bytes is not read: it
#: fails the step (GitHub's limit for a step summary).
SUMMARY_LIMIT: Final = 1024 * 1024
#: A ``GITHUB_OUTPUT``, ``GITHUB_ENV``, ``GITHUB_STATE`` or ``GITHUB_PATH``
#: larger than this many bytes is not read: it fails the step.
FILE_COMMAND_LIMIT: Final = 4 * 1024 * 1024

_READ_SIZE: Final = 65536
_BASH: Final = ("bash", "--noprofile", "--norc", "-eo", "pipefail", "{0}")
_SH: Final = ("sh", "-e", "{0}")
_EXTENSIONS: Final = {"bash": ".sh", "sh": ".sh", "python": ".py", "python3": ".py"}
_NEWLINE: Final = re.compile("\r\n|\r|\n")
_RUNGS: Final = (
    (signal.SIGINT, "interrupt"),
    (signal.SIGTERM, "terminate"),
)
_UNSECURE_MESSAGE: Final = (
    "The `{}` command is disabled. Please upgrade to using Environment Files "
    "or opt into unsecure command execution by setting the "
    "`ACTIONS_ALLOW_UNSECURE_COMMANDS` environment variable to `true`."
)


_RESOLVED: dict[tuple[str | None, str], tuple[tuple[str, ...], str]] = {}


def resolve_shell(shell: str | None, search_path: str) -> tuple[list[str], str]:
    """Turn a step's ``shell`` into an argv template and a script extension.

    Args:
        shell: ``None`` (bash, or ``sh`` where bash is missing), ``"bash"``,
            ``"sh"``, ``"python"`` (or ``python3`` where ``python`` is
            missing), or a command template containing ``{0}``, split like a
            POSIX shell would.
        search_path: The ``PATH`` the step runs with; programs are looked up
            in it.

    Returns:
        The argv, whose first item is an absolute path and where ``{0}``
        stands for the script file, and the script file's extension.

    Raises:
        StepFailed: The shell is unknown or its program cannot be found.
    """
    key = (shell, search_path)
    cached = _RESOLVED.get(key)
    # No check that the program is still there: when it cannot be executed,
    # the step's spawn calls forget_shell() and resolves once more.
    if cached is None:
        argv, extension = _resolve_shell(shell, search_path)
        if len(_RESOLVED) >= 256:
            _RESOLVED.clear()
        cached = _RESOLVED[key] = (tuple(argv), extension)
    return list(cached[0]), cached[1]


def forget_shell(shell: str | None, search_path: str) -> None:
    """Drop what :func:`resolve_shell` remembers for ``shell`` on ``search_path``."""
    _RESOLVED.pop((shell, search_path), None)


def _resolve_shell(shell: str | None, search_path: str) -> tuple[list[str], str]:
    def find(program: str) -> str | None:
        return shutil.which(program, path=search_path)

    if shell is None:
        for template in (_BASH, _SH):
            found = find(template[0])
            if found is not None:
                return [found, *template[1:]], ".sh"
        raise StepFailed("No shell found: neither 'bash' nor 'sh' is on PATH.")
    name = shell.strip()
    if name in ("bash", "sh"):
        template = _BASH if name == "bash" else _SH
        found = find(name)
        if found is None:
            raise StepFailed(f"Shell {name!r} was not found on PATH.")
        return [found, *template[1:]], ".sh"
    if name == "python":
        found = find("python") or find("python3")
        if found is None:
            raise StepFailed(
                "Shell 'python' was not found: neither 'python' nor 'python3' is on PATH."
            )
        return [found, "{0}"], ".py"
    if "{0}" not in name:
        raise StepFailed(
            f"Unknown shell {shell!r}: use bash, sh, python, or a command "
            "template containing {0}."
        )
    try:
        argv = shlex.split(name)
    except ValueError as exc:
        raise StepFailed(f"Invalid shell template {shell!r}: {exc}.") from None
    found = find(argv[0])
    if found is None:
        raise StepFailed(
            f"Shell program {argv[0]!r} (from shell {shell!r}) was not found."
        )
    return [found, *argv[1:]], _EXTENSIONS.get(os.path.basename(argv[0]), "")


@final
class LineSplitter:
    """Turn chunks of bytes from one stream into lines, incrementally.

    Bytes are decoded as UTF-8 with invalid sequences replaced (U+FFFD).
    ``\\n``, ``\\r\\n`` and a lone ``\\r`` end a line (as in GitHub's runner);
    a line longer than ``max_chars`` is emitted in pieces of ``max_chars``
    characters instead of being buffered whole. With a ``masker``, a cut never
    splits a masked value: the piece ends before it instead (or after it, for
    a value longer than a piece), so each piece can be masked on its own.

    Args:
        emit: Called with each line, without its terminator, in order.
        max_chars: The longest line emitted in one piece.
        masker: The job's masked values, if any.
    """

    __slots__ = ("_decoder", "_emit", "_masker", "_max", "_pending")

    def __init__(
        self,
        emit: Callable[[str], None],
        max_chars: int = MAX_LINE_CHARS,
        masker: Masker | None = None,
    ) -> None:
        self._emit = emit
        self._max = max_chars
        self._masker = masker
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""

    def feed(self, data: bytes | bytearray) -> None:
        """Decode ``data`` and emit every line it completes."""
        self._split(self._pending + self._decoder.decode(data), final=False)

    def close(self) -> None:
        """Emit what is left: a last line without a terminator, if any."""
        self._split(self._pending + self._decoder.decode(b"", final=True), final=True)
        self._pending = ""

    def _split(self, text: str, *, final: bool) -> None:
        hold = ""
        if not final and text.endswith("\r"):
            # The "\n" of a "\r\n" may be in the next chunk.
            text, hold = text[:-1], "\r"
        parts = text.split("\n") if "\r" not in text else _NEWLINE.split(text)
        rest = parts.pop()
        emit, limit, masker = self._emit, self._max, self._masker
        for line in parts:
            if len(line) <= limit:
                emit(line)
            elif masker:
                while len(line) > limit:
                    cut = masker.safe_cut(line, limit)
                    emit(line[:cut])
                    line = line[cut:]
                emit(line)
            else:
                for start in range(0, len(line), limit):
                    emit(line[start : start + limit])
        # A value that crosses the cut must be whole in ``rest`` to be seen.
        reach = limit + masker.longest - 1 if masker else limit
        while len(rest) > reach or (final and rest):
            cut = masker.safe_cut(rest, limit) if masker else limit
            emit(rest[:cut])
            rest = rest[cut:]
        self._pending = rest + hold


@final
class _Commands:
    """Workflow commands found in the output of one step run."""

    __slots__ = ("allow_unsecure", "debug", "echo", "errors", "run", "stop_names")

    def __init__(self, run: StepRun, env: Mapping[bytes, bytes]) -> None:
        self.run = run
        # The runner honours the variable from its own environment too.
        self.allow_unsecure = _truthy(env, b"ACTIONS_ALLOW_UNSECURE_COMMANDS")
        self.debug = _truthy(env, b"ACTIONS_STEP_DEBUG")
        self.echo = self.debug
        self.errors: list[str] = []
        #: While ``::stop-commands::TOKEN`` is in force: ``{TOKEN}``.
        self.stop_names: frozenset[str] | None = None

    def fail(self, message: str) -> None:
        self.errors.append(message)
        self.run.annotate("error", message)

    def line(self, line: str, stream: str) -> None:
        if line[:2] == "::" or (line[:1].isspace() and line.lstrip()[:2] == "::"):
            if self.stop_names is not None:
                if parse_workflow_command(line, self.stop_names) is not None:
                    self.stop_names = None
                    return
            else:
                command = parse_workflow_command(line)
                if command is not None:
                    self.apply(command, line, stream)
                    return
        self.run.output(line, stream)

    def apply(self, command: WorkflowCommand, line: str, stream: str) -> None:
        run = self.run
        name, data = command.name, command.data
        if name == "add-mask":
            # Never echoed: the line holds the secret.
            if data.strip():
                run.add_mask(data)
            else:
                run.annotate(
                    "warning",
                    "Can't add secret mask for empty string in ::add-mask:: command.",
                )
            return
        if self.echo:
            run.output(line, stream)
        if name in ("error", "warning", "notice"):
            run.annotate(name, _annotation(command))
        elif name == "group":
            run.output(f"##[group]{data}", stream)
        elif name == "endgroup":
            run.output("##[endgroup]", stream)
        elif name == "debug":
            if self.debug:
                run.output(f"##[debug]{data}", stream)
        elif name == "echo":
            value = data.strip().lower()
            if value in ("on", "off"):
                self.echo = value == "on"
            else:
                self.fail("Invalid ::echo:: value: use 'on' or 'off'.")
        elif name == "stop-commands":
            if not data or data in WORKFLOW_COMMANDS:
                self.fail(
                    "Invalid ::stop-commands:: token: it must be non-empty and "
                    "not the name of a workflow command."
                )
            else:
                self.stop_names = frozenset({data})
        elif name in ("set-output", "save-state", "set-env"):
            if name == "set-env" and not self.allow_unsecure:
                self.fail(_UNSECURE_MESSAGE.format(name))
                return
            key = command.properties.get("name", "")
            if not key:
                self.fail(
                    f"Required property 'name' is missing in the ::{name}:: command."
                )
            elif name == "set-output":
                run.set_output(key, data)
            elif name == "save-state":
                run.state[key] = data
            elif "=" in key or "\x00" in key or "\x00" in data:
                self.fail(
                    "Invalid ::set-env:: command: the name may not contain '=' or NUL."
                )
            else:
                run.set_env(key, data)
        elif name == "add-path":
            if not self.allow_unsecure:
                self.fail(_UNSECURE_MESSAGE.format(name))
            elif not data or "\x00" in data:
                self.fail(
                    "Invalid ::add-path:: command: the path is empty or contains NUL."
                )
            else:
                run.add_path(data)


def _annotation(command: WorkflowCommand) -> str:
    props = command.properties
    where = props.get("file", "")
    if where:
        for key in ("line", "col"):
            if key not in props:
                break
            where += f":{props[key]}"
    message = command.data
    if title := props.get("title"):
        message = f"{title}: {message}"
    return f"{where}: {message}" if where else message


def _stat_fields(pid: str) -> list[bytes] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # comm may contain spaces and parentheses: the fields start after the last ")".
    return data[data.rfind(b")") + 2 :].split()


def group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` is still alive (zombies do not count).

    Args:
        pgid: The process group id.

    Returns:
        ``False`` once every member has exited.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        names = os.listdir("/proc")
    except OSError:
        return True  # no /proc: trust kill(), zombies included
    wanted = str(pgid).encode()
    for name in names:
        if name.isdigit():
            fields = _stat_fields(name)
            # fields: state, ppid, pgrp, …
            if fields and fields[2] == wanted and fields[0] not in (b"Z", b"X"):
                return True
    return False


def control_directory() -> str:
    """Where the per-step control files (script, file commands) are created.

    ``$TMPDIR`` when it is set; otherwise ``/dev/shm`` where it is a writable
    directory (a tmpfs: creating and removing a few small files per step
    costs microseconds instead of a disk's milliseconds); otherwise
    :func:`tempfile.gettempdir`.

    Whether ``/dev/shm`` is writable is checked once; :func:`_StepFiles`
    checks again when a directory cannot be made there.

    Returns:
        An existing directory.
    """
    if "TMPDIR" in os.environ:
        return tempfile.gettempdir()
    usable = _SHM_USABLE.get(_SHM)
    if usable is None:
        usable = _SHM_USABLE[_SHM] = os.access(_SHM, os.W_OK | os.X_OK)
    return _SHM if usable else tempfile.gettempdir()


_SHM: Final = "/dev/shm"
#: Whether ``/dev/shm`` was a writable directory when last checked.
_SHM_USABLE: Final[dict[str, bool]] = {}


def _make_directory(base: str, prefix: str, what: str) -> str:
    try:
        return tempfile.mkdtemp(prefix=prefix, dir=base)
    except OSError as exc:
        raise StepFailed(
            f"Cannot create the step's {what} in {base!r}: {exc.strerror or exc}."
        ) from None


def _step_directory(base: str) -> str:
    """Create a fresh, private directory under ``base``, as mkdtemp does.

    ``mkdir`` with mode 0700 never follows a symlink and fails on an
    existing name, so a name that someone else took only costs a retry; the
    name needs no more randomness than :mod:`tempfile` gives it. (mkdtemp
    itself costs twice the ``mkdir``, which counts at one call per step.)
    """
    parent = base if base[:1] == "/" else os.path.abspath(base)
    _tell_guardian_directory(parent)
    for _ in range(100):
        # The runner's pid in the name: its guardian, or a later runner,
        # removes the directory should this process die without doing so.
        directory = f"{parent}/trio-steps-{os.getpid()}-{random.getrandbits(48):012x}"
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            continue
        except OSError as exc:
            reason = exc.strerror or exc
            break
        return directory
    else:
        reason = "no unused name found"
    raise StepFailed(
        f"Cannot create the step's temporary directory in {base!r}: {reason}."
    )


def _remove_tree(directory: str) -> None:
    try:
        os.rmdir(directory)
    except OSError:
        shutil.rmtree(directory, ignore_errors=True)


@final
class ShellJob:
    """What a job's shell steps share: clean step directories, and which of
    our descriptors a child must not inherit. Closed when the job ends.

    *Directories.* Creating a step's directory and six files, then removing
    them, is about fourteen system calls per step; a directory given back
    clean (its five file-command files still empty regular files, nothing
    left running that could write to them) is taken by a later step of the
    same job instead, which only rewrites the script. Never shared between
    concurrent steps: a directory is in the pool only while no step has it.
    :meth:`close` removes them all; one given back after that is removed.

    *Descriptors.* See :func:`_inheritable_fds`: looked up at the job's first
    spawn (a scan of ``/proc/self/fd`` costs about as much as the spawn saves
    over Popen), as they are what the process was started with.
    """

    __slots__ = ("_closed", "_inheritable", "_spare", "tracking_id")

    def __init__(self) -> None:
        self._spare: list[str] = []
        self._closed = False
        self._inheritable: list[int] | None = None
        #: The job's ``RUNNER_TRACKING_ID``, in every step's environment.
        self.tracking_id = f"trio-steps_{os.urandom(16).hex()}"
        GUARDIAN.send(b"+t " + self.tracking_id.encode())

    async def end_processes(self) -> int:
        """``SIGKILL`` every process that carries the job's tracking id.

        What left its step's process group (``setsid``, double forks) is
        found by its environment, as GitHub's runner finds it; scanning
        ``/proc`` is done in a worker thread.

        Returns:
            How many processes were killed.
        """
        entry = b"RUNNER_TRACKING_ID=" + self.tracking_id.encode()
        killed = await trio.to_thread.run_sync(kill_tracked, (entry,))
        GUARDIAN.send(b"-t " + self.tracking_id.encode())
        return killed

    def take(self) -> str | None:
        """A clean directory of this job, or ``None``."""
        return self._spare.pop() if self._spare else None

    def give(self, directory: str) -> None:
        """Keep ``directory`` (checked clean) for a later step."""
        if self._closed:
            _remove_tree(directory)
        else:
            self._spare.append(directory)

    def inheritable_fds(self) -> list[int]:
        """Our inheritable descriptors above 2, as found at the first call."""
        if self._inheritable is None:
            self._inheritable = _inheritable_fds()
        return self._inheritable

    def close(self) -> None:
        """Remove every kept directory; later ones are removed when given."""
        self._closed = True
        while self._spare:
            _remove_tree(self._spare.pop())


_RUNNER_TEMPS: dict[str, str] = {}


def shared_runner_temp() -> str:
    """The ``RUNNER_TEMP`` used when the engine does not give one per job.

    One directory per process and temp dir, created under
    :func:`tempfile.gettempdir` on first use (and again if it was removed),
    shared by the steps like GitHub's per-job ``RUNNER_TEMP``, and removed
    when the process exits.

    Returns:
        An existing, writable directory.

    Raises:
        StepFailed: It cannot be created.
    """
    base = tempfile.gettempdir()
    directory = _RUNNER_TEMPS.get(base)
    if directory is None or not os.path.isdir(directory):
        directory = _make_directory(
            base, f"trio-steps-temp-{os.getpid()}-", "RUNNER_TEMP directory"
        )
        if not _RUNNER_TEMPS:
            atexit.register(_remove_runner_temps)
        _RUNNER_TEMPS[base] = directory
    return directory


def _remove_runner_temps() -> None:
    for directory in _RUNNER_TEMPS.values():
        shutil.rmtree(directory, ignore_errors=True)
    _RUNNER_TEMPS.clear()


_CREATE: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


def _plain(info: os.stat_result) -> bool:
    """A regular file with one name: rewriting it changes nothing else."""
    return stat.S_ISREG(info.st_mode) and info.st_nlink == 1


_EMPTY_FILE: Final = stat.S_IFREG | 0o600
_READ: Final = os.O_RDONLY | os.O_CLOEXEC
_FILE_CHUNK: Final = 1 << 20


@final
class _EmptyFiles:
    """Creates empty files: one ``mknod`` each where allowed, else open + close."""

    mknod = hasattr(os, "mknod")

    @classmethod
    def create(cls, file: str) -> None:
        if cls.mknod:
            try:
                os.mknod(file, _EMPTY_FILE)
                return
            except FileExistsError:
                raise
            except OSError:
                pass  # not allowed here (macOS without root): fall through
        os.close(os.open(file, _CREATE, 0o600))
        cls.mknod = False


@final
class _StepFiles:
    """The per-step files: script, file-command files, and RUNNER_TEMP.

    The five file-command files are created empty, as GitHub's runner does:
    scripts and tools (``@actions/core`` among them) may check that they
    exist, or read them, before appending.
    """

    __slots__ = (
        "directory",
        "env",
        "output",
        "path",
        "pool",
        "pristine",
        "runner_temp",
        "script",
        "state",
        "summary",
    )

    def __init__(
        self,
        script: str,
        extension: str,
        runner_temp: str | None,
        pool: ShellJob | None = None,
    ) -> None:
        self.pool = pool
        self.pristine = False
        data = script.encode("utf-8", "surrogateescape")
        reused = pool.take() if pool is not None else None
        if reused is not None:
            try:
                self._name(reused, extension)
                # Its script goes first: a new file, never written through a
                # link to, or another name of, what the last step left.
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.script)
                self._write_script(data)
            except OSError:
                _remove_tree(reused)  # not as we left it: start afresh
                reused = None
        if reused is None:
            self._name(self._new_directory(), extension)
            try:
                self._write_script(data)
                for file in self.command_files():
                    _EmptyFiles.create(file)
            except OSError as exc:
                self.remove()
                raise StepFailed(
                    f"Cannot write the step's files in {self.directory!r}: "
                    f"{exc.strerror or exc}."
                ) from None
        if runner_temp is None:
            try:
                runner_temp = shared_runner_temp()
            except BaseException:
                self.remove()
                raise
        self.runner_temp = runner_temp

    def _name(self, d: str, extension: str) -> None:
        self.directory = d
        self.script = f"{d}/script{extension}"
        self.output = f"{d}/output"
        self.env = f"{d}/env"
        self.path = f"{d}/path"
        self.state = f"{d}/state"
        self.summary = f"{d}/summary"
        self.runner_temp = ""

    def _write_script(self, data: bytes) -> None:
        fd = os.open(self.script, _CREATE, 0o700)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    @staticmethod
    def _new_directory() -> str:
        base = control_directory()
        try:
            return _step_directory(base)
        except StepFailed:
            if base != _SHM:
                raise
            # /dev/shm was usable when it was checked: check again.
            del _SHM_USABLE[_SHM]
            base = control_directory()
            if base == _SHM:
                raise
            return _step_directory(base)

    def command_files(self) -> tuple[str, ...]:
        return (self.output, self.env, self.path, self.state, self.summary)

    def export(self, env: dict[bytes, bytes]) -> None:
        """Name the file-command files in the process's environment ``env``."""
        d = os.fsencode(self.directory)
        env[b"GITHUB_OUTPUT"] = d + b"/output"
        env[b"GITHUB_ENV"] = d + b"/env"
        env[b"GITHUB_PATH"] = d + b"/path"
        env[b"GITHUB_STATE"] = d + b"/state"
        env[b"GITHUB_STEP_SUMMARY"] = d + b"/summary"

    def written(self) -> bool:
        """Whether a file-command file may hold something (one ``lstat`` each).

        ``False`` when the five are still empty regular files with one name,
        as they were made: then :attr:`pristine` is set, and the directory
        may be reused. A deleted file holds nothing; one replaced by a link
        (or anything else) is read.
        """
        pristine = True
        for file in self.command_files():
            try:
                info = os.lstat(file)
            except OSError:
                pristine = False  # deleted by the script: nothing written
                continue
            if info.st_size or not _plain(info):
                return True
        self.pristine = pristine
        return False

    def finish(self, *, clean: bool) -> None:
        """Give the directory back to the job's pool, or remove it.

        Args:
            clean: Nothing of the step can still write to the files (its
                process group ended normally and its pipes closed).
        """
        if clean and self.pristine and self.pool is not None:
            self.pool.give(self.directory)
        else:
            self.remove()

    def remove(self) -> None:
        for file in (self.script, *self.command_files()):
            try:
                os.unlink(file)
            except OSError:
                pass
        _remove_tree(self.directory)

    @staticmethod
    def read(where: str, file: str, limit: int) -> bytes:
        """The file's bytes, at most ``limit``; ``b""`` when empty or deleted.

        Never more than ``limit + 1`` bytes are read, whatever the file is: a
        regular file whose size is over the limit is not read at all (a
        sparse file costs nothing), one that grows while it is read stops
        being read past the limit, and anything else the script may have put
        there (``/dev/zero``, a FIFO) is read without blocking, up to the
        limit.

        Args:
            where: The file's path.
            file: The file command (``GITHUB_OUTPUT`` …), for the message.
            limit: The most bytes it may hold.

        Raises:
            _TooLarge: It holds more than ``limit`` bytes.
        """
        try:
            info = os.stat(where)
            if info.st_size == 0 and stat.S_ISREG(info.st_mode):
                return b""  # the common case: one syscall
            fd = os.open(where, _READ | os.O_NONBLOCK)
        except OSError:
            return b""  # deleted by the script: nothing written
        chunks: list[bytes] = []
        try:
            info = os.fstat(fd)  # the file opened, not the name stat'ed
            if stat.S_ISREG(info.st_mode) and info.st_size > limit:
                raise _TooLarge(file, limit, info.st_size)
            left = limit + 1
            while left > 0:
                chunk = os.read(fd, min(_FILE_CHUNK, left))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            if left <= 0:
                raise _TooLarge(file, limit, None)
        except BlockingIOError:
            pass  # a FIFO with nothing more in it now
        except OSError:
            return b""
        finally:
            os.close(fd)
        return b"".join(chunks)


class _TooLarge(Exception):
    """A file command's file holds more than its limit (it was not applied)."""

    def __init__(self, file: str, limit: int, size: int | None) -> None:
        what = f"is {size} bytes," if size is not None else "holds"
        mib, rest = divmod(limit, 1 << 20)
        most = f"{mib} MiB" if mib and not rest else f"{limit} bytes"
        super().__init__(
            f"{file} {what} more than the {most} a step may write to it; "
            "it was not read"
        )


def _directories(run: StepRun) -> tuple[str, str]:
    """The workspace and the process's working directory, absolute.

    Whether the working directory exists is checked when it matters: the
    spawn fails on it, or something else failed first
    (:func:`_check_directory`).
    """
    workspace = os.path.abspath(run.workspace)
    if run.working_directory is None:
        return workspace, workspace
    return workspace, os.path.join(workspace, os.path.expanduser(run.working_directory))


def _check_directory(run: StepRun, cwd: str) -> None:
    """Raise the step's error if its working directory is not one."""
    if not os.path.isdir(cwd):
        what = "workspace" if run.working_directory is None else "working directory"
        raise StepFailed(f"The {what} {cwd!r} does not exist or is not a directory.")


def _inherited_environment() -> dict[bytes, bytes]:
    """A copy of ``os.environ``, encoded as :class:`subprocess.Popen` would.

    On POSIX, ``os.environ`` keeps exactly those bytes in a plain dict that
    every change made through it updates; copying that dict costs one
    C-level call, where ``dict(os.environ)`` decodes every variable and
    Popen encodes it again.
    """
    raw = getattr(os.environ, "_data", None)
    if os.supports_bytes_environ and type(raw) is dict:
        return raw.copy()
    encode = os.fsencode
    return {encode(name): encode(value) for name, value in os.environ.items()}


def _environment(run: StepRun) -> tuple[dict[bytes, bytes], str]:
    """The process's environment, encoded, before the per-step variables.

    Returns:
        The environment and its ``PATH``.
    """
    env = _inherited_environment()
    encode = os.fsencode
    for name, value in run.env.items():
        env[encode(name)] = encode(value)
    inherited = env.get(b"PATH")
    path = os.defpath if inherited is None else os.fsdecode(inherited)
    if run.path:
        path = os.pathsep.join((*run.path, path) if path else run.path)
    env[b"PATH"] = encode(path)
    return env, path


def _truthy(env: Mapping[bytes, bytes], name: bytes) -> bool:
    return env.get(name, b"").strip().lower() == b"true"


async def run_shell(run: StepRun) -> None:
    """Run a shell step to its end (rules §12, R6.3).

    Must be called in the step's own task and cancel scope. When that scope
    is cancelled, the process group is stopped with ``SIGINT``, then
    ``SIGTERM`` after ``run.interrupt_grace``, then ``SIGKILL`` after
    ``run.terminate_grace``; the file commands are applied and
    :class:`trio.Cancelled` is re-raised once no process of the group is
    alive.

    Args:
        run: The step's record: what to run, and where results go.

    Raises:
        StepFailed: The shell, the working directory or the temporary
            directory is missing, the process exited with a non-zero code, or
            a file or workflow command was malformed or refused.
        trio.Cancelled: The step was stopped.
    """
    workspace, cwd = _directories(run)
    env, path = _environment(run)
    try:
        argv, extension = resolve_shell(run.shell, path)
        files = _StepFiles(run.script or "", extension, run.runner_temp, run.shell_job)
    except StepFailed:
        _check_directory(run, cwd)  # checked first, reported first
        raise
    execution: _Execution | None = None
    try:
        env[b"CI"] = env[b"GITHUB_ACTIONS"] = b"true"
        env[b"RUNNER_TRACKING_ID"] = (
            _PROCESS_TRACKING_ID
            if run.shell_job is None
            else run.shell_job.tracking_id.encode()
        )
        env[b"GITHUB_WORKSPACE"] = os.fsencode(workspace)
        env[b"RUNNER_TEMP"] = os.fsencode(files.runner_temp)
        files.export(env)
        execution = _Execution(run, files, env)
        proc = await _spawn(run, argv, path, files.script, cwd, env)
        await execution.execute(proc)
    finally:
        files.finish(clean=execution is not None and execution.clean)


async def _spawn(
    run: StepRun,
    argv: list[str],
    search_path: str,
    script: str,
    cwd: str,
    env: dict[bytes, bytes],
) -> _Child:
    """Start the step's process, or say why it cannot be started.

    A missing working directory is found here, by the spawn's ``chdir``;
    a shell program that cannot be executed any more (removed or replaced
    since :func:`resolve_shell` found it) is looked up once more.
    """
    for retry in (True, False):
        args = [arg.replace("{0}", script) for arg in argv]
        try:
            return await _start(
                args,
                cwd,
                env,
                None if run.shell_job is None else run.shell_job.inheritable_fds(),
            )
        except OSError as exc:
            error = exc
        if error.filename == cwd:
            _check_directory(run, cwd)
        if not retry or error.filename != args[0]:
            break
        forget_shell(run.shell, search_path)
        found, _ = resolve_shell(run.shell, search_path)
        if found == argv:
            break
        argv = found
    raise StepFailed(
        f"Cannot start the shell {args[0]!r}: {error.strerror or error}."
    ) from None


@final
class _Child:
    """A process started in its own session, with its stdout/stderr piped.

    ``stdout`` and ``stderr`` are the non-blocking read ends of the pipes.
    The exit is awaited on a pidfd where the kernel has them, else polled.

    Where there is a pidfd (and :data:`_FAST_PATH`), the parent keeps its
    copies of the pipes' write ends until :meth:`close_writers`: then the
    pipes cannot reach their end while the process runs, so a quiet step
    wakes the event loop once, for its exit, instead of once more for each
    pipe that the exiting process closes a moment earlier.
    """

    __slots__ = ("_status", "pid", "pidfd", "popen", "stderr", "stdout", "writers")

    def __init__(
        self,
        argv: list[str],
        cwd: str,
        env: dict[bytes, bytes],
        inheritable: list[int] | None = None,
    ) -> None:
        out_r, out_w = os.pipe()
        try:
            err_r, err_w = os.pipe()
        except BaseException:
            os.close(out_r)
            os.close(out_w)
            raise
        self.popen: subprocess.Popen[bytes] | None = None
        self._status: int | None = None
        try:
            if _posix_spawn is not None and _is_current_directory(cwd):
                self.pid = _posix_spawn(
                    argv[0],
                    argv,
                    env,
                    file_actions=[
                        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                        (os.POSIX_SPAWN_DUP2, out_w, 1),
                        (os.POSIX_SPAWN_DUP2, err_w, 2),
                        *(
                            (os.POSIX_SPAWN_CLOSE, fd)
                            for fd in (
                                _inheritable_fds()
                                if inheritable is None
                                else inheritable
                            )
                        ),
                    ],
                    setsid=True,
                    setsigdef=_DEFAULT_SIGNALS,
                )
            else:
                self.popen = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out_w,
                    stderr=err_w,
                    cwd=cwd,
                    env=env,
                    start_new_session=True,
                )
                self.pid = self.popen.pid
        except BaseException:
            for fd in (out_r, out_w, err_r, err_w):
                os.close(fd)
            raise
        self.writers: tuple[int, ...] = (out_w, err_w)
        os.set_blocking(out_r, False)
        os.set_blocking(err_r, False)
        self.stdout = out_r
        self.stderr = err_r
        self.pidfd: int | None = None
        if _pidfd_open is not None:
            try:
                self.pidfd = _pidfd_open(self.pid, 0)
            except OSError:  # an old kernel: poll instead
                pass
        if self.pidfd is None or not _FAST_PATH:
            self.close_writers()

    def close_writers(self) -> None:
        """Close the parent's write ends: the pipes end with their last writer."""
        for fd in self.writers:
            os.close(fd)
        self.writers = ()

    @property
    def returncode(self) -> int | None:
        """The exit status once the main process has exited (and is reaped).

        As :attr:`subprocess.Popen.returncode`: ``-N`` for signal ``N``.
        """
        if self._status is None:
            self._reap(os.WNOHANG)
        return self._status

    def _reap(self, options: int) -> None:
        try:
            pid, status = os.waitpid(self.pid, options)
        except ChildProcessError:
            # Reaped elsewhere (SIGCHLD ignored, say): its status is lost, and
            # it counts as 0, as subprocess counts it.
            pid, status = self.pid, 0
        if pid == self.pid:
            self._status = os.waitstatus_to_exitcode(status)
            if self.popen is not None:
                self.popen.returncode = self._status  # nothing left for it to reap

    def reap(self) -> int:
        """Reap the main process, which has exited; return its status."""
        if self._status is None:
            self._reap(0)
        assert self._status is not None
        return self._status

    async def wait(self) -> int:
        """Wait until the main process has exited; reap it and return its status."""
        if self.pidfd is not None:
            if self._status is None:
                await trio.lowlevel.wait_readable(self.pidfd)
        else:
            delay = 0.001
            while self.returncode is None:
                await trio.sleep(delay)
                delay = min(delay * 2, 0.05)
        return self.reap()

    def close(self, *, registered: bool = True) -> None:
        """Close the pipes and the pidfd (the process must have been reaped).

        Args:
            registered: Whether Trio may have waited on them (then it is told
                that they close); ``False`` when only a private poller did.
        """
        self.close_writers()
        for fd in (self.stdout, self.stderr, self.pidfd):
            if fd is not None:
                if registered:
                    trio.lowlevel.notify_closing(fd)
                os.close(fd)
        self.pidfd = None


_pidfd_open: Callable[[int, int], int] | None = getattr(os, "pidfd_open", None)

#: :func:`os.posix_spawn`, which starts a process with half the parent's CPU
#: time of :class:`subprocess.Popen` (measured: 110 against 220 µs). It has
#: no working-directory option, so it is used when the
#: process runs in the parent's own directory (the usual workspace); else
#: Popen. Descriptors are handled as Popen handles them: the pipes become 1
#: and 2, /dev/null 0, and the inheritable others are closed (see
#: :func:`_inheritable_fds`; what Python opens is closed at exec, PEP 446).
_posix_spawn: Callable[..., int] | None = getattr(os, "posix_spawn", None)


def _is_current_directory(directory: str) -> bool:
    try:
        return directory == os.getcwd()
    except OSError:  # ours was removed: let Popen's chdir say what is wrong
        return False


def _inheritable_fds() -> list[int]:
    """Our descriptors above 2 that a child would inherit.

    Python opens every descriptor non-inheritable, but a process may be given
    inheritable ones by whoever started it (a CI harness's pipe, say); Popen
    closes them in the child, and so must a spawn (a step's leftover daemon
    holding such a pipe could keep a harness waiting).
    """
    found = []
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:  # pragma: no cover - /proc is mounted where we run
        names = [str(fd) for fd in range(3, 256)]
    for name in names:
        fd = int(name)
        if fd > 2:
            try:
                if os.get_inheritable(fd):
                    found.append(fd)
            except OSError:  # closed meanwhile (the listing's own descriptor)
                pass
    return found


#: Signals Python ignores that a child must get back at their default, as
#: ``Popen(restore_signals=True)`` does.
_DEFAULT_SIGNALS: Final = tuple(
    getattr(signal, name)
    for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ")
    if hasattr(signal, name)
)

#: Whether a step is first watched by its own task with a private epoll
#: instance (:meth:`_Execution._watch`); else pump tasks do it from the start.
_FAST_PATH: bool = hasattr(select, "epoll")

#: One item per shell process of ours that is starting or running (a list:
#: ``append`` and ``pop`` are atomic, should several Trio runs share it).
_RUNNING: Final[list[None]] = []


async def _start(
    argv: list[str],
    cwd: str,
    env: dict[bytes, bytes],
    inheritable: list[int] | None = None,
) -> _Child:
    """Start the process, in the event loop's thread.

    A spawn blocks its thread until the child has exec'd: about 0.2 ms
    here, and up to a few milliseconds on an overloaded machine, where the
    new child may wait for a CPU before it can exec. Handing spawns to a
    worker thread was measured and is worse on such a machine too: while a
    worker holds the GIL, every system call of the event loop's thread waits
    for it (200 background steps ten at a time on two cores ran a third
    slower, and a moving average that switched to threads only when spawns
    were slow fed itself, since spawns in threads are slower still).
    """
    _RUNNING.append(None)
    try:
        await trio.lowlevel.checkpoint_if_cancelled()
        child = _Child(argv, cwd, env, inheritable)
    except BaseException:
        _RUNNING.pop()
        raise
    GUARDIAN.send(b"+g %d" % child.pid)
    return child


@final
class _Execution:
    """One process group from start to the last of its members."""

    __slots__ = ("clean", "commands", "env", "files", "killed", "run", "splitters")

    def __init__(
        self, run: StepRun, files: _StepFiles, env: dict[bytes, bytes]
    ) -> None:
        self.run = run
        self.files = files
        self.commands = _Commands(run, env)
        self.env = env
        self.killed = False
        #: Whether the group ended by itself and its pipes closed with it:
        #: nothing of the step can write to its files any more.
        self.clean = False
        #: The line state of each stream that has produced output.
        self.splitters: dict[str, LineSplitter] = {}

    async def execute(self, proc: _Child) -> None:
        """Watch the started process and its group to their end; apply the files."""
        run = self.run
        stopped: BaseException | None = None
        registered = False
        try:
            done = False
            if proc.pidfd is not None and _FAST_PATH:
                try:
                    done = await self._watch(proc)
                except BaseException as exc:  # Cancelled, or KeyboardInterrupt
                    stopped = exc
            if not done:
                proc.close_writers()  # else the pumps would wait for ever
                registered = True
                stopped = await self._supervise(proc, stopped)
        finally:
            proc.close(registered=registered)
            _RUNNING.pop()
            GUARDIAN.send(b"-g %d" % proc.pid)
        code = proc.returncode
        assert code is not None
        # .NET, and so GitHub's runner, reports death by signal N as 128 + N.
        code = code if code >= 0 else 128 - code
        run.exit_code = code
        errors = self._apply_files()
        if stopped is not None:
            raise stopped
        if code != 0:
            raise StepFailed(
                f"Process completed with exit code {code}.", exit_code=code
            )
        errors = self.commands.errors + errors
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise StepFailed(errors[0] + more, exit_code=code)

    async def _watch(self, proc: _Child) -> bool:
        """The common case, in this task alone: output until the main process exits.

        The pipes and the pidfd are watched with a private epoll instance,
        the only file descriptor Trio waits on: no pump tasks, no nursery,
        one registration. Returns ``True`` when the process has exited (and
        is reaped), no process is left in the group and the pipes are at
        their end (or were given :data:`DRAIN_TIMEOUT` seconds to get
        there): the step is over. Otherwise (leftovers in the group, or a
        cancel, which propagates) :meth:`_supervise` takes over; the line
        state of each stream is kept in :attr:`splitters`.
        """
        pidfd = proc.pidfd
        assert pidfd is not None
        names = {proc.stdout: "stdout", proc.stderr: "stderr"}
        poller = select.epoll(3)
        try:
            for fd in (proc.stdout, proc.stderr, pidfd):
                poller.register(fd, select.EPOLLIN)
            exited = False
            while not exited:
                # Also the checkpoint between the chunks of a chatty process.
                await trio.lowlevel.wait_readable(poller.fileno())
                for fd, _ in poller.poll(0):
                    if fd == pidfd:
                        exited = True
                    else:
                        self._take(fd, names, poller)
            proc.reap()  # at once: the pidfd says it has exited
            proc.close_writers()
            # The writers are usually gone with the process: read what is left.
            for fd in tuple(names):
                while fd in names and self._take(fd, names, poller):
                    pass
            if not names:
                self.clean = not group_alive(proc.pid)
                return self.clean
            if group_alive(proc.pid):
                return False
            # A pipe is still held open, but not by the group: by a process
            # that left it, or, most often, by a child that another step is
            # starting at this moment (it holds copies of our descriptors
            # until it execs). Wait for the pipe's end here, as long as
            # _supervise's pumps would.
            poller.unregister(pidfd)
            with trio.move_on_after(DRAIN_TIMEOUT):
                while names:
                    await trio.lowlevel.wait_readable(poller.fileno())
                    for fd, _ in poller.poll(0):
                        self._take(fd, names, poller)
            for name in names.values():
                splitter = self.splitters.pop(name, None)
                if splitter is not None:
                    splitter.close()
            return True
        finally:
            trio.lowlevel.notify_closing(poller.fileno())
            poller.close()

    def _take(self, fd: int, names: dict[int, str], poller: select.epoll) -> bool:
        """Read a chunk from the pipe ``fd`` if it has one; forget it at its end.

        Returns:
            Whether a chunk was read.
        """
        try:
            if self._read(fd, names[fd]):
                return True
        except BlockingIOError:
            return False
        poller.unregister(fd)
        del names[fd]
        return False

    def _read(self, fd: int, name: str) -> bool:
        """Read one chunk from a pipe and emit its lines; ``False`` at its end.

        Raises:
            BlockingIOError: Nothing to read yet.
        """
        data = os.read(fd, _READ_SIZE)
        splitter = self.splitters.get(name)
        if not data:
            if splitter is not None:
                del self.splitters[name]
                splitter.close()
            return False
        if splitter is None:
            splitter = self.splitters[name] = self._splitter(name)
        splitter.feed(data)
        return True

    async def _supervise(
        self, proc: _Child, stopped: BaseException | None
    ) -> BaseException | None:
        """Pump both pipes in tasks of their own until the group is gone.

        Runs the stop ladder when ``stopped`` is set or the step is cancelled
        meanwhile; returns what stopped the step, if anything.
        """
        # Shielded: output is read to its end, also while the group is
        # being stopped.
        out = trio.CancelScope(shield=True)
        err = trio.CancelScope(shield=True)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._pump, proc.stdout, "stdout", out)
            nursery.start_soon(self._pump, proc.stderr, "stderr", err)
            if stopped is None:
                try:
                    await proc.wait()
                except BaseException as exc:  # Cancelled, or KeyboardInterrupt
                    stopped = exc
            if stopped is not None or group_alive(proc.pid):
                with trio.CancelScope(shield=True):
                    if stopped is not None:
                        await self._ladder(proc)
                    await self._kill_leftovers(proc.pid)
            # Only a process that left the group can still hold a pipe
            # open: stop reading after a while (no effect on a pump that
            # has ended).
            out.deadline = err.deadline = trio.current_time() + DRAIN_TIMEOUT
        return stopped

    async def _pump(self, fd: int, name: str, scope: trio.CancelScope) -> None:
        """Read one pipe to its end, line by line; a quiet one costs two reads."""
        with scope:
            try:
                while True:
                    try:
                        if not self._read(fd, name):
                            return
                    except BlockingIOError:
                        await trio.lowlevel.wait_readable(fd)
                        continue
                    # Let other tasks run between the chunks of a chatty process.
                    await trio.lowlevel.checkpoint()
            finally:
                splitter = self.splitters.pop(name, None)
                if splitter is not None:
                    splitter.close()

    def _splitter(self, name: str) -> LineSplitter:
        line = self.commands.line
        return LineSplitter(lambda text: line(text, name), masker=self.run.masker)

    def _signal(self, pgid: int, sig: signal.Signals) -> bool:
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            return False
        if sig == signal.SIGKILL:
            self.killed = True
        self.run.signal_sent(sig.name)
        return True

    async def _ladder(self, proc: _Child) -> None:
        """R6.3: SIGINT, SIGTERM, SIGKILL until the main process has exited."""
        graces = (self.run.interrupt_grace, self.run.terminate_grace)
        for (sig, which), grace in zip(_RUNGS, graces, strict=True):
            if proc.returncode is not None or not self._signal(proc.pid, sig):
                return
            with trio.move_on_after(grace):
                await proc.wait()
                return
            self.run.grace_expired(which)
        if proc.returncode is None and self._signal(proc.pid, signal.SIGKILL):
            await proc.wait()

    async def _kill_leftovers(self, pgid: int) -> None:
        """SIGKILL what the main process left in its group; wait until it is gone."""
        if not group_alive(pgid):
            return
        if not self.killed:
            self._signal(pgid, signal.SIGKILL)
        delay = 0.001
        while group_alive(pgid):
            await trio.sleep(delay)
            delay = min(delay * 2, 0.05)
            try:
                os.killpg(pgid, signal.SIGKILL)  # a member may have forked meanwhile
            except ProcessLookupError:
                return
            except PermissionError:
                return  # only members we may not signal (setuid) are left

    def _apply_files(self) -> list[str]:
        """Apply the file commands; return one message per malformed file."""
        run, files = self.run, self.files
        if not files.written():
            return []  # the common case: five stats, nothing to parse
        errors: list[str] = []
        targets: tuple[tuple[str, str, Callable[[str, str], None]], ...] = (
            ("GITHUB_OUTPUT", files.output, run.set_output),
            ("GITHUB_ENV", files.env, run.set_env),
            ("GITHUB_STATE", files.state, run.state.__setitem__),
        )
        read = files.read
        for file, where, apply in targets:
            try:
                data = read(where, file, FILE_COMMAND_LIMIT)
                if not data:
                    continue  # the common case: nothing to parse
                for name, value in parse_key_values(data, file):
                    apply(name, value)
            except (FileCommandError, _TooLarge) as exc:
                errors.append(str(exc))
        try:
            data = read(files.path, "GITHUB_PATH", FILE_COMMAND_LIMIT)
            for entry in parse_path_file(data):
                run.add_path(entry)
        except (FileCommandError, _TooLarge) as exc:
            errors.append(str(exc))
        try:
            summary = read(files.summary, "GITHUB_STEP_SUMMARY", SUMMARY_LIMIT)
            if summary.strip():
                run.summary = summary.decode("utf-8", "replace")
        except _TooLarge as exc:
            errors.append(str(exc))
        for message in errors:
            run.annotate("error", message)
        return errors


#: ``RUNNER_TRACKING_ID`` of steps run without a job (a :class:`ShellJob`).
_PROCESS_TRACKING_ID: Final = f"trio-steps_{os.urandom(16).hex()}".encode()


@final
class _Guardian:
    """The runner's end of the guardian's pipe (see :mod:`._guardian`).

    Started at the first message; started again in a forked child, or when
    it has died. Messages are written without blocking: should the pipe be
    full (a guardian starved of CPU), one is dropped rather than stall the
    event loop.
    """

    __slots__ = ("bases", "fd", "groups", "owner", "pid", "tracked")

    def __init__(self) -> None:
        self.fd: int | None = None
        self.pid: int | None = None
        self.owner = 0
        self.groups: set[bytes] = set()
        self.tracked: set[bytes] = {_PROCESS_TRACKING_ID}
        self.bases: set[bytes] = set()

    def send(self, message: bytes) -> None:
        """Tell the guardian ``message`` (``+g PGID``, ``-t ID``, ``d BASE``)."""
        op, _, value = message.partition(b" ")
        if op == b"d":
            self.bases.add(value)
        else:
            state = self.groups if op[1:] == b"g" else self.tracked
            if op[:1] == b"+":
                state.add(value)
            else:
                state.discard(value)
        if (
            self.fd is None
            or self.owner != os.getpid()
            or not self._write(message + b"\n")
        ):
            self._start()

    def _write(self, data: bytes) -> bool:
        assert self.fd is not None
        try:
            os.write(self.fd, data)
        except BlockingIOError:
            return True  # dropped: the job-end sweep still runs
        except OSError:
            return False  # the guardian is gone
        return True

    def _start(self) -> None:
        if self.fd is not None:
            # In a forked child too: its copy would keep the parent's
            # guardian from seeing the parent's end.
            with contextlib.suppress(OSError):
                os.close(self.fd)
            if self.pid is not None and self.owner == os.getpid():
                with contextlib.suppress(OSError):
                    os.waitpid(self.pid, os.WNOHANG)  # a dead guardian's zombie
            self.fd = self.pid = None
        self.owner = os.getpid()
        spawn: Callable[..., int] | None = getattr(os, "posix_spawn", None)
        if not sys.executable or spawn is None:
            return  # no guardian: documented
        package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        code = (
            "import sys; sys.path.insert(0, sys.argv.pop(1)); "
            "from trio_steps._guardian import main; main()"
        )
        self.bases.update(
            os.fsencode(base)
            for base in (control_directory(), tempfile.gettempdir(), _SHM)
        )
        read_end, write_end = os.pipe()
        try:
            self.pid = spawn(
                sys.executable,
                [
                    sys.executable,
                    "-I",
                    "-S",
                    "-c",
                    code,
                    package_parent,
                    str(self.owner),
                    *sorted(os.fsdecode(base) for base in self.bases),
                ],
                _inherited_environment(),
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, read_end, 0),
                    (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                    (os.POSIX_SPAWN_DUP2, 1, 2),
                    *((os.POSIX_SPAWN_CLOSE, fd) for fd in _inheritable_fds()),
                ],
                setsid=True,
                setsigdef=_DEFAULT_SIGNALS,
            )
        except OSError:
            os.close(write_end)
            return
        finally:
            os.close(read_end)
        os.set_blocking(write_end, False)
        self.fd = write_end
        lines = [b"+g " + g for g in self.groups] + [b"+t " + t for t in self.tracked]
        self._write(b"".join(line + b"\n" for line in lines))


#: The process's guardian: kills the job's processes and removes its step
#: directories should this process die without doing so (SIGKILL).
GUARDIAN: Final = _Guardian()


def _tell_guardian_directory(base: str) -> None:
    """Tell the guardian that step directories are made under ``base`` too."""
    encoded = os.fsencode(os.path.abspath(base))
    if encoded not in GUARDIAN.bases:
        GUARDIAN.send(b"d " + encoded)
