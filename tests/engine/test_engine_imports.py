"""Nothing is imported while a job runs (issue 12, item 18).

A module imported inside the event loop stalls every step while it loads:
the first timed decision of a process used to import ``trio.testing``
(and with it pytest), 130-350 ms. The check runs in a fresh interpreter,
since this one has long imported everything.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

_SCRIPT = textwrap.dedent(
    """
    import sys

    import trio

    import trio_steps as ts
    from trio_steps import JobRunner


    async def forever(ctx):
        await trio.sleep_forever()


    job = ts.Job(
        steps=[
            ts.Step(forever, id="bg", background=True),
            ts.Step("sleep 30", id="slow", timeout=0.3, continue_on_error=True),
            ts.Step(forever, id="fg", timeout=0.1, continue_on_error=True),
            ts.Cancel("bg"),
            ts.Step("echo ${{ hashFiles('*.nothing') }}", id="h"),
            ts.Step(forever, id="last"),
        ],
        timeout=1.5,
        interrupt_grace=0.05,
        terminate_grace=0.05,
    )


    async def main():
        # JobRunner() loads what the job needs (the expression language for
        # its ${{ }}); run() must import nothing more.
        runner = JobRunner(job)
        before = set(sys.modules)
        report = await runner.run()
        print(" ".join(f"{k}={v.conclusion.name}" for k, v in report.steps.items()))
        print(" ".join(sorted(set(sys.modules) - before)) or "-")


    trio.run(main)
    """
)


def test_a_job_with_timeouts_and_cancels_imports_nothing_while_it_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    results, imported = done.stdout.splitlines()
    # Every kind of stop happened: a step timeout (shell and Python), a
    # cancel, and the job timeout.
    assert results.split() == [
        "bg=CANCELED",
        "slow=SUCCEEDED",
        "fg=SUCCEEDED",
        "__cancel_4=SUCCEEDED",
        "h=SUCCEEDED",
        "last=CANCELED",
    ]
    assert imported == "-"
