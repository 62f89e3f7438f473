"""What ``trio-steps run`` prints while a job runs and when it ends.

On a terminal each concurrent step gets its own colour and a status line
lists the background steps (``rich``); piped, lines are plain and stable.
Every name and line is masked first (``docs/source/cli.rst``, "What is
masked"); the summary table and the closing line follow the job.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from .._steps import StepKind

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO, Final

    from .._events import Event
    from .._job import Job
    from .._results import JobReport, StepReport

# Colours for step prefixes; concurrent steps get different ones.
_PALETTE: Final = (
    "cyan",
    "magenta",
    "green",
    "yellow",
    "blue",
    "bright_red",
    "bright_cyan",
    "bright_magenta",
    "bright_green",
    "bright_blue",
)
_CONCLUSION_STYLES: Final = {
    "success": "green",
    "failure": "bold red",
    "cancelled": "yellow",
    "skipped": "dim",
}


# --------------------------------------------------------------------------
# Live output


def _format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:04.1f}s"


def _shorten(text: str, width: int = 32) -> str:
    first = text.strip().splitlines()[0] if text.strip() else text
    if len(first) <= width and first == text:
        return text
    return first[: width - 1].rstrip() + "…"


def _kind(step: StepReport) -> str:
    if step.kind == StepKind.RUN:
        if step.group is not None:
            return "parallel"
        return "background" if step.background else "run"
    return step.kind


def _conclusion(step: StepReport) -> str:
    if step.never_completed:
        return "never completed (GitHub's runner)"
    if step.conclusion is None:
        return "unfinished"
    text = step.conclusion.github
    if step.outcome is not None and step.outcome is not step.conclusion:
        text += f" (outcome {step.outcome.github})"
    if step.timed_out:
        text += ", timed out"
    if step.abandoned:
        text += ", abandoned"
    return text


class _Printer:
    """Prints a job's events as they happen, and the summary at the end.

    On a colour terminal (rich): each step's lines get a prefix in a colour
    of their own and a status line shows running and queued background
    steps. Otherwise: plain, stable lines, one per event worth showing.
    """

    def __init__(self, job: Job, *, color: bool, stream: IO[str]) -> None:
        from .._masking import Masker

        self.stream = stream
        self.color = color
        #: Masks what is printed: the job's secrets, then (once the job
        #: runs) :meth:`JobRunner.mask`, which knows ``::add-mask::`` values.
        self.mask: Callable[[str], str] = Masker(job.secrets.values()).mask
        self.labels: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        for planned in job.plan:
            generated = planned.id.startswith("__")
            # Masked before it is shortened: a cut secret is not masked.
            label = _shorten(self.mask(planned.name)) if generated else planned.id
            self.labels[planned.id] = label
            self.names[planned.id] = planned.name
            self.kinds[planned.id] = planned.kind
        self.styles: dict[str, str] = {}
        self.running: dict[str, None] = {}
        self.queued: dict[str, None] = {}
        self.background: set[str] = {p.id for p in job.plan if p.background}
        self.started: dict[str, float] = {}
        self.skipped: set[str] = set()
        #: Gives a step's current display name (``${{ }}`` in names is
        #: expanded when the step's turn comes).
        self.name_of: Callable[[str], str | None] = lambda step: None
        self._console: object = None
        self._live: object = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        if not self.color:
            return
        try:
            from rich.console import Console
            from rich.live import Live
        except ImportError:  # rich is optional: plain output without it
            return

        console = Console(file=self.stream, highlight=False)
        self._console = console
        if console.is_terminal:
            live = Live(
                "",
                console=console,
                auto_refresh=False,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            live.start()
            self._live = live

    def stop(self) -> None:
        live = self._live
        if live is not None:
            live.stop()  # type: ignore[attr-defined]
            self._live = None

    # -- events ------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        kind = str(event.kind)
        step = event.step_id
        if step is None:
            if kind == "job-cancel-requested":
                reason = event.data.get("reason", "")
                self.notice(
                    f"The job is being cancelled ({reason})"
                    if reason
                    else "The job is being cancelled"
                )
            return
        data = event.data
        if kind == "step-output":
            self.line(step, str(data.get("line", "")), dim=data.get("stream") == "log")
        elif kind == "step-launched":
            self.queued[step] = None
            self.line(step, "launched in the background", dim=True)
        elif kind == "step-started":
            self.queued.pop(step, None)
            if step in self.background:
                self.running[step] = None
            self.started[step] = event.time
            name = self.names.get(step, step)
            if "${{" in name:
                name = self.name_of(step) or name
            name = self.mask(name)
            if step.startswith("__"):
                self.labels[step] = _shorten(name)
            label = self.labels.get(step, step)
            self.line(
                step, "started" if name == label else f"started: {name}", dim=True
            )
        elif kind == "step-skipped":
            self.queued.pop(step, None)
            self.skipped.add(step)
            self.line(step, "skipped", dim=True)
        elif kind == "step-finished" and step not in self.skipped:
            self.queued.pop(step, None)
            self.running.pop(step, None)
            conclusion = str(data.get("conclusion", "")).lower()
            outcome = str(data.get("outcome", "")).lower()
            text = _RESULT_WORDS.get(conclusion, conclusion)
            if outcome != conclusion:
                text += f" (outcome {_RESULT_WORDS.get(outcome, outcome)})"
            started = self.started.get(step)
            took = (
                ""
                if started is None
                else f" in {_format_duration(event.time - started)}"
            )
            self.line(step, f"finished: {text}{took}", dim=False, result=text)
        elif kind == "signal-sent":
            self.line(step, f"sent {data.get('signal', '')}", dim=True)
        elif kind == "cancel-requested":
            self.line(step, f"stopping ({data.get('reason', '')})", dim=True)
        self.refresh_status()

    def style_of(self, step: str) -> str:
        style = self.styles.get(step)
        if style is None:
            # The first colour no running step uses, so concurrent steps differ.
            used = {self.styles.get(s) for s in self.running}
            style = next(
                (c for c in _PALETTE if c not in used),
                _PALETTE[len(self.styles) % len(_PALETTE)],
            )
            self.styles[step] = style
        return style

    def line(
        self, step: str, text: str, *, dim: bool, result: str | None = None
    ) -> None:
        label = self.mask(self.labels.get(step, step))
        text = self.mask(text)
        if self._console is None:
            self.stream.write(f"[{label}] {text}\n")
            self.stream.flush()
            return
        from rich.text import Text

        body_style = "dim" if dim else ""
        if result is not None:
            body_style = _CONCLUSION_STYLES.get(result.split(" ")[0], "")
        rendered = Text.assemble(
            (f"[{label}] ", self.style_of(step)), (text, body_style)
        )
        self._console.print(rendered, soft_wrap=True)  # type: ignore[attr-defined]

    def notice(self, text: str) -> None:
        text = self.mask(text)
        if self._console is None:
            print(f"trio-steps: {text}", file=sys.stderr, flush=True)
            return
        from rich.text import Text

        self._console.print(Text(f"trio-steps: {text}", style="bold yellow"))  # type: ignore[attr-defined]

    def refresh_status(self) -> None:
        live = self._live
        if live is None:
            return
        from rich.text import Text

        status = Text()
        if self.running:
            status.append("running: ", style="bold")
            for n, step in enumerate(self.running):
                if n:
                    status.append(", ")
                status.append(
                    self.mask(self.labels.get(step, step)), style=self.style_of(step)
                )
        if self.queued:
            status.append("  queued: " if self.running else "queued: ", style="bold")
            status.append(
                self.mask(", ".join(self.labels.get(s, s) for s in self.queued))
            )
        live.update(status, refresh=True)  # type: ignore[attr-defined]

    # -- the end -------------------------------------------------------------

    def summary(self, report: JobReport) -> None:
        rows = []
        for step_id, step in report.steps.items():
            rows.append(
                (
                    _shorten(self.mask(step.name), 48),
                    "" if step_id.startswith("__") else step_id,
                    _kind(step),
                    _conclusion(step),
                    _format_duration(step.duration),
                )
            )
        verdict = {
            "success": "Job succeeded",
            "failure": "Job failed",
            "cancelled": "Job cancelled",
        }.get(report.result.github, f"Job {report.result.github}")
        headers = ("Step", "Id", "Kind", "Conclusion", "Duration")
        if self._console is None:
            widths = [
                max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)
            ]
            out = self.stream
            out.write("\n")
            for row in (headers, *rows):
                out.write(
                    "  ".join(
                        c.ljust(w) for c, w in zip(row, widths, strict=True)
                    ).rstrip()
                )
                out.write("\n")
            out.write(f"{verdict}\n")
            out.flush()
            return
        from rich.table import Table
        from rich.text import Text

        table = Table(show_edge=False, pad_edge=False)
        for header in headers:
            table.add_column(header, no_wrap=header != "Step")
        for row in rows:
            style = _CONCLUSION_STYLES.get(row[3].split(" ")[0].rstrip(","), "")
            cells = [Text(cell) for cell in row]
            cells[3].stylize(style)
            table.add_row(*cells)
        console = self._console
        console.print()  # type: ignore[attr-defined]
        console.print(table)  # type: ignore[attr-defined]
        style = _CONCLUSION_STYLES.get(report.result.github, "bold")
        console.print(Text(verdict, style=f"bold {style}"))  # type: ignore[attr-defined]


_RESULT_WORDS: Final = {
    "succeeded": "success",
    "succeeded_with_issues": "success",
    "failed": "failure",
    "canceled": "cancelled",
    "skipped": "skipped",
    "abandoned": "cancelled",
}
