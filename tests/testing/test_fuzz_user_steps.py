"""The user's own steps in generated jobs (issue 14): found, shrunk, reproduced."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

import trio_steps as ts
from trio_steps.testing import (
    Script,
    ScriptedStep,
    check_job,
    job_listing,
    job_to_python,
    jobs,
)
from trio_steps.testing._fuzz import describe, fuzz

from .user_steps import Pool, PoolStep, check_pool, pool_steps, stubborn


def rebuild(code: str) -> ts.Job:
    namespace: dict[str, object] = {}
    exec(compile(code, "<minimal job>", "exec"), namespace)
    job = namespace["job"]
    assert isinstance(job, ts.Job)
    return job


def test_a_fault_in_a_user_step_is_found_and_shrunk_through_the_hook() -> None:
    """A connection released outside its finally leaks when the step is stopped."""
    result = fuzz(
        600,
        seed_value=1,
        extra_steps=pool_steps(careful=False),
        check=check_pool,
        progress=None,
    )
    assert result.failed and result.job is not None and result.job_code is not None
    assert "pool connection(s) leaked" in (result.failure or "")
    assert result.kind == "assertion"
    job = result.job
    # Minimal: the pool step and what stops it (today: the job timeout).
    assert len(job.steps) + len(job.post_steps) <= 2
    runs = [
        s.run
        for e in job.steps
        for s in (e.steps if isinstance(e, ts.Parallel) else [e])
        if isinstance(s, ts.Step)
    ]
    assert [type(r) for r in runs if not isinstance(r, Script)] == [PoolStep]
    # The printed reproduction imports the user's step by name and fails again.
    assert "from tests.testing.user_steps import PoolStep" in result.job_code
    with pytest.raises(AssertionError, match="leaked"):
        check_pool(rebuild(result.job_code))
    # The report is a compact listing, not every derived field of the job.
    text = describe(result)
    assert len(text.splitlines()) < 25
    assert "compiled_condition" not in text and "PlannedStep" not in text


def test_the_careful_user_step_passes() -> None:
    """The same search finds nothing when the connection is given back in a finally."""
    result = fuzz(
        300,
        seed_value=1,
        extra_steps=pool_steps(careful=True),
        check=check_pool,
        progress=None,
    )
    assert not result.failed, result.failure
    assert result.runs == 300


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(jobs(extra_steps=[pool_steps(careful=True)], max_steps=4))
def test_user_steps_are_mixed_in_with_ids_and_background(job: ts.Job) -> None:
    """Every drawn user step gets its position's id (s1, s2, …); jobs stay valid."""
    ids = [p.id for p in job.plan if p.kind == "run"]
    assert ids == [f"s{n}" for n in range(1, len(ids) + 1)]
    Pool.held = 0
    check_job(job)
    assert Pool.held == 0


def test_jobs_with_user_steps_contain_them() -> None:
    from hypothesis import find

    job = find(
        jobs(extra_steps=pool_steps(careful=True)),
        lambda j: any(
            isinstance(s.run, PoolStep) for s in j.steps if isinstance(s, ts.Step)
        ),
        settings=settings(database=None, max_examples=200, derandomize=True),
    )
    # Shrunk to the simplest job with one: a single foreground pool step.
    assert job.steps == (ts.Step(PoolStep(seconds=0.3), id="s1"),)


def test_job_to_python_imports_user_steps_by_name() -> None:
    job = ts.Job(
        [
            ts.Step(stubborn, id="a", background=True, timeout=2.0),
            ts.Step(PoolStep(seconds=0.5, careful=False), id="b", condition="always()"),
            ts.Step("make test", id="c", env={"A": "1"}, shell="bash"),
            ts.Cancel("a"),
        ],
        post_steps=[ScriptedStep(1, id="p")],
    )
    code = job_to_python(job)
    assert "from tests.testing.user_steps import PoolStep, stubborn" not in code
    assert "from tests.testing.user_steps import PoolStep\n" in code
    assert "from tests.testing.user_steps import stubborn\n" in code
    assert rebuild(code) == job


def test_job_to_python_refuses_a_step_it_cannot_import() -> None:
    async def local(ctx: ts.StepContext) -> None:
        pass

    job = ts.Job([ts.Step(local, id="x"), ts.Step(lambda ctx: None, id="y")])  # type: ignore[arg-type, return-value]
    with pytest.raises(ValueError, match="cannot be imported by name"):
        job_to_python(job)
    listing = job_listing(job)
    assert listing.splitlines() == [
        "job (default settings):",
        "  ts.Step(<test_job_to_python_refuses_a_step_it_cannot_import.<locals>.local>, id='x')",
        "  ts.Step(<test_job_to_python_refuses_a_step_it_cannot_import.<locals>.<lambda>>, id='y')",
    ]
