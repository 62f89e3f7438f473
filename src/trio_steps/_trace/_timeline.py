"""A timeline picture of a job: a Gantt chart as SVG or self-contained HTML.

One row per step in declared order. Each row shows the step's *queued*,
*running* and *stopping* spans (see :func:`~trio_steps._trace._segments.step_segments`)
in different fills, the running span coloured by the step's conclusion.
Control steps are drawn as a thin waiting bar ending in a diamond, joined by
lines to the background steps they completed. The picture carries its
geometry in ``data-`` attributes so that it can be checked (and scripted):
the root ``<svg>`` has ``data-origin-x``, ``data-time-origin`` and
``data-px-per-second``; each span is a ``<rect>`` with ``data-step``,
``data-segment``, ``data-start`` and ``data-end`` (Trio clock times).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Final, Literal
from xml.sax.saxutils import escape, quoteattr

from .._events import EventKind
from .._face import public
from .._results import JobReport, Result, StepReport
from .._steps import CONTROL_KINDS
from ._json import job_metadata
from ._segments import step_segments, stop_times

__all__ = ["render_timeline"]

_WIDTH: Final = 1200
_LABEL_WIDTH: Final = 250
_CHART_X: Final = _LABEL_WIDTH + 16
_CHART_WIDTH: Final = _WIDTH - _CHART_X - 40
_HEADER: Final = 58
_AXIS: Final = 26
_FOOTER: Final = 30

_CONCLUSION_FILLS: Final = {
    Result.SUCCEEDED: "#2da44e",
    Result.SUCCEEDED_WITH_ISSUES: "#7fbf3f",
    Result.FAILED: "#cf222e",
    Result.CANCELED: "#d4a72c",
    Result.SKIPPED: "#8c959f",
    Result.ABANDONED: "#8250df",
}
_CONTROL_FILL: Final = "#57606a"
_UNKNOWN_FILL: Final = "#6e7781"

_STYLE: Final = """\
.title { font: bold 16px sans-serif; fill: #1f2328; }
.summary { font: 12px sans-serif; fill: #424a53; }
.label { font-family: sans-serif; fill: #1f2328; }
.label.skipped, .note { fill: #8c959f; font-style: italic; font-family: sans-serif; }
.tick { font: 10px sans-serif; fill: #57606a; }
.grid { stroke: #d0d7de; stroke-width: 1; }
.axis { stroke: #57606a; stroke-width: 1; }
.row-bg { fill: #6e7781; fill-opacity: 0.06; }
.row-bg.odd { fill-opacity: 0; }
.link { fill: none; stroke: #0969da; stroke-width: 1; stroke-opacity: 0.7; }
.end-line { stroke: #1f2328; stroke-dasharray: 4 3; }
.cancel-line { stroke: #cf222e; stroke-dasharray: 2 3; }
.signal { fill: #cf222e; }
rect.seg.thin { stroke-width: 1; }
"""


def _ticks(span: float) -> tuple[float, list[float]]:
    """A 1-2-5 step giving about eight ticks over ``[0, span]``, and the ticks."""
    if span <= 0 or not math.isfinite(span):
        span = 1.0
    raw = span / 8
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * 0.999)
    count = math.floor(span / step + 1e-9)
    return step, [k * step for k in range(count + 1)]


def _tick_label(value: float, step: float, span: float) -> str:
    if span >= 180 and step >= 60:
        minutes, seconds = divmod(round(value), 60)
        return f"{minutes}:{seconds:02d}"
    if span < 1:
        decimals = max(0, -math.floor(math.log10(step * 1000) + 1e-9))
        return f"{value * 1000:.{decimals}f} ms"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return f"{value:.{decimals}f} s"


def _seconds(value: float) -> str:
    return f"{value:.3f} s"


def _truncate(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    return name[: max(1, limit - 1)] + "…"


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


class _Layout:
    def __init__(self, report: JobReport) -> None:
        self.report = report
        self.steps = list(report.steps.values())
        count = max(1, len(self.steps))
        self.row = 26 if count <= 12 else max(9, min(26, round(520 / count)))
        self.font = max(7.0, min(13.0, round(self.row * 0.6, 1)))
        self.label_chars = max(8, int(_LABEL_WIDTH / (self.font * 0.58)))
        names = [step.name for step in self.steps]
        # Steps that share a display name are told apart by their ids.
        self.labels = [
            f"{step.name} ({step.id})" if names.count(step.name) > 1 else step.name
            for step in self.steps
        ]
        self.rows_top = _HEADER + _AXIS
        self.bottom_axis = count > 30
        self.height = (
            self.rows_top
            + count * self.row
            + (_AXIS if self.bottom_axis else 0)
            + _FOOTER
        )
        self.start, self.end = self._bounds()
        span = self.end - self.start
        self.span = span if span > 0 else 1.0
        self.scale = _CHART_WIDTH / self.span

    def _bounds(self) -> tuple[float, float]:
        start = end = None
        for event in self.report.events:
            if event.kind is EventKind.JOB_STARTED and start is None:
                start = event.time
            elif event.kind is EventKind.JOB_FINISHED:
                end = event.time
        times = [
            t
            for s in self.steps
            for t in (s.queued_at, s.started_at, s.finished_at)
            if t is not None
        ]
        if start is None:
            start = min(times, default=0.0)
        if end is None:
            end = max(times, default=start)
        return start, max(end, max(times, default=end))

    def x(self, time: float) -> float:
        return _CHART_X + (time - self.start) * self.scale

    def y(self, row: int) -> float:
        return self.rows_top + row * self.row

    def rel(self, time: float) -> str:
        return f"+{time - self.start:.3f} s"


def _fill(step: StepReport) -> str:
    if step.kind in CONTROL_KINDS:
        return _CONTROL_FILL
    if step.conclusion is None:
        return _UNKNOWN_FILL
    return _CONCLUSION_FILLS[step.conclusion]


def _describe(step: StepReport) -> list[str]:
    lines = [f"{step.name} ({step.id})", f"kind: {step.kind}"]
    if step.background:
        lines[-1] += ", background"
    if step.group is not None:
        lines.append(f"parallel group: {step.group}")
    if step.outcome is not None or step.conclusion is not None:
        outcome = step.outcome.name if step.outcome is not None else "-"
        conclusion = step.conclusion.name if step.conclusion is not None else "-"
        lines.append(f"outcome {outcome}, conclusion {conclusion}")
    flags = [
        name
        for name in ("explicitly_canceled", "timed_out", "abandoned")
        if getattr(step, name)
    ]
    if flags:
        lines.append(", ".join(flags))
    if step.completed_by is not None:
        lines.append(f"completed by {step.completed_by}")
    if step.exit_code is not None:
        lines.append(f"exit code {step.exit_code}")
    if step.error:
        lines.append(f"error: {step.error}")
    return lines


def _svg(report: JobReport, layout: _Layout) -> Iterator[str]:
    job = job_metadata(report.events)
    job_name = str(job.get("name") or "job")
    stops = stop_times(report)
    rows = {step.id.casefold(): i for i, step in enumerate(layout.steps)}
    chart_bottom = layout.y(len(layout.steps))
    mid = layout.row / 2

    yield (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" '
        f'height="{layout.height}" viewBox="0 0 {_WIDTH} {layout.height}" '
        f'font-size="{layout.font}" '
        f'data-origin-x="{_CHART_X}" data-time-origin="{layout.start!r}" '
        f'data-px-per-second="{layout.scale!r}" data-result="{report.result.name}">'
    )
    yield f"<title>{escape(f'Timeline of {job_name}: {report.result.name}')}</title>"
    yield f"<style>{_STYLE}</style>"
    yield (
        "<defs>"
        '<pattern id="queued-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#eaeef2"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#afb8c1" stroke-width="2"/></pattern>'
        '<pattern id="stopping-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(-45)"><rect width="6" height="6" fill="#f5d48a"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#9a6700" stroke-width="2"/></pattern>'
        "</defs>"
    )
    # header
    summary = (
        f"result {report.result.name} ({report.result.github}) · "
        f"makespan {_seconds(layout.end - layout.start)} · {len(layout.steps)} steps"
    )
    if "max_background" in job:
        summary += f" · max_background {job['max_background']}"
    yield f'<text class="title" x="12" y="24">{escape(job_name)}</text>'
    yield f'<text class="summary" x="12" y="44">{escape(summary)}</text>'
    legend = [
        ("queued", "url(#queued-hatch)"),
        ("running", _CONCLUSION_FILLS[Result.SUCCEEDED]),
        ("failed", _CONCLUSION_FILLS[Result.FAILED]),
        ("cancelled", _CONCLUSION_FILLS[Result.CANCELED]),
        ("stopping", "url(#stopping-hatch)"),
        ("control", _CONTROL_FILL),
    ]
    lx = _WIDTH - 40 - 88 * len(legend)
    for i, (label, fill) in enumerate(legend):
        x = lx + i * 88
        yield f'<rect x="{x}" y="34" width="14" height="12" fill="{fill}"/>'
        yield f'<text class="summary" x="{x + 18}" y="44">{label}</text>'

    # axis and grid
    step, ticks = _ticks(layout.span)
    axis_y = layout.rows_top - 6
    yield (
        f'<line class="axis" x1="{_CHART_X}" y1="{axis_y}" '
        f'x2="{_num(layout.x(layout.start + layout.span))}" y2="{axis_y}"/>'
    )
    for tick in ticks:
        tx = _num(layout.x(layout.start + tick))
        label = escape(_tick_label(tick, step, layout.span))
        yield f'<line class="grid" x1="{tx}" y1="{axis_y}" x2="{tx}" y2="{_num(chart_bottom)}"/>'
        yield f'<text class="tick" x="{tx}" y="{axis_y - 5}" text-anchor="middle">{label}</text>'
        if layout.bottom_axis:
            yield (
                f'<text class="tick" x="{tx}" y="{_num(chart_bottom + 16)}" '
                f'text-anchor="middle">{label}</text>'
            )

    # rows
    for row, step_report in enumerate(layout.steps):
        y = layout.y(row)
        tooltip = "\n".join(_describe(step_report))
        segments = step_segments(step_report, stops.get(step_report.id.casefold()))
        yield (
            f'<g class="step" data-step={quoteattr(step_report.id)} data-row="{row}" '
            f"data-kind={quoteattr(step_report.kind)}>"
        )
        # Every row has a background, see-through so that the grid shows:
        # tinted on even rows, invisible but hoverable on odd ones.
        yield (
            f'<rect class="row-bg{" odd" if row % 2 else ""}" x="0" y="{_num(y)}" '
            f'width="{_WIDTH}" height="{layout.row}"/>'
        )
        skipped = not segments
        label_class = "label skipped" if skipped else "label"
        yield (
            f'<text class="{label_class}" x="{_LABEL_WIDTH}" y="{_num(y + mid)}" '
            f'dominant-baseline="central" text-anchor="end">'
            f"<title>{escape(tooltip)}</title>"
            f"{escape(_truncate(layout.labels[row], layout.label_chars))}</text>"
        )
        if skipped:
            note = (
                step_report.conclusion.name.lower()
                if step_report.conclusion is not None
                else "not run"
            )
            if step_report.conclusion is Result.FAILED:
                note = "failed (not run)"
            yield (
                f'<text class="note" x="{_CHART_X + 4}" y="{_num(y + mid)}" '
                f'dominant-baseline="central">{escape(note)}</text>'
            )
        control = step_report.kind in CONTROL_KINDS
        for segment in segments:
            pad = layout.row * (
                0.36 if control and segment.state == "running" else 0.14
            )
            if segment.state == "queued":
                fill = "url(#queued-hatch)"
            elif segment.state == "stopping":
                fill = "url(#stopping-hatch)"
            else:
                fill = _fill(step_report)
            sx = layout.x(segment.start)
            width = (segment.end - segment.start) * layout.scale
            thin = width < 1
            stroke = f' stroke="{fill}"' if thin and fill.startswith("#") else ""
            seg_tip = (
                f"{tooltip}\n{segment.state}: {layout.rel(segment.start)} → "
                f"{layout.rel(segment.end)} ({_seconds(segment.end - segment.start)})"
            )
            yield (
                f'<rect class="seg{" thin" if thin else ""}" '
                f"data-step={quoteattr(step_report.id)} "
                f'data-segment="{segment.state}" data-start="{segment.start!r}" '
                f'data-end="{segment.end!r}" x="{_num(sx)}" y="{_num(y + pad)}" '
                f'width="{_num(width)}" height="{_num(layout.row - 2 * pad)}" '
                f'fill="{fill}"{stroke}><title>{escape(seg_tip)}</title></rect>'
            )
        if control and step_report.finished_at is not None:
            cx = layout.x(step_report.finished_at)
            cy = y + mid
            r = max(3.0, layout.row * 0.32)
            points = f"{_num(cx)},{_num(cy - r)} {_num(cx + r)},{_num(cy)} {_num(cx)},{_num(cy + r)} {_num(cx - r)},{_num(cy)}"
            yield (
                f'<polygon class="marker" data-step={quoteattr(step_report.id)} '
                f'data-time="{step_report.finished_at!r}" points="{points}" '
                f'fill="{_fill(step_report)}" stroke="#ffffff" stroke-width="0.5">'
                f"<title>{escape(tooltip)}\nfinished {layout.rel(step_report.finished_at)}"
                "</title></polygon>"
            )
        yield "</g>"

    # links from completed background steps to the control step
    for step_report in layout.steps:
        if step_report.completed_by is None or step_report.finished_at is None:
            continue
        control_row = rows.get(step_report.completed_by.casefold())
        if control_row is None:
            continue
        control_step = layout.steps[control_row]
        if control_step.finished_at is None:
            continue
        x1 = layout.x(step_report.finished_at)
        y1 = layout.y(rows[step_report.id.casefold()]) + mid
        x2 = layout.x(control_step.finished_at)
        y2 = layout.y(control_row) + mid
        yield (
            f'<path class="link" data-from={quoteattr(step_report.id)} '
            f"data-to={quoteattr(control_step.id)} "
            f'd="M{_num(x1)},{_num(y1)} L{_num(x1)},{_num(y2)} L{_num(x2)},{_num(y2)}">'
            f"<title>{escape(f'{step_report.name} completed by {control_step.name}')}"
            "</title></path>"
        )

    # signals and job events
    for event in report.events:
        if event.kind is EventKind.SIGNAL_SENT and event.step_id is not None:
            row_index = rows.get(event.step_id.casefold())
            if row_index is None:
                continue
            px = layout.x(event.time)
            top = layout.y(row_index)
            size = max(3.0, layout.row * 0.25)
            signal = str(event.data.get("signal", "?"))
            yield (
                f'<polygon class="signal" data-step={quoteattr(event.step_id)} '
                f'data-signal={quoteattr(signal)} data-time="{event.time!r}" '
                f'points="{_num(px - size)},{_num(top)} {_num(px + size)},{_num(top)} '
                f'{_num(px)},{_num(top + size * 1.6)}">'
                f"<title>{escape(f'{signal} sent at {layout.rel(event.time)}')}</title>"
                "</polygon>"
            )
        elif event.kind is EventKind.JOB_CANCEL_REQUESTED:
            lx_cancel = _num(layout.x(event.time))
            reason = str(event.data.get("reason", ""))
            yield (
                f'<line class="cancel-line" data-time="{event.time!r}" x1="{lx_cancel}" '
                f'y1="{layout.rows_top}" x2="{lx_cancel}" y2="{_num(chart_bottom)}">'
                f"<title>{escape(f'job cancel requested ({reason}) at {layout.rel(event.time)}')}"
                "</title></line>"
            )
    end_x = _num(layout.x(layout.end))
    yield (
        f'<line class="end-line" x1="{end_x}" y1="{layout.rows_top}" x2="{end_x}" '
        f'y2="{_num(chart_bottom)}"><title>{escape(f"job finished: {report.result.name}")}'
        "</title></line>"
    )
    foot_y = layout.height - 10
    yield (
        f'<text class="summary" x="{_CHART_X}" y="{foot_y}">'
        f"{escape(f'times from job start (Trio clock {layout.start:.3f})')}</text>"
    )
    yield "</svg>"


_HTML_STYLE: Final = """\
body { font-family: sans-serif; margin: 16px; color: #1f2328; }
.chart { overflow-x: auto; }
#tip { position: fixed; pointer-events: none; background: #ffffffee; border: 1px solid
  #8c959f; border-radius: 4px; padding: 6px 8px; font: 12px monospace; white-space: pre;
  box-shadow: 0 2px 6px #0003; display: none; }
g.step.hover .row-bg { fill: #0969da; fill-opacity: 0.14; }
g.step.linked .row-bg { fill: #0969da; fill-opacity: 0.07; }
g.step.hover text.label { font-weight: bold; }
table { border-collapse: collapse; font-size: 12px; margin-top: 16px; }
td, th { border: 1px solid #d0d7de; padding: 2px 6px; text-align: left; }
"""

# Hover: show the details of what is under the mouse in a floating box kept
# inside the window, highlight the step's row and the rows linked to it by
# completed-by lines. The <title> elements become the box's texts (and
# aria-labels) and are removed, so that the browser's own tooltips do not
# show as well. Step marks win over the thin lines drawn across them (links,
# cancel and end lines), which win over the row backgrounds (showing the
# step's details); spans under a pixel wide win over the marks they touch.
_HTML_SCRIPT: Final = """\
(function () {
  var tip = document.getElementById("tip");
  var svg = document.querySelector(".chart svg");
  var texts = new Map();
  svg.querySelectorAll("title").forEach(function (t) {
    var owner = t.parentNode;
    if (owner !== svg) texts.set(owner, t.textContent);
    owner.setAttribute("aria-label", t.textContent);
    t.remove();
  });
  var rows = new Map();
  svg.querySelectorAll("g.step").forEach(function (g) {
    rows.set(g.dataset.step, g);
    var label = g.querySelector("text.label");
    if (label && texts.has(label)) texts.set(g, texts.get(label));
  });
  var links = Array.prototype.slice.call(svg.querySelectorAll("path.link"));
  function rank(el) {
    if (el.localName === "g") return 3;
    var cls = el.classList;
    if (cls.contains("link") || cls.contains("end-line") ||
        cls.contains("cancel-line")) return 2;
    return cls.contains("thin") ? 0 : 1;
  }
  function described(el) {
    for (; el && el !== svg; el = el.parentNode) {
      if (texts.has(el)) return el;
    }
    return null;
  }
  function pick(x, y) {
    var best = null;
    document.elementsFromPoint(x, y).forEach(function (hit) {
      var el = described(hit);
      if (el && (best === null || rank(el) < rank(best))) best = el;
    });
    return best;
  }
  function clear() {
    svg.querySelectorAll("g.step.hover, g.step.linked").forEach(function (g) {
      g.classList.remove("hover", "linked");
    });
  }
  function highlight(id) {
    var linked = [];
    links.forEach(function (p) {
      if (p.dataset.from === id) linked.push(p.dataset.to);
      if (p.dataset.to === id) linked.push(p.dataset.from);
    });
    linked.forEach(function (other) {
      var g = rows.get(other);
      if (g) g.classList.add("linked");
    });
    var g = rows.get(id);
    if (g) g.classList.add("hover");
  }
  function place(x, y) {
    var gap = 14, margin = 4;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    var left = x + gap, top = y + gap;
    if (left + w > window.innerWidth - margin) left = x - gap - w;
    if (top + h > window.innerHeight - margin) top = y - gap - h;
    tip.style.left = Math.max(margin, left) + "px";
    tip.style.top = Math.max(margin, top) + "px";
  }
  function hide() { clear(); tip.style.display = "none"; }
  svg.addEventListener("mousemove", function (ev) {
    var el = pick(ev.clientX, ev.clientY);
    clear();
    if (!el) { tip.style.display = "none"; return; }
    tip.textContent = texts.get(el);
    tip.style.display = "block";
    place(ev.clientX, ev.clientY);
    var step = el.closest("g.step");
    var id = el.dataset.step || el.dataset.from || (step && step.dataset.step);
    if (id) highlight(id);
  });
  svg.addEventListener("mouseleave", hide);
  window.addEventListener("scroll", hide, true);
})();
"""


def _time_cell(step: StepReport, value: float | None, origin: float) -> str:
    return "" if value is None else f"{value - origin:.3f}"


def _html(report: JobReport, layout: _Layout, svg: str) -> str:
    job_name = str(job_metadata(report.events).get("name") or "job")
    rows = []
    for step in layout.steps:
        cells = [
            step.id,
            step.name,
            step.kind + (" (background)" if step.background else ""),
            step.outcome.name if step.outcome is not None else "",
            step.conclusion.name if step.conclusion is not None else "",
            _time_cell(step, step.queued_at, layout.start),
            _time_cell(step, step.started_at, layout.start),
            _time_cell(step, step.finished_at, layout.start),
            step.completed_by or "",
        ]
        rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    header = "".join(
        f"<th>{h}</th>"
        for h in (
            "id",
            "name",
            "kind",
            "outcome",
            "conclusion",
            "queued (s)",
            "started (s)",
            "finished (s)",
            "completed by",
        )
    )
    title = escape(f"Timeline: {job_name}")
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_HTML_STYLE}</style></head><body>\n"
        f"<h1>{title}</h1>\n"
        f'<div class="chart">{svg}</div>\n<div id="tip"></div>\n'
        f"<table><thead><tr>{header}</tr></thead><tbody>\n"
        + "\n".join(rows)
        + f"\n</tbody></table>\n<script>{_HTML_SCRIPT}</script>\n</body></html>\n"
    )


def render_timeline(
    report: JobReport, *, format: Literal["svg", "html"] = "svg"
) -> str:
    """Draw a job as a Gantt chart: one row per step, in declared order.

    Queued, running and stopping spans have different fills (running is
    coloured by the conclusion); control steps end in a diamond linked to the
    steps they completed; skipped steps are named but have no bar. The time
    axis is relative to the job start. ``"html"`` wraps the SVG in a
    self-contained page (no external resources) with hover details and a
    table of the steps.

    Args:
        report: The job's report, for example from
            :func:`~trio_steps.load_trace`.
        format: ``"svg"`` or ``"html"``.

    Returns:
        The SVG document or HTML page: text that encodes as UTF-8 (a lone
        surrogate in a name is written as its escape, ``\\ud800``).

    Raises:
        ValueError: ``format`` is neither ``"svg"`` nor ``"html"``.
    """
    if format not in ("svg", "html"):
        raise ValueError(f"format must be 'svg' or 'html', not {format!r}")
    layout = _Layout(report)
    svg = "\n".join(_svg(report, layout))
    if format == "svg":
        picture = '<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n"
    else:
        picture = _html(report, layout, svg)
    # A lone surrogate (fromJSON('"\\ud800"') in a step name) is no character
    # XML or UTF-8 allows: it is shown as its escape, as the printer does.
    return picture.encode("utf-8", "backslashreplace").decode("utf-8")


public(render_timeline)
