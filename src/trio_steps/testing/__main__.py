"""``python -m trio_steps.testing fuzz --examples N [--seed S] [--max-background K]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fuzzing command line.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        ``0`` when the engine and the model agree, ``1`` when they do not.
    """
    parser = argparse.ArgumentParser(
        prog="python -m trio_steps.testing",
        description="Fuzz the trio_steps engine against its reference model.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("fuzz", help="compare engine and model on generated jobs")
    run.add_argument("--examples", type=int, default=1000, help="jobs to generate")
    run.add_argument("--seed", type=int, default=0, help="Hypothesis seed")
    run.add_argument(
        "--max-background", type=int, default=None, help="fix max_background"
    )
    run.add_argument("--max-steps", type=int, default=8, help="most main steps per job")
    run.add_argument(
        "--semantics",
        choices=("trio-steps", "github-runner"),
        default="trio-steps",
        help="the semantics engine and model run under (default: trio-steps)",
    )
    args = parser.parse_args(argv)

    from ._fuzz import describe, fuzz

    result = fuzz(
        args.examples,
        seed_value=args.seed,
        max_background=args.max_background,
        max_steps=args.max_steps,
        semantics=args.semantics,
    )
    print(describe(result))
    return 0 if result.job is None else 1


if __name__ == "__main__":
    sys.exit(main())
