"""Expanding a ``strategy.matrix`` into its combinations (rules §15, R15.4).

Pure functions over JSON-like values: the loader calls them on a literal
matrix (to validate it and name the jobs), the workflow runner on a matrix
that came from an expression (``fromJSON(...)``) once it is known.

GitHub's documented algorithm: the combinations are the product of the
vectors (the first key varies slowest); ``exclude`` entries remove every
combination they match (all their pairs equal); then each ``include``
entry is added to every combination none of whose *original* values it
would change (values added by an earlier ``include`` may be overwritten),
and an entry added to no combination becomes a combination of its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Final

__all__ = ["MAX_COMBINATIONS", "MatrixError", "combination_label", "expand_matrix"]

#: The most jobs one matrix may make, as on GitHub.
MAX_COMBINATIONS: Final = 256

Combination = dict[str, object]


class MatrixError(ValueError):
    """A matrix that cannot be expanded; the message says why."""


def _as_entries(value: object, what: str) -> list[Mapping[str, object]]:
    if value is None:
        return []
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise MatrixError(f"matrix {what} must be a list of mappings")
    entries: list[Mapping[str, object]] = []
    for entry in value:
        if not isinstance(entry, Mapping):
            raise MatrixError(f"each entry of matrix {what} must be a mapping")
        entries.append(entry)
    return entries


def expand_matrix(matrix: Mapping[str, object]) -> list[Combination]:
    """Return the combinations of a matrix, in GitHub's order.

    Args:
        matrix: Vector name → list of values, plus optional ``include`` and
            ``exclude`` lists of mappings.

    Returns:
        One mapping of matrix values per job, each with the vectors' keys
        first (in declared order), then the keys ``include`` added.

    Raises:
        MatrixError: A vector is not a non-empty list, ``include``/``exclude``
            are not lists of mappings, or there are no combinations or more
            than :data:`MAX_COMBINATIONS`.
    """
    if not isinstance(matrix, Mapping):
        raise MatrixError("matrix must be a mapping of names to lists of values")
    vectors: dict[str, Sequence[object]] = {}
    for key, values in matrix.items():
        if key in ("include", "exclude"):
            continue
        if not isinstance(values, Sequence) or isinstance(values, str):
            raise MatrixError(f"matrix vector {key!r} must be a list of values")
        if not values:
            raise MatrixError(f"matrix vector {key!r} has no values")
        vectors[key] = values
    include = _as_entries(matrix.get("include"), "include")
    exclude = _as_entries(matrix.get("exclude"), "exclude")
    size = 1
    for values in vectors.values():
        size *= len(values)
        if size > MAX_COMBINATIONS * 16:
            raise MatrixError(
                f"the matrix makes more than {MAX_COMBINATIONS} jobs, the limit"
            )
    combinations: list[Combination] = []
    if vectors:
        for entry in exclude:
            for key in entry:
                if key not in vectors:
                    raise MatrixError(
                        f"matrix exclude names {key!r}, which is not a vector "
                        f"of the matrix ({', '.join(vectors)})"
                    )
        keys = list(vectors)
        for values in itertools.product(*vectors.values()):
            combination = dict(zip(keys, values, strict=True))
            if not any(_matches(combination, entry) for entry in exclude):
                combinations.append(combination)
    originals = [dict(c) for c in combinations]
    extra: list[Combination] = []
    for entry in include:
        added = False
        for original, combination in zip(originals, combinations, strict=True):
            if all(original[k] == v for k, v in entry.items() if k in original):
                combination.update(entry)
                added = True
        if not added:
            extra.append(dict(entry))
    combinations.extend(extra)
    if not combinations:
        raise MatrixError("the matrix makes no jobs")
    if len(combinations) > MAX_COMBINATIONS:
        raise MatrixError(
            f"the matrix makes {len(combinations)} jobs, more than the limit of "
            f"{MAX_COMBINATIONS}"
        )
    return combinations


def _matches(combination: Mapping[str, object], entry: Mapping[str, object]) -> bool:
    return all(combination.get(k) == v for k, v in entry.items())


def _label(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str | int | float):
        return str(value)
    import json  # only for a matrix value that is a list or a mapping

    return json.dumps(value, separators=(", ", ": "), default=str)


def combination_label(name: str, combination: Mapping[str, object]) -> str:
    """The job name GitHub shows for one combination: ``test (3.12, a)``."""
    if not combination:
        return name
    return f"{name} ({', '.join(_label(v) for v in combination.values())})"
