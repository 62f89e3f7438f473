"""Fuzzing throughput: generated jobs per second, where the time goes, and campaigns.

Usage: ``python benchmarks/fuzzing.py [--quick] [--examples N] [--profile]``

Printed figures (targets from issue 14):

* generation: ``trio_steps.testing.jobs()`` against a baseline in the same
  run, the first version's way of drawing (``@composite`` strategies nested
  per step, ``sampled_from``/``lists``/``one_of`` built on every draw), as
  milliseconds per job and their ratio;
* the breakdown per job of ``check_job``: generate (Hypothesis included),
  engine (a fresh ``trio.run`` on a MockClock in the helper thread, with
  deadlines, as the fuzzer runs it; the same in this thread without
  deadlines, and a bare ``trio.run`` of an empty function, are printed
  beside it), model, invariants;
* ``python -m trio_steps.testing fuzz --examples N`` timed from outside the
  process (target >= 300 jobs/s for N = 1,500 on one core), and the same
  with the baseline's generation for comparison;
* a campaign: ``fuzz --seconds S`` with one worker and with two workers
  (``--workers 2``), jobs per second of each and their ratio.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import trio
import trio.testing
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

import trio_steps as ts
from trio_steps._steps import MainStep
from trio_steps.testing import ScriptedStep, Write, check_invariants, jobs, simulate
from trio_steps.testing._findings import DEFAULT_WALL_DEADLINE
from trio_steps.testing._invariants import diff_reports, run_on_mock_clock
from trio_steps.testing._scripted import ENDINGS, WRITE_KINDS
from trio_steps.testing._strategies import CONDITIONS, GRACES, STOP_DELAYS

# --------------------------------------------------------------------------
# The baseline: the first version of jobs(), strategies built on every draw
# --------------------------------------------------------------------------

_NAMES = {"output": ("o1", "o2"), "env": ("E1", "E2"), "path": ("/p1", "/p2", "/p3")}
_KINDS = ("foreground", "background", "wait", "wait-all", "cancel", "parallel")


def _quarters(low: float, high: float) -> st.SearchStrategy[float]:
    return st.integers(round(low * 4), round(high * 4)).map(lambda k: k / 4)


@st.composite
def _old_step(draw: st.DrawFn, *, id: str, background: bool = False) -> ts.Step:
    timeout = draw(st.none() | _quarters(0.25, 5))
    duration = draw(_quarters(0, 4))
    if timeout is not None and draw(st.booleans()):
        duration = math.inf
    writes = []
    offsets = sorted(
        draw(_quarters(0, min(duration, 4.0))) for _ in range(draw(st.integers(0, 2)))
    )
    for number, at in enumerate(offsets, 1):
        kind = draw(st.sampled_from(WRITE_KINDS))
        name = draw(st.sampled_from(_NAMES[kind]))
        writes.append(Write(at=at, kind=kind, name=name, value=f"{id}.{number}"))
    return ScriptedStep(
        duration,
        ending=draw(st.sampled_from(ENDINGS)),
        writes=writes,
        stop_delay=draw(st.sampled_from(STOP_DELAYS)),
        observe=draw(st.booleans()),
        id=id,
        background=background,
        condition=draw(st.sampled_from(CONDITIONS)),
        continue_on_error=draw(st.booleans()),
        timeout=timeout,
    )


@st.composite
def old_jobs(draw: st.DrawFn, *, max_steps: int = 8) -> ts.Job:
    """The baseline: the same jobs, drawn the first version's way."""
    ids = iter(f"s{n}" for n in range(1, 100))
    background: list[str] = []
    steps: list[MainStep] = []
    for _ in range(draw(st.integers(1, max_steps))):
        kind = draw(st.sampled_from(_KINDS))
        if kind in ("wait", "cancel") and not background:
            kind = "foreground"
        if kind in ("foreground", "background"):
            step = draw(_old_step(id=next(ids), background=kind == "background"))
            steps.append(step)
            if step.background:
                background.append(step.id or "")
        elif kind == "parallel":
            members = [
                draw(_old_step(id=next(ids))) for _ in range(draw(st.integers(1, 3)))
            ]
            steps.append(ts.Parallel(members))
            background.extend(m.id or "" for m in members)
        elif kind == "wait-all":
            steps.append(ts.WaitAll(continue_on_error=draw(st.booleans())))
        else:
            targets = draw(
                st.lists(
                    st.sampled_from(background), min_size=1, max_size=3, unique=True
                )
            )
            if kind == "wait":
                steps.append(ts.Wait(targets, continue_on_error=draw(st.booleans())))
            else:
                steps.append(ts.Cancel(targets))
    post = [draw(_old_step(id=next(ids))) for _ in range(draw(st.integers(0, 2)))]
    return ts.Job(
        steps,
        post_steps=post,
        env=draw(st.sampled_from(({}, {"E1": "job"}))),
        max_background=draw(st.integers(1, 3) | st.integers(1, 12)),
        interrupt_grace=draw(st.sampled_from(GRACES)),
        terminate_grace=draw(st.sampled_from(GRACES)),
        timeout=draw(st.none() | _quarters(0.25, 10)),
    )


# --------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------


def _draw(strategy: st.SearchStrategy[ts.Job], n: int) -> tuple[list[ts.Job], float]:
    """Draw n jobs the way fuzz does (Hypothesis' generate phase), timed."""
    drawn: list[ts.Job] = []

    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @seed(0)
    @given(strategy)
    def collect(job: ts.Job) -> None:
        drawn.append(job)

    start = time.perf_counter()
    collect()
    return drawn, time.perf_counter() - start


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def breakdown(n: int) -> None:
    """Generation against the baseline, then where a job's time goes."""
    new, new_seconds = _draw(jobs(), n)
    _old, old_seconds = _draw(old_jobs(), n)
    per = 1000 / n
    print(f"generation of {n} jobs (ms per job, Hypothesis included):")
    print(f"  jobs()                      {new_seconds * per:7.3f}")
    print(f"  baseline (rebuilt per draw) {old_seconds * per:7.3f}")
    print(f"  ratio jobs()/baseline       {new_seconds / old_seconds:7.2f}")
    expected: list[ts.JobReport] = []
    runs: list[ts.JobReport] = []
    model = _timed(lambda: expected.extend(simulate(j) for j in new))
    # As the fuzzer runs it: in the helper thread, with deadlines.
    engine = _timed(
        lambda: runs.extend(
            run_on_mock_clock(j, wall_deadline=DEFAULT_WALL_DEADLINE).report
            for j in new
        )
    )
    direct = _timed(lambda: [run_on_mock_clock(j) for j in new])

    def check() -> None:
        for job, report, want in zip(new, runs, expected, strict=True):
            assert not diff_reports(want, report)
            check_invariants(job, report)

    invariants = _timed(check)

    async def empty() -> None:
        pass

    bare = _timed(
        lambda: [
            trio.run(empty, clock=trio.testing.MockClock(autojump_threshold=0))
            for _ in range(n)
        ]
    )
    total = new_seconds + engine + model + invariants
    print(f"breakdown per job (ms), {n} jobs:")
    print(f"  generate   {new_seconds * per:7.3f}")
    print(
        f"  engine     {engine * per:7.3f}   (in this thread without deadlines:"
        f" {direct * per:.3f}; a bare trio.run: {bare * per:.3f})"
    )
    print(f"  model      {model * per:7.3f}")
    print(f"  invariants {invariants * per:7.3f}   (diff + I1-I9)")
    print(f"  total      {total * per:7.3f}   = {n / total:.0f} jobs/s in process")


_RATE = re.compile(r"(\d+) runs in")


def _command(args: list[str], env: dict[str, str] | None = None) -> tuple[int, float]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "trio_steps.testing", "fuzz", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env=env,
    )
    seconds = time.perf_counter() - start
    found = _RATE.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"fuzz failed:\n{done.stdout}\n{done.stderr}")
    return int(found.group(1)), seconds


def from_outside(examples: int) -> None:
    """The fuzz command timed from outside, with the baseline's generation too."""
    runs, seconds = _command(["--examples", str(examples)])
    print(f"`fuzz --examples {examples}` from outside the process:")
    print(f"  jobs()    {runs} jobs in {seconds:.2f} s = {runs / seconds:.0f} jobs/s")
    with tempfile.TemporaryDirectory() as tmp:
        shim = Path(tmp) / "sitecustomize.py"
        shim.write_text(
            "import sys\n"
            f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
            "import trio_steps.testing._strategies as s\n"
            "from fuzzing import old_jobs\n"
            "s.jobs = lambda max_steps=8, **_: old_jobs(max_steps=max_steps)\n"
        )
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [tmp, *filter(None, [env.get("PYTHONPATH")])]
        )
        old_runs, old_seconds = _command(["--examples", str(examples)], env)
    print(
        f"  baseline  {old_runs} jobs in {old_seconds:.2f} s"
        f" = {old_runs / old_seconds:.0f} jobs/s"
    )
    print(f"  ratio     {(runs / seconds) / (old_runs / old_seconds):.2f}")


def campaign(seconds: float) -> None:
    """One worker against two, for the same time budget."""
    figures = {}
    for workers in (1, 2):
        runs, wall = _command(
            ["--seconds", str(seconds), "--workers", str(workers), "--seed", "1"]
        )
        figures[workers] = runs / wall
        print(
            f"campaign --workers {workers} --seconds {seconds:g}:"
            f" {runs} jobs in {wall:.1f} s = {runs / wall:.0f} jobs/s"
        )
    print(f"  ratio two workers / one: {figures[2] / figures[1]:.2f}")


def profiled(n: int) -> None:
    """The same breakdown under cProfile, as the fuzzer runs (cumulative times).

    The engine runs in this thread here (``check_against_model``), so that
    cProfile sees it; cProfile slows everything about twofold.
    """
    from trio_steps.testing import check_against_model
    from trio_steps.testing._fuzz import fuzz

    profile = cProfile.Profile()
    profile.runcall(fuzz, n, check=check_against_model, progress=None)
    stats = pstats.Stats(profile)
    cumulative: dict[str, float] = {}
    for (filename, _, function), row in stats.stats.items():  # type: ignore[attr-defined]
        key = f"{Path(filename).name}:{function}"
        cumulative[key] = cumulative.get(key, 0.0) + row[3]
    parts = {
        "generate": ["_strategies.py:_draw_job"],
        "engine": ["_invariants.py:run_on_mock_clock"],
        "model": ["_model.py:simulate"],
        "invariants": [
            "_invariants.py:check_invariants",
            "_invariants.py:diff_reports",
        ],
    }
    total = cumulative.get("_fuzz.py:fuzz", 0.0)
    print(f"under cProfile, {n} jobs (ms per job, cumulative):")
    for name, functions in parts.items():
        seconds = sum(cumulative.get(f, 0.0) for f in functions)
        print(f"  {name:10} {seconds * 1000 / n:7.3f}")
    print(f"  {'all':10} {total * 1000 / n:7.3f}   (the rest is Hypothesis' own work)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer jobs")
    parser.add_argument("--examples", type=int, default=1500)
    parser.add_argument(
        "--profile", action="store_true", help="only the breakdown under cProfile"
    )
    args = parser.parse_args()
    n = 300 if args.quick else 1500
    print(f"{os.cpu_count()} cores; Python {sys.version.split()[0]}")
    if args.profile:
        profiled(n)
        return
    breakdown(n)
    from_outside(args.examples if not args.quick else 500)
    campaign(5.0 if args.quick else 20.0)


if __name__ == "__main__":
    main()
