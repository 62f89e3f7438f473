"""How many examples the reference tests run, per Hypothesis profile."""

from __future__ import annotations

import os

from hypothesis import settings


def profile() -> str:
    """The profile tests/conftest.py loaded (same rule as there)."""
    return os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")


def examples(ci: int, dev: int) -> int:
    """``ci`` examples in the ``ci`` profile (or more in ``nightly``), ``dev`` locally."""
    if profile() == "dev":
        return dev
    default = settings.default
    return ci if default is None else max(ci, default.max_examples)
