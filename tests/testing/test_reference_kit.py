"""The testing kit: ScriptedStep, strategies, job_to_python, the fuzz CLI."""

from __future__ import annotations

import math

import pytest
import trio
import trio.testing
from hypothesis import given, settings

import trio_steps as ts
from trio_steps.testing import (
    RaisingCondition,
    Script,
    ScriptedStep,
    Write,
    _fuzz,
    check_against_model,
    jobs,
    simulate,
)
from trio_steps.testing.__main__ import main
from trio_steps.testing._python import job_to_python
from trio_steps.testing._strategies import InvalidJob, invalid_jobs

from .testing_helpers import examples


@pytest.mark.parametrize(
    "kwargs",
    [
        {"duration": -1},
        {"duration": math.nan},
        {"duration": 1, "stop_delay": -0.25},
        {"duration": 1, "stop_delay": math.nan},
        {"duration": 1, "ending": "explode"},
        {"duration": 1, "writes": [Write(at=2, kind="output", name="o")]},
        {
            "duration": 2,
            "writes": [
                Write(at=1, kind="env", name="E"),
                Write(at=0.5, kind="env", name="F"),
            ],
        },
        {"duration": 1, "timeout": 0},
    ],
)
def test_scripted_step_rejects_bad_times(kwargs: dict[str, object]) -> None:
    with pytest.raises(ts.JobDefinitionError):
        ScriptedStep(**kwargs)  # type: ignore[arg-type]


def test_scripted_step_is_a_step_whose_run_is_a_script() -> None:
    step = ScriptedStep(math.inf, stop_delay=math.inf, id="s", background=True)
    assert isinstance(step, ts.Step)
    assert isinstance(step.run, Script)
    assert step.run == Script(duration=math.inf, stop_delay=math.inf)


@pytest.mark.parametrize(
    ("ending", "outcome"),
    [("succeed", "SUCCEEDED"), ("fail", "FAILED"), ("raise", "FAILED")],
)
def test_the_engine_runs_a_script(ending: str, outcome: str) -> None:
    step = ScriptedStep(
        1.5,
        ending=ending,  # type: ignore[arg-type]
        writes=[
            Write(at=0.5, kind="output", name="o", value="v"),
            Write(at=1.5, kind="env", name="E", value="e"),
        ],
        id="s",
    )
    report = trio.run(
        ts.run_job, ts.Job([step]), clock=trio.testing.MockClock(autojump_threshold=0)
    )
    s = report.steps["s"]
    assert s.outcome is not None
    assert (s.started_at, s.finished_at, s.outcome.name) == (0.0, 1.5, outcome)
    assert dict(s.outputs) == {"o": "v"}
    assert report.env["E"] == "e"


def test_a_stopped_script_keeps_running_for_its_stop_delay() -> None:
    job = ts.Job(
        [ScriptedStep(10, id="s", background=True, stop_delay=2), ts.Cancel("s")],
        interrupt_grace=5,
        terminate_grace=0,
    )
    report = trio.run(
        ts.run_job, job, clock=trio.testing.MockClock(autojump_threshold=0)
    )
    assert (report.steps["s"].finished_at, report.steps["s"].abandoned) == (2.0, False)


@settings(max_examples=examples(ci=300, dev=50))
@given(invalid_jobs())
def test_invalid_jobs_raise_job_definition_error_r7(invalid: InvalidJob) -> None:
    with pytest.raises(ts.JobDefinitionError):
        invalid()


@settings(max_examples=examples(ci=300, dev=50))
@given(jobs())
def test_job_to_python_builds_an_equal_job(job: ts.Job) -> None:
    namespace: dict[str, object] = {}
    exec(compile(job_to_python(job), "<job>", "exec"), namespace)
    rebuilt = namespace["job"]
    assert rebuilt == job
    assert isinstance(rebuilt, ts.Job)
    assert simulate(rebuilt) == simulate(job)


def test_job_to_python_writes_every_kind_of_step() -> None:
    job = ts.Job(
        [
            ScriptedStep(
                math.inf,
                id="a",
                background=True,
                timeout=1,
                stop_delay=0.5,
                observe=True,
            ),
            ts.Parallel(
                [ScriptedStep(1, id="b", condition=RaisingCondition("boom"))],
                name="group",
            ),
            ts.Wait(["a"], id="w", name="wait", continue_on_error=True),
            ts.Cancel("b", id="c"),
            ts.WaitAll(continue_on_error=True),
        ],
        post_steps=[ScriptedStep(0, id="p", ending="raise", condition=ts.failure)],
        env={"E": "1"},
        timeout=3.5,
        interrupt_grace=0,
    )
    text = job_to_python(job)
    assert "math.inf" in text and "RaisingCondition(message='boom')" in text
    namespace: dict[str, object] = {}
    exec(text, namespace)
    assert namespace["job"] == job


def test_job_to_python_refuses_what_it_cannot_write() -> None:
    async def real(ctx: ts.StepContext) -> None:
        pass

    with pytest.raises(ValueError, match="not scripted"):
        job_to_python(ts.Job([ts.Step(real, id="x")]))
    with pytest.raises(ValueError, match="condition"):
        job_to_python(ts.Job([ScriptedStep(1, condition=lambda s: True)]))


def test_fuzz_command_agrees_on_a_few_jobs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--examples", "5", "--seed", "1", "--max-steps", "2"]) == 0
    assert "engine and model agree" in capsys.readouterr().out


def test_fuzz_command_passes_the_semantics_through(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: set[object] = set()

    def recording(job: ts.Job, **kw: object) -> ts.JobReport:
        seen.add(kw.get("semantics"))
        return check_against_model(job, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(_fuzz, "check_against_model", recording)
    args = ["fuzz", "--examples", "5", "--seed", "1", "--max-steps", "3"]
    assert main([*args, "--semantics", "github-runner"]) == 0
    assert "engine and model agree" in capsys.readouterr().out
    assert seen == {"github-runner"}


def test_fuzz_prints_the_minimal_failing_job_as_python(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fails_with_background(job: ts.Job) -> ts.JobReport:
        report = simulate(job)
        assert not any(p.background for p in job.plan), "a background step"
        return report

    monkeypatch.setattr(_fuzz, "check_against_model", fails_with_background)
    assert main(["fuzz", "--examples", "200", "--seed", "3"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "a background step" in out
    code = out.split("# minimal job:\n", 1)[1]
    namespace: dict[str, object] = {}
    exec(code, namespace)
    job = namespace["job"]
    assert isinstance(job, ts.Job)
    assert [type(s).__name__ for s in job.steps] == ["Step"]
    assert job.steps[0].background  # type: ignore[union-attr]
