"""Shell executor benchmarks: trio_steps against plain bash, measured in one run.

Prints ratios, asserts nothing (see docs/source/benchmarks.rst). Three measurements:

a. 200 background ``true`` steps, ``max_background=10``, then ``wait-all``;
   baseline: a bash script that starts the same 200 processes in batches of
   10 with ``&`` and ``wait``. Each baseline job is the process a shell step
   starts — ``bash --noprofile --norc -eo pipefail <script>`` running
   ``true`` — so both sides pay the same exec cost; the difference is what
   trio_steps adds per step (script file, environment, pipes, events). The
   baseline reuses one script file; trio_steps writes one per step.
   Target: ≤ 1.25× bash.
b. 100 foreground ``true`` steps against 100 sequential ``bash -c true``
   run by a bash loop. Target: ≤ 1.25×.
c. Cancel latency: a background ``sleep 1000`` step (bash and sleep both end
   on SIGINT) is stopped by a ``cancel`` step; latency is the cancel step's
   ``step-finished`` time minus its ``step-started`` time. Target: median
   ≤ 50 ms.

The jobs run with the workspace as the current directory (a temporary one),
as ``trio-steps run`` does in a checkout: the executor then starts processes
with ``os.posix_spawn``. The same jobs with the workspace in another
directory, where it must use ``subprocess.Popen`` for the chdir, are printed
too, without a target.

Usage: ``python benchmarks/shell.py [--repeat N]``. For a and b the runs of
trio_steps and bash alternate, and both the ratio of the best runs and the
median of the ratios of back-to-back pairs are printed: on a shared machine
either can be disturbed by load from elsewhere. For c, the median of
``--cancels`` runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time

import trio

import trio_steps as ts

BASH_JOB = "bash --noprofile --norc -eo pipefail {script}"


def bash_batches(workdir: str, count: int, batch: int) -> float:
    script = os.path.join(workdir, "job.sh")
    with open(script, "w") as f:
        f.write("true\n")
    job = BASH_JOB.format(script=script)
    driver = "\n".join(
        [f"for b in $(seq 1 {count // batch}); do"]
        + [f"  {job} &" for _ in range(batch)]
        + ["  wait", "done"]
    )
    start = time.perf_counter()
    subprocess.run(["bash", "-c", driver], check=True)
    return time.perf_counter() - start


def bash_sequential(count: int) -> float:
    start = time.perf_counter()
    subprocess.run(
        ["bash", "-c", f"for i in $(seq 1 {count}); do bash -c true; done"], check=True
    )
    return time.perf_counter() - start


def run_job(job: ts.Job) -> tuple[float, ts.JobReport]:
    start = time.perf_counter()
    report = trio.run(ts.run_job, job)
    elapsed = time.perf_counter() - start
    assert report.result == ts.Result.SUCCEEDED, report.result
    return elapsed, report


def steps_background(workdir: str | None, count: int, batch: int) -> float:
    steps: list[ts.Step | ts.WaitAll] = [
        ts.Step("true", id=f"s{i}", background=True) for i in range(count)
    ]
    steps.append(ts.WaitAll())
    return run_job(ts.Job(steps, max_background=batch, workspace=workdir))[0]


def steps_foreground(workdir: str | None, count: int) -> float:
    steps = [ts.Step("true", id=f"s{i}") for i in range(count)]
    return run_job(ts.Job(steps, workspace=workdir))[0]


async def _pause(ctx: ts.StepContext) -> None:
    await trio.sleep(0.05)


def cancel_latency(workdir: str) -> float:
    job = ts.Job(
        [
            ts.Step("sleep 1000", id="svc", background=True),
            ts.Step(_pause, id="pause"),
            ts.Cancel("svc", id="stop"),
        ],
        workspace=workdir,
    )
    _, report = run_job(job)
    stop = report.steps["stop"]
    assert report.steps["svc"].outcome == ts.Result.CANCELED
    assert stop.started_at is not None and stop.finished_at is not None
    events = {
        str(e.kind): e.time
        for e in report.events
        if e.step_id == "stop" and e.kind in ("step-started", "step-finished")
    }
    return events["step-finished"] - events["step-started"]


def report(
    what: str, ours: list[float], base: list[float], target: bool = True
) -> None:
    best = min(ours) / min(base)
    paired = statistics.median(o / b for o, b in zip(ours, base, strict=True))
    print(
        f"{what}: trio_steps {min(ours) * 1000:.0f} ms, bash {min(base) * 1000:.0f} ms "
        f"(best of {len(ours)}), ratio {best:.2f}; median of paired ratios "
        f"{paired:.2f}" + (" (target <= 1.25)" if target else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--cancels", type=int, default=30)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        tempfile.TemporaryDirectory() as other,
    ):
        # The workspace is the current directory, as for `trio-steps run`
        # in a checkout; processes are then started with posix_spawn. The
        # rows marked "elsewhere" run the same jobs with the workspace in
        # another directory, where Popen (with its chdir) starts them.
        os.chdir(workdir)
        # Alternate ours and bash's runs so that load from elsewhere on the
        # machine hits both alike; keep the best of each.
        ours_a, base_a, ours_b, base_b = [], [], [], []
        far_a, far_b = [], []
        for _ in range(args.repeat):
            ours_a.append(steps_background(None, 200, 10))
            base_a.append(bash_batches(workdir, 200, 10))
            ours_b.append(steps_foreground(None, 100))
            base_b.append(bash_sequential(100))
            far_a.append(steps_background(other, 200, 10))
            far_b.append(steps_foreground(other, 100))
        report("a. 200 background true, 10 at a time", ours_a, base_a)
        report("b. 100 foreground true", ours_b, base_b)
        report("   a, workspace elsewhere (Popen)", far_a, base_a, target=False)
        report("   b, workspace elsewhere (Popen)", far_b, base_b, target=False)
        # c. cancel latency
        latencies = [cancel_latency(workdir) for _ in range(args.cancels)]
        print(
            f"c. cancel latency over {args.cancels} runs: median "
            f"{statistics.median(latencies) * 1000:.1f} ms, max "
            f"{max(latencies) * 1000:.1f} ms (target median <= 50 ms)"
        )


if __name__ == "__main__":
    main()
