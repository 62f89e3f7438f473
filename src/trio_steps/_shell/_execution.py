"""The shell executor: how a step whose ``run`` is a string runs (rules §12).

:func:`run_shell` writes the script to a fresh per-step directory, starts the
shell in its own session (so its process group is its own), streams stdout
and stderr line by line to the :class:`~trio_steps._context.StepRun`,
handles workflow commands, stops the group with the SIGINT → SIGTERM →
SIGKILL ladder when the step is cancelled (R6.3), and applies the file
commands when the process has ended (also after a cancel, R5.3).
"""

from __future__ import annotations

import codecs
import os
import re
import select
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, final

import trio

from .._context import StepFailed, StepRun
from ._commands import (
    FileCommandError,
    _Commands,
    parse_key_values,
    parse_path_file,
)
from ._process import (
    _PROCESS_TRACKING_ID,
    _RUNGS,
    _RUNNING,
    GUARDIAN,
    _inherited_environment,
    _start,
    group_alive,
)
from ._resolve import forget_shell, resolve_shell
from ._workspace import (
    FILE_COMMAND_LIMIT,
    SUMMARY_LIMIT,
    _check_directory,
    _directories,
    _StepFiles,
    _TooLarge,
)

if TYPE_CHECKING:
    from .._masking import Masker
    from ._process import _Child
    from ._workspace import ShellJob

__all__ = ["DRAIN_TIMEOUT", "MAX_LINE_CHARS", "LineSplitter", "run_shell"]

#: A line longer than this many characters is emitted in pieces of this size.
MAX_LINE_CHARS: Final = 65536
#: Seconds to keep reading stdout/stderr once every process of the group is
#: gone; only a process that left the group (``setsid``) can hold them open.
DRAIN_TIMEOUT: Final = 1.0

_READ_SIZE: Final = 65536
_NEWLINE: Final = re.compile("\r\n|\r|\n")


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


async def run_shell(
    run: StepRun, shell_job: ShellJob | None, *, program: list[str] | None = None
) -> None:
    """Run a shell step to its end (rules §12, R6.3).

    Must be called in the step's own task and cancel scope. When that scope
    is cancelled, the process group is stopped with ``SIGINT``, then
    ``SIGTERM`` after ``run.interrupt_grace``, then ``SIGKILL`` after
    ``run.terminate_grace``; the file commands are applied and
    :class:`trio.Cancelled` is re-raised once no process of the group is
    alive.

    Args:
        run: The step's record: what to run, and where results go.
        shell_job: What the job's shell steps share (the tracking id, the
            guardian's descriptors, the ``RUNNER_TEMP`` bookkeeping), or
            ``None`` for a step run on its own.
        program: Run this argv (its first item an absolute path) instead of
            ``run.script`` with ``run.shell``: a JavaScript action's script
            with ``node`` (rules §16) gets everything else a shell step gets.

    Raises:
        StepFailed: The shell, the working directory or the temporary
            directory is missing, the process exited with a non-zero code, or
            a file or workflow command was malformed or refused.
        trio.Cancelled: The step was stopped.
    """
    workspace, cwd = _directories(run)
    env, path = _environment(run)
    try:
        if program is None:
            argv, extension = resolve_shell(run.shell, path)
        else:
            argv, extension = program, ""
        files = _StepFiles(run.script or "", extension, run.runner_temp, shell_job)
    except StepFailed:
        _check_directory(run, cwd)  # checked first, reported first
        raise
    execution: _Execution | None = None
    try:
        env[b"CI"] = env[b"GITHUB_ACTIONS"] = b"true"
        env[b"RUNNER_TRACKING_ID"] = (
            _PROCESS_TRACKING_ID
            if shell_job is None
            else shell_job.tracking_id.encode()
        )
        env[b"GITHUB_WORKSPACE"] = os.fsencode(workspace)
        env[b"RUNNER_TEMP"] = os.fsencode(files.runner_temp)
        files.export(env)
        execution = _Execution(run, files, env)
        proc = await _spawn(
            run,
            shell_job,
            argv,
            path,
            files.script,
            cwd,
            env,
            fixed=program is not None,
        )
        await execution.execute(proc)
    finally:
        files.finish(clean=execution is not None and execution.clean)


async def _spawn(
    run: StepRun,
    shell_job: ShellJob | None,
    argv: list[str],
    search_path: str,
    script: str,
    cwd: str,
    env: dict[bytes, bytes],
    *,
    fixed: bool = False,
) -> _Child:
    """Start the step's process, or say why it cannot be started.

    A missing working directory is found here, by the spawn's ``chdir``;
    a shell program that cannot be executed any more (removed or replaced
    since :func:`resolve_shell` found it) is looked up once more, unless
    the program is ``fixed`` (given by the caller, not a shell).
    """
    for retry in (True, False):
        args = [arg.replace("{0}", script) for arg in argv]
        try:
            return await _start(
                args,
                cwd,
                env,
                None if shell_job is None else shell_job.inheritable_fds(),
            )
        except OSError as exc:
            error = exc
        if error.filename == cwd:
            _check_directory(run, cwd)
        if fixed or not retry or error.filename != args[0]:
            break
        forget_shell(run.shell, search_path)
        found, _ = resolve_shell(run.shell, search_path)
        if found == argv:
            break
        argv = found
    what = "the program" if fixed else "the shell"
    raise StepFailed(
        f"Cannot start {what} {args[0]!r}: {error.strerror or error}."
    ) from None


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
            if proc.watched_by_poller:
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
