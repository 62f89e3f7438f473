"""Shared test configuration: Hypothesis profiles.

``ci`` is what ``.ci/run`` uses (derandomized, so a CI run is repeatable);
``dev`` is the default for local runs; ``nightly`` is for long fuzzing runs.
Select one with ``HYPOTHESIS_PROFILE=…``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.register_profile(
    "nightly",
    deadline=None,
    max_examples=10_000,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)
