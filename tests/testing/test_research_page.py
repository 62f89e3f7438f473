"""The worked study of docs/source/research.rst runs and prints what it says."""

from __future__ import annotations

import doctest
from pathlib import Path

DOCS = Path(__file__).parents[2] / "docs" / "source"


def test_research_page_examples_run() -> None:
    result = doctest.testfile(
        str(DOCS / "research.rst"),
        module_relative=False,
        globs={"ts": __import__("trio_steps")},
        optionflags=doctest.ELLIPSIS,
    )
    assert result.attempted > 15
    assert result.failed == 0
