"""Where shell steps run and what they leave: directories and per-step files.

Each step gets a private directory (in ``/dev/shm`` where it is writable)
holding its script and its ``GITHUB_OUTPUT``, ``GITHUB_ENV``,
``GITHUB_PATH``, ``GITHUB_STATE`` and ``GITHUB_STEP_SUMMARY`` files; a clean
one is reused within a job. :class:`ShellJob` is what a job's shell steps
share: the reusable directories, the job's ``RUNNER_TRACKING_ID`` and the
sweep of its processes at the end. File-command files are size-checked
before they are read (``FILE_COMMAND_LIMIT``, ``SUMMARY_LIMIT``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import random
import shutil
import stat
import tempfile
from typing import TYPE_CHECKING, Final, final

import trio

from .._context import StepFailed, StepRun
from ._guardian import kill_tracked
from ._process import (
    _SHM,
    _SHM_USABLE,
    GUARDIAN,
    _inheritable_fds,
    _tell_guardian_directory,
    control_directory,
)

if TYPE_CHECKING:
    pass

__all__ = ["FILE_COMMAND_LIMIT", "SUMMARY_LIMIT", "ShellJob"]
#: A ``GITHUB_STEP_SUMMARY`` larger than this many bytes is not read: it
#: fails the step (GitHub's limit for a step summary).
SUMMARY_LIMIT: Final = 1024 * 1024
#: A ``GITHUB_OUTPUT``, ``GITHUB_ENV``, ``GITHUB_STATE`` or ``GITHUB_PATH``
#: larger than this many bytes is not read: it fails the step.
FILE_COMMAND_LIMIT: Final = 4 * 1024 * 1024


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
