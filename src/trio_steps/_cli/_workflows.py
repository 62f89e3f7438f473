"""``trio-steps run`` for a whole workflow: every job, prefixed lines (§15).

Each job gets a :class:`_JobPrinter` (the one-job printer of
``_printer.py``) whose lines carry the job's name before the step's, in a
colour per job; one status line lists the running jobs and the background
steps running in them; at the end each job's step table is printed, then
one table of the jobs and the workflow's verdict.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Final

from ._printer import _CONCLUSION_STYLES, _PALETTE, _format_duration, _Printer

if TYPE_CHECKING:
    import argparse
    from typing import IO

    from .._events import Event
    from .._job import Job
    from .._workflow._loader import LoadedWorkflow
    from .._workflows import Workflow, WorkflowJobReport, WorkflowReport

__all__ = ["run_workflow_command", "runs_as_one_job"]

_VERDICTS: Final = {
    "success": "Workflow succeeded",
    "failure": "Workflow failed",
    "cancelled": "Workflow cancelled",
}


def runs_as_one_job(workflow: Workflow) -> bool:
    """Whether the chosen jobs are one plain job, printed as before §15."""
    if len(workflow.jobs) != 1:
        return False
    only = workflow.jobs[0]
    return (
        only.matrix is None
        and only.condition is None
        and only.continue_on_error is False
        and only.timeout_minutes is None
    )


class _JobPrinter(_Printer):
    """One job's printer: its lines go through the workflow's printer."""

    def __init__(self, job: Job, owner: _WorkflowPrinter, key: str) -> None:
        super().__init__(job, color=owner.color, stream=owner.stream)
        self.owner = owner
        self.key = key
        self._console = owner.console

    def line(
        self, step: str, text: str, *, dim: bool, result: str | None = None
    ) -> None:
        label = self.mask(self.labels.get(step, step))
        self.owner.line(
            self.key,
            f"[{label}]",
            self.mask(text),
            dim=dim,
            step=step,
            printer=self,
            result=result,
        )

    def notice(self, text: str) -> None:
        self.owner.line(
            self.key, "", self.mask(text), dim=False, step=None, printer=self
        )

    def refresh_status(self) -> None:
        self.owner.refresh_status()


class _WorkflowPrinter:
    """Prints every job's events, the status line and the summaries."""

    def __init__(self, workflow: Workflow, *, color: bool, stream: IO[str]) -> None:
        self.workflow = workflow
        self.color = color
        self.stream = stream
        self.console: object = None
        self._live: object = None
        self.jobs: dict[str, _JobPrinter] = {}
        self.names: dict[str, str] = {}
        self.running: dict[str, None] = {}
        self.styles: dict[str, str] = {}
        self.masks: list[object] = []

    def start(self) -> None:
        if not self.color:
            return
        try:
            from rich.console import Console
            from rich.live import Live
        except ImportError:  # pragma: no cover - rich is a dependency
            return
        console = Console(file=self.stream, highlight=False)
        self.console = console
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

    def style_of(self, key: str) -> str:
        style = self.styles.get(key)
        if style is None:
            style = _PALETTE[len(self.styles) % len(_PALETTE)]
            self.styles[key] = style
        return style

    # -- events ------------------------------------------------------------

    def on_event(self, key: str, event: Event, job: Job, mask: object) -> None:
        kind = str(event.kind)
        printer = self.jobs.get(key)
        if printer is None:
            printer = _JobPrinter(job, self, key)
            if callable(mask):
                printer.mask = mask
            self.jobs[key] = printer
        if kind == "job-started":
            name = str(event.data.get("name") or key)
            self.names[key] = printer.mask(name)
            self.running[key] = None
            self.line(key, "", "job started", dim=True, step=None, printer=printer)
        elif kind == "job-finished":
            self.running.pop(key, None)
        printer.on_event(event)

    def job_ended(self, job: WorkflowJobReport) -> None:
        """A job ended: say so (skipped and never-started jobs included)."""
        self.running.pop(job.key, None)
        self.names.setdefault(job.key, job.name)
        text = f"job finished: {job.result.github}"
        if job.outcome is not job.result:
            text += f" (outcome {job.outcome.github})"
        if job.reason:
            text += f" ({job.reason})"
        printer = self.jobs.get(job.key)
        masked = printer.mask(text) if printer is not None else text
        self.line(
            job.key,
            "",
            masked,
            dim=False,
            step=None,
            printer=None,
            result=job.result.github,
        )
        self.refresh_status()

    def line(
        self,
        key: str,
        label: str,
        text: str,
        *,
        dim: bool,
        step: str | None,
        printer: _JobPrinter | None,
        result: str | None = None,
    ) -> None:
        job = self.names.get(key, key)
        if self.console is None:
            middle = f"{label} " if label else ""
            self.stream.write(f"[{job}] {middle}{text}\n")
            self.stream.flush()
            return
        from rich.text import Text

        body_style = "dim" if dim else ""
        if result is not None:
            body_style = _CONCLUSION_STYLES.get(result.split(" ")[0], "")
        parts: list[tuple[str, str]] = [(f"[{job}] ", f"bold {self.style_of(key)}")]
        if label and printer is not None and step is not None:
            parts.append((f"{label} ", printer.style_of(step)))
        parts.append((text, body_style))
        self.console.print(Text.assemble(*parts), soft_wrap=True)  # type: ignore[attr-defined]

    def notice(self, text: str) -> None:
        if self.console is None:
            print(f"trio-steps: {text}", file=sys.stderr, flush=True)
            return
        from rich.text import Text

        self.console.print(Text(f"trio-steps: {text}", style="bold yellow"))  # type: ignore[attr-defined]

    def refresh_status(self) -> None:
        live = self._live
        if live is None:
            return
        from rich.text import Text

        status = Text()
        for n, key in enumerate(self.running):
            if n:
                status.append("  ")
            status.append(self.names.get(key, key), style=f"bold {self.style_of(key)}")
            printer = self.jobs.get(key)
            if printer is not None and printer.running:
                status.append(": ")
                status.append(
                    ", ".join(
                        printer.mask(printer.labels.get(s, s)) for s in printer.running
                    )
                )
        live.update(status, refresh=True)  # type: ignore[attr-defined]

    # -- the end -------------------------------------------------------------

    def summary(self, report: WorkflowReport) -> None:
        for key, job in report.jobs.items():
            printer = self.jobs.get(key)
            if printer is None or job.report is None:
                continue
            self._write(f"\n{self.names.get(key, key)}:")
            printer.summary(job.report)
        rows = []
        for key, job in report.jobs.items():
            took = (
                None
                if job.started_at is None or job.finished_at is None
                else job.finished_at - job.started_at
            )
            result = job.result.github
            if job.outcome is not job.result:
                result += f" (outcome {job.outcome.github})"
            printer = self.jobs.get(key)
            reason = job.reason or ""
            if printer is not None:
                reason = printer.mask(reason)
            rows.append(
                (self.names.get(key, job.name), result, _format_duration(took), reason)
            )
        headers = ("Job", "Result", "Duration", "Reason")
        widths = [
            max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)
        ]
        self._write("")
        for row in (headers, *rows):
            self._write(
                "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            )
        self._write(
            _VERDICTS.get(report.result.github, f"Workflow {report.result.github}")
        )

    def _write(self, text: str) -> None:
        if self.console is None:
            self.stream.write(text + "\n")
            self.stream.flush()
            return
        from rich.text import Text

        self.console.print(Text(text))  # type: ignore[attr-defined]


def configure(
    workflow: Workflow, loaded: LoadedWorkflow, args: argparse.Namespace
) -> Workflow:
    """Apply the command-line settings to every job (as ``_configure`` does)."""
    import attrs

    from .._engine._github import github_context
    from .._workflows import Workflow as WorkflowClass

    base = github_context(event_name=args.event, workflow=loaded.name or loaded.file)
    jobs = []
    for wjob in workflow.jobs:
        changes: dict[str, object] = {
            "github": {**base, "job": wjob.id},
            "secrets": dict(args.secret),
            "vars": dict(args.var),
        }
        if args.max_background is not None:
            changes["max_background"] = args.max_background
        if args.interrupt_grace is not None:
            changes["interrupt_grace"] = args.interrupt_grace
        if args.terminate_grace is not None:
            changes["terminate_grace"] = args.terminate_grace
        jobs.append(attrs.evolve(wjob, job=wjob.job.evolve(**changes)))
    return WorkflowClass(jobs, name=workflow.name)


def run_workflow_command(
    workflow: Workflow,
    args: argparse.Namespace,
    *,
    use_color: bool,
    stopping_signals: list[int],
) -> tuple[WorkflowReport, bool]:
    """Run every job of ``workflow`` and print (R15.11).

    Args:
        workflow: The jobs to run, configured.
        args: The command line.
        use_color: Colours and a status line.
        stopping_signals: Signals (besides ``SIGINT``) that hard-stop.

    Returns:
        The report, and whether a signal interrupted the run.
    """
    import trio

    from .._engine._workflow_runner import WorkflowRunner

    printer = _WorkflowPrinter(workflow, color=use_color, stream=sys.stdout)
    outcome: dict[str, object] = {}

    async def run() -> None:
        import signal

        runner: WorkflowRunner

        def on_event(key: str, event: Event) -> None:
            job_runner = runner.job_runner(key)
            assert job_runner is not None  # events come from a running job
            printer.on_event(key, event, job_runner.job, job_runner.mask)

        runner = WorkflowRunner(
            workflow,
            max_jobs=args.max_jobs,
            on_event=on_event,
            on_job=printer.job_ended,
            log_dir=args.log_dir,
            semantics=args.semantics,
        )
        hard_stop = trio.CancelScope()
        signals = [signal.SIGINT, *stopping_signals]
        with trio.open_signal_receiver(*signals) as received:

            async def watch() -> None:
                count = 0
                async for signum in received:
                    count += 1
                    outcome["interrupted"] = True
                    if count == 1 and signum == signal.SIGINT:
                        printer.notice(
                            "Cancelling the workflow (always() steps and jobs "
                            "still run); press Ctrl-C again to stop every step now"
                        )
                        runner.cancel()
                    else:
                        printer.notice("Stopping every step now")
                        hard_stop.cancel()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(watch)
                printer.start()
                try:
                    with hard_stop:
                        outcome["report"] = await runner.run()
                    if "report" not in outcome:  # hard stop (R6.2)
                        outcome["report"] = runner.report
                finally:
                    printer.stop()
                    nursery.cancel_scope.cancel()

    trio.run(run)
    report: WorkflowReport = outcome["report"]  # type: ignore[assignment]
    printer.summary(report)
    if args.trace is not None:
        from .._trace._workflow import write_workflow_trace

        try:
            write_workflow_trace(report, args.trace)
        except (OSError, ValueError) as exc:
            print(f"trio-steps: could not write the trace: {exc}", file=sys.stderr)
    return report, bool(outcome.get("interrupted"))
