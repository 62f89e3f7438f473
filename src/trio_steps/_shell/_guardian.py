"""What ends a job's processes when the runner cannot: the sweep and the guardian.

*The sweep* (:func:`kill_tracked`): every shell step runs with the job's
``RUNNER_TRACKING_ID`` in its environment, and its children inherit it; at
the end of a job every process whose environment (``/proc/<pid>/environ``)
still holds it gets ``SIGKILL``, as GitHub's runner does. That reaches the
daemons that left the step's process group (``setsid``, double forks).

*The guardian* (:func:`main`): a small process of its own session, started
with the first shell step of a runner process, that holds the read end of a
pipe whose only writer is the runner. The runner tells it which process
groups and tracking ids are live; when the pipe reaches its end the runner
has exited, however it died (``SIGKILL`` included), and the guardian kills
what is still registered, sweeps the tracking ids, and removes the runner's
step directories (their ``script`` holds interpolated secrets). When it
starts, it also removes such directories left by runners that are gone and
had no guardian to clean up after them.

Only the standard library is imported here: the guardian runs with ``-I -S``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
import time
from collections.abc import Iterable

__all__ = ["STALE_NAME", "kill_tracked", "main", "remove_owned_directories"]

#: The names of per-step, ``RUNNER_TEMP`` and shared temp directories, with
#: the pid of the runner that made them.
STALE_NAME = re.compile(r"trio-steps-(?:runner-|temp-)?(\d+)-")


def _processes() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def kill_tracked(entries: Iterable[bytes], *, rounds: int = 64) -> int:
    """``SIGKILL`` every process whose environment holds one of ``entries``.

    Scans ``/proc`` again after each round that killed something (a process
    may fork while it is being looked at), up to ``rounds`` times.

    Args:
        entries: Whole environment entries, ``b"RUNNER_TRACKING_ID=…"``.
        rounds: At most this many scans.

    Returns:
        How many distinct processes were sent ``SIGKILL``.
    """
    wanted = frozenset(entries)
    if not wanted:
        return 0
    me = os.getpid()
    killed: set[int] = set()
    for round_ in range(rounds):
        found = 0
        for pid in _processes():
            if pid == me:
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as stream:
                    environ = stream.read()
            except OSError:  # gone, a zombie, or not ours to read
                continue
            if not wanted.isdisjoint(environ.split(b"\0")):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    continue
                found += 1
                killed.add(pid)
        if not found:
            break
        # Give the killed time to die: a dying process still shows its
        # environment, and would only be found and killed again.
        time.sleep(min(0.001 * 2**round_, 0.05))
    return len(killed)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_owned_directories(
    bases: Iterable[str], *, owner: int | None = None
) -> list[str]:
    """Remove our step and temp directories whose runner is gone.

    Args:
        bases: The directories to look in (``/dev/shm``, the temp dir, …).
        owner: Remove those of this runner pid (alive or not); ``None``:
            those of every runner pid that is not alive.

    Returns:
        The directories removed.
    """
    uid = os.getuid()
    removed = []
    for base in dict.fromkeys(bases):
        try:
            entries = list(os.scandir(base))
        except OSError:
            continue
        for entry in entries:
            match = STALE_NAME.match(entry.name)
            if match is None:
                continue
            pid = int(match.group(1))
            if (pid != owner) if owner is not None else _alive(pid):
                continue
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if not entry.is_dir(follow_symlinks=False):
                    continue
            except OSError:
                continue
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
    return removed


def main(argv: list[str] | None = None) -> None:
    """Guard a runner: ``guardian RUNNER_PID BASE…``, the pipe on stdin.

    Lines on stdin: ``+g PGID`` / ``-g PGID`` (a step's process group),
    ``+t ID`` / ``-t ID`` (a job's tracking id), ``d BASE`` (one more
    directory that holds step directories).
    """
    args = sys.argv[1:] if argv is None else argv
    runner = int(args[0])
    bases = set(args[1:])
    for name in ("SIGINT", "SIGHUP", "SIGTERM", "SIGQUIT"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    # Leftovers of runners that died with their guardian.
    remove_owned_directories(bases)
    groups: set[int] = set()
    tracked: set[bytes] = set()
    pending = b""
    while True:
        try:
            data = os.read(0, 65536)
        except InterruptedError:  # pragma: no cover - PEP 475 retries
            continue
        except OSError:
            break
        if not data:
            break
        *lines, pending = (pending + data).split(b"\n")
        for line in lines:
            op, _, value = line.partition(b" ")
            if op == b"+g":
                groups.add(int(value))
            elif op == b"-g":
                groups.discard(int(value))
            elif op == b"+t":
                tracked.add(b"RUNNER_TRACKING_ID=" + value)
            elif op == b"-t":
                tracked.discard(b"RUNNER_TRACKING_ID=" + value)
            elif op == b"d":
                bases.add(os.fsdecode(value))
    # The runner is gone.
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
    kill_tracked(tracked)
    remove_owned_directories(bases, owner=runner)


if __name__ == "__main__":  # pragma: no cover - run as a script by the runner
    main()
