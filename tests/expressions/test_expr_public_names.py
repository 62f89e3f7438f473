"""Every public name of trio_steps.expressions is exported and documented."""

from __future__ import annotations

import inspect
import types

import pytest

from trio_steps import expressions as ex


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(ex).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    public.discard("annotations")  # from __future__
    assert public == set(ex.__all__)
    assert len(ex.__all__) == len(set(ex.__all__))


@pytest.mark.parametrize(
    "name", [name for name in ex.__all__ if not name.startswith("MAX_")]
)
def test_public_name_is_documented(name: str) -> None:
    value = getattr(ex, name)
    doc = inspect.getdoc(value)
    assert doc, f"{name} has no docstring"
    summary = doc.splitlines()[0]
    assert summary.endswith("."), f"{name}: one-line summary expected"
    if inspect.isfunction(value):
        signature = inspect.signature(value)
        if signature.parameters:
            assert "Args:" in doc, name
        assert "Returns:" in doc, name
        for parameter in signature.parameters.values():
            assert parameter.annotation not in ("Any", "typing.Any"), name
        assert "Any" not in str(signature.return_annotation), name


@pytest.mark.parametrize("cls", [ex.CompiledExpression, ex.Template])
def test_public_methods_are_documented(cls: type) -> None:
    class_doc = inspect.getdoc(cls) or ""
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if inspect.ismemberdescriptor(member):
            # A slot: documented in the "Attributes:" section of the class.
            assert f"\n    {name}: " in class_doc, f"{cls.__name__}.{name}"
            continue
        doc = inspect.getdoc(member)
        assert doc, f"{cls.__name__}.{name} has no docstring"
        if inspect.isfunction(member):
            assert "Returns:" in doc, f"{cls.__name__}.{name}"
            assert "Args:" in doc, f"{cls.__name__}.{name}"


def test_limits() -> None:
    assert ex.MAX_EXPRESSION_LENGTH == 21_000
    assert ex.MAX_DEPTH == 50
    assert ex.MAX_MEMORY == 1024 * 1024
