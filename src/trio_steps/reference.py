"""The reference model under its first name (see :mod:`trio_steps.testing`).

The model now lives in :mod:`trio_steps.testing`, beside the scripted steps
it runs: ``trio_steps.testing.simulate`` and ``trio_steps.testing.JobNeverEnds``.
This module keeps the old names working.
"""

from __future__ import annotations

from .testing._model import JobNeverEnds, simulate

__all__ = ["JobNeverEnds", "simulate"]
