"""How large a job ``trio_steps.testing.explore`` covers within 10 seconds.

Usage: ``python benchmarks/explore.py [--quick] [--budget SECONDS]``

For each family of jobs, the number of steps grows until the exploration no
longer covers the job within the budget (default 10 s, rules R18.4). Each
line prints the size, the distinct outcomes, the schedules run and pruned,
the wall time, and the baseline measured in the same run: the time of one
``simulate()`` of the same job, and the ratio (how many single runs of the
model the exploration cost).

Then it times ``sweep_cancellation`` on the same families at 10, 20 and 40
steps, with the model only and with the engine compared too (the ratio is
the model-only sweep over one ``simulate()``).

Families (n = number of scripted steps):

* ``chain``: n foreground steps;
* ``bg+wait-all``: n background steps, then a ``wait-all``;
* ``bg+fg+cancel``: k = n/2 pairs of a background step and a foreground
  step, then ``cancel`` of every background step;
* ``mixed``: every third step in the background, waited for or cancelled
  two steps later, every other one with a timeout, some failing (all with
  ``continue-on-error``, so that the job goes on).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import trio_steps as ts
from trio_steps.testing import (
    Limit,
    ScriptedStep,
    explore,
    simulate,
    sweep_cancellation,
)


def chain(n: int) -> ts.Job:
    return ts.Job([ScriptedStep(1, id=f"s{i}") for i in range(n)])


def bg_wait_all(n: int) -> ts.Job:
    steps: list[ts.Step | ts.WaitAll] = [
        ScriptedStep(1 + i % 3, id=f"b{i}", background=True) for i in range(n)
    ]
    return ts.Job([*steps, ts.WaitAll()])


def bg_fg_cancel(n: int) -> ts.Job:
    pairs = n // 2
    steps: list[ts.Step | ts.Cancel] = []
    for i in range(pairs):
        steps.append(ScriptedStep(2, id=f"a{i}", background=True))
        steps.append(ScriptedStep(1, id=f"b{i}"))
    steps.append(ts.Cancel([f"a{i}" for i in range(pairs)]))
    return ts.Job(steps)


def mixed(n: int) -> ts.Job:
    steps: list[ts.Step | ts.Wait | ts.Cancel] = []
    pending: list[tuple[int, str]] = []
    for i in range(n):
        if i % 3 == 0:
            steps.append(
                ScriptedStep(
                    3,
                    id=f"bg{i}",
                    background=True,
                    timeout=4 if i % 2 else None,
                    ending="fail" if i % 9 == 6 else "succeed",
                    continue_on_error=True,
                )
            )
            pending.append((i, f"bg{i}"))
        else:
            steps.append(ScriptedStep(1, id=f"fg{i}"))
        while pending and pending[0][0] <= i - 2:
            index, id = pending.pop(0)
            steps.append(ts.Wait([id]) if index % 2 == 0 else ts.Cancel([id]))
    return ts.Job(steps, interrupt_grace=1, terminate_grace=1)


FAMILIES: dict[str, Callable[[int], ts.Job]] = {
    "chain": chain,
    "bg+wait-all": bg_wait_all,
    "bg+fg+cancel": bg_fg_cancel,
    "mixed": mixed,
}


def baseline(job: ts.Job) -> float:
    """Seconds for one simulate() of the job (best of 5)."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        simulate(job)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 1 s budget")
    parser.add_argument("--budget", type=float, default=10.0, help="seconds")
    args = parser.parse_args()
    budget = 1.0 if args.quick else args.budget
    print(f"budget {budget:g} s per exploration (Limit(seconds={budget:g}))")
    print(
        f"{'family':<14}{'steps':>6}{'outcomes':>9}{'runs':>9}{'pruned':>9}"
        f"{'seconds':>9}{'simulate':>11}{'ratio':>9}"
    )
    for name, make in FAMILIES.items():
        n = 2
        largest = None
        while True:
            job = make(n)
            found = explore(job, limit=Limit(schedules=None, seconds=budget))
            one = baseline(job)
            ratio = found.seconds / one if one > 0 else float("inf")
            print(
                f"{name:<14}{n:>6}{len(found.outcomes):>9}{found.runs:>9}"
                f"{found.pruned:>9}{found.seconds:>9.3f}{one * 1e3:>9.3f}ms"
                f"{ratio:>9.0f}" + ("" if found.covered else "  NOT covered")
            )
            if not found.covered:
                break
            largest = n
            if n >= 40:
                break
            n += 1 if found.seconds > budget / 40 else 2
        print(f"{name}: largest covered within {budget:g} s: {largest} steps")
    print()
    print("sweep_cancellation (R18.6): every cut, model only and with the engine")
    print(
        f"{'family':<14}{'steps':>6}{'cuts':>7}{'model s':>9}{'engine s':>10}"
        f"{'simulate':>11}{'ratio':>8}"
    )
    for name, make in FAMILIES.items():
        for n in (10, 20, 40):
            job = make(n)
            start = time.perf_counter()
            sweep = sweep_cancellation(job)
            model = time.perf_counter() - start
            start = time.perf_counter()
            sweep_cancellation(job, engine=True)
            engine = time.perf_counter() - start
            one = baseline(job)
            print(
                f"{name:<14}{n:>6}{len(sweep.cuts):>7}{model:>9.3f}{engine:>10.3f}"
                f"{one * 1e3:>9.3f}ms{model / one:>8.0f}"
            )


if __name__ == "__main__":
    main()
