"""Every rule number cited in the project is defined on the rules page.

Code, tests and docs cite ``R4.4``, ``I5`` and ``§7``; ``docs/source/rules.rst``
gives each number a label. The docs build catches a ``:rule:`` link to a
missing label; this catches plain-text citations in code and tests too.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "docs" / "source" / "rules.rst"
SEARCHED = ("src", "tests", "docs", "benchmarks", "examples", "tools", "README.md")
SUFFIXES = {".py", ".rst", ".md", ".toml", ".yml", ".yaml"}

_LABEL = re.compile(r"^\s*(?:\d+\. )?\.\. _([^:]+):\s*$", re.MULTILINE)
_CITATION = re.compile(r"(?<![\w.])(R\d+(?:\.\d+){0,2}|I\d+|§\d+(?:\.\d+)?)(?!\w)")


def _label(number: str) -> str:
    # Sphinx lowercases labels; sections are labelled s7 (anchors drop "§").
    return ("s" + number[1:] if number.startswith("§") else number).lower()


def _files() -> list[Path]:
    found: list[Path] = []
    for name in SEARCHED:
        path = ROOT / name
        found += [path] if path.is_file() else sorted(path.rglob("*"))
    return [path for path in found if path.suffix in SUFFIXES and path.is_file()]


def test_every_cited_rule_is_on_the_rules_page() -> None:
    labels = {label.lower() for label in _LABEL.findall(RULES.read_text("utf-8"))}
    undefined = {
        f"{path.relative_to(ROOT)}: {number}"
        for path in _files()
        for number in _CITATION.findall(path.read_text("utf-8", errors="replace"))
        if _label(number) not in labels
    }
    assert not undefined, sorted(undefined)


def test_the_page_defines_the_numbered_rules() -> None:
    labels = set(_LABEL.findall(RULES.read_text("utf-8")))
    sizes = {2: 5, 3: 6, 4: 11, 5: 4, 6: 6}
    rules = {f"R{s}.{n}" for s, count in sizes.items() for n in range(1, count + 1)}
    invariants = {f"I{n}" for n in range(1, 11)}
    sections = {f"s{n}" for n in range(1, 15)} | {f"s11.{n}" for n in range(1, 11)}
    assert rules | invariants | sections <= labels


def test_the_page_defines_githubs_runner_as_a_semantics() -> None:
    """§11.11, §11.12 and §17 (issue 13): R17.1-R17.10."""
    labels = set(_LABEL.findall(RULES.read_text("utf-8")))
    wanted = {"s11.11", "s11.12", "s17"} | {f"R17.{n}" for n in range(1, 11)}
    assert wanted <= labels
