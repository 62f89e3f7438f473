"""The public API: every name exported, documented, and in the reference."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

import trio_steps
import trio_steps.expressions
import trio_steps.testing

DOCS = Path(__file__).resolve().parents[1] / "docs" / "source"

SPEC_NAMES = {
    "Job", "Step", "Wait", "WaitAll", "Cancel", "Parallel", "JobRunner", "run_job",
    "StepContext", "Status", "StepView", "success", "failure", "always", "cancelled",
    "Result", "merge_results", "StepReport", "JobReport", "JobDefinitionError",
    "load_workflow", "WorkflowError",
}  # fmt: skip

MODULES = [trio_steps, trio_steps.expressions, trio_steps.testing]


def test_spec_names_are_exported() -> None:
    """Rules §8: the names are part of the contract."""
    missing = SPEC_NAMES - set(trio_steps.__all__)
    assert not missing
    for name in SPEC_NAMES:
        assert getattr(trio_steps, name) is not None


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_public_name_has_a_docstring(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert len(set(names)) == len(names)
    for name in names:
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj):
            assert inspect.getdoc(obj), f"{module.__name__}.{name} has no docstring"  # type: ignore[attr-defined]


def _documented() -> set[str]:
    """Fully qualified names of every autodoc directive in the docs."""
    names: set[str] = set()
    for page in DOCS.glob("*.rst"):
        current = ""
        for line in page.read_text().splitlines():
            found = re.match(r"\.\. (?:current)?module:: ([\w.]+)", line)
            if found:
                current = found.group(1)
                continue
            found = re.match(
                r"\.\. auto(?:class|function|exception|data|attribute):: ([\w.]+)", line
            )
            if found:
                name = found.group(1)
                names.add(
                    name if name.startswith("trio_steps") else f"{current}.{name}"
                )
    return names


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_public_name_is_in_the_reference(module: object) -> None:
    documented = _documented()
    prefix = module.__name__  # type: ignore[attr-defined]
    missing = [n for n in module.__all__ if f"{prefix}.{n}" not in documented]  # type: ignore[attr-defined]
    assert not missing, f"not in docs/source/*.rst autodoc directives: {missing}"


def test_public_names_show_their_public_path() -> None:
    # As trio does: ``trio_steps.Job``, not ``trio_steps._job.Job``, in reprs,
    # tracebacks, pickles and the docs, however the name was imported.
    for name in trio_steps.__all__:
        obj = getattr(trio_steps, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__module__ == "trio_steps", name


def test_the_export_table_and_the_type_checking_imports_agree() -> None:
    # One table drives the lazy exports; type checkers read the imports.
    source = Path(trio_steps.__file__).read_text()
    tree = ast.parse(source)
    imported: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            for alias in node.names:
                if alias.asname == alias.name:
                    imported[alias.name] = node.module
    imported.pop("__version__")
    assert imported == trio_steps._EXPORTS
    assert sorted(trio_steps.__all__) == sorted(imported)
    for name, module in imported.items():
        defining = importlib.import_module(f"trio_steps.{module}")
        assert getattr(defining, name) is getattr(trio_steps, name)
