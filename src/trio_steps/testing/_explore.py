"""Every outcome of a job of scripted steps (rules §18, R18.1–R18.5).

:func:`explore` runs the reference model (:mod:`._model`) again and again,
each time with another answer to the only questions the model leaves open
once durations are free: *which running step's code ends next, and does it
end before the next timer, at the same instant as it, or only after it?*

The search is stateless, as in Loom: each run replays a path of choices
from the start, then takes the first option at every new choice point; the
next path is the last one with its deepest unexhausted choice moved on by
one (depth first). Orders that only permute independent ends are pruned by
memoising states: a choice point whose state (everything that can still
change the outcome, times taken relative to now) was met before is not
explored again, because depth first search has already explored everything
that can follow it (R18.5).

Each distinct outcome keeps the first schedule that produced it, as a job of
scripted steps with concrete durations (R18.3); its report is what
:func:`~trio_steps.testing.simulate` gives for that job, which the search
checks.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Final

import attrs

from .._errors import JobDefinitionError
from .._job import Job
from .._results import JobReport, Result
from .._semantics import Semantics, coerce_semantics
from .._steps import Parallel, Step
from ._model import JobNeverEnds, _Decision, _scripts_of, _Simulation, _Step, simulate
from ._scripted import OBSERVATION_OUTPUT, Script, Write

__all__ = [
    "Exploration",
    "Limit",
    "explore",
    "outcome_key",
    "outcome_table",
    "with_scripts",
]

#: How far past the last thing pending a step ends when nothing else is due.
_UNIT: Final = 1.0


@attrs.frozen(kw_only=True)
class Limit:
    """Bounds on an exploration, like Loom's (R18.4).

    Attributes:
        schedules: At most this many runs of the model (complete or pruned);
            ``None`` for no bound.
        seconds: Stop starting runs after this many seconds of wall time;
            ``None`` for no bound.
    """

    schedules: int | None = 1_000_000
    seconds: float | None = 10.0

    def __attrs_post_init__(self) -> None:
        problems = []
        if self.schedules is not None and (
            isinstance(self.schedules, bool)
            or not isinstance(self.schedules, int)
            or self.schedules < 1
        ):
            problems.append(
                f"Limit: schedules must be an int >= 1, not {self.schedules!r}"
            )
        if self.seconds is not None and (
            isinstance(self.seconds, bool)
            or not isinstance(self.seconds, int | float)
            or math.isnan(self.seconds)
            or self.seconds <= 0
        ):
            problems.append(
                f"Limit: seconds must be a number > 0, not {self.seconds!r}"
            )
        if problems:
            raise JobDefinitionError(problems)


@attrs.frozen(kw_only=True)
class Exploration:
    """What :func:`explore` found.

    Attributes:
        job: The explored job.
        outcomes: One :class:`~trio_steps.JobReport` per distinct outcome
            (R18.2), in the order they were found.
        schedules: For each outcome, at the same position, a job of scripted
            steps with concrete durations that produces it (R18.3):
            ``simulate(schedules[i]) == outcomes[i]``.
        covered: Whether every schedule was explored or pruned as a repeat
            (R18.4); ``False`` when a bound stopped the search.
        runs: Runs of the model that reached the end of the job.
        pruned: Runs cut short at a state met before (R18.5).
        never_ends: Runs in which the job waits forever (a step with
            ``duration=math.inf`` that nothing stops).
        seconds: Wall time the exploration took.
    """

    job: Job
    outcomes: tuple[JobReport, ...]
    schedules: tuple[Job, ...]
    covered: bool
    runs: int
    pruned: int
    never_ends: int
    seconds: float

    def results_of(self, id: str) -> frozenset[Result]:
        """The conclusions step ``id`` has across the outcomes.

        Args:
            id: A step id (case ignored).

        Returns:
            Each conclusion it reaches in some outcome.
        """
        found = set()
        for report in self.outcomes:
            conclusion = report.steps[id].conclusion
            assert conclusion is not None
            found.add(conclusion)
        return frozenset(found)

    def table(self) -> str:
        """The outcomes as a text table.

        One row per outcome, one column per step, then the job result. A
        cell is the step's conclusion (``failed->succeeded`` when
        ``continue-on-error`` changed it), with ``[x]`` explicitly
        cancelled, ``[t]`` timed out, ``[a]`` abandoned, ``[n]`` never
        completed (GitHub's runner, rules §17). A last line says how much
        was explored and whether it was covered.
        """
        return outcome_table(self)


def outcome_key(report: JobReport) -> Hashable:
    """What makes two outcomes of one job the same (R18.2).

    The job result, the final env and path, and per step its outcome,
    conclusion, ``completed_by``, flags (never completed included, rules
    §17), outputs, and whether it was launched and whether it started;
    times are left out.

    Args:
        report: A report of the job.

    Returns:
        A hashable value equal for equal outcomes.
    """
    steps = tuple(
        (
            id,
            s.outcome,
            s.conclusion,
            s.completed_by,
            s.explicitly_canceled,
            s.timed_out,
            s.abandoned,
            s.never_completed,
            s.queued_at is not None,
            s.started_at is not None,
            tuple(sorted(s.outputs.items())),
        )
        for id, s in report.steps.items()
    )
    return (report.result, tuple(sorted(report.env.items())), report.path, steps)


# --------------------------------------------------------------------------
# Choices
# --------------------------------------------------------------------------


class _Pruned(Exception):
    """This run reached a state explored before (R18.5)."""


@attrs.define
class _Chooser:
    """Answers a run's choices: the path first, then fresh first options."""

    path: list[list[int]]  # [index chosen, number of options] per choice
    seen: set[Hashable]
    depth: int = 0

    def choose(self, run: _Run, tag: str, options: int) -> int:
        if self.depth < len(self.path):
            index, count = self.path[self.depth]
            if count != options:  # pragma: no cover - the model is deterministic
                raise AssertionError("explore: a replayed path changed its options")
            self.depth += 1
            return index
        key = (tag, run.signature())
        if key in self.seen:
            raise _Pruned
        self.seen.add(key)
        self.path.append([0, options])
        self.depth += 1
        return 0


def _between(now: float, upcoming: float) -> float:
    """An instant strictly between ``now`` and ``upcoming`` (a power of two away)."""
    if math.isinf(upcoming):
        return now + _UNIT
    gap = upcoming - now
    step = 2.0 ** math.floor(math.log2(gap)) / 2
    later = now + step
    if not now < later < upcoming:  # pragma: no cover - gaps near float limits
        later = now + gap / 2
    return later


# --------------------------------------------------------------------------
# The branching run
# --------------------------------------------------------------------------


class _Run(_Simulation):
    """The model with free durations: code ends only when a choice says so.

    A running step whose script has a finite duration and that nobody has
    stopped is *free*. At every instant, after natural activity settled and
    before the due decisions are applied, the run may let one free step end
    now (a tie); when nothing is due, it either moves to the next fixed
    instant (a timer, or a stopped step's end) or lets one free step end
    strictly before it (R18.1).
    """

    def __init__(self, job: Job, chooser: _Chooser, semantics: Semantics) -> None:
        super().__init__(job, semantics)
        self.chooser = chooser
        self.mark = 0  # decisions applied so far
        self.instant_mark = 0  # ... when the clock last moved
        self.start_marks: dict[str, int] = {}
        # Every timer delay of the job: step timeouts, the graces, stop delays.
        delays = {job.interrupt_grace + job.terminate_grace}
        for planned in job.plan:
            step = planned.step
            if step is not None and step.timeout_seconds is not None:
                delays.add(step.timeout_seconds)
            script = self.steps[planned.id].script
            if script is not None and not math.isinf(script.stop_delay):
                delays.add(script.stop_delay)
        self.delays = sorted(d for d in delays if d > 0)

    # ---- free code ------------------------------------------------------

    def start_code(self, step: _Step) -> None:
        super().start_code(step)  # R4.3: its timeout counts from now
        assert step.script is not None
        if math.isinf(step.script.duration):
            step.code_end = math.inf  # runs until stopped: not free
        else:
            step.code_end = None  # free: a choice ends it
        self.start_marks[step.id] = self.mark

    def free_steps(self) -> list[_Step]:
        return [
            s
            for s in self.order
            if s.script is not None
            and s.started_at is not None
            and s.code_end is None
            and s.stop_reason is None
            and not s.finished
        ]

    def can_end_now(self, step: _Step) -> bool:
        """Whether ending now is an end some concrete duration gives.

        Concrete code ends of an instant come before its decisions
        (timing.rst), so a step may end now only if no decision was applied
        since the instant began, or since it started.
        """
        if step.started_at == self.now and self.start_marks[step.id] == self.mark:
            return True
        return self.mark == self.instant_mark

    def record_writes(self, step: _Step) -> None:
        script = step.script
        if script is None or step.started_at is None or step.stop_reason is not None:
            super().record_writes(step)
            return
        # Ended on its own: every write happened (they are scaled into its
        # chosen duration, R18.3).
        if script.observe:
            step.outputs[OBSERVATION_OUTPUT] = step.seen
        for write in script.writes:
            if write.kind == "output":
                step.outputs[write.name] = write.value
            elif write.kind == "env":
                step.env_changes.pop(write.name, None)
                step.env_changes[write.name] = write.value
            else:
                step.path_added.append(write.name)

    def apply(self, decision: _Decision) -> None:
        self.mark += 1
        super().apply(decision)

    # ---- the loop -------------------------------------------------------

    def run(self) -> JobReport:
        if self.job.timeout is not None:
            self.job_timeout = self.register("job-timeout", self.job.timeout)
        while True:
            self.settle()
            if self.ends_commute():
                self.end_all_free()
                continue
            eligible = [s for s in self.free_steps() if self.can_end_now(s)]
            if eligible:
                pick = self.chooser.choose(self, "now", len(eligible) + 1)
                if pick < len(eligible):
                    eligible[pick].code_end = self.now
                    continue
            decision = self.due_decision()
            if decision is not None:
                self.apply(decision)
                continue
            if self.main_done():
                return self.report()
            self.move_on()

    def ends_commute(self) -> bool:
        """Whether the order of the free steps' ends cannot matter (R18.5).

        So when nothing else is pending (no decision, no queued step, no
        stopped step still ending) and the main sequence waits for all of
        them together: a wait or wait-all that targets every one of them,
        or the end of the main steps (R4.7). It merges and flushes them in
        its own order, whatever order they end in.
        """
        if self.decisions or self.queue:
            return False
        free = self.free_steps()
        if not free:
            return False
        for s in self.order:
            if (
                s.code_end is not None
                and not s.code_over
                and not math.isinf(s.code_end)
            ):
                return False
        current = self.current
        if current is None:
            return self.at_end_of_main() and not self.final_wait_done
        if current.plan.kind in ("run", "cancel") or current.id in self.pending_cancels:
            return False
        targets = {t.id for t in self.control_targets(current)}
        return all(s.id in targets for s in free)

    def end_all_free(self) -> None:
        """End every free step at one later instant (they commute)."""
        self.now = _between(self.now, math.inf)
        for step in self.free_steps():
            step.code_end = self.now
        self.instant_mark = self.mark

    def move_on(self) -> None:
        """Move the clock: to the next fixed instant, or end a free step before it."""
        free = self.free_steps()
        fixed = [
            s.code_end
            for s in self.order
            if s.code_end is not None and not s.code_over and not math.isinf(s.code_end)
        ]
        fixed += [d.due for d in self.decisions]
        upcoming = min(fixed, default=math.inf)
        count = len(free) + (0 if math.isinf(upcoming) else 1)
        if count == 0:
            raise JobNeverEnds(
                f"at t={self.now:g} the job waits for {self.describe_wait()} forever"
            )
        points = self.points_before(upcoming, fixed) if free else []
        pick = self.chooser.choose(
            self, "later", len(free) * len(points) + count - len(free)
        )
        if pick < len(free) * len(points):
            step, point = divmod(pick, len(points))
            self.now = points[point]
            free[step].code_end = self.now
        else:
            self.now = upcoming
        self.instant_mark = self.mark

    def points_before(self, upcoming: float, fixed: list[float]) -> list[float]:
        """Instants strictly between now and ``upcoming`` worth ending at.

        Each instant ``T - d`` where a timer of delay ``d`` started then
        would fall due with a fixed instant ``T``, and one in each stretch
        between them: so a timer started by this end may fall due before,
        with, or after each instant fixed now (R18.1).
        """
        now = self.now
        cuts = sorted(
            {t - d for t in fixed for d in self.delays if now < t - d < upcoming}
        )
        if not cuts:
            return [_between(now, upcoming)]
        bounds = [now, *cuts, upcoming]
        points = [_between(a, b) for a, b in itertools.pairwise(bounds)]
        return sorted({p for p in [*points, *cuts] if now < p < upcoming})

    # ---- what can still change the outcome ------------------------------

    def signature(self) -> Hashable:
        now = self.now

        def rel(t: float | None) -> float | None:
            return None if t is None else t - now

        steps = []
        for s in self.order:
            running = (
                s.script is not None and s.started_at is not None and not s.finished
            )
            timing: tuple[object, ...] = ()
            if running:
                has_writes = s.script is not None and bool(s.script.writes)
                timing = (
                    rel(s.started_at) if has_writes else None,
                    rel(s.code_end),
                    rel(s.stopped_at),
                    s.code_end is None and self.can_end_now(s),
                )
            steps.append(
                (
                    s.outcome,
                    s.conclusion,
                    s.completed_by,
                    s.explicitly_canceled,
                    s.timed_out,
                    s.abandoned,
                    s.launched,
                    s.started_at is not None,
                    s.finished,
                    s.code_over,
                    s.stop_reason,
                    timing,
                    tuple(s.outputs.items()),
                    tuple(s.env_changes.items()),
                    tuple(s.path_added),
                    s.seen,
                    # Rules §17 (GitHub's runner): what it keeps per step.
                    s.never_completed,
                    *(
                        (
                            None
                            if s.launch_env is None
                            else tuple(s.launch_env.items()),
                            s.queued_at == now and s.started_at is None,
                        )
                        if self.github
                        else ()
                    ),
                )
            )
        decisions = tuple(
            (rel(d.due), d.kind, d.step.id if d.step is not None else None)
            for d in sorted(self.decisions, key=lambda d: (d.due, d.seq))
        )
        visible = tuple(
            sorted(
                (k, v.outcome, v.conclusion, tuple(sorted(v.outputs.items())))
                for k, v in self.visible.items()
            )
        )
        return (
            tuple(steps),
            decisions,
            visible,
            self.result,
            tuple(self.env.items()),
            tuple(self.path),
            tuple(s.id for s in self.launched),
            tuple(s.id for s in self.queue),
            self.slots_used,
            self.next_index,
            self.current.id if self.current is not None else None,
            self.final_wait_done,
            self.job_timeout is not None,
            tuple(
                sorted((k, tuple(t.id for t in v)) for k, v in self.targets_of.items())
            ),
            tuple(sorted(self.pending_cancels)),
            # Rules §17: the cancellation, queued steps dropped by a cancel
            # step, and what was published before this instant (R17.8).
            self.job_cancelled,
            tuple(sorted(self.dropped)),
            self.instant_view(),
        )

    def instant_view(self) -> Hashable:
        """What was published before this instant, if it was taken now.

        Only GitHub's runner reads it (R17.8).
        """
        if not self.github or self.instant != self.now:
            return None
        visible, path = self.before_instant
        return (
            tuple(
                sorted(
                    (k, v.outcome, v.conclusion, tuple(sorted(v.outputs.items())))
                    for k, v in visible.items()
                )
            ),
            tuple(path),
        )

    # ---- the schedule ----------------------------------------------------

    def schedule(self) -> Job:
        """This run as a job of scripted steps with concrete durations (R18.3)."""
        scripts: dict[str, Script] = {}
        for s in self.order:
            script = s.script
            if script is None or s.started_at is None:
                continue
            if s.stop_reason is None:
                assert s.code_end is not None
                scripts[s.id] = _scaled(script, s.code_end - s.started_at)
            elif not math.isinf(script.duration):
                assert s.stopped_at is not None
                ran = s.stopped_at - s.started_at
                scripts[s.id] = attrs.evolve(
                    script, duration=max(script.duration, ran + _UNIT)
                )
        return with_scripts(self.job, scripts)


def _scaled(script: Script, duration: float) -> Script:
    """``script`` lasting ``duration``, its writes at the same fractions."""
    if script.duration > 0:
        ratio = duration / script.duration
        writes = tuple(
            attrs.evolve(w, at=min(duration, w.at * ratio)) for w in script.writes
        )
    else:
        writes = tuple(attrs.evolve(w, at=0.0) for w in script.writes)
    return attrs.evolve(script, duration=duration, writes=_ordered(writes))


def _ordered(writes: Iterable[Write]) -> tuple[Write, ...]:
    result: list[Write] = []
    for write in writes:
        if result and write.at < result[-1].at:
            write = attrs.evolve(write, at=result[-1].at)
        result.append(write)
    return tuple(result)


def with_scripts(job: Job, scripts: dict[str, Script]) -> Job:
    """``job`` with the run of some steps replaced, by plan id.

    Args:
        job: The job.
        scripts: Plan id -> the new :class:`Script` of that step.

    Returns:
        The same job, those steps' ``run`` replaced.
    """
    run_ids = iter([p.id for p in job.plan if p.step is not None])

    def swap(step: Step) -> Step:
        id = next(run_ids)
        new = scripts.get(id)
        return step if new is None else step.evolve(run=new)

    def entries(items: Sequence[object]) -> list[object]:
        out: list[object] = []
        for item in items:
            if isinstance(item, Step):
                out.append(swap(item))
            elif isinstance(item, Parallel):
                out.append(Parallel([swap(m) for m in item.steps], name=item.name))
            else:
                out.append(item)
        return out

    main = entries(job.steps)
    post = entries(job.post_steps)
    return job.evolve(steps=main, post_steps=post)


# --------------------------------------------------------------------------
# explore()
# --------------------------------------------------------------------------


def _next_path(path: list[list[int]]) -> bool:
    """Move to the next path depth first; ``False`` when none is left."""
    while path and path[-1][0] + 1 >= path[-1][1]:
        path.pop()
    if not path:
        return False
    path[-1][0] += 1
    return True


def explore(
    job: Job,
    *,
    semantics: Semantics | str = Semantics.TRIO_STEPS,
    limit: Limit | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Exploration:
    """Every distinct outcome of a job of scripted steps (rules §18).

    Durations are free: the search tries every order in which the steps'
    code can end, relative to each other and to the job's timers (step
    timeouts, the job timeout, giving up on stopped steps, ``cancel``
    steps), ties included (R18.1). Endings, conditions, ``stop_delay`` and
    timer delays stay as declared.

    Args:
        job: A job whose run steps are all
            :func:`~trio_steps.testing.ScriptedStep` steps.
        semantics: The semantics the reference model follows: this
            project's (the default) or GitHub's runner (rules §17), or its
            name.
        limit: Bounds on the search (default: :class:`Limit`'s defaults).
        clock: Where wall time is read (for ``limit.seconds``).

    Returns:
        The :class:`Exploration`.

    Raises:
        JobDefinitionError: A run step is not scripted, or its condition is
            an expression string.
        ValueError: ``semantics`` names no semantics.
        AssertionError: A schedule's replay disagrees with the run that
            found it (a bug of the explorer).
    """
    if not isinstance(job, Job):
        raise JobDefinitionError(f"explore() needs a Job, not {type(job).__name__}")
    _scripts_of(job)
    limit = Limit() if limit is None else limit
    semantics = coerce_semantics(semantics)
    started = clock()
    seen: set[Hashable] = set()
    path: list[list[int]] = []
    found: dict[Hashable, tuple[JobReport, Job]] = {}
    runs = pruned = never_ends = 0
    covered = False
    while True:
        if (
            limit.schedules is not None
            and runs + pruned + never_ends >= limit.schedules
        ):
            break
        if limit.seconds is not None and clock() - started >= limit.seconds:
            break
        run = _Run(job, _Chooser(path, seen), semantics)
        try:
            report = run.run()
        except _Pruned:
            pruned += 1
        except JobNeverEnds:
            never_ends += 1
        else:
            runs += 1
            key = outcome_key(report)
            if key not in found:
                schedule = run.schedule()
                replayed = simulate(schedule, semantics=semantics)
                if outcome_key(replayed) != key:
                    raise AssertionError(
                        "explore: a schedule's replay gives another outcome"
                    )
                found[key] = (replayed, schedule)
        if not _next_path(path):
            covered = True
            break
    return Exploration(
        job=job,
        outcomes=tuple(r for r, _ in found.values()),
        schedules=tuple(s for _, s in found.values()),
        covered=covered,
        runs=runs,
        pruned=pruned,
        never_ends=never_ends,
        seconds=clock() - started,
    )


def _cell(report: JobReport, id: str) -> str:
    step = report.steps[id]
    text = step.conclusion.name.lower() if step.conclusion is not None else "-"
    if step.outcome is not step.conclusion and step.outcome is not None:
        text = f"{step.outcome.name.lower()}->{text}"
    flags = [
        flag
        for flag, on in (
            ("x", step.explicitly_canceled),
            ("t", step.timed_out),
            ("a", step.abandoned),
            ("n", step.never_completed),
        )
        if on
    ]
    if flags:
        text += f"[{''.join(flags)}]"
    return text


def outcome_table(exploration: Exploration) -> str:
    """A text table: one row per outcome, one column per step, then the job.

    A cell is the step's conclusion (``failed->succeeded`` when
    ``continue-on-error`` changed it), with ``[x]`` explicitly cancelled,
    ``[t]`` timed out, ``[a]`` abandoned, ``[n]`` never completed. A last
    line says how much was explored.

    Args:
        exploration: What :func:`explore` returned.

    Returns:
        The table, lines joined by newlines.
    """
    ids = [p.id for p in exploration.job.plan]
    header = ["#", *ids, "job"]
    rows = [
        [str(number), *(_cell(r, id) for id in ids), r.result.name.lower()]
        for number, r in enumerate(exploration.outcomes, 1)
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    state = "covered" if exploration.covered else "NOT covered (a bound stopped it)"
    lines.append(
        f"{len(exploration.outcomes)} outcomes; {exploration.runs} schedules run, "
        f"{exploration.pruned} pruned; {state}; {exploration.seconds:.2f} s"
    )
    return "\n".join(lines)
