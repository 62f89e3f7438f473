"""The ``explore`` subcommand: every outcome of a workflow job (rules R18.1).

The job's ``run:`` steps become scripted steps whose durations are free;
each succeeds unless ``--fail ID`` names it. Their ``if:`` may be one of the
status functions (``success()``, ``failure()``, ``always()``,
``cancelled()``, or ``!cancelled()``), with or without ``${{ }}``.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .._job import Job
    from .._status import Condition
    from .._steps import Step

__all__ = ["register"]

EXIT_INVALID: Final = 2

#: The semantics ``--semantics`` offers, by name (rules §17).
SEMANTICS: Final = ("trio-steps", "github-runner")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``explore`` subcommand (its handler is the ``handler`` default).

    Args:
        subparsers: What ``ArgumentParser.add_subparsers()`` returned.
    """
    explore = subparsers.add_parser(
        "explore",
        help="print every outcome a workflow job can have (durations free)",
        description=(
            "Explore a workflow job in the reference model: its run: steps "
            "succeed (unless --fail names them) and take any time, and every "
            "order in which they can end, relative to each other and to the "
            "timeouts, is tried. Prints one row per distinct outcome. Exit "
            "status: 0 the space was covered, 1 a bound stopped the search "
            "first, 2 invalid input."
        ),
    )
    explore.add_argument("file", metavar="FILE", help="the workflow file")
    explore.add_argument(
        "--job", metavar="ID", help="the job to explore (needed if there are several)"
    )
    explore.add_argument(
        "--semantics",
        choices=SEMANTICS,
        default="trio-steps",
        help=(
            "whose semantics the model follows: this project's or GitHub's "
            "runner's (default: trio-steps)"
        ),
    )
    explore.add_argument(
        "--fail",
        metavar="ID",
        action="append",
        default=[],
        help="this step fails when it ends on its own (repeatable)",
    )
    explore.add_argument(
        "--max-schedules",
        metavar="N",
        type=int,
        default=1_000_000,
        help="stop after N runs of the model (default: 1000000)",
    )
    explore.add_argument(
        "--max-seconds",
        metavar="S",
        type=float,
        default=10.0,
        help="stop after S seconds (default: 10)",
    )
    explore.set_defaults(handler=run_explore)


_CONDITIONS: Final = {
    "success()": "success",
    "failure()": "failure",
    "always()": "always",
    "cancelled()": "cancelled",
    "!cancelled()": "not_cancelled",
}


def _not_cancelled(status: object) -> bool:
    from .._status import Status, cancelled

    assert isinstance(status, Status)
    return not cancelled(status)


def _condition(step: Step) -> Condition:
    """The status function an ``if:`` names; ``ValueError`` for anything else."""
    from .. import _status

    declared = step.condition
    if declared is None or callable(declared):
        return declared
    text = declared.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2].strip()
    name = _CONDITIONS.get(text.replace(" ", ""))
    if name is None:
        raise ValueError(
            f"step {step.id or step.display_name!r}: explore supports if: "
            f"{', '.join(_CONDITIONS)} only, not {declared!r}"
        )
    if name == "not_cancelled":
        return _not_cancelled
    condition: Condition = getattr(_status, name)
    return condition


def scripted(job: Job, failing: set[str]) -> Job:
    """``job`` with each ``run:`` step made a scripted step (durations free).

    Args:
        job: A workflow job.
        failing: Ids of the steps that fail when they end on their own.

    Returns:
        The job of scripted steps.

    Raises:
        ValueError: A step cannot be explored (an ``if:`` the model cannot
            read, a ``continue-on-error`` or ``timeout-minutes`` expression).
    """
    from .._steps import Parallel, Step
    from ..testing._scripted import ScriptedStep

    def convert(step: Step) -> Step:
        where = step.id or step.display_name
        if step.timeout_template is not None or step.continue_on_error_template:
            raise ValueError(
                f"step {where!r}: explore needs timeout-minutes and "
                "continue-on-error as plain values, not expressions"
            )
        return ScriptedStep(
            1.0,
            ending="fail" if step.id is not None and step.id in failing else "succeed",
            id=step.id,
            name=step.display_name,
            background=step.background,
            condition=_condition(step),
            continue_on_error=step.continue_on_error is True,
            timeout=step.timeout_seconds,
        )

    def entries(items: tuple[object, ...]) -> list[object]:
        out: list[object] = []
        for item in items:
            if isinstance(item, Step):
                out.append(convert(item))
            elif isinstance(item, Parallel):
                out.append(Parallel([convert(m) for m in item.steps], name=item.name))
            else:
                out.append(item)
        return out

    return job.evolve(steps=entries(job.steps), post_steps=entries(job.post_steps))


def run_explore(args: argparse.Namespace) -> int:
    """Explore the chosen job and print its outcome table.

    Args:
        args: The parsed command line.

    Returns:
        The exit status: 0 covered, 1 not covered, 2 invalid input.
    """
    from pathlib import Path

    from .._errors import JobDefinitionError
    from .._workflow._nodes import WorkflowError
    from .._workflow._read import read_workflow, select_job
    from ..testing._explore import Limit, explore

    try:
        workflow = read_workflow(Path(args.file))
        job = select_job(workflow, args.job)
    except WorkflowError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    ids = {p.id for p in job.plan}
    unknown = [id for id in args.fail if id not in ids]
    try:
        if unknown:
            raise ValueError(f"--fail: no step {unknown[0]!r} in this job")
        limit = Limit(schedules=args.max_schedules, seconds=args.max_seconds)
        explored = explore(
            scripted(job, set(args.fail)), semantics=args.semantics, limit=limit
        )
    except (ValueError, JobDefinitionError) as exc:
        print(f"trio-steps: {exc}", file=sys.stderr)
        return EXIT_INVALID
    name = job.name or args.job or "the job"
    print(f"{name}: {len(job.plan)} steps, durations free, semantics {args.semantics}")
    print(explored.table())
    return 0 if explored.covered else 1
