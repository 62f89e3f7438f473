"""Steps of "your own" for the fuzzing tests, importable by name (job_to_python).

``PoolStep`` takes a connection from a pool and gives it back; with
``careful=False`` it gives it back outside its ``finally`` (the seeded
fault): when the engine stops it (a ``cancel`` step, a timeout, the job
timeout) the connection leaks.
"""

from __future__ import annotations

import attrs
import trio
from hypothesis import strategies as st

import trio_steps as ts


class Pool:
    """Connections taken and not given back."""

    held = 0


@attrs.frozen
class PoolStep:
    """Hold a pool connection for ``seconds``."""

    seconds: float = 1.0
    careful: bool = True

    async def __call__(self, ctx: ts.StepContext) -> None:
        Pool.held += 1
        if self.careful:
            try:
                await trio.sleep(self.seconds)
            finally:
                Pool.held -= 1
        else:
            await trio.sleep(self.seconds)
            Pool.held -= 1  # the fault: not in a finally


async def stubborn(ctx: ts.StepContext) -> None:
    """Run 1.1 s; when stopped, shield itself forever (the job never ends).

    1.1, not a multiple of 0.25 s: never a tie with a scripted step's time.
    """
    try:
        await trio.sleep(1.1)
    except trio.Cancelled:
        with trio.CancelScope(shield=True):
            await trio.sleep_forever()
        raise


def pool_steps(*, careful: bool) -> st.SearchStrategy[ts.Step]:
    """User steps for ``jobs(extra_steps=...)``: pool steps of 0.3 to 2.1 s.

    Not multiples of 0.25 s: a pool step never ends at the instant a
    scripted step or a timeout acts, where the order of the two (and so
    whether the connection leaks) would be Trio's random choice.
    """
    return st.builds(
        PoolStep,
        seconds=st.sampled_from((0.3, 0.7, 1.1, 2.1)),
        careful=st.just(careful),
    ).map(ts.Step)


def check_pool(job: ts.Job) -> None:
    """The fuzzer's check for pool jobs: the engine's, then no connection leaked."""
    from trio_steps.testing import check_job

    Pool.held = 0
    check_job(job)
    assert Pool.held == 0, f"{Pool.held} pool connection(s) leaked"
