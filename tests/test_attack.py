"""``tools/attack.py``: its detectors work, and every attack passes.

The fast tests plant what each detector looks for (a secret in a file, a
marked process, a leftover step folder, a runner that leaks or grows) and
check that the script notices, so that the script cannot pass by seeing
nothing. The slow test runs every attack against the command of this
environment (issue 12).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "attack.py"
#: The command of this environment, whichever ``trio_steps`` it imports.
CLI = shlex.join([sys.executable, "-m", "trio_steps"])


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trio_steps_attack", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


attack = _load()


def _script(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# -- the secret scanner --------------------------------------------------------


def test_find_leaks_in_every_form(tmp_path: Path) -> None:
    secret = "Pl4ntedS3cret"
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "clean.txt").write_text("nothing *** here\n")
    (tmp_path / "deep" / "er" / "plain.log").write_text(f"x {secret} y\n")
    escaped = "".join(f"\\u{ord(c):04x}" for c in secret)
    (tmp_path / "trace.jsonl").write_text(f'{{"line": "{escaped}"}}\n')
    (tmp_path / "page.html").write_text("Pl4nted&#83;3cret")
    files = attack.output_files(tmp_path)
    assert set(files) == {"clean.txt", "deep/er/plain.log", "trace.jsonl", "page.html"}
    leaks = attack.find_leaks([secret], files)
    assert sorted(leak.split(":")[0] for leak in leaks) == [
        "deep/er/plain.log",
        "page.html",
        "trace.jsonl",
    ]


def test_find_leaks_non_utf8_and_halves() -> None:
    secret = b"N0n\xffUtf8"
    assert attack.find_leaks([secret], {"raw": b"a N0n\xffUtf8 b"})
    assert attack.find_leaks([secret], {"shown": "N0n\ufffdUtf8".encode()})
    assert not attack.find_leaks([secret], {"masked": b"a *** b"})
    halves = ["StrAddLe", "7Kq2Wz9R"]
    assert attack.find_leaks(halves, {"cut": b"....StrAddLe\n7Kq2Wz9R...."})


# -- the process and folder detectors ------------------------------------------


@pytest.fixture
def marked() -> Iterator[tuple[str, str]]:
    mark, token = f"selftest{os.getpid()}", f"777.{os.getpid()}{int(time.time())}"
    yield mark, token
    attack.kill_marked(mark, token)


def test_marked_processes_found_and_killed(marked: tuple[str, str]) -> None:
    mark, token = marked
    env = {**os.environ, attack.MARK_VAR: mark}
    by_env = subprocess.Popen(["sleep", "60"], env=env, start_new_session=True)
    # Without the marker (an ``env -i`` step): found by its sleep argument.
    by_token = subprocess.Popen(["sleep", token], env={}, start_new_session=True)
    try:
        wanted = {by_env.pid, by_token.pid}
        deadline = time.monotonic() + 5
        found: set[int] = set()
        while not wanted <= found and time.monotonic() < deadline:
            time.sleep(0.01)  # until both have exec'd sleep
            found = {pid for pid, _ in attack.marked_processes(mark, token)}
        assert wanted <= found
        assert attack.kill_marked(mark, token) >= 2
        assert by_env.wait(5) == -signal.SIGKILL
        assert by_token.wait(5) == -signal.SIGKILL
        assert attack.wait_for_no_processes(mark, token, 1.0) == []
    finally:
        for proc in (by_env, by_token):
            proc.kill()
            proc.wait()


def test_leftover_directories() -> None:
    sb = attack.Sandbox(attack.Settings(cli=("true",)), "selftest")
    try:
        assert sb.leftover_directories() == []
        planted = sb.tmp / "trio-steps-0123456789ab"
        planted.mkdir()
        recorded = sb.root / "elsewhere"
        recorded.mkdir()
        sb.record.write_text(f"{recorded}\n")
        assert sb.leftover_directories() == sorted([str(planted), str(recorded)])
        with pytest.raises(attack.AttackFailed, match="directory"):
            attack.nothing_left(sb, within=0)
    finally:
        sb.cleanup()
    assert not sb.root.exists()


# -- the whole script against commands that break each promise ------------------

_FAKE = textwrap.dedent(
    """
    import json, sys, time
    args = sys.argv[1:]
    def option(name):
        return args[args.index(name) + 1] if name in args else None
    if sys.argv[0].endswith("grow"):
        hog = bytearray(200 * 1024 * 1024)
        hog[::4096] = b"x" * len(hog[::4096])
        time.sleep(0.5)
    if args[0] == "run":
        print(" ".join(args))           # every --secret, in clear
        if option("--trace"):
            with open(option("--trace"), "w") as f:
                json.dump({"argv": args}, f)
        sys.exit(0)
    if args[0] == "timeline":
        open(option("-o"), "w").write("<svg/>")
        sys.exit(0)
    if args[0] == "stats":
        print("{}")
        sys.exit(0)
    raise RecursionError("maximum recursion depth exceeded")   # validate
    """
)


@pytest.fixture
def fake_cli(tmp_path: Path) -> Path:
    fake = tmp_path / "fake"
    fake.write_text(_FAKE)
    return fake


def test_a_leaking_command_fails(fake_cli: Path) -> None:
    done = _script(
        "--cli",
        f"{shlex.quote(sys.executable)} {fake_cli}",
        "--only",
        "secret_step_names",
        "deep_yaml_nesting",
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 1, done.stdout + done.stderr
    assert lines[0].startswith("FAIL secret_step_names: secret found"), lines
    assert lines[1].startswith("FAIL deep_yaml_nesting: traceback on stderr"), lines
    assert "RecursionError" in lines[1]
    assert lines[-1] == "0 passed, 2 failed"


def test_a_growing_command_fails(fake_cli: Path) -> None:
    grow = fake_cli.with_name("grow")
    grow.write_text(fake_cli.read_text())
    done = _script(
        "--cli",
        f"{shlex.quote(sys.executable)} {grow}",
        "--rss-limit-mb",
        "100",
        "--only",
        "file_command_summary_size",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("FAIL file_command_summary_size: peak RSS"), (
        done.stdout
    )


def test_list_and_unknown_names() -> None:
    listed = _script("--list")
    assert listed.returncode == 0
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert names == [a.__name__ for a in attack.ATTACKS]
    assert len(set(names)) == len(names)
    unknown = _script("--only", "no_such_attack")
    assert unknown.returncode == 2
    assert "no_such_attack" in unknown.stderr


def test_report_format() -> None:
    """One line per attack, then exactly ``N passed, M failed``."""
    done = _script("--cli", "true", "--only", "trace_write_fails", "broken_pipe")
    lines = [line for line in done.stdout.splitlines() if not line.startswith("NOTE")]
    assert [line.split()[0] for line in lines[:-1]] == ["FAIL", "FAIL"]
    assert lines[-1] == "0 passed, 2 failed"
    assert json.dumps(lines)  # printable as text


# -- every attack against this environment's command ------------------------


@pytest.mark.slow
def test_every_attack_passes() -> None:
    done = _script("--cli", CLI, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert done.stdout.splitlines()[-1].endswith(" passed, 0 failed")


def test_peak_rss_is_the_runners_own() -> None:
    """Linux starts a child's ``ru_maxrss`` at its parent's peak: a big
    parent must not make a small runner look big."""
    ballast = bytearray(300 * 1024 * 1024)
    ballast[::4096] = b"x" * len(ballast[::4096])
    sb = attack.Sandbox(attack.Settings(cli=(sys.executable, "-c", "pass")), "rss")
    try:
        run = sb.run([])
    finally:
        sb.cleanup()
    del ballast
    assert run.returncode == 0
    assert run.peak_rss_mb < 100


def test_signalling_a_runner_that_already_ended() -> None:
    """A runner may end before an attack signals it: the signal must not reap
    it (``Popen.send_signal`` did, and the run's own wait then crashed the
    attack with ChildProcessError)."""
    sb = attack.Sandbox(attack.Settings(cli=(sys.executable, "-c", "pass")), "ended")

    def late(proc: subprocess.Popen[bytes]) -> None:
        time.sleep(0.5)  # long ended, not yet reaped
        attack.send_signal(proc, signal.SIGTERM)

    try:
        run = sb.run([], during=late)
    finally:
        sb.cleanup()
    assert (run.returncode, run.timed_out) == (0, False)
