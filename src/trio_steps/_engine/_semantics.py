"""The engine's semantic variants: what changes under GITHUB_RUNNER (rules §17).

The runner reads one :class:`Variant` for the job and asks it yes/no
questions at the few places where GitHub's runner behaves differently; each
flag names the rule that pins it to the runner's source. Everything else is
the same under both semantics.
"""

from __future__ import annotations

from typing import final

import attrs

from .._semantics import Semantics

__all__ = ["Variant", "variant_for"]


@final
@attrs.frozen(kw_only=True)
class Variant:
    """The engine's behaviour under one :class:`~trio_steps.Semantics`."""

    semantics: Semantics
    #: R4.4 / R17.3: a wait leaves out CANCELED targets a cancel step named.
    wait_ignores_cancelled: bool
    #: §11.7 / R17.3: continue-on-error applies to wait and wait-all.
    waits_honour_continue_on_error: bool
    #: R4.10 / R17.5: a step is flushed once; GitHub flushes it on every wait.
    flush_once: bool
    #: R4.2 / R17.6: a skipped background step is published at once.
    publish_skipped_background: bool
    #: R6.3 / R17.4: a queued step that is stopped ends CANCELED; GitHub
    #: never completes it.
    queued_stop_completes: bool
    #: R6.1 / R17.4: a background step launched after job cancellation runs;
    #: GitHub creates it already cancelled and never completes it.
    launch_after_cancel_runs: bool
    #: R4.2 / R17.8: what a background step sees is fixed at its launch;
    #: GitHub reads ``steps`` (and the path) when it gets its slot.
    frozen_at_launch: bool
    #: R2.4.3 / R17.7: the end merges only what no wait completed; GitHub
    #: merges every background result again.
    end_merges_unwaited_only: bool
    #: §11.8 / R17.9: wait and cancel targets match ignoring case; GitHub's
    #: runner ignores a target written in another case.
    ids_ignore_case: bool

    @property
    def github(self) -> bool:
        return self.semantics is Semantics.GITHUB_RUNNER


_TRIO_STEPS = Variant(
    semantics=Semantics.TRIO_STEPS,
    wait_ignores_cancelled=True,
    waits_honour_continue_on_error=True,
    flush_once=True,
    publish_skipped_background=True,
    queued_stop_completes=True,
    launch_after_cancel_runs=True,
    frozen_at_launch=True,
    end_merges_unwaited_only=True,
    ids_ignore_case=True,
)

_GITHUB_RUNNER = Variant(
    semantics=Semantics.GITHUB_RUNNER,
    wait_ignores_cancelled=False,
    waits_honour_continue_on_error=False,
    flush_once=False,
    publish_skipped_background=False,
    queued_stop_completes=False,
    launch_after_cancel_runs=False,
    frozen_at_launch=False,
    end_merges_unwaited_only=False,
    ids_ignore_case=False,
)


def variant_for(semantics: Semantics) -> Variant:
    """The engine's behaviour under ``semantics``."""
    return _GITHUB_RUNNER if semantics is Semantics.GITHUB_RUNNER else _TRIO_STEPS
