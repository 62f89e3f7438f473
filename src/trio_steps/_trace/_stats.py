"""Concurrency statistics of a finished job: makespan, critical path, slots.

Everything here is computed from a :class:`JobReport` alone (its steps and
events), so it works the same on a live run and on a trace read back with
:func:`~trio_steps.load_trace`. Times are on the Trio clock the job ran on,
like the times of :class:`~trio_steps.StepReport`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from types import MappingProxyType

import attrs

from .._events import EventKind
from .._face import public
from .._results import JobReport, StepReport
from .._steps import CONTROL_KINDS, StepKind

__all__ = [
    "CriticalLink",
    "JobStatistics",
    "format_statistics",
    "job_statistics",
    "statistics_to_json",
]


@attrs.frozen(kw_only=True)
class CriticalLink:
    """One link of a job's critical path.

    Attributes:
        step_id: The step.
        start: When this step started to matter for the end time.
        end: When its part ended (the next link starts here or later).
        via: How the step's part began, given the link before it:
            ``"job-start"`` (at the start of the job), ``"sequence"`` (its turn
            in the main sequence came, or it was launched, when the previous
            link ended), ``"slot"`` (a queued background step got the slot the
            previous link released), ``"completion"`` (a control step finished
            waiting when its target, the previous link, finished), or
            ``"stop"`` (a ``cancel`` step, the previous link, asked it to stop).
    """

    step_id: str
    start: float
    end: float
    via: str

    @property
    def duration(self) -> float:
        """Seconds this link contributes (``end - start``)."""
        return self.end - self.start


def _frozen_map(value: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class JobStatistics:
    """How a job used its time and its background slots.

    Attributes:
        start: When the job started (its ``job-started`` event, else its first
            step).
        end: When the job finished (its ``job-finished`` event, else its last
            step).
        makespan: ``end - start`` in seconds.
        critical_path: The chain of steps and waits that determined the end
            time, earliest first (see :class:`CriticalLink`).
        queued: Seconds each launched background step spent waiting for a
            slot (until it started, or was removed from the queue), by id in
            declared order.
        slot_usage: The number of background steps holding a slot as a step
            function: ``(time, count)`` pairs, each count holding from its
            time until the next pair's; starts at :attr:`start`, ends with 0.
        peak_concurrency: The largest number of background steps that held a
            slot at once.
        mean_concurrency: The time average of that number over the makespan.
        max_background: The job's slot limit, if the trace says it.
        utilisation: ``mean_concurrency / max_background``, if known.
    """

    start: float
    end: float
    makespan: float
    critical_path: tuple[CriticalLink, ...]
    queued: Mapping[str, float] = attrs.field(converter=_frozen_map)
    slot_usage: tuple[tuple[float, int], ...]
    peak_concurrency: int
    mean_concurrency: float
    max_background: int | None
    utilisation: float | None

    @property
    def critical_steps(self) -> tuple[str, ...]:
        """The ids on the critical path, earliest first, without repeats."""
        seen: dict[str, None] = {}
        for link in self.critical_path:
            seen.setdefault(link.step_id, None)
        return tuple(seen)

    @property
    def total_queued(self) -> float:
        """Seconds all background steps spent queued, summed."""
        return sum(self.queued.values())


def _bounds(report: JobReport) -> tuple[float, float]:
    start = end = None
    for event in report.events:
        if event.kind is EventKind.JOB_STARTED and start is None:
            start = event.time
        elif event.kind is EventKind.JOB_FINISHED:
            end = event.time
    times = [
        t
        for step in report.steps.values()
        for t in (step.queued_at, step.started_at, step.finished_at)
        if t is not None
    ]
    if start is None:
        start = min(times, default=0.0)
    if end is None:
        end = max(times, default=start)
    return start, end


def _slot_usage(
    report: JobReport, start: float, end: float
) -> tuple[tuple[tuple[float, int], ...], int, float]:
    deltas: dict[float, int] = {}
    for step in report.steps.values():
        if (
            step.background
            and step.started_at is not None
            and step.finished_at is not None
        ):
            if step.finished_at <= step.started_at:
                continue  # held a slot for no time at all
            deltas[step.started_at] = deltas.get(step.started_at, 0) + 1
            deltas[step.finished_at] = deltas.get(step.finished_at, 0) - 1
    usage: list[tuple[float, int]] = [(start, 0)]
    count = peak = 0
    area = 0.0
    for time in sorted(deltas):
        count += deltas[time]
        peak = max(peak, count)
        if time <= usage[-1][0]:
            usage[-1] = (usage[-1][0], count)
        elif count != usage[-1][1]:
            area += usage[-1][1] * (time - usage[-1][0])
            usage.append((time, count))
    if end > usage[-1][0]:
        area += usage[-1][1] * (end - usage[-1][0])
        if usage[-1][1] != 0:
            usage.append((end, 0))
    makespan = end - start
    return tuple(usage), peak, (area / makespan if makespan > 0 else 0.0)


def _queued(report: JobReport) -> dict[str, float]:
    queued: dict[str, float] = {}
    for step in report.steps.values():
        if step.queued_at is None or step.finished_at is None:
            continue
        until = step.started_at if step.started_at is not None else step.finished_at
        queued[step.id] = until - step.queued_at
    return queued


class _Causes:
    """What caused what, read from the order of a report's events.

    The engine emits events synchronously, in the order things happen, so
    their order says what a clock cannot: a slot handed over at one
    instant of a real clock, where the releaser's end and the taker's start
    differ by microseconds. Times are used only for the length of links,
    and to fall back on for a report without events.
    """

    def __init__(self, report: JobReport, index: Mapping[str, int]) -> None:
        steps = list(report.steps.values())
        self.launched: dict[str, int] = {}
        self.started: dict[str, int] = {}
        self.finished: dict[str, int] = {}
        #: First stop request per step: (time, reason, position).
        self.stops: dict[str, tuple[float, str, int]] = {}
        #: Steps flushed at the end of the main steps (R4.7), by position.
        self.end_flushed: dict[str, int] = {}
        #: Which step's end released the slot each queued step took.
        self.slot_from: dict[str, str] = {}
        #: The abandoned step whose task the job waited for last (R6.4).
        self.ran_past: str | None = None
        self.job_end: float | None = None
        # Slots released and not yet taken: (position, releaser). A slot
        # goes to the first queued step at once (R4.2), and steps start in
        # launch order (I3), so a step takes the first release after its
        # launch; releases before its launch went to earlier steps, or to
        # no one (the queue was empty).
        releases: deque[tuple[int, str]] = deque()
        holders: set[str] = set()
        for position, event in enumerate(report.events):
            kind = event.kind
            if kind is EventKind.JOB_FINISHED:
                self.job_end = event.time
                last = event.data.get("abandoned_last")
                self.ran_past = last.casefold() if isinstance(last, str) else None
                continue
            if event.step_id is None:
                continue
            key = event.step_id.casefold()
            if key not in index:
                continue
            if kind is EventKind.STEP_LAUNCHED:
                self.launched.setdefault(key, position)
            elif kind is EventKind.STEP_STARTED and key not in self.started:
                self.started[key] = position
                launch = self.launched.get(key)
                if steps[index[key]].background and launch is not None:
                    holders.add(key)
                    while releases and releases[0][0] < launch:
                        releases.popleft()
                    if releases:
                        self.slot_from[key] = releases.popleft()[1]
            elif kind is EventKind.STEP_FINISHED and key not in self.finished:
                self.finished[key] = position
                if key in holders:
                    holders.discard(key)
                    releases.append((position, key))
            elif kind is EventKind.CANCEL_REQUESTED and key not in self.stops:
                reason = event.data.get("reason")
                self.stops[key] = (
                    event.time,
                    reason if isinstance(reason, str) else "",
                    position,
                )
            elif kind is EventKind.STEP_FLUSHED and event.data.get("by") is None:
                self.end_flushed.setdefault(key, position)


class _Walker:
    """Walks back from the last step through what each step waited for."""

    def __init__(self, report: JobReport) -> None:
        self.steps = list(report.steps.values())
        self.index = {step.id.casefold(): i for i, step in enumerate(self.steps)}
        self.causes = _Causes(report, self.index)

    def _ran(self, step: StepReport) -> bool:
        return step.finished_at is not None

    def _step(self, key: str | None) -> StepReport | None:
        if key is None:
            return None
        position = self.index.get(key.casefold())
        return None if position is None else self.steps[position]

    def _finish_order(
        self, steps: list[StepReport]
    ) -> Callable[[StepReport], tuple[float, int]]:
        """A key ordering ``steps`` by when they finished: events, else times."""
        finished = self.causes.finished
        if all(s.id.casefold() in finished for s in steps):
            return lambda s: (0.0, finished[s.id.casefold()])
        return lambda s: (
            s.finished_at if s.finished_at is not None else -math.inf,
            self.index[s.id.casefold()],
        )

    def completed_targets(self, control: StepReport) -> list[StepReport]:
        key = control.id.casefold()
        return [
            s
            for s in self.steps
            if s.completed_by is not None
            and s.completed_by.casefold() == key
            and self._ran(s)
        ]

    def waited_targets(self, control: StepReport, end: float) -> list[StepReport]:
        """The targets ``control`` was still waiting for when they finished."""
        causes = self.causes
        started = causes.started.get(control.id.casefold())
        finished = causes.finished.get(control.id.casefold())
        targets = []
        for t in self.completed_targets(control):
            at = causes.finished.get(t.id.casefold())
            if started is not None and finished is not None and at is not None:
                if started < at < finished:
                    targets.append(t)
            elif (
                control.started_at is not None
                and t.finished_at is not None
                and control.started_at < t.finished_at <= end
            ):
                targets.append(t)
        return targets

    def stopped_by(
        self, step: StepReport, end: float
    ) -> tuple[StepReport, float] | None:
        """The ``cancel`` step that asked ``step`` to stop, and when."""
        causes = self.causes
        stop = causes.stops.get(step.id.casefold())
        requester = self._step(step.completed_by)
        if stop is None or stop[1] != "cancel" or requester is None:
            return None
        if requester.kind != StepKind.CANCEL:
            return None
        time, _, position = stop
        started = causes.started.get(requester.id.casefold())
        finished = causes.finished.get(requester.id.casefold())
        if started is not None and finished is not None:
            if started < position < finished:
                return requester, min(time, end)
            return None
        if requester.started_at == time and time <= end:
            return requester, time
        return None

    def releaser(self, step: StepReport) -> StepReport | None:
        """The background step whose slot ``step`` took, if it waited for one."""
        causes = self.causes
        key = step.id.casefold()
        if key in causes.started and key in causes.launched:
            return self._step(causes.slot_from.get(key))
        if (
            step.queued_at is None
            or step.started_at is None
            or step.started_at <= step.queued_at
        ):
            return None
        return self._releaser_by_time(step, step.started_at)

    def _releaser_by_time(self, step: StepReport, at: float) -> StepReport | None:
        """Without events: slots freed at one instant go in launch order."""
        starters = sorted(
            (
                s
                for s in self.steps
                if s.background
                and s.started_at == at
                and s.queued_at is not None
                and s.queued_at < at
            ),
            key=lambda s: (s.queued_at, self.index[s.id.casefold()]),
        )
        releasers = sorted(
            (
                s
                for s in self.steps
                if s.background and s.started_at is not None and s.finished_at == at
            ),
            key=lambda s: self.index[s.id.casefold()],
        )
        if not releasers:
            return None
        position = starters.index(step) if step in starters else 0
        return releasers[min(position, len(releasers) - 1)]

    def predecessor(self, step: StepReport, at: float) -> StepReport | None:
        """The step whose end let ``step``'s turn (or launch) come."""
        before = self.steps[: self.index[step.id.casefold()]]
        sequence = [s for s in before if not s.background and self._ran(s)]
        previous = sequence[-1] if sequence else None
        if step.background:
            return previous
        # Before the first post step the engine waits for every remaining
        # background step (R4.7): the last of them may be what it waited for.
        causes = self.causes
        start = causes.started.get(step.id.casefold())
        if start is not None:
            waited = [
                s
                for s in before
                if s.background
                and self._ran(s)
                and causes.end_flushed.get(s.id.casefold(), start) < start
            ]
            candidates = waited + ([previous] if previous is not None else [])
            if not candidates:
                return None
            return max(candidates, key=self._finish_order(candidates))
        if previous is not None and previous.finished_at == at:
            return previous
        ended_then = [s for s in before if s.background and s.finished_at == at]
        if ended_then:
            return ended_then[-1]
        return previous

    def _last(self) -> tuple[StepReport, float] | None:
        """The step the job's end waited for, and that end."""
        ran = [s for s in self.steps if self._ran(s)]
        if not ran:
            return None
        current = max(ran, key=self._finish_order(ran))
        assert current.finished_at is not None
        end = current.finished_at
        runaway = self._step(self.causes.ran_past)
        job_end = self.causes.job_end
        if runaway is not None and runaway.abandoned and self._ran(runaway):
            # R6.4: its task ran past every step; run() waited for it.
            assert runaway.finished_at is not None
            current = runaway
            end = max(end, runaway.finished_at, job_end or end)
        return current, end

    def walk(self) -> list[CriticalLink]:
        last = self._last()
        if last is None:
            return []
        current, end = last
        links: list[CriticalLink] = []
        check_targets = True
        # Each move goes to a step that ended no later; the bound stops a
        # malformed hand-made report from looping.
        for _ in range(4 * len(self.steps) + 4):
            step = current
            if (
                check_targets
                and step.kind in CONTROL_KINDS
                and step.started_at is not None
            ):
                targets = self.waited_targets(step, end)
                if targets:
                    target = max(targets, key=self._finish_order(targets))
                    assert target.finished_at is not None
                    start = min(target.finished_at, end)
                    links.append(
                        CriticalLink(
                            step_id=step.id, start=start, end=end, via="completion"
                        )
                    )
                    current, end = target, start
                    continue
            check_targets = True
            stopped = self.stopped_by(step, end)
            if stopped is not None:
                requester, at = stopped
                links.append(
                    CriticalLink(step_id=step.id, start=at, end=end, via="stop")
                )
                current, end = requester, at
                check_targets = False  # only the cancel step's turn matters now
                continue
            begin = step.started_at if step.started_at is not None else step.queued_at
            if begin is None:
                break
            begin = min(begin, end)
            if step.background and step.started_at is not None:
                releaser = self.releaser(step)
                if releaser is not None:
                    links.append(
                        CriticalLink(step_id=step.id, start=begin, end=end, via="slot")
                    )
                    current, end = releaser, begin
                    continue
                if step.queued_at is not None:
                    begin = min(step.queued_at, end)
            launch = step.queued_at if step.queued_at is not None else begin
            previous = self.predecessor(step, launch)
            if previous is None or previous.finished_at is None:
                links.append(
                    CriticalLink(step_id=step.id, start=begin, end=end, via="job-start")
                )
                break
            links.append(
                CriticalLink(step_id=step.id, start=begin, end=end, via="sequence")
            )
            current, end = previous, min(previous.finished_at, begin)
        links.reverse()
        return links


def job_statistics(report: JobReport) -> JobStatistics:
    """Compute makespan, critical path, queueing and slot use of a job.

    Args:
        report: A finished job's report (from a run or :func:`load_trace`).

    Returns:
        The job's statistics.
    """
    start, end = _bounds(report)
    usage, peak, mean = _slot_usage(report, start, end)
    max_background: int | None = None
    for event in report.events:
        if event.kind is EventKind.JOB_STARTED:
            value = event.data.get("max_background")
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                max_background = value
            break
    return JobStatistics(
        start=start,
        end=end,
        makespan=end - start,
        critical_path=tuple(_Walker(report).walk()),
        queued=_queued(report),
        slot_usage=usage,
        peak_concurrency=peak,
        mean_concurrency=mean,
        max_background=max_background,
        utilisation=None if max_background is None else mean / max_background,
    )


def _seconds(value: float) -> str:
    return f"{value:.3f} s"


def format_statistics(report: JobReport, stats: JobStatistics | None = None) -> str:
    """Describe a job's statistics in a few lines of plain text.

    Args:
        report: The job's report (for step names and the result).
        stats: Its job_statistics, if already computed.

    Returns:
        The text, ending with a newline.
    """
    if stats is None:
        stats = job_statistics(report)
    names = {step.id: step.name for step in report.steps.values()}
    job_name = next(
        (
            str(e.data.get("name"))
            for e in report.events
            if e.kind is EventKind.JOB_STARTED and e.data.get("name")
        ),
        "job",
    )
    background = sum(1 for s in report.steps.values() if s.background)
    lines = [
        f"Job {job_name}: {report.result.name} ({report.result.github})",
        f"Makespan: {_seconds(stats.makespan)} "
        f"(Trio clock {stats.start:.3f} to {stats.end:.3f})",
        f"Steps: {len(report.steps)}, of which background: {background}",
    ]
    slots = (
        f"of {stats.max_background} slots"
        if stats.max_background is not None
        else "slots"
    )
    use = (
        f", utilisation {stats.utilisation:.0%}"
        if stats.utilisation is not None
        else ""
    )
    lines.append(
        f"Concurrency: peak {stats.peak_concurrency} {slots}, "
        f"mean {stats.mean_concurrency:.2f}{use}"
    )
    if stats.queued:
        lines.append(f"Queued time (total {_seconds(stats.total_queued)}):")
        width = max(len(step_id) for step_id in stats.queued)
        for step_id, seconds in stats.queued.items():
            lines.append(f"  {step_id:<{width}}  {_seconds(seconds)}")
    lines.append(f"Critical path ({len(stats.critical_path)} links):")
    for link in stats.critical_path:
        rel_start = link.start - stats.start
        rel_end = link.end - stats.start
        lines.append(
            f"  {rel_start:9.3f} → {rel_end:9.3f}  {link.via:<10}  "
            f"{link.step_id} ({names.get(link.step_id, link.step_id)})"
        )
    lines.append("Slot usage (time from start → background steps running):")
    for time, count in stats.slot_usage:
        lines.append(f"  {time - stats.start:9.3f}  {count}")
    return "\n".join(lines) + "\n"


def statistics_to_json(stats: JobStatistics) -> dict[str, object]:
    """Encode statistics as a JSON-serialisable object (for ``stats --json``).

    Args:
        stats: The statistics.

    Returns:
        Every attribute by name; the critical path as a list of objects and
        the slot usage as ``[time, count]`` pairs.
    """
    return {
        "start": stats.start,
        "end": stats.end,
        "makespan": stats.makespan,
        "critical_path": [
            {
                "step_id": link.step_id,
                "start": link.start,
                "end": link.end,
                "via": link.via,
            }
            for link in stats.critical_path
        ],
        "queued": dict(stats.queued),
        "slot_usage": [[time, count] for time, count in stats.slot_usage],
        "peak_concurrency": stats.peak_concurrency,
        "mean_concurrency": stats.mean_concurrency,
        "max_background": stats.max_background,
        "utilisation": stats.utilisation,
    }


public(CriticalLink, JobStatistics, job_statistics)
