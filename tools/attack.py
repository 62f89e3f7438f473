#!/usr/bin/env python3
"""Replay the attacks of issue 12 against the installed ``trio-steps`` command.

Each attack is one small function below. It runs the command line as a user
would (a subprocess in a private temporary directory) and checks a promise
from outside: no Python traceback, the documented exit status, no secret in
any byte of any output (standard output and error, ``--log-dir`` files,
``--trace`` files, ``timeline`` pictures, ``stats`` output), no process and
no step directory left behind (``/proc`` is scanned for a marker variable
every run gets, and for a unique ``sleep`` argument), and a bounded peak
memory of the runner.

Usage::

    python tools/attack.py                 # every attack, scaled-down sizes
    python tools/attack.py --full          # the sizes of issue 12 (minutes, GBs)
    python tools/attack.py --list
    python tools/attack.py --only signal_sigterm secret_step_names
    python tools/attack.py --cli "python -m trio_steps"

It prints ``PASS name`` or ``FAIL name: why`` per attack (``NOTE name: …``
for report-only findings), then ``N passed, M failed``, and exits 1 when
an attack failed. Linux only (it reads ``/proc``).

Items 22 (``attrs.evolve``) and 23 (a Python step's traceback) of the issue
concern the Python API, not the command line: the test suite covers them.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import os
import random
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

TRACEBACK: Final = b"Traceback (most recent call last)"
#: Every process a run starts inherits this variable (with a fresh value).
MARK_VAR: Final = "TRIO_STEPS_ATTACK_MARK"
#: Where steps record their step directory and ``RUNNER_TEMP``.
RECORD_VAR: Final = "ATTACK_RECORD"
#: The shell line a step runs first so that its directories can be checked.
RECORD: Final = 'printf "%s\\n%s\\n" "$(dirname "$GITHUB_OUTPUT")" "$RUNNER_TEMP" >> "$ATTACK_RECORD"'
#: Exit statuses of the command (docs/source/cli.rst).
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_INVALID: Final = 2
EXIT_CANCELLED: Final = 130
#: The line cut of long output lines (``MAX_LINE_CHARS`` in ``_shell.py``).
LINE_CUT: Final = 65536
MB: Final = 1024 * 1024
#: The largest peak RSS allowed to the runner, in MiB: six times what a
#: one-step job takes (about 32 MiB), far below what any unbounded read of
#: the attacks' inputs takes.
RSS_LIMIT_MB: Final = 200
#: How much of a run's standard output is kept for scanning.
KEEP_OUTPUT: Final = 16 * MB


class AttackFailed(Exception):
    """An attack broke a promise; the message says which."""


def check(condition: bool, why: str) -> None:
    """Fail the running attack with ``why`` unless ``condition`` holds."""
    if not condition:
        raise AttackFailed(why)


# --------------------------------------------------------------------------
# Settings


@dataclass(frozen=True)
class Settings:
    """What every attack is run with."""

    cli: tuple[str, ...]
    full: bool = False
    rss_limit_mb: int = RSS_LIMIT_MB
    keep: bool = False

    def size(self, scaled: int, full: int) -> int:
        """``full`` with ``--full``, else ``scaled``."""
        return full if self.full else scaled


def default_cli() -> tuple[str, ...]:
    """The console script next to the running Python, else on PATH, else ``-m``."""
    beside = Path(sys.executable).parent / "trio-steps"
    if beside.is_file() and os.access(beside, os.X_OK):
        return (str(beside),)
    found = shutil.which("trio-steps")
    if found is not None:
        return (found,)
    return (sys.executable, "-m", "trio_steps")


# --------------------------------------------------------------------------
# Processes and directories left behind


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:  # gone, or not ours
        return b""


def _state(pid: int) -> str:
    stat = _read(f"/proc/{pid}/stat")
    _, _, rest = stat.rpartition(b")")
    return rest[1:2].decode("ascii", "replace")


def marked_processes(mark: str, token: str | None = None) -> list[tuple[int, str]]:
    """Live processes whose environment holds ``MARK_VAR=mark``, or whose
    command line holds ``token``, as (pid, command line); never this one.

    Zombies are left out: they hold nothing but a pid, and whoever is their
    parent reaps them.
    """
    needle = f"{MARK_VAR}={mark}".encode()
    found: list[tuple[int, str]] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        pid = int(entry)
        cmdline = _read(f"/proc/{pid}/cmdline")
        environ = _read(f"/proc/{pid}/environ")
        hit = needle in environ.split(b"\0") or (
            token is not None and token.encode() in cmdline
        )
        if hit and _state(pid) not in ("Z", "X", ""):
            shown = cmdline.replace(b"\0", b" ").decode("utf-8", "replace").strip()
            found.append((pid, shown or f"[pid {pid}]"))
    return found


def wait_for_no_processes(
    mark: str, token: str | None, within: float
) -> list[tuple[int, str]]:
    """The marked processes still alive after up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        alive = marked_processes(mark, token)
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


def kill_marked(mark: str, token: str | None) -> int:
    """SIGKILL every marked process (ours); how many there were."""
    killed: set[int] = set()
    for _ in range(50):
        alive = marked_processes(mark, token)
        if not alive:
            break
        for pid, _cmd in alive:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        time.sleep(0.02)
    return len(killed)


# --------------------------------------------------------------------------
# Running the command


@dataclass
class Run:
    """What one run of the command did."""

    argv: list[str]
    returncode: int
    stdout: bytes
    stderr: bytes
    elapsed: float
    peak_rss_mb: float
    timed_out: bool = False
    killed_for_memory: bool = False
    stdout_bytes: int = 0

    @property
    def label(self) -> str:
        """The subcommand and the name of the file it was given."""
        words = [w for w in self.argv if w in ("run", "validate", "stats", "timeline")]
        if not words:
            return shlex.join(self.argv[-2:])
        at = self.argv.index(words[0])
        return " ".join([words[0], *(Path(a).name for a in self.argv[at + 1 : at + 2])])

    def describe(self) -> str:
        """A short account for a failure message."""
        tail = self.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        what = (
            "timed out"
            if self.timed_out
            else "killed, memory over the kill limit"
            if self.killed_for_memory
            else f"exit {self.returncode}"
        )
        return f"{what} after {self.elapsed:.1f}s; stderr tail: {tail!r}"


class _Sink(threading.Thread):
    """Drains one pipe; keeps the first ``keep`` bytes and counts the rest."""

    def __init__(
        self, stream: IO[bytes] | None, keep: int, lines: int | None = None
    ) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.keep = keep
        #: Read this many lines, then close the pipe (``| head -n lines``).
        self.lines = lines
        self.chunks: list[bytes] = []
        self.kept = 0
        self.total = 0
        self.tail = b""

    def run(self) -> None:
        if self.stream is None:
            return
        if self.lines is not None:
            for _ in range(self.lines):
                line = self.stream.readline()
                self.chunks.append(line)
                self.total += len(line)
            self.stream.close()
            return
        read = getattr(self.stream, "read1", None)
        while True:
            chunk: bytes = read(MB) if read is not None else b""
            if not chunk:
                break
            self.total += len(chunk)
            if self.kept < self.keep:
                self.chunks.append(chunk)
                self.kept += len(chunk)
            else:
                # Keep the end too: a traceback comes last.
                self.tail = (self.tail + chunk)[-MB:]

    def data(self) -> bytes:
        return b"".join(self.chunks) + self.tail


class _MemoryWatch(threading.Thread):
    """Samples the runner's resident size; kills its group over ``kill_kb``."""

    def __init__(self, pid: int, kill_kb: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.kill_kb = kill_kb
        self.peak_kb = 0
        self.killed = False
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            status = _read(f"/proc/{self.pid}/status")
            match = re.search(rb"VmHWM:\s+(\d+) kB", status)
            if match is None:
                continue
            self.peak_kb = max(self.peak_kb, int(match[1]))
            if self.peak_kb > self.kill_kb and not self.killed:
                self.killed = True
                with contextlib.suppress(OSError):
                    os.killpg(self.pid, signal.SIGKILL)


class Sandbox:
    """A private directory for one attack, and how to run the command in it.

    ``in/`` holds the attack's inputs (workflow files); everything else under
    the root is output and is scanned for secrets. ``work/`` is the current
    directory of every run (the workspace), ``tmp/`` its ``TMPDIR`` unless
    the attack asks for the default (``/dev/shm``).
    """

    def __init__(self, settings: Settings, name: str) -> None:
        self.settings = settings
        self.root = Path(tempfile.mkdtemp(prefix=f"trio-steps-attack-{name}-"))
        self.inputs = self.root / "in"
        self.work = self.root / "work"
        self.tmp = self.root / "tmp"
        self.out = self.root / "out"
        for directory in (self.inputs, self.work, self.tmp, self.out):
            directory.mkdir()
        self.record = self.root / "record.txt"
        self.record.touch()
        self.mark = uuid.uuid4().hex
        #: A unique ``sleep`` argument: finds a step's process even if it
        #: dropped its environment.
        self.token = f"777.{random.randrange(10**8, 10**9)}"
        self.notes: list[str] = []

    # -- inputs ------------------------------------------------------------

    def workflow(
        self, steps: str, *, name: str = "wf.yml", job_extra: str = ""
    ) -> Path:
        """Write a one-job workflow whose ``steps:`` are ``steps`` (YAML, at
        column 0, indented here), with ``job_extra`` as more job keys."""
        body = "".join(f"      {line}\n" for line in steps.strip("\n").splitlines())
        extra = "".join(f"    {line}\n" for line in job_extra.strip("\n").splitlines())
        text = f"on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n{extra}    steps:\n{body}"
        return self.write(name, text)

    def write(self, name: str, text: str | bytes) -> Path:
        path = self.inputs / name
        if isinstance(text, str):
            text = text.encode("utf-8", "surrogateescape")
        path.write_bytes(text)
        return path

    # -- running -----------------------------------------------------------

    def env(
        self, *, shm: bool = False, extra: dict[str, str] | None = None
    ) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("NO_COLOR", None)
        env[MARK_VAR] = self.mark
        env[RECORD_VAR] = str(self.record)
        if shm:
            env.pop("TMPDIR", None)
        else:
            env["TMPDIR"] = str(self.tmp)
        if extra:
            env.update(extra)
        return env

    def run(
        self,
        args: Sequence[str | bytes],
        *,
        timeout: float = 30.0,
        shm: bool = False,
        env: dict[str, str] | None = None,
        during: Callable[[subprocess.Popen[bytes]], None] | None = None,
        prefix: Sequence[str] = (),
        stdout_lines: int | None = None,
    ) -> Run:
        """Run the command with ``args``; never longer than ``timeout``.

        Args:
            args: Arguments after the command (``bytes`` pass as they are).
            timeout: Seconds; then the run's process group and every marked
                process are killed and the run reports ``timed_out``.
            shm: Leave ``TMPDIR`` unset, so step directories go to ``/dev/shm``.
            env: More environment variables.
            during: Called with the process once it started (to signal it).
            prefix: Put before the command (a wrapper such as ``sh -c``).
            stdout_lines: Read this many lines of standard output, then close
                the pipe (a ``| head -n N``).
        """
        argv: list[str | bytes] = [*prefix, *self.settings.cli, *args]
        # A child's ru_maxrss starts at our own peak (Linux carries the
        # high-water mark over fork and exec): it tells the child's peak
        # only when it is above ours. /proc sampling covers the rest.
        own_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.monotonic()
        proc = subprocess.Popen(
            argv,
            cwd=self.work,
            env=self.env(shm=shm, extra=env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        limit_kb = self.settings.rss_limit_mb * 1024
        watch = _MemoryWatch(proc.pid, kill_kb=max(3 * limit_kb, 1024 * 1024))
        watch.start()
        out = _Sink(proc.stdout, KEEP_OUTPUT, stdout_lines)
        err = _Sink(proc.stderr, KEEP_OUTPUT)
        out.start()
        err.start()
        timed_out = False
        status = 0
        maxrss_kb = 0
        try:
            if during is not None:
                during(proc)
            deadline = start + timeout
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    maxrss_kb = usage.ru_maxrss
                    break
                if time.monotonic() > deadline:
                    timed_out = True
                    with contextlib.suppress(OSError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    _, status, usage = os.wait4(proc.pid, 0)
                    maxrss_kb = usage.ru_maxrss
                    break
                time.sleep(0.01)
        except BaseException:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                _, status = os.waitpid(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
            raise
        finally:
            watch.done.set()
            watch.join()
            if timed_out or watch.killed:
                kill_marked(self.mark, self.token)
        proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.monotonic() - start
        out.join(10)
        err.join(10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()
        shown = [
            a if isinstance(a, str) else a.decode("utf-8", "replace") for a in argv
        ]
        return Run(
            argv=shown,
            returncode=proc.returncode,
            stdout=out.data(),
            stderr=err.data(),
            elapsed=elapsed,
            peak_rss_mb=max(maxrss_kb if maxrss_kb > own_kb else 0, watch.peak_kb)
            / 1024,
            timed_out=timed_out,
            killed_for_memory=watch.killed,
            stdout_bytes=out.total,
        )

    # -- what was left behind -------------------------------------------------

    def recorded_directories(self) -> list[str]:
        """The step directories and ``RUNNER_TEMP``s the steps recorded."""
        lines = self.record.read_text("utf-8", "replace").splitlines()
        return sorted({line for line in lines if line.strip()})

    def leftover_directories(self) -> list[str]:
        """Recorded directories that still exist, and any ``trio-steps-*``
        entry in the private ``TMPDIR``."""
        left = [d for d in self.recorded_directories() if os.path.exists(d)]
        left += [str(p) for p in self.tmp.glob("trio-steps-*")]
        return sorted(set(left))

    def cleanup(self) -> None:
        kill_marked(self.mark, self.token)
        if self.settings.keep:
            print(f"  (kept {self.root})")
            return
        for directory in self.recorded_directories():
            if os.path.basename(directory).startswith("trio-steps-"):
                shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(self.root, ignore_errors=True)


# --------------------------------------------------------------------------
# Generic checks


def no_traceback(run: Run) -> None:
    """A run must never print a Python traceback."""
    for name, data in (("stderr", run.stderr), ("stdout", run.stdout)):
        check(
            TRACEBACK not in data, f"traceback on {name}: {_excerpt(data, TRACEBACK)}"
        )


_EXCEPTION_LINE: Final = re.compile(r"\w+(?:Error|Exception|Interrupt|Exit|Group)\b")


def _excerpt(data: bytes, needle: bytes) -> str:
    """What follows ``needle``: for a traceback, the exception lines."""
    at = data.find(needle)
    lines = [
        line.strip(" |+-")
        for line in data[max(at, 0) :].decode("utf-8", "replace").splitlines()
    ]
    raised = [line for line in lines if _EXCEPTION_LINE.match(line)]
    shown = raised[-2:] if raised else [line for line in lines if line][-1:]
    return " / ".join(dict.fromkeys(shown))[:400]


def exits(run: Run, *expected: int) -> None:
    """The run ended by itself, in time, with one of ``expected``."""
    check(not run.timed_out, f"{run.label}: {run.describe()}")
    check(not run.killed_for_memory, f"{run.label}: {run.describe()}")
    no_traceback(run)
    check(
        run.returncode in expected,
        f"{run.label}: expected exit {' or '.join(map(str, expected))}, "
        f"got {run.describe()}",
    )


def nothing_left(sb: Sandbox, *, within: float = 3.0) -> None:
    """No process of the run and no step directory outlived it."""
    alive = wait_for_no_processes(sb.mark, sb.token, within)
    left = sb.leftover_directories()
    problems = []
    if alive:
        problems.append(
            f"{len(alive)} process(es) left: "
            + "; ".join(f"{pid} {cmd[:60]}" for pid, cmd in alive[:4])
        )
    if left:
        problems.append(f"{len(left)} directory(ies) left: {', '.join(left[:3])}")
    check(not problems, " and ".join(problems))


def memory_bounded(run: Run, limit_mb: int, sb: Sandbox | None = None) -> None:
    """The runner's peak RSS stayed under ``limit_mb`` (noted on ``sb``)."""
    if sb is not None:
        sb.notes.append(f"peak RSS {run.peak_rss_mb:.0f} MB in {run.elapsed:.1f}s")
    check(
        not run.killed_for_memory and run.peak_rss_mb < limit_mb,
        f"peak RSS {run.peak_rss_mb:.0f} MB, limit {limit_mb} MB ({run.describe()})",
    )


# --------------------------------------------------------------------------
# Secrets in outputs


def needles(secret: str | bytes) -> set[str]:
    """The forms of a secret worth looking for in decoded text.

    A secret that is not UTF-8 arrives in Python as surrogate escapes (as
    ``--secret`` decodes it); output readers may show it with U+FFFD.
    """
    raw = (
        secret
        if isinstance(secret, bytes)
        else secret.encode("utf-8", "surrogateescape")
    )
    return {raw.decode("utf-8", "surrogateescape"), raw.decode("utf-8", "replace")}


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def views(data: bytes) -> dict[str, str]:
    """The ways a reader could see ``data``: as text, with JSON strings
    decoded (escapes such as ``\\u0041`` undone), and with HTML entities
    undone."""
    text = data.decode("utf-8", "surrogateescape")
    seen = {"text": text, "html": html.unescape(text)}
    decoded: list[str] = []
    try:
        decoded.extend(_strings(json.loads(text)))
    except (ValueError, RecursionError):
        for line in text.split("\n"):
            try:
                decoded.extend(_strings(json.loads(line)))
            except (ValueError, RecursionError):
                continue
    if decoded:
        seen["json"] = "\n".join(decoded)
    return seen


def find_leaks(secrets: Iterable[str | bytes], blobs: dict[str, bytes]) -> list[str]:
    """Where any form of any secret appears, one ``"place: forms"`` per place."""
    forms = sorted({form for secret in secrets for form in needles(secret) if form})
    found: list[str] = []
    for place, data in blobs.items():
        hits = {form for text in views(data).values() for form in forms if form in text}
        if hits:
            found.append(f"{place}: {', '.join(repr(h) for h in sorted(hits))}")
    return found


def output_files(root: Path, *, skip: Iterable[Path] = ()) -> dict[str, bytes]:
    """Every regular file under ``root`` except under ``skip``, by path."""
    skipped = [p.resolve() for p in skip]
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        if any(path.resolve().is_relative_to(s) for s in skipped):
            continue
        files[str(path.relative_to(root))] = path.read_bytes()
    return files


def secret_sweep(
    sb: Sandbox,
    workflow: Path,
    secrets: dict[str, str | bytes],
    look_for: Iterable[str | bytes],
    *,
    expect: tuple[int, ...] = (EXIT_OK,),
) -> None:
    """Run ``workflow`` with ``--secret``s, ``--log-dir`` and both trace
    formats, draw and summarise both traces, then look for every form of
    ``look_for`` in every byte produced (and in the recorded step
    directories, in case one was left)."""
    args: list[str | bytes] = []
    for name, value in secrets.items():
        raw = value if isinstance(value, bytes) else value.encode()
        args += ["--secret", name.encode() + b"=" + raw]
    blobs: dict[str, bytes] = {}
    for n, suffix in enumerate(("jsonl", "json")):
        trace = sb.out / f"trace{n}.{suffix}"
        run = sb.run(
            [
                "run",
                str(workflow),
                "--log-dir",
                str(sb.out / f"logs{n}"),
                "--trace",
                str(trace),
                *args,
            ]
        )
        exits(run, *expect)
        blobs[f"run {suffix} stdout"] = run.stdout
        blobs[f"run {suffix} stderr"] = run.stderr
        check(trace.is_file(), f"no trace written at {trace.name}")
        # Each trace format once, each picture format and stats form once.
        picture = ("svg", "html")[n]
        target = sb.out / f"timeline{n}.{picture}"
        drawn = sb.run(["timeline", str(trace), "-o", str(target)])
        exits(drawn, EXIT_OK)
        blobs[f"timeline {suffix}->{picture} stderr"] = drawn.stderr
        extra = ([], ["--json"])[n]
        stats = sb.run(["stats", str(trace), *extra])
        exits(stats, EXIT_OK)
        blobs[f"stats {shlex.join([suffix, *extra])} stdout"] = stats.stdout
    for path, data in output_files(sb.root, skip=[sb.inputs]).items():
        blobs[path] = data
    for directory in sb.recorded_directories():
        if os.path.isdir(directory):
            for path, data in output_files(Path(directory)).items():
                blobs[f"{directory}/{path}"] = data
    leaks = find_leaks(look_for, blobs)
    check(not leaks, f"secret found in {len(leaks)} place(s): " + "; ".join(leaks[:5]))


# --------------------------------------------------------------------------
# The attacks: secrets (items 1-6)

TOK: Final = "hunter2xyzQ8vK3"


def secret_step_names(sb: Sandbox) -> None:
    """Item 1: secrets in step names (given, from a masked output, default)."""
    wf = sb.workflow(
        f"""
- id: named
  name: step ${{{{ secrets.TOK }}}}
  run: {RECORD}
- id: producer
  run: |
    v=$(echo 'Zfxq9yCc7Jn' | tr 'A-Za-z' 'N-ZA-Mn-za-m')
    echo "::add-mask::$v"
    echo "masked=$v" >> "$GITHUB_OUTPUT"
- id: fromoutput
  name: out ${{{{ steps.producer.outputs.masked }}}}
  run: "true"
- run: echo ${{{{ secrets.TOK }}}} > /dev/null
- id: bg
  background: true
  name: bg ${{{{ secrets.TOK }}}}
  run: "true"
"""
    )
    secret_sweep(sb, wf, {"TOK": TOK}, [TOK, "Mskd9lPp7Wa"])


def secret_in_traces(sb: Sandbox) -> None:
    """Item 2: job env, GITHUB_ENV, outputs and add-mask values in traces."""
    wf = sb.workflow(
        f"""
- id: a
  run: |
    {RECORD}
    v=$(echo 'Zfxq9yCc7Jn' | tr 'A-Za-z' 'N-ZA-Mn-za-m')
    echo "::add-mask::$v"
    echo "masked=$v" >> "$GITHUB_OUTPUT"
    echo "tok=$JOB_TOK" >> "$GITHUB_OUTPUT"
    echo "ENV_TOK=$JOB_TOK" >> "$GITHUB_ENV"
    echo "ENV_MASKED=$v" >> "$GITHUB_ENV"
    echo "::set-output name=old::$v"
    echo "$v $JOB_TOK"
- id: b
  background: true
  run: |
    echo "copy=$ENV_MASKED $ENV_TOK" >> "$GITHUB_OUTPUT"
    echo "B_ENV=$ENV_TOK" >> "$GITHUB_ENV"
- wait-all:
- id: c
  run: echo "${{{{ steps.a.outputs.masked }}}} ${{{{ steps.b.outputs.copy }}}} $B_ENV"
""",
        job_extra="env:\n  JOB_TOK: ${{ secrets.TOK }}",
    )
    secret_sweep(sb, wf, {"TOK": TOK}, [TOK, "Mskd9lPp7Wa"])


def secret_straddles_line_cut(sb: Sandbox) -> None:
    """Item 3: a secret across the 65,536-character cut; each half too."""
    secret = "StrAddLe7Kq2Wz9R"
    half = len(secret) // 2
    wf = sb.workflow(
        f"""
- id: long
  run: |
    {RECORD}
    printf '%*s' {LINE_CUT - half} '' | tr ' ' '.'
    printf '%s\\n' "$S"
    printf '%*s' {2 * LINE_CUT - 3} '' | tr ' ' '.'
    printf '%s\\n' "$S"
  env:
    S: ${{{{ secrets.S }}}}
"""
    )
    secret_sweep(sb, wf, {"S": secret}, [secret, secret[:half], secret[half:]])


def secret_job_env_expression_error(sb: Sandbox) -> None:
    """Item 4: a job-env expression error must not print the secret."""
    secret = "{hunter2secretJ7"
    wf = sb.workflow(
        f"- run: {RECORD}", job_extra="env:\n  X: ${{ format(secrets.X) }}"
    )
    run = sb.run(["run", str(wf), "--secret", f"X={secret}"])
    exits(run, EXIT_INVALID)
    leaks = find_leaks(
        [secret, secret[1:]], {"stdout": run.stdout, "stderr": run.stderr}
    )
    check(not leaks, "; ".join(leaks))
    check(not sb.recorded_directories(), "a step ran although the input was invalid")


def secret_overlapping(sb: Sandbox) -> None:
    """Item 5: overlapping secrets are masked as a union, no tail visible."""
    a, b = "Kq7vAb9Zm4", "Ab9Zm4Wx2p"
    wf = sb.workflow(
        f"""
- id: overlap
  run: |
    {RECORD}
    echo "Kq7v""Ab9Zm4""Wx2p"
    echo "[Ab9Zm4""Wx2p|Kq7v""Ab9Zm4]"
"""
    )
    secret_sweep(sb, wf, {"A": a, "B": b}, [a, b, "Kq7v", "Wx2p"])


def secret_not_utf8(sb: Sandbox) -> None:
    """Item 6: a secret that is not valid UTF-8 is masked too."""
    secret = b"N0nUtf8\xff\xfeSecretQ"
    wf = sb.workflow(
        f"""
- id: raw
  run: |
    {RECORD}
    printf 'N0nUtf8\\377\\376SecretQ\\n'
    printf '%s\\n' "$NB"
  env:
    NB: ${{{{ secrets.NB }}}}
"""
    )
    secret_sweep(sb, wf, {"NB": secret}, [secret])


def secret_in_script_on_disk(sb: Sandbox) -> None:
    """Item 16 (secrets side): no script.sh with a secret survives SIGTERM."""
    wf = sb.workflow(
        f"""
- id: hold
  run: |
    {RECORD}
    echo "${{{{ secrets.TOK }}}}" > /dev/null
    touch "$READY"
    sleep {sb.token}
"""
    )
    ready = sb.out / "ready"

    def terminate(proc: subprocess.Popen[bytes]) -> None:
        wait_for(lambda: ready.exists(), 10, "the step never started")
        send_signal(proc, signal.SIGTERM)

    run = sb.run(
        [
            "run",
            str(wf),
            "--secret",
            f"TOK={TOK}",
            "--interrupt-grace",
            "1",
            "--terminate-grace",
            "1",
        ],
        env={"READY": str(ready)},
        during=terminate,
        shm=True,
        timeout=20,
    )
    exits(run, EXIT_CANCELLED)
    nothing_left(sb)


# --------------------------------------------------------------------------
# Bad input (items 7-14)


def _refused(sb: Sandbox, args: Sequence[str], *, timeout: float = 20) -> Run:
    run = sb.run(args, timeout=timeout)
    exits(run, EXIT_INVALID)
    check(
        run.stderr.strip() != b"", f"{shlex.join(args[:2])}: exit 2 without a message"
    )
    memory_bounded(run, sb.settings.rss_limit_mb)
    return run


def deep_yaml_nesting(sb: Sandbox) -> None:
    """Item 7: deeply nested YAML is refused (exit 2) by validate and run."""
    files = {
        "lists.yml": "a: " + "[" * 300,
        "maps.yml": "{x: " * 3000,
        "closed.yml": "on: push\nenv:\n  X: " + "[" * 2000 + "]" * 2000 + "\n",
    }
    for name, text in files.items():
        path = str(sb.write(name, text))
        _refused(sb, ["validate", path])
        _refused(sb, ["run", path])
    check(not sb.recorded_directories(), "a step ran")


def _trace_header() -> str:
    return json.dumps(
        {
            "type": "header",
            "format": "trio-steps-trace",
            "version": 1,
            "generator": "attack",
            "job": {
                "name": "j",
                "max_background": 10,
                "interrupt_grace": 7.5,
                "terminate_grace": 2.5,
            },
        }
    )


def deep_trace_json(sb: Sandbox) -> None:
    """Item 8: deeply nested trace JSON is refused by stats and timeline."""
    deep = "[" * 100_000 + "]" * 100_000
    files = {
        "deep.jsonl": deep + "\n",
        "deep.json": deep,
        "deep-event.jsonl": _trace_header()
        + "\n"
        + '{"type":"event","kind":"job-started","step_id":null,"time":1,'
        + '"wall_time":1,"data":'
        + '{"a":' * 50_000
        + "1"
        + "}" * 50_001
        + "\n",
        "deep-chrome.json": '{"traceEvents":[' + "[" * 50_000 + "]" * 50_000 + "]}",
    }
    for name, text in files.items():
        path = str(sb.write(name, text))
        _refused(sb, ["stats", path])
        _refused(sb, ["timeline", path, "-o", str(sb.out / "x.svg")])


def endless_input(sb: Sandbox) -> None:
    """Item 9: /dev/zero (endless input) is refused in bounded time and memory."""
    for name in ("zero.yml", "zero.jsonl", "zero.json"):
        (sb.inputs / name).symlink_to("/dev/zero")
    _refused(sb, ["validate", "/dev/zero"])
    _refused(sb, ["run", str(sb.inputs / "zero.yml")])
    _refused(sb, ["stats", str(sb.inputs / "zero.jsonl")])
    _refused(
        sb, ["timeline", str(sb.inputs / "zero.json"), "-o", str(sb.out / "z.svg")]
    )


def huge_input(sb: Sandbox) -> None:
    """Item 9: a huge (sparse) workflow or trace file is refused up front."""
    # Scaled down: just over the limits chosen for issue 12 (1 MiB of
    # workflow, 256 MiB of trace), far over what reading them whole costs.
    sizes = {
        "huge.yml": sb.settings.size(64 * MB, 2048 * MB),
        "huge.jsonl": sb.settings.size(300 * MB, 2048 * MB),
    }
    for name, size in sizes.items():
        with open(sb.inputs / name, "wb") as file:
            file.write(b"on: push\n" if name.endswith("yml") else b"\n")
            file.truncate(size)
    _refused(sb, ["validate", str(sb.inputs / "huge.yml")])
    _refused(sb, ["stats", str(sb.inputs / "huge.jsonl")])


def yaml_alias_bomb(sb: Sandbox) -> None:
    """Beyond the list: a YAML alias bomb ("billion laughs") stays bounded."""
    lines = ["on: push", 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for n in range(1, 12):
        refs = ", ".join([f"*a{n - 1}"] * 9)
        lines.append(f"a{n}: &a{n} [{refs}]")
    lines.append(
        "jobs:\n  j:\n    runs-on: x\n    env: *a11\n    steps:\n      - run: 'true'"
    )
    path = str(sb.write("bomb.yml", "\n".join(lines) + "\n"))
    for command in ("validate", "run"):
        run = sb.run([command, path], timeout=20)
        exits(run, EXIT_INVALID)
        memory_bounded(run, sb.settings.rss_limit_mb)


def bad_files(sb: Sandbox) -> None:
    """Beyond the list: a directory, a missing file, binary and empty input."""
    binary = str(sb.write("binary.yml", bytes(range(256)) * 4))
    empty = str(sb.write("empty.jsonl", b""))
    notjson = str(sb.write("text.jsonl", b"hello\n"))
    for args in (
        ["validate", str(sb.inputs)],
        ["run", str(sb.inputs)],
        ["validate", str(sb.inputs / "missing.yml")],
        ["validate", binary],
        ["run", binary],
        ["stats", empty],
        ["stats", notjson],
        ["stats", str(sb.inputs)],
        ["timeline", binary, "-o", str(sb.out / "b.svg")],
    ):
        _refused(sb, args)


def lone_surrogate_name(sb: Sandbox) -> None:
    """Item 10: a step name that evaluates to a lone surrogate."""
    wf = sb.workflow(
        f"""
- id: s
  name: ${{{{ fromJSON('"\\ud800"') }}}}
  run: {RECORD}
- id: t
  name: x ${{{{ fromJSON('"\\udfff\\ud83d"') }}}}
  run: echo "::notice::${{{{ fromJSON('"\\udc80"') }}}}"
"""
    )
    trace = sb.out / "t.jsonl"
    run = sb.run(
        ["run", str(wf), "--trace", str(trace), "--log-dir", str(sb.out / "logs")]
    )
    exits(run, EXIT_OK)
    check(trace.is_file(), "no trace written")
    exits(sb.run(["stats", str(trace)]), EXIT_OK)
    exits(sb.run(["timeline", str(trace), "-o", str(sb.out / "t.html")]), EXIT_OK)


def trace_line_separators(sb: Sandbox) -> None:
    """Item 11: a step prints U+0085, U+2028, U+2029; the trace still reads."""
    wf = sb.workflow(
        f"""
- id: seps
  run: |
    {RECORD}
    printf 'a\\302\\205b\\342\\200\\250c\\342\\200\\251d\\r\\n'
    printf 'e\\ff\\vg\\034h\\035i\\036j\\n'
"""
    )
    for suffix in ("jsonl", "json"):
        trace = sb.out / f"t.{suffix}"
        exits(sb.run(["run", str(wf), "--trace", str(trace)]), EXIT_OK)
        check(trace.is_file(), f"no .{suffix} trace written")
        exits(sb.run(["stats", str(trace)]), EXIT_OK)
        exits(
            sb.run(["timeline", str(trace), "-o", str(sb.out / f"t-{suffix}.svg")]),
            EXIT_OK,
        )


def _real_trace(sb: Sandbox, suffix: str = "jsonl") -> Path:
    wf = sb.workflow(
        """
- id: a
  background: true
  run: sleep 0.1
- id: b
  run: sleep 0.05
- wait-all:
""",
        name=f"real-{suffix}.yml",
    )
    trace = sb.out / f"real.{suffix}"
    exits(sb.run(["run", str(wf), "--trace", str(trace)]), EXIT_OK)
    return trace


def trace_nan(sb: Sandbox) -> None:
    """Item 12: NaN/Infinity in a trace are refused, never drawn or summed."""
    text = _real_trace(sb).read_text("utf-8")
    poisoned = {
        "nan-time.jsonl": re.sub(r'"time":\s*[0-9.e+-]+', '"time":NaN', text, count=3),
        "inf-time.jsonl": re.sub(
            r'"time":\s*[0-9.e+-]+', '"time":Infinity', text, count=2
        ),
        "neg-inf.jsonl": re.sub(
            r'"time":\s*[0-9.e+-]+', '"time":-Infinity', text, count=1
        ),
        "nan-grace.jsonl": text.replace(
            '"interrupt_grace":7.5', '"interrupt_grace":NaN', 1
        ),
    }
    for name, poisoned_text in poisoned.items():
        check(poisoned_text != text, f"could not poison {name}")
        path = str(sb.write(name, poisoned_text))
        for args in (["stats", path, "--json"], ["timeline", path, "-o", "-"]):
            run = sb.run(args)
            exits(run, EXIT_INVALID, EXIT_OK)
            if run.returncode == EXIT_OK:
                words = re.findall(rb"(?i)\b(?:nan|-?inf(?:inity)?)\b", run.stdout)
                check(
                    not words,
                    f"{shlex.join(args[:1])} {name}: accepted and printed {words[:3]!r}",
                )


def log_dir_on_file(sb: Sandbox) -> None:
    """Item 13: --log-dir naming a file is refused before anything runs."""
    wf = sb.workflow(f"- run: {RECORD}")
    existing = sb.out / "a-file"
    existing.write_text("x")
    _refused(sb, ["run", str(wf), "--log-dir", str(existing)])
    _refused(sb, ["run", str(wf), "--log-dir", str(existing / "below")])
    check(not sb.recorded_directories(), "the job ran although --log-dir was unusable")


def trace_unwritable(sb: Sandbox) -> None:
    """Item 13: --trace into a missing folder, or named just '.json', exit 2."""
    wf = sb.workflow(f"- run: {RECORD}")
    for target in (
        sb.out / "missing" / "t.jsonl",
        sb.out / ".json",
        sb.out / "a-dir.jsonl",
    ):
        if target.name == "a-dir.jsonl":
            target.mkdir()
        _refused(sb, ["run", str(wf), "--trace", str(target)])
    check(not sb.recorded_directories(), "the job ran although --trace was unusable")


def log_write_fails(sb: Sandbox) -> None:
    """Item 13: a log file that hits ENOSPC neither kills the job nor the trace."""
    wf = sb.workflow(
        f"""
- id: s
  run: |
    {RECORD}
    for i in 1 2 3 4 5; do echo "line $i"; done
- id: after
  run: touch "$DONE"
"""
    )
    logs = sb.out / "logs"
    logs.mkdir()
    (logs / "s.log").symlink_to("/dev/full")
    done = sb.out / "done"
    trace = sb.out / "t.jsonl"
    run = sb.run(
        ["run", str(wf), "--log-dir", str(logs), "--trace", str(trace)],
        env={"DONE": str(done)},
    )
    exits(run, EXIT_OK, EXIT_FAILED)
    check(done.exists(), "the job stopped after the log write failed")
    check(trace.is_file() and trace.stat().st_size > 0, "the trace was lost")
    exits(sb.run(["stats", str(trace)]), EXIT_OK)


def trace_write_fails(sb: Sandbox) -> None:
    """Item 13: a trace write that hits ENOSPC keeps the job's exit status."""
    wf = sb.workflow(f"- run: {RECORD}")
    trace = sb.out / "t.jsonl"
    trace.symlink_to("/dev/full")
    run = sb.run(["run", str(wf), "--trace", str(trace)])
    exits(run, EXIT_OK)
    check(b"trace" in run.stderr.lower(), "the lost trace was not reported on stderr")


def _pipe_job(sb: Sandbox) -> Path:
    return sb.workflow(
        f"""
- id: loud
  run: |
    {RECORD}
    seq 1 3000
- id: after
  run: |
    seq 1 3000
    touch "$DONE"
"""
    )


def broken_pipe(sb: Sandbox) -> None:
    """Item 14: `run … | head -1` keeps the job and the trace, no traceback."""
    wf = _pipe_job(sb)
    done, trace = sb.out / "done", sb.out / "t.jsonl"
    run = sb.run(
        ["run", str(wf), "--trace", str(trace)], env={"DONE": str(done)}, stdout_lines=1
    )
    exits(run, EXIT_OK, 128 + signal.SIGPIPE, -signal.SIGPIPE)
    check(done.exists(), "the job did not finish after its stdout closed")
    check(trace.is_file(), "the trace was not written after stdout closed")
    exits(sb.run(["stats", str(trace)]), EXIT_OK)


def stdout_closed(sb: Sandbox) -> None:
    """Item 14: a closed stdout (>&-) keeps the job and the trace."""
    wf = _pipe_job(sb)
    done, trace = sb.out / "done", sb.out / "t.jsonl"
    run = sb.run(
        ["run", str(wf), "--trace", str(trace)],
        env={"DONE": str(done)},
        prefix=["sh", "-c", 'exec "$@" >&-', "sh"],
    )
    exits(run, EXIT_OK, EXIT_FAILED)
    check(done.exists(), "the job did not finish with stdout closed")
    check(trace.is_file(), "the trace was not written with stdout closed")


# --------------------------------------------------------------------------
# Hangs and processes (items 15-18)


def wait_for(condition: Callable[[], bool], within: float, why: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AttackFailed(why)
        time.sleep(0.02)


def _redos(sb: Sandbox, job_extra: str = "", *, ready: Path | None = None) -> Path:
    redos = sb.work / "redos"
    redos.mkdir(exist_ok=True)
    (redos / ("a" * 60)).write_text("x")
    (redos / ("a" * 40 + "c")).write_text("y")
    pattern = "redos/" + "*" * 34 + "b"
    before = ""
    if ready is not None:
        # The glob is linear now, so it ends at once: a huge sparse file that
        # the pattern matches keeps the hashing (in its worker thread) busy
        # for minutes, and a step before it says when it is about to start.
        with open(redos / ("a" * 40 + "b"), "wb") as file:
            file.truncate(64 * 1024 * MB)
        before = f"""
- id: ready
  run: touch "{ready}"
"""
    return sb.workflow(
        f"""{before}
- id: glob
  run: |
    {RECORD}
    echo "hash=${{{{ hashFiles('{pattern}') }}}}"
""",
        job_extra=job_extra,
    )


#: Seconds from SIGTERM to the runner's exit while hashFiles() hashes: the
#: worker thread stops at its next 1 MiB chunk.
HASHFILES_STOP_BOUND: Final = 5.0


def send_signal(proc: subprocess.Popen[bytes], signum: int) -> None:
    """Signal the runner; never reap it (:meth:`Sandbox.run` waits for it).

    ``Popen.send_signal`` polls first, which reaps a runner that has just
    ended, and ``Sandbox.run``'s own wait then fails with ECHILD. Until that
    wait the pid cannot be reused: at worst this signals a zombie.
    """
    os.kill(proc.pid, signum)


def hashfiles_glob_bounded(sb: Sandbox) -> None:
    """Item 15: the catastrophic hashFiles glob finishes quickly."""
    run = sb.run(["run", str(_redos(sb))], timeout=12)
    exits(run, EXIT_OK)
    nothing_left(sb)


def hashfiles_glob_sigterm(sb: Sandbox) -> None:
    """Item 15: SIGTERM while hashFiles runs ends the runner in time."""
    ready = sb.out / "ready"
    signalled: list[float] = []

    def terminate(proc: subprocess.Popen[bytes]) -> None:
        wait_for(ready.exists, 10, "the step before the hashFiles step never ran")
        time.sleep(0.5)  # the glob step's hashFiles is running now
        signalled.append(time.monotonic())
        send_signal(proc, signal.SIGTERM)

    run = sb.run(["run", str(_redos(sb, ready=ready))], during=terminate, timeout=20)
    after = time.monotonic() - signalled[0]  # an upper bound: run has returned
    # Exit 130: the job was stopped; 0 would mean the hash ended first, and
    # the attack tested nothing.
    _signal_exits(run, signal.SIGTERM)
    check(after < HASHFILES_STOP_BOUND, f"ended {after:.1f}s after SIGTERM")
    nothing_left(sb)


def hashfiles_glob_timeout(sb: Sandbox) -> None:
    """Item 15: the job's timeout-minutes ends the hashFiles glob in time."""
    run = sb.run(["run", str(_redos(sb, "timeout-minutes: 0.02"))], timeout=12)
    exits(run, EXIT_OK, EXIT_CANCELLED)
    nothing_left(sb)


def _sleepy(sb: Sandbox, ready: Path, *, daemons: bool = False) -> Path:
    spawn = ""
    if daemons:
        spawn = (
            f"\n    setsid sleep {sb.token} > /dev/null 2>&1 < /dev/null &"
            f"\n    (sleep {sb.token} > /dev/null 2>&1 < /dev/null &) &"
            f"\n    (setsid sh -c 'sleep {sb.token} &' > /dev/null 2>&1 &) &"
            f"\n    nohup sleep {sb.token} > /dev/null 2>&1 &"
        )
    return sb.workflow(
        f"""
- id: bg
  background: true
  run: |
    {RECORD}{spawn}
    sleep {sb.token} &
    sleep {sb.token}
- id: fg
  run: |
    {RECORD}
    sleep {sb.token} &
    until [ "$(grep -c . "$ATTACK_RECORD")" -ge 4 ]; do sleep 0.02; done
    touch "{ready}"
    sleep {sb.token}
- id: post
  if: always()
  run: {RECORD}
"""
    )


def _signal_attack(
    sb: Sandbox, signum: signal.Signals, *, daemons: bool = False
) -> Run:
    ready = sb.out / "ready"
    wf = _sleepy(sb, ready, daemons=daemons)

    def send(proc: subprocess.Popen[bytes]) -> None:
        wait_for(ready.exists, 10, "the steps never started")
        time.sleep(0.2)  # let the daemons detach
        send_signal(proc, signum)

    return sb.run(
        ["run", str(wf), "--interrupt-grace", "1", "--terminate-grace", "1"],
        during=send,
        shm=True,
        timeout=25,
    )


def _signal_exits(run: Run, signum: signal.Signals) -> None:
    # rules R6.1: the CLI exits 130 whenever the job was cancelled; a fix may
    # prefer the shell's 128+N for a signal other than SIGINT.
    exits(run, EXIT_CANCELLED, 128 + signum)


def signal_sigterm(sb: Sandbox) -> None:
    """Item 16: SIGTERM to the runner leaves no process and no step folder."""
    _signal_exits(_signal_attack(sb, signal.SIGTERM), signal.SIGTERM)
    nothing_left(sb)


def signal_sighup(sb: Sandbox) -> None:
    """Item 16: SIGHUP is handled like SIGTERM."""
    _signal_exits(_signal_attack(sb, signal.SIGHUP), signal.SIGHUP)
    nothing_left(sb)


def signal_sigquit(sb: Sandbox) -> None:
    """Item 16: SIGQUIT is handled like SIGTERM."""
    _signal_exits(_signal_attack(sb, signal.SIGQUIT), signal.SIGQUIT)
    nothing_left(sb)


def signal_sigint(sb: Sandbox) -> None:
    """Item 16: SIGINT (Ctrl-C) cancels the job; nothing is left."""
    _signal_exits(_signal_attack(sb, signal.SIGINT), signal.SIGINT)
    nothing_left(sb)


def signal_sigkill_report(sb: Sandbox) -> None:
    """Item 16: what SIGKILL of the runner leaves (report only, not a promise)."""
    run = _signal_attack(sb, signal.SIGKILL)
    check(run.returncode == -signal.SIGKILL, f"not killed: {run.describe()}")
    time.sleep(0.5)  # let what dies with the runner die
    alive = marked_processes(sb.mark, sb.token)
    left = sb.leftover_directories()
    sb.notes.append(
        f"after SIGKILL: {len(alive)} process(es) and {len(left)} step "
        "folder(s) left (documented as not guaranteed)"
    )


#: Starts what follows it with SIGINT, SIGTERM and SIGHUP ignored, as
#: ``nohup cmd &`` in a script does (its ``&`` ignores SIGINT).
IGNORING: Final = (
    sys.executable,
    "-c",
    "import os, signal, sys\n"
    "for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):\n"
    "    signal.signal(s, signal.SIG_IGN)\n"
    "os.execvp(sys.argv[1], sys.argv[1:])",
)


def ladder_when_started_ignoring(sb: Sandbox) -> None:
    """A runner started with the ladder's signals ignored (``nohup … &``)
    still stops its steps with them: a step's ``trap … INT`` runs at once
    instead of the job waiting out the graces (rules R6.3). The command
    handles these signals itself while a job runs, so its steps start with
    them at their default; the library's own reset, for programs that do
    not, is tested in ``tests/shell/test_shell_process.py``."""
    ready, trapped = sb.out / "ready", sb.out / "trapped"
    wf = sb.workflow(
        f"""
- id: bg
  background: true
  run: |
    {RECORD}
    trap 'echo yes > "{trapped}"; exit 0' INT
    touch "{ready}"
    while true; do sleep 0.05; done
- run: until [ -e "{ready}" ]; do sleep 0.02; done
- cancel: bg
"""
    )
    run = sb.run(
        ["run", str(wf), "--interrupt-grace", "20", "--terminate-grace", "20"],
        prefix=IGNORING,
        timeout=30,
    )
    exits(run, EXIT_OK)
    check(trapped.exists(), f"the step's INT trap never ran: {run.describe()}")
    check(run.elapsed < 10, f"the stop waited out a grace: {run.elapsed:.1f} s")
    nothing_left(sb)


def daemons_at_job_end(sb: Sandbox) -> None:
    """Item 17: setsid, double-fork and nohup daemons end with the job."""
    wf = sb.workflow(
        f"""
- id: spawn
  run: |
    {RECORD}
    setsid sleep {sb.token} > /dev/null 2>&1 < /dev/null &
    (sleep {sb.token} > /dev/null 2>&1 < /dev/null &) &
    (setsid sh -c 'sleep {sb.token} &' > /dev/null 2>&1 &) &
    nohup sleep {sb.token} > /dev/null 2>&1 &
    sleep 0.2
- id: bg
  background: true
  run: |
    setsid sleep {sb.token} > /dev/null 2>&1 < /dev/null &
    sleep 0.2
"""
    )
    run = sb.run(["run", str(wf)], timeout=20)
    exits(run, EXIT_OK)
    nothing_left(sb)


def daemons_after_sigterm(sb: Sandbox) -> None:
    """Item 17: daemons end too when the runner is stopped by SIGTERM."""
    _signal_exits(_signal_attack(sb, signal.SIGTERM, daemons=True), signal.SIGTERM)
    nothing_left(sb)


def no_import_on_cancel(sb: Sandbox) -> None:
    """Item 18: a cancel or a timeout imports nothing like trio.testing/pytest."""
    wf = sb.workflow(
        f"""
- id: bg
  background: true
  run: |
    {RECORD}
    sleep {sb.token}
- id: slow
  timeout-minutes: 0.005
  continue-on-error: true
  run: sleep {sb.token}
- cancel: bg
"""
    )
    run = sb.run(
        ["run", str(wf), "--interrupt-grace", "0.5", "--terminate-grace", "0.5"],
        env={"PYTHONPROFILEIMPORTTIME": "1"},
        timeout=20,
    )
    exits(run, EXIT_OK)
    imported = re.findall(
        rb"import time:.*\|\s*(trio\.testing|_?pytest|hypothesis)\b", run.stderr
    )
    check(b"import time:" in run.stderr, "PYTHONPROFILEIMPORTTIME had no effect")
    check(not imported, f"imported during the run: {sorted(set(imported))!r}")
    nothing_left(sb)


# --------------------------------------------------------------------------
# Memory (items 19-20)


def _file_command_size(sb: Sandbox, variable: str) -> None:
    size = sb.settings.size(
        400 * MB, (2048 if variable == "GITHUB_STEP_SUMMARY" else 1024) * MB
    )
    wf = sb.workflow(
        f"""
- id: big
  run: |
    {RECORD}
    truncate -s {size} "${variable}"
- id: after
  if: always()
  run: touch "$DONE"
"""
    )
    done = sb.out / "done"
    run = sb.run(["run", str(wf)], env={"DONE": str(done)}, timeout=60)
    memory_bounded(run, sb.settings.rss_limit_mb, sb)
    exits(run, EXIT_OK, EXIT_FAILED)
    check(done.exists(), "the job did not go on after the oversized file")
    nothing_left(sb)


def file_command_summary_size(sb: Sandbox) -> None:
    """Item 19: a huge sparse GITHUB_STEP_SUMMARY keeps memory bounded."""
    _file_command_size(sb, "GITHUB_STEP_SUMMARY")


def file_command_output_size(sb: Sandbox) -> None:
    """Item 19: a huge sparse GITHUB_OUTPUT keeps memory bounded."""
    _file_command_size(sb, "GITHUB_OUTPUT")


def file_command_env_size(sb: Sandbox) -> None:
    """Item 19: a huge sparse GITHUB_ENV keeps memory bounded."""
    _file_command_size(sb, "GITHUB_ENV")


def file_command_path_size(sb: Sandbox) -> None:
    """Item 19: a huge sparse GITHUB_PATH keeps memory bounded."""
    _file_command_size(sb, "GITHUB_PATH")


def file_command_special_files(sb: Sandbox) -> None:
    """Item 19: file commands replaced by /dev/zero, /dev/urandom or a FIFO."""
    wf = sb.workflow(
        f"""
- id: special
  run: |
    {RECORD}
    ln -sf /dev/zero "$GITHUB_OUTPUT"
    ln -sf /dev/urandom "$GITHUB_STEP_SUMMARY"
    rm -f "$GITHUB_ENV" && mkfifo "$GITHUB_ENV"
    rm -f "$GITHUB_PATH" && mkfifo "$GITHUB_PATH"
- id: after
  if: always()
  run: touch "$DONE"
"""
    )
    done = sb.out / "done"
    run = sb.run(["run", str(wf)], env={"DONE": str(done)}, timeout=20)
    memory_bounded(run, sb.settings.rss_limit_mb, sb)
    exits(run, EXIT_OK, EXIT_FAILED)
    check(done.exists(), "the job did not go on after the special files")
    nothing_left(sb)


def _long_output(sb: Sandbox, steps: int, megabytes: int, *, background: bool) -> None:
    body = "".join(
        f"""
- id: s{n}
  background: {str(background).lower()}
  run: head -c {megabytes * MB} /dev/zero | tr '\\0' 'a'
"""
        for n in range(steps)
    )
    wf = sb.workflow(body + ("- wait-all:\n" if background else ""))
    run = sb.run(
        ["run", str(wf), "--max-background", str(max(steps, 1))],
        timeout=sb.settings.size(60, 900),
    )
    memory_bounded(run, sb.settings.rss_limit_mb, sb)
    exits(run, EXIT_OK)
    check(
        run.stdout_bytes >= steps * megabytes * MB,
        f"only {run.stdout_bytes} bytes printed of {steps * megabytes} MB",
    )


def long_lines_sequential(sb: Sandbox) -> None:
    """Item 20: 12 steps of newline-free output; log tails bounded in bytes."""
    _long_output(sb, 12, sb.settings.size(20, 100), background=False)


def long_lines_concurrent(sb: Sandbox) -> None:
    """Item 20: 8 concurrent steps of newline-free output stay bounded."""
    _long_output(sb, 8, sb.settings.size(30, 200), background=True)


# --------------------------------------------------------------------------
# Correctness (item 21)


def critical_path_real_clock(sb: Sandbox) -> None:
    """Item 21: on a real clock the critical path follows slot hand-offs."""
    wf = sb.workflow(
        """
- id: a
  background: true
  run: sleep 0.3
- id: b
  background: true
  run: sleep 0.3
- id: c
  background: true
  run: sleep 0.3
- wait-all:
"""
    )
    trace = sb.out / "t.jsonl"
    exits(
        sb.run(["run", str(wf), "--max-background", "1", "--trace", str(trace)]),
        EXIT_OK,
    )
    stats = sb.run(["stats", str(trace), "--json"])
    exits(stats, EXIT_OK)
    data = json.loads(stats.stdout)
    path = data["critical_path"]
    ids = [link["step_id"] for link in path]
    check(
        [i for i in ids if i in ("a", "b", "c")] == ["a", "b", "c"],
        f"critical path is {[(link['step_id'], link['via']) for link in path]}",
    )
    by_id = {link["step_id"]: link for link in path}
    check(by_id["c"]["via"] != "job-start", "c is linked to the job start")
    check(
        abs(path[-1]["end"] - data["end"]) < 0.05 * data["makespan"] + 0.05,
        f"the path ends at {path[-1]['end']:.3f}, the job at {data['end']:.3f}",
    )


# --------------------------------------------------------------------------
# Driver

ATTACKS: Final[tuple[Callable[[Sandbox], None], ...]] = (
    secret_step_names,
    secret_in_traces,
    secret_straddles_line_cut,
    secret_job_env_expression_error,
    secret_overlapping,
    secret_not_utf8,
    secret_in_script_on_disk,
    deep_yaml_nesting,
    deep_trace_json,
    endless_input,
    huge_input,
    yaml_alias_bomb,
    bad_files,
    lone_surrogate_name,
    trace_line_separators,
    trace_nan,
    log_dir_on_file,
    trace_unwritable,
    log_write_fails,
    trace_write_fails,
    broken_pipe,
    stdout_closed,
    hashfiles_glob_bounded,
    hashfiles_glob_sigterm,
    hashfiles_glob_timeout,
    signal_sigterm,
    signal_sighup,
    signal_sigquit,
    signal_sigint,
    signal_sigkill_report,
    ladder_when_started_ignoring,
    daemons_at_job_end,
    daemons_after_sigterm,
    no_import_on_cancel,
    file_command_summary_size,
    file_command_output_size,
    file_command_env_size,
    file_command_path_size,
    file_command_special_files,
    long_lines_sequential,
    long_lines_concurrent,
    critical_path_real_clock,
)


@dataclass
class Outcome:
    name: str
    passed: bool
    why: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def run_attack(attack: Callable[[Sandbox], None], settings: Settings) -> Outcome:
    """Run one attack in a fresh sandbox; always clean up after it."""
    name = attack.__name__
    sb = Sandbox(settings, name)
    start = time.monotonic()
    try:
        attack(sb)
    except AttackFailed as failure:
        return Outcome(name, False, str(failure), time.monotonic() - start, sb.notes)
    except Exception as error:  # a bug here, or an unexpected output shape
        why = f"attack crashed: {type(error).__name__}: {error}"
        return Outcome(name, False, why, time.monotonic() - start, sb.notes)
    finally:
        sb.cleanup()
    return Outcome(name, True, "", time.monotonic() - start, sb.notes)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Replay the attacks of issue 12 against the trio-steps command."
    )
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="run only these attacks"
    )
    parser.add_argument("--list", action="store_true", help="list the attacks and exit")
    parser.add_argument(
        "--full",
        action="store_true",
        help="use the sizes of the issue (GBs of sparse files, 100-200 MB of output)",
    )
    parser.add_argument(
        "--cli",
        metavar="CMD",
        help="the command to attack, split like a shell (default: %(default)s)",
        default=shlex.join(default_cli()),
    )
    parser.add_argument(
        "--rss-limit-mb",
        type=int,
        default=RSS_LIMIT_MB,
        metavar="MB",
        help="the largest peak RSS of the runner allowed (default: %(default)s)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directories"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print each attack's time"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the attacks; 0 when every one passed, 1 otherwise."""
    args = parse_args(argv)
    by_name = {attack.__name__: attack for attack in ATTACKS}
    if args.list:
        for attack in ATTACKS:
            summary = (attack.__doc__ or "").strip().splitlines()[0]
            print(f"{attack.__name__:34} {summary}")
        return 0
    chosen = list(ATTACKS)
    if args.only:
        unknown = [name for name in args.only if name not in by_name]
        if unknown:
            print(
                f"unknown attack(s): {', '.join(unknown)} (see --list)", file=sys.stderr
            )
            return 2
        chosen = [by_name[name] for name in args.only]
    settings = Settings(
        cli=tuple(shlex.split(args.cli)),
        full=args.full,
        rss_limit_mb=args.rss_limit_mb,
        keep=args.keep,
    )
    passed = failed = 0
    for attack in chosen:
        outcome = run_attack(attack, settings)
        took = f" ({outcome.seconds:.1f}s)" if args.verbose else ""
        if outcome.passed:
            passed += 1
            print(f"PASS {outcome.name}{took}", flush=True)
        else:
            failed += 1
            print(f"FAIL {outcome.name}: {outcome.why}{took}", flush=True)
        for note in outcome.notes:
            print(f"NOTE {outcome.name}: {note}", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
