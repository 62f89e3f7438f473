"""Action files are validated at load, with file:line:column (R16.1, R16.2)."""

from __future__ import annotations

import pytest

import trio_steps as ts

from .action_helpers import Workspace


def _problems(ws: Workspace, steps: str) -> list[str]:
    with pytest.raises(ts.WorkflowError) as info:
        ws.load(steps)
    return [str(p) for p in info.value.problems]


def test_unknown_key_in_action_yml_r16_1(ws: Workspace) -> None:
    directory = ws.action(
        "acts/a",
        """\
        name: a
        runz: {}
        runs:
          using: composite
          steps:
            - {shell: bash, run: echo, shel: x}
        """,
    )
    problems = _problems(ws, "- uses: ./acts/a\n")
    file = directory / "action.yml"
    assert problems[0].startswith(f"{file}:2:1: unknown key 'runz' in an action")
    assert "did you mean 'runs'" in problems[0]
    assert problems[1].startswith(f"{file}:6:32: unknown key 'shel'")
    assert problems[2].startswith(
        "<string>:6:15: 'uses: ./acts/a': the action is not valid"
    )


@pytest.mark.parametrize(
    ("runs", "column", "fragment"),
    [
        ("{using: docker, image: Dockerfile}", None, "Docker container action"),
        ("{using: node12, main: m.js}", 15, "node12 is no longer supported"),
        ("{using: python, main: m.js}", 15, "unknown runs.using 'python'"),
        ("{using: node20}", 8, "needs 'main'"),
        (
            "{using: node20, main: missing.js}",
            29,
            "main script 'missing.js' does not exist",
        ),
        ("{using: composite}", 8, "needs 'steps'"),
    ],
)
def test_bad_runs_r16_1(
    ws: Workspace, runs: str, column: int | None, fragment: str
) -> None:
    directory = ws.action("acts/a", f"runs: {runs}\n")
    problems = _problems(ws, "- uses: ./acts/a\n")
    if column is None:  # reported at the uses: of the workflow
        assert problems == [
            f"<string>:6:15: 'uses: ./acts/a' is a Docker container action "
            f"({directory}/action.yml), which trio-steps does not support; rewrite "
            "it as a run step or pass --skip-unsupported to skip it"
        ]
    else:
        assert problems[0].startswith(f"{directory}/action.yml:1:{column}: ")
        assert fragment in problems[0]


def test_docker_actions_are_skipped_when_asked_r16_1(ws: Workspace) -> None:
    ws.action("acts/d", "runs: {using: docker, image: Dockerfile}\n")
    from trio_steps._workflow._read import read_workflow

    from .action_helpers import HEAD

    loaded = read_workflow(
        HEAD + "      - {id: d, uses: ./acts/d}\n",
        skip_unsupported=True,
        actions=ws.settings(),
    )
    [warning] = loaded.warnings
    assert "Docker container action" in warning.message
    [step] = loaded.workflow.jobs[0].job.steps  # type: ignore[union-attr]
    assert isinstance(step, ts.Step) and step.name is not None
    assert "unsupported: skipped" in step.name


def test_missing_required_input_and_undeclared_input_r16_2(ws: Workspace) -> None:
    ws.action(
        "acts/a",
        """\
        inputs:
          need: {required: true}
          fine: {required: true, default: x}
        runs: {using: composite, steps: []}
        """,
    )
    problems = _problems(ws, "- uses: ./acts/a\n")
    assert problems == [
        "<string>:6:15: ./acts/a requires the input 'need'; add it under 'with:'"
    ]
    from trio_steps._workflow._read import read_workflow

    from .action_helpers import HEAD

    loaded = read_workflow(
        HEAD + "      - uses: ./acts/a\n        with: {need: 1, extra: 2}\n",
        actions=ws.settings(),
    )
    [warning] = loaded.warnings
    assert (warning.line, warning.column) == (6, 15)
    assert "input 'extra' is not declared" in warning.message


def test_composite_step_problems_r16_1(ws: Workspace) -> None:
    directory = ws.action(
        "acts/a",
        """\
        runs:
          using: composite
          steps:
            - run: echo no shell
            - {shell: bash, run: "echo ${{ inputs.x ==  }}"}
            - {shell: bash, run: echo, background: true}
            - {uses: ./acts/nowhere}
        """,
    )
    problems = _problems(ws, "- uses: ./acts/a\n")
    file = f"{directory}/action.yml"
    assert problems[0] == (
        f"{file}:4:7: a run step of a composite action needs 'shell' (for example "
        "'shell: bash')"
    )
    assert (
        problems[1].startswith(f"{file}:5:")
        and "invalid expression in run" in problems[1]
    )
    assert problems[2].startswith(f"{file}:6:32: 'background' is not allowed")
    assert problems[3].startswith(f"{file}:7:14: 'uses: ./acts/nowhere': no action.yml")


def test_an_action_that_uses_itself_r16_2(ws: Workspace) -> None:
    ws.action(
        "acts/loop",
        "runs:\n  using: composite\n  steps:\n    - uses: ./acts/loop\n",
    )
    problems = _problems(ws, "- uses: ./acts/loop\n")
    assert any("the action uses itself" in p for p in problems)


def test_action_yaml_is_read_too_r16_1(ws: Workspace) -> None:
    directory = ws.root / "acts" / "y"
    directory.mkdir(parents=True)
    (directory / "action.yaml").write_text(
        "runs:\n  using: composite\n  steps:\n    - {shell: bash, run: echo yaml}\n"
    )
    job = ws.load("- {id: y, uses: ./acts/y}\n")
    [step] = job.steps
    assert isinstance(step, ts.Step)
    assert step.display_name == "Run ./acts/y"


def test_bad_uses_text_r16_2(ws: Workspace) -> None:
    problems = _problems(ws, "- uses: not-an-action\n")
    assert problems == [
        "<string>:6:15: 'uses: not-an-action' names no action: use ./path for a "
        "local action or owner/repo[/path]@ref for a remote one"
    ]


def test_a_broken_action_used_twice_is_reported_once_r16_1(ws: Workspace) -> None:
    ws.action("acts/a", "runs: {using: composite, steps: 3}\n")
    problems = _problems(ws, "- uses: ./acts/a\n- uses: ./acts/a\n")
    inside = [p for p in problems if "steps must be a list" in p]
    assert len(inside) == 1
    assert len([p for p in problems if "the action is not valid" in p]) == 2
