"""The examples in docs/source/testing.rst and fuzzing.rst run, and the kit is exported."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import trio_steps.reference
import trio_steps.testing

DOCS = Path(__file__).parents[2] / "docs" / "source"


def test_testing_page_examples_run() -> None:
    result = doctest.testfile(
        str(DOCS / "testing.rst"),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 10
    assert result.failed == 0


@pytest.mark.parametrize("module", [trio_steps.testing, trio_steps.reference])
def test_public_names_are_exported_and_documented(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    page = (DOCS / "testing.rst").read_text()
    for name in names:
        value = getattr(module, name)
        assert value.__doc__, name
        if module is trio_steps.testing and name not in ("EngineRun", "InvalidJob"):
            assert name in page, f"{name} is not documented in testing.rst"


def test_the_kit_imports_without_hypothesis() -> None:
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import trio_steps.testing, trio_steps.reference\n"
        "trio_steps.testing.ScriptedStep(1)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_fuzz_module_runs_as_a_command() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "trio_steps.testing",
            "fuzz",
            "--examples",
            "3",
            "--max-steps",
            "1",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "jobs/s" in done.stdout
    importlib.import_module("trio_steps.testing.__main__")
