"""The workflow loader: corpora of valid and invalid files, and what a job holds.

Rules cited: rules §13 (workflow files), §7 (validation), §14 (expressions).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import trio_steps as ts
from trio_steps._workflow._nodes import Problem, WorkflowError
from trio_steps._workflow._read import load_workflow, read_workflow, select_job

HERE = Path(__file__).parent
VALID = sorted((HERE / "valid").glob("*.yml"))
INVALID = sorted((HERE / "invalid").glob("*.yml"))
EXPECT_RE = re.compile(r"# expect: (\d+):(\d+): (.+)")


def _expectation(path: Path) -> tuple[int, int, str]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = EXPECT_RE.fullmatch(first)
    assert match, f"{path.name}: the first line must be '# expect: L:C: fragment'"
    return int(match[1]), int(match[2]), match[3]


def _problems(source: str | os.PathLike[str], **kw: object) -> list[Problem]:
    with pytest.raises(WorkflowError) as info:
        load_workflow(source, **kw)  # type: ignore[arg-type]
    return list(info.value.problems)


def test_corpora_are_big_enough() -> None:
    assert len(INVALID) >= 40
    assert len(VALID) >= 10


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_corpus(path: Path) -> None:
    """Each file breaks one rule: exactly one problem, at the expected place."""
    line, column, fragment = _expectation(path)
    with pytest.raises(WorkflowError) as info:
        read_workflow(path)
    problems = info.value.problems
    assert [(p.line, p.column) for p in problems] == [(line, column)], str(info.value)
    assert fragment in problems[0].message
    assert problems[0].file == str(path)
    assert str(info.value) == f"{path}:{line}:{column}: {problems[0].message}"


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_corpus(path: Path) -> None:
    workflow = read_workflow(path)
    assert workflow.jobs
    for job in workflow.jobs.values():
        assert isinstance(job, ts.Job)
        assert job.plan


def _one(text: str, **kw: object) -> ts.Job:
    return load_workflow(text, **kw)  # type: ignore[arg-type]


HEAD = "on: push\njobs:\n  build:\n    steps:\n"


def test_on_is_a_string_key_not_true() -> None:
    """YAML 1.2: 'on' and 'yes' stay strings (rules §13)."""
    job = _one(
        "on: push\njobs:\n  build:\n    steps:\n      - run: echo\n        env:\n          A: yes\n"
    )
    step = job.steps[0]
    assert isinstance(step, ts.Step)
    assert step.env == {"A": "yes"}


def test_non_string_scalars_become_strings() -> None:
    """`run: true` runs `true` (rules §13)."""
    job = _one(
        HEAD
        + "      - run: true\n      - run: 42\n        name: 7\n"
        + "        env: {F: 1.5, B: false, N: 10, E: }\n"
    )
    first, second = job.steps
    assert isinstance(first, ts.Step) and isinstance(second, ts.Step)
    assert first.run == "true"
    assert second.run == "42"
    assert second.name == "7"
    assert dict(second.env) == {"F": "1.5", "B": "false", "N": "10", "E": ""}


def test_env_layers_workflow_then_job_then_step() -> None:
    """Workflow env < job env (both in Job.env) < step env (rules §13)."""
    job = _one(
        "on: push\nenv: {LEVEL: workflow, W: w}\njobs:\n  build:\n"
        "    env: {LEVEL: job, J: j}\n    steps:\n"
        "      - run: echo\n        env: {LEVEL: step}\n"
    )
    assert dict(job.env) == {"LEVEL": "job", "W": "w", "J": "j"}
    step = job.steps[0]
    assert isinstance(step, ts.Step)
    assert dict(step.env) == {"LEVEL": "step"}


def test_defaults_run_job_overrides_workflow_and_step_overrides_both() -> None:
    job = _one(
        "on: push\ndefaults: {run: {shell: bash, working-directory: /tmp}}\n"
        "jobs:\n  build:\n    defaults: {run: {shell: sh}}\n    steps:\n"
        "      - run: a\n      - run: b\n        shell: python\n        working-directory: sub\n"
    )
    a, b = job.steps
    assert isinstance(a, ts.Step) and isinstance(b, ts.Step)
    assert (a.shell, a.working_directory) == ("sh", "/tmp")
    assert (b.shell, b.working_directory) == ("python", "sub")


def test_timeouts_in_minutes_fractions_allowed() -> None:
    job = _one(
        "on: push\njobs:\n  build:\n    timeout-minutes: 1.5\n    steps:\n"
        "      - run: a\n        timeout-minutes: 0.25\n"
    )
    assert job.timeout == 90.0
    step = job.steps[0]
    assert isinstance(step, ts.Step)
    assert step.timeout == 15.0


def test_background_control_steps_and_parallel() -> None:
    """Shapes of rules §13 map to the Python API; parallel is R4.9."""
    job = _one(
        HEAD
        + "      - {id: db, run: sleep 1, background: true, continue-on-error: true}\n"
        + "      - {id: web, run: sleep 1, background: true}\n"
        + "      - {wait: db, continue-on-error: true, name: Wait for the db}\n"
        + "      - {wait: [WEB]}\n"
        + "      - {id: late, run: sleep 1, background: true}\n"
        + "      - {cancel: late, id: stop}\n"
        + "      - {wait-all: }\n"
        + "      - {wait-all: true}\n"
        + "      - parallel:\n          - {id: lint, run: a}\n          - {run: b}\n"
    )
    db, web, wait_db, wait_web, late, cancel, wa1, wa2, parallel = job.steps
    assert isinstance(db, ts.Step) and db.background and db.continue_on_error
    assert isinstance(web, ts.Step) and web.background
    assert isinstance(wait_db, ts.Wait)
    assert wait_db.ids == ("db",) and wait_db.continue_on_error
    assert wait_db.name == "Wait for the db"
    assert isinstance(wait_web, ts.Wait) and wait_web.ids == ("WEB",)
    assert isinstance(late, ts.Step)
    assert (
        isinstance(cancel, ts.Cancel)
        and cancel.ids == ("late",)
        and cancel.id == "stop"
    )
    assert isinstance(wa1, ts.WaitAll) and isinstance(wa2, ts.WaitAll)
    assert isinstance(parallel, ts.Parallel)
    assert [m.id for m in parallel.steps] == ["lint", None]
    kinds = [(p.id, p.kind, p.background) for p in job.plan]
    assert ("lint", "run", True) in kinds
    assert not job.implicit_wait_all


def test_if_becomes_an_expression_condition() -> None:
    job = _one(
        HEAD
        + "      - run: a\n        if: ${{ failure() }}\n      - run: b\n        if: false\n"
    )
    a, b = job.steps
    assert isinstance(a, ts.Step) and isinstance(b, ts.Step)
    assert a.condition == "${{ failure() }}"
    assert b.condition == "false"
    assert a.compiled_condition is not None


def test_checkout_is_a_python_no_op_step() -> None:
    job = _one(
        HEAD + "      - uses: actions/checkout@v4\n        with: {fetch-depth: 0}\n"
    )
    step = job.steps[0]
    assert isinstance(step, ts.Step)
    assert callable(step.run)
    assert step.display_name == "Run actions/checkout@v4"


def test_unsupported_uses_is_an_error_unless_skipped() -> None:
    text = HEAD + "      - uses: docker://alpine:3\n        id: node\n"
    [problem] = _problems(text)
    assert (problem.line, problem.column) == (5, 15)
    assert "--skip-unsupported" in problem.message
    workflow = read_workflow(text, skip_unsupported=True)
    [warning] = workflow.warnings
    assert (warning.line, warning.column) == (5, 15)
    step = select_job(workflow, None).steps[0]
    assert isinstance(step, ts.Step)
    assert step.id == "node"
    assert step.name is not None and "unsupported" in step.name
    assert callable(step.condition)
    assert step.condition(ts.Status()) is False


async def test_skipped_unsupported_step_is_reported_skipped() -> None:
    """The engine reports it SKIPPED (R2.5) and the job still succeeds."""
    job = load_workflow(
        HEAD
        + "      - uses: docker://alpine:3\n        id: node\n      - run: 'true'\n",
        skip_unsupported=True,
    )
    report = await ts.run_job(job)
    assert report.steps["node"].conclusion is ts.Result.SKIPPED
    assert report.result is ts.Result.SUCCEEDED


async def test_checkout_step_runs_and_logs() -> None:
    job = load_workflow(HEAD + "      - uses: actions/checkout@v4\n        id: co\n")
    report = await ts.run_job(job)
    step = report.steps["co"]
    assert step.conclusion is ts.Result.SUCCEEDED
    assert any("workspace" in line for line in step.log)


def test_problems_are_collected_and_sorted() -> None:
    """Errors are collected, not stopped at the first (rules §13)."""
    text = (
        "on: push\njobs:\n  b:\n    steps:\n"
        "      - run: x\n        bogus: 1\n"  # line 6
        "      - wait: nope\n"  # line 7
        "  a:\n    timeout-minutes: -3\n    steps:\n"  # line 9
        "      - run: y\n        if: ${{ ) }}\n"  # line 12
    )
    problems = _problems(text)
    assert [(p.line, p.column) for p in problems] == [
        (6, 9),
        (7, 15),
        (9, 22),
        (12, 17),
    ]
    lines = str(WorkflowError(reversed(problems))).splitlines()
    assert lines[0].startswith("<string>:6:9: ")
    assert len(lines) == 4


def test_whole_file_is_validated_whichever_job_is_chosen() -> None:
    text = (
        "on: push\njobs:\n  good:\n    steps:\n      - run: x\n"
        "  bad:\n    steps:\n      - wait: ghost\n"
    )
    [problem] = _problems(text, job="good")
    assert (problem.line, problem.column) == (8, 15)


def test_several_jobs_need_a_choice_listing_the_ids() -> None:
    text = "on: push\njobs:\n  lint:\n    steps: [{run: a}]\n  test:\n    steps: [{run: b}]\n"
    [problem] = _problems(text)
    assert (problem.line, problem.column) == (2, 1)
    assert "lint, test" in problem.message
    assert "--job" in problem.message
    job = load_workflow(text, job="TEST")  # ids ignore case
    assert job.name == "test"


def test_unknown_job_lists_the_ones_that_exist() -> None:
    text = "on: push\njobs:\n  lint:\n    steps: [{run: a}]\n"
    [problem] = _problems(text, job="deploy")
    assert "no job 'deploy'" in problem.message
    assert "lint" in problem.message


def test_missing_file_is_a_workflow_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yml"
    [problem] = _problems(missing)
    assert problem.file == str(missing)
    assert (problem.line, problem.column) == (1, 1)
    assert "no such file" in problem.message


def test_path_and_text_sources_agree(tmp_path: Path) -> None:
    text = HEAD + "      - run: echo hi\n"
    path = tmp_path / "w.yml"
    path.write_text(text, encoding="utf-8")
    assert load_workflow(path) == load_workflow(text)


def test_workflow_error_is_a_value_error() -> None:
    assert issubclass(WorkflowError, ValueError)
    error = WorkflowError([Problem("f.yml", 3, 4, "b"), Problem("f.yml", 1, 2, "a")])
    assert str(error) == "f.yml:1:2: a\nf.yml:3:4: b"
    assert [p.message for p in error.problems] == ["a", "b"]


@pytest.mark.parametrize(
    ("step", "fragment"),
    [
        ("- {run: a, unknwn: 1}", "unknown key 'unknwn'"),
        ("- {run: a, backgrond: true}", "did you mean 'background'"),
        ("- {run: a, with: {x: 1}}", "'with' is not allowed on a run step"),
    ],
)
def test_unknown_keys_say_how_to_fix(step: str, fragment: str) -> None:
    [problem] = _problems(HEAD + "      " + step + "\n")
    assert fragment in problem.message


def test_expression_errors_point_at_the_expression_in_a_block_scalar() -> None:
    """§14: syntax errors at file:line:column of the expression."""
    text = HEAD + "      - run: |\n          echo ok\n\n          echo ${{ 1 < }}\n"
    [problem] = _problems(text)
    # "          echo ${{ 1 < }}": '<' is at column 22, the parser reports the
    # end of the expression there.
    assert problem.line == 8
    assert problem.column == 22


def test_second_expression_on_a_line_is_located() -> None:
    text = HEAD + "      - run: echo ${{ github.sha }} ${{ nope }}\n"
    [problem] = _problems(text)
    assert (problem.line, problem.column) == (5, 41)
    assert "nope" in problem.message


def test_job_ids_are_checked() -> None:
    text = "on: push\njobs:\n  Build:\n    steps: [{run: a}]\n  build:\n    steps: [{run: b}]\n"
    [problem] = _problems(text)
    assert (problem.line, problem.column) == (5, 3)
    assert "used twice" in problem.message


def test_reusable_workflow_jobs_are_accepted_but_not_runnable() -> None:
    text = (
        "on: push\njobs:\n  call:\n    uses: org/repo/.github/workflows/x.yml@main\n"
        "  own:\n    steps: [{run: a}]\n"
    )
    workflow = read_workflow(text)
    assert list(workflow.jobs) == ["own"]
    assert any("reusable workflow" in w.message for w in workflow.warnings)
    with pytest.raises(WorkflowError, match="reusable workflow"):
        select_job(workflow, "call")


def test_expressions_in_timeout_minutes_and_continue_on_error_section_14() -> None:
    job = load_workflow(
        "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n"
        "      - run: make\n"
        "        timeout-minutes: ${{ inputs.minutes }}\n"
        "        continue-on-error: ${{ github.event_name == 'push' }}\n"
    )
    (step,) = [s for s in job.steps if isinstance(s, ts.Step)]
    assert step.timeout_seconds is None  # the template is kept in timeout
    assert step.timeout_template == "${{ inputs.minutes }}m"
    assert step.continue_on_error_template == "${{ github.event_name == 'push' }}"


def test_bad_expression_in_timeout_minutes_is_reported_where_it_is() -> None:
    (problem,) = _problems(
        "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n"
        "      - run: make\n"
        "        timeout-minutes: ${{ nope() }}\n"
    )
    assert (problem.line, problem.column) == (7, 30)
    assert "invalid expression in timeout-minutes" in problem.message
