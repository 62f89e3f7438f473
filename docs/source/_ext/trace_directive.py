"""``.. trio-steps-trace::`` — run a job in the docs build and show its trace.

The directive's content is Python that defines ``job`` (a ``trio_steps.Job``;
``import trio``, ``import trio_steps as ts`` and the helpers below are
available). The build runs it on Trio's autojump ``MockClock`` and renders
the steps table and the event trace. ``:result:`` names the job result the
text promises (``success``, ``failure``, ``cancelled``); a different result
fails the build, so the page cannot drift from the engine.
"""

from __future__ import annotations

import textwrap
from typing import Any, ClassVar

import trio
import trio.testing
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

import trio_steps as ts

PRELUDE = """
import trio
import trio_steps as ts

def sleeps(seconds, *, fail=False, outputs=None, name=None):
    async def step(ctx):
        for key, value in (outputs or {}).items():
            ctx.set_output(key, value)
        await trio.sleep(seconds)
        if fail:
            raise RuntimeError("failed on purpose")
    step.__name__ = name or f"sleep {seconds:g} s"
    return step

def service(name="service"):
    async def serve(ctx):
        ctx.log("listening")
        await trio.sleep_forever()
    serve.__name__ = name
    return serve
"""


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def render(report: ts.JobReport) -> str:
    rows = [
        (
            "step",
            "kind",
            "outcome",
            "conclusion",
            "queued",
            "started",
            "finished",
            "completed by",
        )
    ]
    for step in report.steps.values():
        rows.append(
            (
                step.id,
                step.kind,
                step.outcome.name if step.outcome is not None else "–",
                step.conclusion.name if step.conclusion is not None else "–",
                _fmt(step.queued_at),
                _fmt(step.started_at),
                _fmt(step.finished_at),
                step.completed_by or "–",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    table = "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in rows
    )
    events = []
    for event in report.events:
        data = ", ".join(f"{k}={v}" for k, v in event.data.items() if k != "stream")
        events.append(
            f"{event.time:6g}  {event.kind:<21} {event.step_id or '':<22} {data}".rstrip()
        )
    return f"job result: {report.result.name}\n\n{table}\n\nevents:\n" + "\n".join(
        events
    )


class TraceDirective(SphinxDirective):
    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {"result": directives.unchanged_required}

    def run(self) -> list[nodes.Node]:
        code = "\n".join(self.content)
        namespace: dict[str, Any] = {}
        exec(compile(PRELUDE + code, self.get_source_info()[0], "exec"), namespace)
        job = namespace["job"]
        report = trio.run(
            ts.run_job, job, clock=trio.testing.MockClock(autojump_threshold=0)
        )
        expected = self.options.get("result")
        if expected is not None and report.result.github != expected:
            raise self.error(
                f"the job's result is {report.result.github}, the text says {expected}"
            )
        source = nodes.literal_block(code, code, language="python")
        output = nodes.literal_block(text=render(report))
        output["language"] = "text"
        return [
            source,
            nodes.paragraph(text="What the engine reports (virtual seconds):"),
            output,
        ]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("trio-steps-trace", TraceDirective)
    return {"parallel_read_safe": True, "version": "1"}


__all__ = ["setup", "textwrap"]
