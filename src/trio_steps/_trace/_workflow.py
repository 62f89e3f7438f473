"""Traces, timelines and statistics of whole workflows (rules §15, R15.10).

A workflow trace holds every job of a :class:`~trio_steps.WorkflowReport`
in one file:

* ``.json``: Chrome trace events in which each job is a process (its own
  track group in Perfetto), all on one time axis from the workflow's start;
  the jobs' trace content is embedded under ``trio_steps_workflow``.
* ``.jsonl``: a header line ``{"trio_steps_workflow": {…}}``, then one line
  per job with its report and its job trace (header, events, report).

:func:`load_workflow_trace` reads both back; job traces (one job) are still
read by :func:`~trio_steps.load_trace`, which refuses a workflow trace with
a message that says so.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from typing import Final, Literal

import attrs

from .._face import public
from .._results import CaseInsensitiveMapping, JobReport
from .._workflows import WorkflowJobReport, WorkflowReport
from ._chrome import chrome_trace
from ._json import (
    TRACE_VERSION,
    TraceError,
    _dumps,
    _Invalid,
    _loads,
    _object,
    _opt_number,
    _result,
    _str,
    _str_map,
    check_header,
    event_from_json,
    event_to_json,
    header_to_json,
    job_metadata,
    report_from_json,
    report_to_json,
)
from ._load import MAX_TRACE_BYTES
from ._stats import JobStatistics, job_statistics

__all__ = [
    "WORKFLOW_KEY",
    "WorkflowStatistics",
    "format_workflow_statistics",
    "load_workflow_trace",
    "render_workflow_timeline",
    "workflow_statistics",
    "write_workflow_trace",
]

#: The key under which a workflow trace carries its content.
WORKFLOW_KEY: Final = "trio_steps_workflow"
#: Process ids of job ``n`` (0-based) start at ``(n + 1) * _PID_STRIDE``.
_PID_STRIDE: Final = 1000


def _origin(report: WorkflowReport) -> float:
    times = [
        t
        for job in report.jobs.values()
        for t in (job.queued_at, job.started_at)
        if t is not None
    ]
    return min(times, default=0.0)


def _job_head(job: WorkflowJobReport) -> dict[str, object]:
    return {
        "key": job.key,
        "id": job.id,
        "name": job.name,
        "matrix": dict(job.matrix),
        "needs": list(job.needs),
        "outcome": job.outcome.name,
        "result": job.result.name,
        "outputs": dict(job.outputs),
        "runs_on": job.runs_on if isinstance(job.runs_on, str | list) else None,
        "reason": job.reason,
        "queued_at": job.queued_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def _job_trace(report: JobReport) -> dict[str, object]:
    return {
        "header": header_to_json(job_metadata(report.events)),
        "events": [event_to_json(event) for event in report.events],
        "report": report_to_json(report),
    }


def _workflow_head(report: WorkflowReport) -> dict[str, object]:
    return {
        "format": "trio-steps-workflow-trace",
        "version": TRACE_VERSION,
        "result": report.result.name,
        "cancelled": report.cancelled,
    }


def workflow_chrome_trace(report: WorkflowReport) -> dict[str, object]:
    """The Chrome trace object of a workflow: one process per job (R15.10)."""
    origin = _origin(report)
    events: list[dict[str, object]] = []
    jobs: list[dict[str, object]] = []
    for index, job in enumerate(report.jobs.values()):
        head = _job_head(job)
        head["trace"] = None
        jobs.append(head)
        if job.report is None:
            continue
        head["trace"] = _job_trace(job.report)
        base = (index + 1) * _PID_STRIDE
        job_events = chrome_trace(job.report, origin=origin)["traceEvents"]
        assert isinstance(job_events, list)
        for entry in job_events:
            assert isinstance(entry, dict)
            entry = dict(entry)
            if isinstance(entry.get("pid"), int):
                entry["pid"] = base + int(entry["pid"])
            if entry.get("name") == "process_name":
                name = str(entry["args"]["name"])
                if not name.startswith("job: "):  # a parallel group's process
                    name = f"{job.name}: {name}"
                entry["args"] = {"name": name}
            if entry.get("name") == "process_sort_index":
                entry["args"] = {"sort_index": entry["pid"]}
            if entry.get("s") == "g":  # a job event: on its job's track
                entry["s"] = "p"
            events.append(entry)
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "format": "trio-steps-workflow-trace",
            "result": report.result.name,
        },
        WORKFLOW_KEY: {**_workflow_head(report), "jobs": jobs},
    }


def _jsonl_lines(report: WorkflowReport) -> Iterator[str]:
    yield _dumps({WORKFLOW_KEY: _workflow_head(report)})
    for job in report.jobs.values():
        head = _job_head(job)
        head["trace"] = None if job.report is None else _job_trace(job.report)
        yield _dumps({"job": head})


def write_workflow_trace(report: WorkflowReport, path: str | os.PathLike[str]) -> None:
    """Write a workflow's trace: ``.json`` (Chrome, Perfetto) or ``.jsonl``.

    Raises:
        ValueError: The suffix is neither ``.json`` nor ``.jsonl``.
        OSError: The file cannot be written.
    """
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix == ".jsonl":
        text = "".join(line + "\n" for line in _jsonl_lines(report))
    elif suffix == ".json":
        trace = workflow_chrome_trace(report)
        events = trace["traceEvents"]
        assert isinstance(events, list)
        # One trace event per line, as the one-job writer does.
        text = (
            '{"traceEvents":[\n'
            + ",\n".join(_dumps(event) for event in events)
            + "],"
            + "".join(
                f"\n{_dumps(key)}:{_dumps(value)},"
                for key, value in trace.items()
                if key not in ("traceEvents", WORKFLOW_KEY)
            )
            + f"\n{_dumps(WORKFLOW_KEY)}:{_dumps(trace[WORKFLOW_KEY])}}}\n"
        )
    else:
        raise ValueError(
            f"{os.fspath(path)}: cannot tell the trace format from the suffix "
            f"{suffix or '(none)'!r}; use .jsonl (JSON Lines) or .json (Chrome "
            "trace events)"
        )
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)


# --------------------------------------------------------------------------
# Reading


def is_workflow_trace(path: str | os.PathLike[str]) -> bool:
    """Whether a file starts like a workflow trace (cheap: reads 64 KiB)."""
    try:
        with open(path, "rb") as file:
            head = file.read(65536)
    except OSError:
        return False
    return WORKFLOW_KEY.encode() in head[:200] or (
        b'"traceEvents"' in head[:50] and WORKFLOW_KEY.encode() in _tail(path)
    )


def _tail(path: str | os.PathLike[str]) -> bytes:
    with open(path, "rb") as file:
        file.seek(0, os.SEEK_END)
        size = file.tell()
        file.seek(max(0, size - 4 * 1024 * 1024))
        data = file.read()
    return data[data.rfind(b"\n", 0, len(data) - 2) :] if data else b""


def _decode_job(value: object, where: str) -> WorkflowJobReport:
    head = _object(value, where)
    trace = head.get("trace")
    report: JobReport | None = None
    if trace is not None:
        embedded = _object(trace, f"{where}.trace")
        check_header(embedded.get("header"))
        raw = embedded.get("events")
        if not isinstance(raw, list):
            raise _Invalid(f"{where}.trace.events must be a list")
        events = [event_from_json(item) for item in raw]
        report = report_from_json(embedded.get("report"), events)
    matrix = _object(head.get("matrix", {}), f"{where}.matrix")
    needs = head.get("needs", [])
    if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
        raise _Invalid(f"{where}.needs must be a list of job ids")
    outcome = _result(head.get("outcome"), f"{where}.outcome", optional=False)
    result = _result(head.get("result"), f"{where}.result", optional=False)
    assert outcome is not None and result is not None
    reason = head.get("reason")
    runs_on = head.get("runs_on")
    return WorkflowJobReport(
        key=_str(head.get("key"), f"{where}.key"),
        id=_str(head.get("id"), f"{where}.id"),
        name=_str(head.get("name"), f"{where}.name"),
        matrix=matrix,
        needs=tuple(needs),
        outcome=outcome,
        result=result,
        outputs=_str_map(head.get("outputs", {}), f"{where}.outputs"),
        report=report,
        runs_on=runs_on,
        reason=reason if isinstance(reason, str) else None,
        queued_at=_opt_number(head.get("queued_at"), f"{where}.queued_at"),
        started_at=_opt_number(head.get("started_at"), f"{where}.started_at"),
        finished_at=_opt_number(head.get("finished_at"), f"{where}.finished_at"),
    )


def _report(
    head: Mapping[str, object], jobs: list[WorkflowJobReport]
) -> WorkflowReport:
    if head.get("format") != "trio-steps-workflow-trace":
        raise _Invalid("not a trio-steps workflow trace")
    version = head.get("version")
    if version != TRACE_VERSION:
        raise _Invalid(f"unsupported workflow trace version {version!r}")
    result = _result(head.get("result"), "result", optional=False)
    assert result is not None
    return WorkflowReport(
        result=result,
        jobs=CaseInsensitiveMapping({job.key: job for job in jobs}),
        cancelled=head.get("cancelled") is True,
    )


def load_workflow_trace(path: str | os.PathLike[str]) -> WorkflowReport:
    """Read a trace written by :func:`write_workflow_trace` (either format).

    Raises:
        TraceError: The file is not a workflow trace, or is damaged or
            larger than the trace limit.
        OSError: The file cannot be read.
    """
    with open(path, "rb") as file:
        data = file.read(MAX_TRACE_BYTES + 1)
    if len(data) > MAX_TRACE_BYTES:
        raise TraceError(path, f"larger than {MAX_TRACE_BYTES:,} bytes, the limit")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise TraceError(path, "not UTF-8 text: not a trace file") from None
    try:
        first = text.lstrip().split("\n", 1)[0]
        if first.startswith("{" + json.dumps(WORKFLOW_KEY)):
            lines = [line for line in text.split("\n") if line.strip()]
            head = _object(_object(_loads(lines[0]), "header")[WORKFLOW_KEY], "header")
            jobs = [
                _decode_job(_object(_loads(line), f"line {n}").get("job"), f"line {n}")
                for n, line in enumerate(lines[1:], start=2)
            ]
            return _report(head, jobs)
        value = _object(_loads(text), "trace")
        if WORKFLOW_KEY not in value:
            raise _Invalid(f"no {WORKFLOW_KEY!r} key: not a workflow trace")
        embedded = _object(value[WORKFLOW_KEY], WORKFLOW_KEY)
        raw = embedded.get("jobs")
        if not isinstance(raw, list):
            raise _Invalid(f"{WORKFLOW_KEY}.jobs must be a list")
        return _report(
            embedded,
            [
                _decode_job(item, f"{WORKFLOW_KEY}.jobs[{n}]")
                for n, item in enumerate(raw)
            ],
        )
    except json.JSONDecodeError as error:
        raise TraceError(path, f"not JSON: {error.msg}", line=error.lineno) from None
    except (_Invalid, KeyError, IndexError) as error:
        raise TraceError(path, str(error)) from None


# --------------------------------------------------------------------------
# Statistics


@attrs.frozen(kw_only=True)
class WorkflowStatistics:
    """How a workflow used its time (R15.10).

    Attributes:
        start: When the first job was queued.
        end: When the last job ended.
        makespan: ``end - start`` in seconds.
        critical_path: Job keys, earliest first: the chain of jobs whose
            ends decided the workflow's end (each the last-ending job its
            successor needed, or the job whose end freed its slot).
        jobs: Key → :class:`JobStatistics` of each job that ran.
        peak_jobs: The most jobs that ran at once.
    """

    start: float
    end: float
    makespan: float
    critical_path: tuple[str, ...]
    jobs: Mapping[str, JobStatistics]
    peak_jobs: int


def workflow_statistics(report: WorkflowReport) -> WorkflowStatistics:
    """Compute a workflow's statistics and each job's (R15.10)."""
    jobs = list(report.jobs.values())
    ended = [j for j in jobs if j.finished_at is not None]
    start = _origin(report)
    end = max(
        (j.finished_at for j in ended if j.finished_at is not None), default=start
    )
    per_job = {j.key: job_statistics(j.report) for j in jobs if j.report is not None}
    path: list[str] = []
    current = max(
        ended, key=lambda j: (j.finished_at or 0.0, j.started_at or 0.0), default=None
    )
    by_id: dict[str, list[WorkflowJobReport]] = {}
    for job in jobs:
        by_id.setdefault(job.id, []).append(job)
    while current is not None and current.key not in path:
        path.append(current.key)
        began = (
            current.started_at
            if current.started_at is not None
            else current.finished_at
        )
        needed = [
            j
            for need in current.needs
            for j in by_id.get(need, [])
            if j.finished_at is not None
        ]
        before = [j for j in needed if began is None or j.finished_at <= began]  # type: ignore[operator]
        if before:
            current = max(before, key=lambda j: j.finished_at or 0.0)
            continue
        # No need ended at its start: a slot it waited for, if any.
        freed = [
            j
            for j in ended
            if j is not current
            and j.started_at is not None
            and j.finished_at == began
            and current.queued_at is not None
            and began is not None
            and current.queued_at < began
        ]
        current = freed[0] if freed else None
    changes: list[tuple[float, int]] = []
    for job in jobs:
        if job.started_at is not None and job.finished_at is not None:
            changes += [(job.started_at, 1), (job.finished_at, -1)]
    running = peak = 0
    for _, delta in sorted(changes, key=lambda c: (c[0], c[1])):
        running += delta
        peak = max(peak, running)
    return WorkflowStatistics(
        start=start,
        end=end,
        makespan=end - start,
        critical_path=tuple(reversed(path)),
        jobs=per_job,
        peak_jobs=peak,
    )


def format_workflow_statistics(
    report: WorkflowReport, stats: WorkflowStatistics | None = None
) -> str:
    """The text ``trio-steps stats`` prints for a workflow trace."""
    from ._stats import format_statistics

    stats = stats or workflow_statistics(report)
    lines = [
        f"workflow: {report.result.github}",
        f"makespan: {stats.makespan:.3f}s",
        f"peak jobs at once: {stats.peak_jobs}",
        "critical path (jobs): "
        + (
            " -> ".join(report.jobs[k].name for k in stats.critical_path)
            if stats.critical_path
            else "-"
        ),
        "",
    ]
    for job in report.jobs.values():
        took = (
            "-"
            if job.started_at is None or job.finished_at is None
            else f"{job.finished_at - job.started_at:.3f}s"
        )
        lines.append(f"job {job.name}: {job.result.github}, {took}")
        if job.report is not None:
            body = format_statistics(job.report, stats.jobs[job.key])
            lines += ["  " + line if line else line for line in body.splitlines()]
        lines.append("")
    return "\n".join(lines)


def workflow_statistics_to_json(stats: WorkflowStatistics) -> dict[str, object]:
    """The statistics as JSON-ready values (``stats --json``)."""
    from ._stats import statistics_to_json

    return {
        "start": stats.start,
        "end": stats.end,
        "makespan": stats.makespan,
        "critical_path": list(stats.critical_path),
        "peak_jobs": stats.peak_jobs,
        "jobs": {key: statistics_to_json(s) for key, s in stats.jobs.items()},
    }


# --------------------------------------------------------------------------
# Timeline


_FILLS: Final = {
    "success": "#2da44e",
    "failure": "#cf222e",
    "cancelled": "#bf8700",
    "skipped": "#8c959f",
}


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def render_workflow_timeline(
    report: WorkflowReport, *, format: Literal["svg", "html"] = "svg"
) -> str:
    """Draw a workflow as a Gantt chart: one lane per job (R15.10).

    Each lane shows the time a job was queued (light) and running (coloured
    by its result); a skipped job is named with no bar.
    """
    if format not in ("svg", "html"):
        raise ValueError(f"format must be 'svg' or 'html', not {format!r}")
    jobs = list(report.jobs.values())
    origin = _origin(report)
    end = max((j.finished_at or origin for j in jobs), default=origin)
    span = max(end - origin, 1e-9)
    label_width, width, row = 260.0, 720.0, 24.0
    height = row * (len(jobs) + 2)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_width + width + 20:.0f}" '
        f'height="{height:.0f}" font-family="sans-serif" font-size="12">'
    ]

    def x(time: float) -> float:
        return label_width + (time - origin) / span * width

    for n, job in enumerate(jobs):
        y = row * (n + 1)
        out.append(f'<text x="4" y="{y + 16:.1f}">{_escape(job.name[:40])}</text>')
        if job.queued_at is not None and job.started_at is not None:
            out.append(
                f'<rect x="{x(job.queued_at):.2f}" y="{y + 6:.1f}" '
                f'width="{max(x(job.started_at) - x(job.queued_at), 0):.2f}" '
                'height="10" fill="#d0d7de"><title>queued</title></rect>'
            )
        if job.started_at is not None and job.finished_at is not None:
            fill = _FILLS.get(job.result.github, "#57606a")
            took = job.finished_at - job.started_at
            out.append(
                f'<rect class="job" x="{x(job.started_at):.2f}" y="{y + 3:.1f}" '
                f'width="{max(x(job.finished_at) - x(job.started_at), 1):.2f}" '
                f'height="16" fill="{fill}"><title>{_escape(job.name)}: '
                f"{job.result.github}, {took:.3f}s</title></rect>"
            )
    out.append(
        f'<text x="{label_width:.0f}" y="{height - 4:.0f}">0s</text>'
        f'<text x="{label_width + width:.0f}" y="{height - 4:.0f}" '
        f'text-anchor="end">{span:.3f}s</text>'
    )
    out.append("</svg>")
    svg = "\n".join(out)
    if format == "svg":
        picture = '<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n"
    else:
        picture = (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
            f"<title>workflow: {report.result.github}</title></head><body>\n"
            + svg
            + "\n</body></html>\n"
        )
    return picture.encode("utf-8", "backslashreplace").decode("utf-8")


public(
    WorkflowStatistics,
    load_workflow_trace,
    render_workflow_timeline,
    workflow_statistics,
    write_workflow_trace,
)
