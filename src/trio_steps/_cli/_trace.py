"""The ``timeline`` and ``stats`` subcommands of ``trio-steps``.

Imports stay light here: the trace, timeline and statistics modules load
only when a subcommand runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .._results import JobReport
    from .._workflows import WorkflowReport

__all__ = ["register"]

#: Exit status for a trace file that cannot be read.
EXIT_BAD_TRACE: Final = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``timeline`` and ``stats`` subcommands.

    Each subcommand stores its handler as the ``handler`` default: call
    ``args.handler(args)``; it returns the exit status (0, or 2 when the
    trace file cannot be read, with the reason on stderr).

    Args:
        subparsers: What ``ArgumentParser.add_subparsers()`` returned.
    """
    timeline = subparsers.add_parser(
        "timeline",
        help="draw a trace as a Gantt chart (SVG or self-contained HTML)",
        description=(
            "Draw a trace file (.jsonl or .json, from `trio-steps run --trace` or "
            "trio_steps.write_trace) as a timeline: one row per step, queued, "
            "running and stopping spans, control steps linked to the steps they "
            "completed."
        ),
    )
    timeline.add_argument("trace", type=Path, help="the trace file")
    timeline.add_argument(
        "-o",
        "--output",
        default="-",
        help="where to write (.svg or .html; default: SVG on standard output)",
    )
    timeline.add_argument(
        "--format",
        choices=("svg", "html"),
        default=None,
        help="the picture format (default: from the output suffix, else svg)",
    )
    timeline.set_defaults(handler=run_timeline)

    stats = subparsers.add_parser(
        "stats",
        help="print makespan, critical path, queueing and slot use of a trace",
        description=(
            "Print the concurrency statistics of a trace file: makespan, the "
            "critical path, time each background step spent queued, slot usage "
            "over time and peak concurrency."
        ),
    )
    stats.add_argument("trace", type=Path, help="the trace file")
    stats.add_argument(
        "--json", action="store_true", help="print the statistics as JSON instead"
    )
    stats.set_defaults(handler=run_stats)


def _load(path: Path) -> JobReport | None:
    from .._trace._json import TraceError
    from .._trace._load import load_trace

    try:
        return load_trace(path)
    except TraceError as error:
        print(f"trio-steps: {error}", file=sys.stderr)
    except OSError as error:
        print(f"trio-steps: {path}: cannot read: {error.strerror}", file=sys.stderr)
    return None


def _load_workflow(path: Path) -> WorkflowReport | None:
    """A workflow trace (rules §15), or ``None`` after printing why not."""
    from .._trace._json import TraceError
    from .._trace._workflow import load_workflow_trace

    try:
        return load_workflow_trace(path)
    except TraceError as error:
        print(f"trio-steps: {error}", file=sys.stderr)
    except OSError as error:
        print(f"trio-steps: {path}: cannot read: {error.strerror}", file=sys.stderr)
    return None


def _is_workflow(path: Path) -> bool:
    from .._trace._workflow import is_workflow_trace

    return is_workflow_trace(path)


def run_timeline(args: argparse.Namespace) -> int:
    """Handle ``trio-steps timeline TRACE [-o OUT] [--format svg|html]``.

    Args:
        args: The parsed arguments.

    Returns:
        0 when the picture was written, 2 when the trace (or the output)
        could not be handled.
    """
    from .._trace._timeline import render_timeline

    output = str(args.output)
    fmt = args.format
    if fmt is None:
        suffix = Path(output).suffix.lower()
        if output != "-" and suffix not in (".svg", ".html", ".htm"):
            print(
                f"trio-steps: {output}: cannot tell the picture format from the "
                "suffix; use .svg or .html, or --format",
                file=sys.stderr,
            )
            return EXIT_BAD_TRACE
        fmt = "html" if suffix in (".html", ".htm") else "svg"
    if _is_workflow(args.trace):
        from .._trace._workflow import render_workflow_timeline

        workflow = _load_workflow(args.trace)
        if workflow is None:
            return EXIT_BAD_TRACE
        picture = render_workflow_timeline(workflow, format=fmt)
    else:
        report = _load(args.trace)
        if report is None:
            return EXIT_BAD_TRACE
        picture = render_timeline(report, format=fmt)
    if output == "-":
        sys.stdout.write(picture)
        return 0
    try:
        Path(output).write_text(picture, encoding="utf-8")
    except OSError as error:
        print(f"trio-steps: {output}: cannot write: {error.strerror}", file=sys.stderr)
        return EXIT_BAD_TRACE
    return 0


def run_stats(args: argparse.Namespace) -> int:
    """Handle ``trio-steps stats TRACE [--json]``.

    Args:
        args: The parsed arguments.

    Returns:
        0 when the statistics were printed, 2 when the trace could not be read.
    """
    from .._trace._stats import format_statistics, job_statistics, statistics_to_json

    if _is_workflow(args.trace):
        from .._trace._workflow import (
            format_workflow_statistics,
            workflow_statistics,
            workflow_statistics_to_json,
        )

        workflow = _load_workflow(args.trace)
        if workflow is None:
            return EXIT_BAD_TRACE
        totals = workflow_statistics(workflow)
        if args.json:
            import json

            sys.stdout.write(
                json.dumps(workflow_statistics_to_json(totals), indent=2) + "\n"
            )
        else:
            sys.stdout.write(format_workflow_statistics(workflow, totals))
        return 0
    report = _load(args.trace)
    if report is None:
        return EXIT_BAD_TRACE
    stats = job_statistics(report)
    if args.json:
        import json

        sys.stdout.write(json.dumps(statistics_to_json(stats), indent=2) + "\n")
    else:
        sys.stdout.write(format_statistics(report, stats))
    return 0
