"""How fast are compiled expressions? Ratios against baselines of the same run.

Run with ``python benchmarks/expressions.py`` (``trio_steps`` importable).

- evaluation: the compiled condition ``success() && steps.a.outputs.x == 'y'``
  (what a step's ``if:`` costs at its turn) against a hand-written Python
  function doing the same lookups and comparisons;
- compilation: a cold compile (a new text each time) against a cached one.

Each figure is the best of several repeats, to dampen noise from other work
on the machine.
"""

from __future__ import annotations

import itertools
import timeit
from collections.abc import Callable, Mapping
from typing import Any

from trio_steps import expressions

CONDITION = "success() && steps.a.outputs.x == 'y'"
CONTEXTS: dict[str, object] = {
    "steps": {"a": {"outputs": {"x": "y"}}},
    "job": {"status": "success"},
}
NAMES = ("steps", "job", "github", "env")
REPEATS = 7


def hand_written(contexts: Mapping[str, Any]) -> bool:
    """The same condition written directly in Python (no case folding)."""
    result: bool = (
        contexts["job"]["status"] == "success"
        and contexts["steps"]["a"]["outputs"]["x"] == "y"
    )
    return result


def rate(function: Callable[[], object], number: int) -> float:
    """Calls per second: the best of REPEATS runs of ``number`` calls."""
    best = min(timeit.repeat(function, number=number, repeat=REPEATS))
    return number / best


def main() -> None:
    condition = expressions.compile_condition(CONDITION, names=NAMES)
    assert expressions.truthy(condition.evaluate(CONTEXTS))
    assert hand_written(CONTEXTS)

    evaluations = rate(lambda: condition.evaluate(CONTEXTS), 100_000)
    baseline = rate(lambda: hand_written(CONTEXTS), 100_000)

    counter = itertools.count()

    def compile_cold() -> None:
        # A text never seen before: a cache miss every time.
        text = f"success() && steps.a.outputs.x == 'y{next(counter)}'"
        expressions.compile_condition(text, names=NAMES)

    cold = rate(compile_cold, 2_000)
    cached = rate(lambda: expressions.compile_condition(CONDITION, names=NAMES), 50_000)

    print(f"condition: {condition.source}")
    print(f"evaluate compiled condition  {evaluations:>12,.0f} /s")
    print(f"hand-written Python baseline {baseline:>12,.0f} /s")
    print(f"  -> the expression is {baseline / evaluations:.1f}x slower than Python")
    print(f"compile, cold (cache miss)   {cold:>12,.0f} /s")
    print(f"compile, cached              {cached:>12,.0f} /s")
    print(f"  -> the cache is {cached / cold:.0f}x faster than compiling")


if __name__ == "__main__":
    main()
