"""A stateful test: rules build a job step by step; it is replayed and checked.

Rules stay synchronous (they only build a program); the teardown runs the
job in a fresh ``trio.run`` on a MockClock and compares it with the model
and the invariants (rules §10).
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import trio_steps as ts
from trio_steps.testing import simulate
from trio_steps.testing._invariants import check_against_model, check_invariants
from trio_steps.testing._strategies import scripted_steps

from .testing_helpers import examples


class JobBuilder(RuleBasedStateMachine):
    """Builds a job: foreground, background, wait, wait-all, cancel, post steps."""

    def __init__(self) -> None:
        super().__init__()
        self.main: list[object] = []
        self.post: list[ts.Step] = []
        self.background: list[str] = []
        self.count = 0
        self.settings: dict[str, object] = {}

    def next_id(self) -> str:
        self.count += 1
        return f"s{self.count}"

    @rule(data=st.data())
    def foreground(self, data: st.DataObject) -> None:
        self.main.append(data.draw(scripted_steps(id=self.next_id())))

    @rule(data=st.data())
    def background_step(self, data: st.DataObject) -> None:
        step = data.draw(scripted_steps(id=self.next_id(), background=True))
        self.main.append(step)
        self.background.append(step.id or "")

    @precondition(lambda self: bool(self.background))
    @rule(data=st.data(), continue_on_error=st.booleans())
    def wait(self, data: st.DataObject, continue_on_error: bool) -> None:
        ids = data.draw(
            st.lists(
                st.sampled_from(self.background), min_size=1, max_size=3, unique=True
            )
        )
        self.main.append(ts.Wait(ids, continue_on_error=continue_on_error))

    @rule(continue_on_error=st.booleans())
    def wait_all(self, continue_on_error: bool) -> None:
        self.main.append(ts.WaitAll(continue_on_error=continue_on_error))

    @precondition(lambda self: bool(self.background))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        ids = data.draw(
            st.lists(
                st.sampled_from(self.background), min_size=1, max_size=2, unique=True
            )
        )
        self.main.append(ts.Cancel(ids))

    @precondition(lambda self: len(self.post) < 2)
    @rule(data=st.data())
    def post_step(self, data: st.DataObject) -> None:
        self.post.append(data.draw(scripted_steps(id=self.next_id(), post=True)))

    @rule(
        limit=st.integers(1, 12),
        timeout=st.none() | st.integers(1, 40).map(lambda k: k / 4),
        grace=st.sampled_from((0.0, 0.25, 1.0)),
    )
    def configure(self, limit: int, timeout: float | None, grace: float) -> None:
        self.settings = {
            "max_background": limit,
            "timeout": timeout,
            "interrupt_grace": grace,
            "terminate_grace": grace,
        }

    def job(self) -> ts.Job:
        return ts.Job(self.main, post_steps=self.post, **self.settings)  # type: ignore[arg-type]

    @invariant()
    def model_satisfies_invariants(self) -> None:
        job = self.job()
        check_invariants(job, simulate(job))

    def teardown(self) -> None:
        if self.main:
            check_against_model(self.job())


JobBuilder.TestCase.settings = settings(
    max_examples=examples(ci=300, dev=30), stateful_step_count=12, deadline=None
)
test_job_builder = JobBuilder.TestCase
