"""Every workflow the loader accepts in the corpus is valid for SchemaStore.

The schema is the one check-jsonschema ships as ``vendor.github-workflows``
(SchemaStore's ``github-workflow.json``). It already knows the background
step keys (``background``, ``wait``, ``wait-all``, ``cancel``,
``parallel``), so the files are validated as they are, nothing removed.

One known, deliberate difference (rules §13): GitHub turns non-string
scalars into strings where it expects a string (``run: true`` runs
``true``), and so does the loader; the schema is stricter and asks for
strings. The files under ``lenient/`` show exactly that difference.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trio_steps._workflow._read import read_workflow

check_jsonschema = pytest.importorskip("check_jsonschema")
jsonschema = pytest.importorskip("jsonschema")

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
ACCEPTED = sorted((HERE / "valid").glob("*.yml")) + sorted(
    (ROOT / "examples").glob("*.yml")
)
LENIENT = sorted((HERE / "lenient").glob("*.yml"))


@pytest.fixture(scope="module")
def validator() -> Any:
    schema_file = (
        Path(check_jsonschema.__file__).parent
        / "builtin_schemas"
        / "vendor"
        / "github-workflows.json"
    )
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _document(path: Path) -> object:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def test_schema_knows_background_steps(validator: Any) -> None:
    step = validator.schema["definitions"]["step"]["properties"]
    assert {"background", "wait", "wait-all", "cancel", "parallel"} <= set(step)


@pytest.mark.parametrize("path", ACCEPTED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_accepted_workflows_are_schema_valid(
    path: Path, validator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Local actions (./path, rules §16) are in the workspace: the file's
    # directory, as examples/actions.yml says.
    monkeypatch.chdir(path.parent)
    read_workflow(path)  # the loader accepts it ...
    errors = [e.message for e in validator.iter_errors(_document(path))]
    assert errors == []  # ... and so does the schema


@pytest.mark.parametrize("path", LENIENT, ids=lambda p: p.stem)
def test_non_string_scalars_are_the_only_difference(path: Path, validator: Any) -> None:
    read_workflow(path)
    assert list(validator.iter_errors(_document(path)))

    def stringify(value: object) -> object:
        if isinstance(value, dict):
            return {k: stringify(v) for k, v in value.items()}
        if isinstance(value, list):
            return [stringify(v) for v in value]
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None or isinstance(value, int | float):
            return "" if value is None else str(value)
        return value

    document = _document(path)
    assert isinstance(document, dict)
    document["jobs"] = stringify(document["jobs"])
    assert [e.message for e in validator.iter_errors(document)] == []
