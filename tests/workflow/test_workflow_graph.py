"""Whole workflows at load time: needs, matrix, outputs, strategy (rules §15).

The matrix cases are GitHub's documented examples ("Using a matrix for your
jobs"), with the combinations the documentation lists.
"""

from __future__ import annotations

import pytest

import trio_steps as ts
from trio_steps._matrix import MatrixError, combination_label, expand_matrix
from trio_steps._workflow._nodes import WorkflowError
from trio_steps._workflows import find_cycle

# ------------------------------------------------------------------ R15.4


def test_r15_4_product_first_key_slowest() -> None:
    got = expand_matrix({"version": [10, 12, 14], "os": ["ubuntu", "windows"]})
    assert got == [
        {"version": 10, "os": "ubuntu"},
        {"version": 10, "os": "windows"},
        {"version": 12, "os": "ubuntu"},
        {"version": 12, "os": "windows"},
        {"version": 14, "os": "ubuntu"},
        {"version": 14, "os": "windows"},
    ]


def test_r15_4_docs_expanding_configurations() -> None:
    got = expand_matrix(
        {
            "os": ["windows-latest", "ubuntu-latest"],
            "node": [14, 16],
            "include": [{"os": "windows-latest", "node": 16, "npm": 6}],
        }
    )
    assert got == [
        {"os": "windows-latest", "node": 14},
        {"os": "windows-latest", "node": 16, "npm": 6},
        {"os": "ubuntu-latest", "node": 14},
        {"os": "ubuntu-latest", "node": 16},
    ]


def test_r15_4_docs_fruit_example() -> None:
    got = expand_matrix(
        {
            "fruit": ["apple", "pear"],
            "animal": ["cat", "dog"],
            "include": [
                {"color": "green"},
                {"color": "pink", "animal": "cat"},
                {"fruit": "apple", "shape": "circle"},
                {"fruit": "banana"},
                {"fruit": "banana", "animal": "cat"},
            ],
        }
    )
    assert got == [
        {"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
        {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
        {"fruit": "pear", "animal": "cat", "color": "pink"},
        {"fruit": "pear", "animal": "dog", "color": "green"},
        {"fruit": "banana"},
        {"fruit": "banana", "animal": "cat"},
    ]


def test_r15_4_docs_adding_a_configuration() -> None:
    got = expand_matrix(
        {
            "os": ["macos-latest", "windows-latest", "ubuntu-latest"],
            "version": [12, 14, 16],
            "include": [{"os": "windows-latest", "version": 17}],
        }
    )
    assert len(got) == 10
    assert got[-1] == {"os": "windows-latest", "version": 17}


def test_r15_4_docs_include_only() -> None:
    include = [
        {"site": "production", "datacenter": "site-a"},
        {"site": "staging", "datacenter": "site-b"},
    ]
    assert expand_matrix({"include": include}) == include


def test_r15_4_docs_exclude() -> None:
    got = expand_matrix(
        {
            "os": ["macos-latest", "windows-latest"],
            "version": [12, 14, 16],
            "environment": ["staging", "production"],
            "exclude": [
                {"os": "macos-latest", "version": 12, "environment": "production"},
                {"os": "windows-latest", "version": 16},
            ],
        }
    )
    assert len(got) == 9
    assert {"os": "macos-latest", "version": 12, "environment": "production"} not in got
    assert not [c for c in got if c["os"] == "windows-latest" and c["version"] == 16]


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ({"os": []}, "has no values"),
        ({"os": "linux"}, "must be a list"),
        ({"os": ["a"], "exclude": [{"os": "a"}]}, "makes no jobs"),
        ({"a": list(range(20)), "b": list(range(20))}, "more than the limit"),
        ({"include": "x"}, "include must be a list"),
    ],
)
def test_r15_4_bad_matrices(matrix: dict[str, object], message: str) -> None:
    with pytest.raises(MatrixError, match=message):
        expand_matrix(matrix)


def test_r15_4_names_as_github_shows_them() -> None:
    assert combination_label("test", {"py": 3.12, "os": "a"}) == "test (3.12, a)"
    assert combination_label("test", {"py": 3.0, "x": True}) == "test (3, true)"
    assert combination_label("test", {}) == "test"


# ------------------------------------------------------------------ R15.1


def test_r15_1_find_cycle() -> None:
    assert find_cycle({"a": ["b"], "b": []}) is None
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["a"]}) == ["a", "a"]
    assert find_cycle({"a": ["zzz"]}) is None


def _wjob(id: str, *needs: str) -> ts.WorkflowJob:
    return ts.WorkflowJob(id=id, job=ts.Job([ts.Step("true")]), needs=needs)


def test_r15_1_workflow_lists_every_graph_problem() -> None:
    with pytest.raises(ts.JobDefinitionError) as info:
        ts.Workflow([_wjob("a", "b"), _wjob("b", "a"), _wjob("c", "nope"), _wjob("C")])
    text = str(info.value)
    assert "'nope'" in text
    assert "cycle: a -> b -> a" in text
    assert "'C' is used twice" in text


def test_r15_1_select_keeps_what_a_job_needs() -> None:
    workflow = ts.Workflow(
        [_wjob("a"), _wjob("b", "a"), _wjob("c", "b"), _wjob("d")], name="w"
    )
    assert [j.id for j in workflow.select("C").jobs] == ["a", "b", "c"]
    assert workflow.ancestors("c") == {"a", "b"}
    with pytest.raises(KeyError):
        workflow.select("e")


def test_r15_1_workflow_job_checks_its_expressions() -> None:
    with pytest.raises(ts.JobDefinitionError) as info:
        ts.WorkflowJob(
            id="a",
            job=ts.Job([ts.Step("true")]),
            condition="steps.x.outcome",
            outputs={"o": "${{ nope.x }}"},
            matrix={"os": []},
            max_parallel=0,
        )
    text = str(info.value)
    assert "invalid if" in text
    assert "invalid output 'o'" in text
    assert "has no values" in text
    assert "max_parallel" in text


# ----------------------------------------------------------- the loader


WORKFLOW = """\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    outputs:
      tag: ${{ steps.t.outputs.tag }}
    steps:
      - id: t
        run: echo tag=v1 >> "$GITHUB_OUTPUT"
  test:
    name: unit
    needs: build
    if: ${{ needs.build.result == 'success' }}
    runs-on: ${{ matrix.os }}
    timeout-minutes: ${{ matrix.minutes }}
    continue-on-error: ${{ matrix.experimental }}
    concurrency: group-1
    env:
      PY: ${{ matrix.py }}
    strategy:
      fail-fast: false
      max-parallel: 2
      matrix:
        py: ["3.11", "3.12"]
        os: [linux]
        include:
          - py: "3.12"
            experimental: true
    steps:
      - run: echo $PY
"""


def test_r15_1_loader_reads_every_workflow_key() -> None:
    workflow = ts.read_workflow_file(WORKFLOW)
    build, test = workflow.jobs
    assert build.runs_on == "ubuntu-latest"
    assert build.outputs == {"tag": "${{ steps.t.outputs.tag }}"}
    assert test.needs == ("build",)
    assert test.condition == "${{ needs.build.result == 'success' }}"
    assert test.fail_fast is False
    assert test.max_parallel == 2
    assert test.timeout_minutes == "${{ matrix.minutes }}"
    assert test.continue_on_error == "${{ matrix.experimental }}"
    assert test.matrix == {
        "py": ["3.11", "3.12"],
        "os": ["linux"],
        "include": [{"py": "3.12", "experimental": True}],
    }
    assert test.job.name == "unit"
    assert test.job.env == {"PY": "${{ matrix.py }}"}


def test_r15_1_job_option_keeps_what_it_needs() -> None:
    text = WORKFLOW + "  other:\n    steps:\n      - run: true\n"
    assert [j.id for j in ts.read_workflow_file(text).jobs] == [
        "build",
        "test",
        "other",
    ]
    assert [j.id for j in ts.read_workflow_file(text, job="TEST").jobs] == [
        "build",
        "test",
    ]
    with pytest.raises(WorkflowError, match="no job 'nope'"):
        ts.read_workflow_file(text, job="nope")


def test_r15_1_every_problem_at_once() -> None:
    text = """\
on: push
jobs:
  a:
    needs: [b, ghost]
    if: steps.x.outputs.y
    outputs:
      o: ${{ matrix.x ==== 1 }}
    strategy:
      matrix:
        os: 3
    steps:
      - run: true
  b:
    needs: a
    steps:
      - run: true
"""
    with pytest.raises(WorkflowError) as info:
        ts.read_workflow_file(text)
    got = [(p.line, p.column, p.message) for p in info.value.problems]
    assert [(line, col) for line, col, _ in got] == [
        (3, 3),
        (4, 16),
        (5, 9),
        (7, 25),
        (10, 13),
    ], got
    assert "cycle: a -> b -> a" in got[0][2]
    assert "'ghost'" in got[1][2]
    assert "'steps'" in got[2][2]
    assert "must be a non-empty list" in got[4][2]


def test_r15_4_matrix_from_expression_is_kept_for_run_time() -> None:
    text = """\
on: push
jobs:
  a:
    strategy:
      matrix: ${{ fromJSON(vars.m) }}
    steps:
      - run: true
  b:
    strategy:
      matrix:
        os: ${{ fromJSON(vars.os) }}
        py: [1]
    steps:
      - run: true
"""
    a, b = ts.read_workflow_file(text).jobs
    assert a.matrix == "${{ fromJSON(vars.m) }}"
    assert b.matrix == {"os": "${{ fromJSON(vars.os) }}", "py": [1]}


def test_r15_1_strategy_is_no_longer_a_warning() -> None:
    from trio_steps._workflow._read import read_workflow

    loaded = read_workflow(WORKFLOW)
    assert not [w for w in loaded.warnings if "strategy" in w.message]


def test_r15_1_jobs_needing_a_reusable_workflow_do_not_run() -> None:
    from trio_steps._workflow._read import read_workflow

    text = """\
on: push
jobs:
  call:
    uses: org/repo/.github/workflows/x.yml@v1
  after:
    needs: call
    steps:
      - run: true
  alone:
    steps:
      - run: true
"""
    loaded = read_workflow(text)
    assert loaded.workflow is not None
    assert [j.id for j in loaded.workflow.jobs] == ["alone"]
    assert [(w.line, w.column) for w in loaded.warnings] == [(4, 5), (5, 3)]
    assert (
        "'after' needs a job that calls a reusable workflow"
        in loaded.warnings[1].message
    )
    with pytest.raises(WorkflowError, match="needs a job that calls a reusable"):
        ts.read_workflow_file(text, job="after")
