"""1 GiB of output from one shell step in bounded memory (rules §12).

The job runs in a child Python process, which measures its own peak RSS
before and after the job: lines are streamed, never accumulated.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
import trio

GIB = 1 << 30
LINE = 1000  # bytes per line, newline included
LIMIT_MIB = 64

CHILD = textwrap.dedent(
    """
    import json, resource, sys
    import trio
    import trio_steps as ts

    size, line, workspace = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    script = (
        f'set +o pipefail; yes "$(head -c {line - 1} /dev/zero | tr "\\\\0" x)" | head -c {size}'
    )
    counts = {"lines": 0, "bytes": 0, "bad": 0}

    def on_event(event):
        if event.kind == "step-output" and event.data["stream"] == "stdout":
            text = event.data["line"]
            counts["lines"] += 1
            counts["bytes"] += len(text) + 1
            if len(text) != line - 1:
                counts["bad"] += 1

    async def main():
        job = ts.Job([ts.Step(script, id="big")], workspace=workspace)
        return await ts.run_job(job, on_event=on_event)

    trio.run(trio.sleep, 0)  # warm up the run loop before measuring
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = trio.run(main)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "before_kib": before, "after_kib": after,
        "result": report.steps["big"].outcome.name, **counts,
    }))
    """
)


@pytest.mark.slow
async def test_one_gib_of_output_in_bounded_memory_spec_12(tmp_path: Path) -> None:
    with trio.fail_after(600):
        done = await trio.run_process(
            [sys.executable, "-c", CHILD, str(GIB), str(LINE), str(tmp_path)],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    stats = json.loads(done.stdout)
    assert stats["result"] == "SUCCEEDED", stats
    # Every line is counted with a newline; the last, partial one has none.
    assert stats["bytes"] == GIB + 1
    assert stats["lines"] == -(-GIB // LINE)
    assert stats["bad"] == 1  # only the last, partial line is shorter
    growth_mib = (stats["after_kib"] - stats["before_kib"]) / 1024
    print(f"peak RSS growth: {growth_mib:.1f} MiB")
    assert growth_mib <= LIMIT_MIB, stats
