"""``python -m trio_steps.testing fuzz [--examples N] [--seconds S] [--workers W] ...``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fuzzing command line.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        ``0`` when the engine and the model agree, ``1`` when a failing job
        was found, ``130`` when Ctrl-C ended the run before it found one.
    """
    parser = argparse.ArgumentParser(
        prog="python -m trio_steps.testing",
        description="Fuzz the trio_steps engine against its reference model.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("fuzz", help="compare engine and model on generated jobs")
    run.add_argument(
        "--examples",
        type=int,
        default=None,
        help="jobs to generate in all (default 1000, or no limit with --seconds)",
    )
    run.add_argument("--seconds", type=float, default=None, help="time budget")
    run.add_argument("--workers", type=int, default=1, help="processes (one seed each)")
    run.add_argument(
        "--seed", type=int, default=0, help="Hypothesis seed (first worker)"
    )
    run.add_argument(
        "--database",
        default=None,
        help="Hypothesis example database directory (default: none for one "
        "worker, .hypothesis/trio-steps-fuzz for several)",
    )
    run.add_argument(
        "--max-background", type=int, default=None, help="fix max_background"
    )
    run.add_argument("--max-steps", type=int, default=8, help="most main steps per job")
    run.add_argument(
        "--every",
        type=float,
        default=5.0,
        help="seconds between progress lines when stderr is not a terminal",
    )
    run.add_argument(
        "--semantics",
        choices=("trio-steps", "github-runner"),
        default="trio-steps",
        help="the semantics engine and model run under (default: trio-steps)",
    )
    run.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    examples = args.examples
    if examples is None and args.seconds is None:
        examples = 1000

    from ._fuzz import campaign, describe, fuzz, worker_main

    if args.worker:
        return worker_main(
            examples=examples,
            seconds=args.seconds,
            seed_value=args.seed,
            database=args.database,
            max_background=args.max_background,
            max_steps=args.max_steps,
            semantics=args.semantics,
        )
    if args.workers > 1:
        result = campaign(
            args.workers,
            examples=examples,
            seconds=args.seconds,
            seed_value=args.seed,
            database=args.database,
            max_background=args.max_background,
            max_steps=args.max_steps,
            every=args.every,
            semantics=args.semantics,
        )
    else:
        result = fuzz(
            examples,
            seconds=args.seconds,
            seed_value=args.seed,
            database=args.database,
            max_background=args.max_background,
            max_steps=args.max_steps,
            every=args.every,
            semantics=args.semantics,
        )
    print(describe(result))
    if result.failed:
        return 1
    return 130 if result.interrupted else 0


if __name__ == "__main__":
    # The command needs no Hypothesis plugins, and loading them all on every
    # start (HypoFuzz's takes 0.2 s) would slow short runs and each worker.
    os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")
    sys.exit(main())
