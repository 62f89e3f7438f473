"""Engine cost against a bare-Trio baseline measured in the same run.

Usage: ``python benchmarks/engine.py [--quick]``

Baseline: the least a correct engine must do for a no-op background step —
keep launched steps in a FIFO deque, start each as its own task (with its own
nursery and ``CancelScope``) when a ``CapacityLimiter(10)`` token is free, and
keep a small record and four timestamped events per step (launched, started,
finished, flushed).

Printed figures (targets from the engine issue):

* per-step cost of N no-op background steps + one wait-all, N = 1,000,
  10,000, 100,000: engine / baseline (target <= 2.0);
* scaling: (engine cost per step at 100,000 / at 1,000) over the same quotient
  for the baseline, for "N background + wait-all" and "N x (background,
  wait)" (target <= 1.3);
* memory per queued background step, from before the Job is built
  (tracemalloc; target <= 2 KiB), and a parked Trio task for comparison;
* the per-step overhead of an ``on_event`` subscriber and of a JSON Lines
  trace writer.
"""

from __future__ import annotations

import argparse
import gc
import io
import statistics
import time
import tracemalloc
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

import trio

import trio_steps as ts

SLOTS = 10


class _Event(NamedTuple):
    kind: str
    step: int
    time: float
    wall_time: float


class _Record:
    __slots__ = ("done", "finished", "id", "started")

    def __init__(self, id: int) -> None:
        self.id = id
        self.started: float | None = None
        self.finished: float | None = None
        self.done: trio.Event | None = None


async def _noop_body() -> None:
    pass


async def baseline(n: int, pattern: str) -> None:
    """The bare-Trio baseline (see the module docstring)."""
    limiter = trio.CapacityLimiter(SLOTS)
    queue: deque[_Record] = deque()
    events: list[_Event] = []
    finished = 0
    all_done = trio.Event()

    def emit(kind: str, record: _Record) -> None:
        events.append(_Event(kind, record.id, trio.current_time(), time.time()))

    async with trio.open_nursery() as nursery:

        async def run_one(record: _Record) -> None:
            nonlocal finished
            with trio.CancelScope():
                async with trio.open_nursery():
                    await _noop_body()
            record.finished = trio.current_time()
            emit("finished", record)
            limiter.release_on_behalf_of(record)
            while queue and limiter.available_tokens:
                start(queue.popleft())
            if record.done is not None:
                record.done.set()
            finished += 1
            if finished == n:
                all_done.set()

        def start(record: _Record) -> None:
            limiter.acquire_on_behalf_of_nowait(record)
            record.started = trio.current_time()
            emit("started", record)
            nursery.start_soon(run_one, record)

        records = []
        for i in range(n):
            record = _Record(i)
            records.append(record)
            emit("launched", record)
            if limiter.available_tokens:
                start(record)
            else:
                queue.append(record)
            if pattern == "wait":
                if record.finished is None:
                    record.done = trio.Event()
                    await record.done.wait()
                emit("flushed", record)
        if pattern == "wait-all":
            if finished < n:
                await all_done.wait()
            for record in records:
                emit("flushed", record)


async def _noop(ctx: ts.StepContext) -> None:
    pass


def make_job(n: int, pattern: str) -> ts.Job:
    steps: list[ts.Step | ts.Wait | ts.WaitAll] = []
    for i in range(n):
        steps.append(ts.Step(_noop, id=f"s{i}", background=True))
        if pattern == "wait":
            steps.append(ts.Wait(f"s{i}"))
    if pattern == "wait-all":
        steps.append(ts.WaitAll())
    return ts.Job(steps, max_background=SLOTS)


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` runs, with the collector settled first."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def per_step_costs(n: int, pattern: str, repeat: int) -> tuple[float, float]:
    """Median cost per step of the engine and of the baseline.

    The two are run alternately, ``repeat`` times each, so that a slow spell
    of the machine hits both; the median of each is reported.
    """
    engines: list[float] = []
    bases: list[float] = []
    for _ in range(repeat):
        engines.append(timed(lambda: trio.run(ts.run_job, make_job(n, pattern)), 1) / n)
        bases.append(timed(lambda: trio.run(baseline, n, pattern), 1) / n)
    return statistics.median(engines), statistics.median(bases)


def queued_memory(n: int) -> float:
    """Bytes per queued background step, counted from before the Job."""
    measured: list[int] = []

    async def hold(ctx: ts.StepContext) -> None:
        await trio.sleep_forever()

    async def measure(ctx: ts.StepContext) -> None:
        gc.collect()
        measured.append(tracemalloc.get_traced_memory()[0])

    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    steps: list[ts.Step | ts.Cancel] = [ts.Step(hold, id="hold", background=True)]
    steps += [ts.Step(_noop, id=f"q{i}", background=True) for i in range(n)]
    steps += [
        ts.Step(measure, id="measure"),
        ts.Cancel(["hold", *(f"q{i}" for i in range(n))]),
    ]
    job = ts.Job(steps, max_background=1)
    trio.run(ts.run_job, job)
    tracemalloc.stop()
    return (measured[0] - base) / n


def parked_task_memory(n: int) -> float:
    """Bytes per Trio task parked on a CapacityLimiter, for comparison."""
    measured: list[int] = []

    async def main() -> None:
        limiter = trio.CapacityLimiter(1)
        await limiter.acquire()

        async def parked() -> None:
            async with limiter:
                pass

        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        async with trio.open_nursery() as nursery:
            for _ in range(n):
                nursery.start_soon(parked)
            await trio.testing.wait_all_tasks_blocked()
            gc.collect()
            measured.append(tracemalloc.get_traced_memory()[0] - base)
            nursery.cancel_scope.cancel()

    import trio.testing

    tracemalloc.start()
    trio.run(main)
    tracemalloc.stop()
    return measured[0] / n


def subscriber_overhead(n: int, repeat: int) -> dict[str, float]:
    """Per-step cost with no subscriber, a list append, and a trace writer."""
    results: dict[str, float] = {}
    results["no subscriber"] = (
        timed(lambda: trio.run(ts.run_job, make_job(n, "wait-all")), repeat) / n
    )

    def with_list() -> None:
        events: list[ts.Event] = []
        trio.run(lambda: ts.run_job(make_job(n, "wait-all"), on_event=events.append))

    results["on_event=list.append"] = timed(with_list, repeat) / n
    try:
        from trio_steps._trace._write import TraceWriter
    except ImportError:  # pragma: no cover - the trace module ships with us
        return results

    def with_writer() -> None:
        sink = io.StringIO()
        writer = TraceWriter(sink)
        trio.run(lambda: ts.run_job(make_job(n, "wait-all"), on_event=writer))

    results["on_event=TraceWriter (JSON Lines)"] = timed(with_writer, repeat) / n
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller N, one repeat")
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    repeat = 1 if args.quick else 5

    print(f"trio {trio.__version__}, slots={SLOTS}; per-step costs in microseconds")
    costs: dict[tuple[str, int], tuple[float, float]] = {}
    for pattern in ("wait-all", "wait"):
        for n in sizes:
            engine, base = per_step_costs(n, pattern, repeat)
            costs[(pattern, n)] = (engine, base)
            target = "  (target <= 2.0)" if pattern == "wait-all" else ""
            print(
                f"  N={n:>7,} {pattern:<8}  engine {engine * 1e6:7.2f}  "
                f"baseline {base * 1e6:7.2f}  ratio {engine / base:5.2f}x{target}"
            )
    small, large = sizes[0], sizes[-1]
    for pattern in ("wait-all", "wait"):
        e_small, b_small = costs[(pattern, small)]
        e_large, b_large = costs[(pattern, large)]
        scaling = (e_large / e_small) / (b_large / b_small)
        print(
            f"scaling {pattern:<8} (cost@{large:,}/cost@{small:,}, engine over baseline): "
            f"{scaling:.2f}  (target <= 1.3)"
        )
    n_mem = 10_000 if args.quick else 50_000
    per_step = queued_memory(n_mem)
    parked = parked_task_memory(2_000)
    print(
        f"memory per queued background step: {per_step:,.0f} B = {per_step / 1024:.2f} KiB "
        f"(target <= 2 KiB); a parked Trio task: {parked:,.0f} B"
    )
    overhead = subscriber_overhead(10_000, repeat)
    plain = overhead["no subscriber"]
    for label, cost in overhead.items():
        print(
            f"  {label:<36} {cost * 1e6:7.2f} us/step  (+{(cost - plain) * 1e6:5.2f})"
        )
    print(
        "median of ratios:",
        f"{statistics.median(e / b for e, b in costs.values()):.2f}x",
    )


if __name__ == "__main__":
    main()
