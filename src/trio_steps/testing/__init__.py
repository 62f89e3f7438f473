"""Tools to test steps and the engine: scripted steps, strategies, invariants.

Hypothesis is needed only for the strategies (:func:`jobs`,
:func:`invalid_jobs`); they are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._scripted import RaisingCondition as RaisingCondition
from ._scripted import Script as Script
from ._scripted import ScriptedStep as ScriptedStep
from ._scripted import Write as Write
from ._scripted import observation as observation

if TYPE_CHECKING:
    from ._strategies import invalid_jobs as invalid_jobs
    from ._strategies import jobs as jobs

__all__ = [
    "RaisingCondition",
    "Script",
    "ScriptedStep",
    "Write",
    "invalid_jobs",
    "jobs",
    "observation",
]

_LAZY = {"jobs", "invalid_jobs"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from . import _strategies

        return getattr(_strategies, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
