"""Processes of shell steps: spawning, process groups, and the guardian.

:class:`_Child` starts one shell in its own session (``posix_spawn`` where it
can, :class:`subprocess.Popen` otherwise) and waits for its exit on a pidfd;
:func:`group_alive` tells whether anything of a process group is left. The
runner-side end of the guardian (:data:`GUARDIAN`, see
:mod:`trio_steps._shell._guardian`) learns every process group and tracking
id, so that a ``SIGKILL`` of the runner still ends the steps (rules §12 and
``docs/source/shell.rst``, "What outlives a job").
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, final

import trio

if TYPE_CHECKING:
    pass

__all__ = ["control_directory", "group_alive"]
_RUNGS: Final = (
    (signal.SIGINT, "interrupt"),
    (signal.SIGTERM, "terminate"),
)


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

    @property
    def watched_by_poller(self) -> bool:
        """Whether one private epoll watches its pipes and its exit."""
        return self.pidfd is not None and _FAST_PATH

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
                    # Rare (see _LADDER_SIGNALS), and it costs a fork
                    # instead of a vfork: only when needed.
                    preexec_fn=(_restore_ladder_signals if _ladder_ignored() else None),
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


#: The signals of the stop ladder (R6.3). A process started with one of them
#: ignored (``nohup``, or ``&`` in a script, which ignores SIGINT) would pass
#: that on to every step through ``exec``: a step could not even ``trap`` it,
#: and each stop would wait out the grace. Steps get them back at their
#: default.
_LADDER_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)

#: Signals a child gets back at their default: those Python ignores, as
#: ``Popen(restore_signals=True)`` does, and the ladder's.
_DEFAULT_SIGNALS: Final = (
    *(
        getattr(signal, name)
        for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ")
        if hasattr(signal, name)
    ),
    *_LADDER_SIGNALS,
)


def _ladder_ignored() -> bool:
    """Whether a child started by ``fork`` and ``exec`` would find a ladder
    signal ignored: this process ignores it, or Python does not know."""
    return any(
        signal.getsignal(number) in (signal.SIG_IGN, None) for number in _LADDER_SIGNALS
    )


def _restore_ladder_signals() -> None:  # pragma: no cover - in the child
    """Between ``fork`` and ``exec``: the ladder's signals at their default."""
    for number in _LADDER_SIGNALS:
        signal.signal(number, signal.SIG_DFL)


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
        package_parent = os.path.dirname(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        )
        code = (
            "import sys; sys.path.insert(0, sys.argv.pop(1)); "
            "from trio_steps._shell._guardian import main; main()"
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
