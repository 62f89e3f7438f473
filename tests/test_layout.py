"""The layout of the package: no import loop, arrows one way, tests mirror wings.

Every module under ``src/trio_steps`` is parsed (never imported) and its
imports of the package read with :mod:`ast`: at the top, and inside
functions (the lazy imports kept for start-up time). Imports under ``if
TYPE_CHECKING:`` never run; they are read apart and held to a list of
known exceptions (see :data:`TYPE_ONLY_BACK_ARROWS`). The layout in words
is ``docs/source/internals.rst``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest

import trio_steps

PACKAGE = Path(trio_steps.__file__).resolve().parent
TESTS = Path(__file__).resolve().parent

#: Modules of the package face: what users import. Nothing inside imports them.
FACE = frozenset({"trio_steps", "trio_steps.__main__", "trio_steps.reference"})

#: Wing -> the wings its modules may import at run time (their own too).
#: "model" is the flat modules at the top (``_job``, ``_steps``, ...);
#: ``expressions`` is a language of its own, below the model. One floor
#: builds on the ones below it: model <- _shell <- _actions <- _engine <-
#: _workflow / _cli; _trace and testing read the model and the reports
#: beside them. _actions (rules §16) runs actions with the shell executor and
#: is run by the engine; reading and fetching action.yml files needs the
#: workflow wing's YAML reader, so it lives in _workflow, above.
MAY_IMPORT: Mapping[str, frozenset[str]] = {
    "expressions": frozenset(),
    "model": frozenset({"expressions"}),
    "_shell": frozenset({"model", "expressions"}),
    "_actions": frozenset({"model", "expressions", "_shell"}),
    "_engine": frozenset({"model", "expressions", "_shell", "_actions"}),
    "_workflow": frozenset({"model", "expressions", "_shell", "_actions", "_engine"}),
    "_trace": frozenset({"model", "expressions"}),
    "testing": frozenset({"model", "expressions"}),
    # _cli -> testing: ``trio-steps explore`` runs the reference model's
    # exploration (R18.1) on a workflow job.
    "_cli": frozenset(
        {
            "model",
            "expressions",
            "_shell",
            "_actions",
            "_engine",
            "_workflow",
            "_trace",
            "testing",
        }
    ),
}

#: Single modules allowed one wing more than their wing is, and why.
EXCEPTIONS: Mapping[str, frozenset[str]] = {
    # The invariant checker runs jobs on the real engine to compare them
    # with the reference model.
    "trio_steps.testing._invariants": frozenset({"_engine"}),
    # The cancellation sweep cancels the job on the real engine too, to
    # compare it with the model at each cut (R18.6).
    "trio_steps.testing._sweep": frozenset({"_engine"}),
    # job_from_trace() reads a trace file with the trace wing's reader
    # (R18.7); the rest of testing never touches traces.
    "trio_steps.testing._replay": frozenset({"_trace"}),
}

#: Type-only imports (``if TYPE_CHECKING:``) that run against the floors:
#: harmless at run time, still a knot for a reader. Shrink this list; a new
#: one fails the test.
TYPE_ONLY_BACK_ARROWS: frozenset[tuple[str, str]] = frozenset()


# --------------------------------------------------------------------------
# The graph


def module_names(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under ``root``."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return ast.unparse(test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def _imports(
    tree: ast.AST, *, type_only: bool = False
) -> Iterator[tuple[ast.stmt, bool]]:
    """Every import statement of ``tree``, and whether it is type-only."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from _imports_of(child, type_only=True)
            for child in node.orelse:
                yield from _imports_of(child, type_only=type_only)
        else:
            yield from _imports_of(node, type_only=type_only)


def _imports_of(node: ast.AST, *, type_only: bool) -> Iterator[tuple[ast.stmt, bool]]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node, type_only
    else:
        yield from _imports(node, type_only=type_only)


def _targets(
    module: str, is_package: bool, node: ast.stmt, known: Iterable[str]
) -> Iterator[str]:
    """The modules of the package that one import statement names."""
    known = set(known)
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.split(".")[0] == "trio_steps":
                yield alias.name
        return
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = module.split(".")
        if not is_package:
            base.pop()
        base = base[: len(base) - (node.level - 1)]
        source = ".".join([*base, *([node.module] if node.module else [])])
    else:
        source = node.module or ""
    if source.split(".")[0] != "trio_steps":
        return
    for alias in node.names:
        submodule = f"{source}.{alias.name}"
        # "from .. import expressions" names a module; "from .. import Job"
        # names something the package module defines or re-exports.
        yield submodule if submodule in known else source


def import_graph(
    sources: Mapping[str, tuple[str, bool]],
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Run-time and type-only arrows between modules.

    Args:
        sources: Module name -> (its source text, whether it is a package).

    Returns:
        ``(runtime, type_only)``: module -> the modules it imports.
    """
    runtime: dict[str, set[str]] = {name: set() for name in sources}
    type_only: dict[str, set[str]] = {name: set() for name in sources}
    for name, (text, is_package) in sources.items():
        for node, only_types in _imports(ast.parse(text)):
            for target in _targets(name, is_package, node, sources):
                if target != name:
                    (type_only if only_types else runtime)[name].add(target)
    return runtime, type_only


def wing_of(module: str) -> str:
    """The wing a module lives in: "face", "model", or its subpackage."""
    if module in FACE:
        return "face"
    parts = module.split(".")
    if len(parts) == 2 and not (PACKAGE / parts[1]).is_dir():
        return "model"
    return parts[1]


def loops(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The import loops of ``graph``: strongly connected parts of 2 or more."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def back_arrows(graph: Mapping[str, Iterable[str]]) -> list[tuple[str, str]]:
    """Arrows that run against the floors, or into the package face."""
    wrong = []
    for module, targets in sorted(graph.items()):
        wing = wing_of(module)
        if wing == "face":
            continue
        allowed = MAY_IMPORT[wing] | EXCEPTIONS.get(module, frozenset()) | {wing}
        for target in sorted(targets):
            if wing_of(target) not in allowed:
                wrong.append((module, target))
    return wrong


def read_package(root: Path = PACKAGE) -> dict[str, tuple[str, bool]]:
    return {
        name: (path.read_text(encoding="utf-8"), path.name == "__init__.py")
        for name, path in module_names(root).items()
    }


@pytest.fixture(scope="module")
def graphs() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    return import_graph(read_package())


# --------------------------------------------------------------------------
# The rules


def test_every_module_is_in_a_known_wing() -> None:
    wings = {wing_of(name) for name in module_names(PACKAGE)}
    assert wings - {"face"} <= set(MAY_IMPORT)


def test_no_import_loop(
    graphs: tuple[dict[str, set[str]], dict[str, set[str]]],
) -> None:
    runtime, _ = graphs
    assert loops(runtime) == []


def test_imports_run_one_way(
    graphs: tuple[dict[str, set[str]], dict[str, set[str]]],
) -> None:
    runtime, _ = graphs
    assert back_arrows(runtime) == []


def test_type_only_imports_run_one_way_but_for_known_ones(
    graphs: tuple[dict[str, set[str]], dict[str, set[str]]],
) -> None:
    _, type_only = graphs
    # Equal, not a subset: an entry that no longer holds goes too.
    assert set(back_arrows(type_only)) == TYPE_ONLY_BACK_ARROWS


def test_the_exceptions_are_still_needed(
    graphs: tuple[dict[str, set[str]], dict[str, set[str]]],
) -> None:
    runtime, _ = graphs
    for module, wings in EXCEPTIONS.items():
        used = {wing_of(target) for target in runtime[module]}
        assert wings <= used, f"{module} no longer imports {sorted(wings - used)}"


def test_every_private_wing_has_a_test_folder() -> None:
    wings = sorted(
        path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()
    )
    missing = [w for w in wings if not (TESTS / w.lstrip("_")).is_dir()]
    assert missing == []


# --------------------------------------------------------------------------
# The checks themselves, on a made-up package


def _made_up(**modules: str) -> dict[str, tuple[str, bool]]:
    return {
        f"trio_steps.{name.replace('__', '.')}": (text, False)
        for name, text in modules.items()
    }


def test_a_back_arrow_is_found_at_the_top_and_inside_functions() -> None:
    runtime, type_only = import_graph(
        _made_up(
            _job="from ._engine import _runner\n",
            _steps="def f():\n    from ._shell._process import spawn\n",
            _status="if TYPE_CHECKING:\n    from ._engine._runner import JobRunner\n",
            _engine___runner="",
            _shell___process="",
        )
    )
    assert back_arrows(runtime) == [
        ("trio_steps._job", "trio_steps._engine._runner"),
        ("trio_steps._steps", "trio_steps._shell._process"),
    ]
    assert back_arrows(type_only) == [
        ("trio_steps._status", "trio_steps._engine._runner")
    ]


def test_an_import_of_the_face_is_found() -> None:
    runtime, _ = import_graph(
        _made_up(
            _job="from . import Step\n", _version="", _steps="from . import _version\n"
        )
        | {"trio_steps": ("", True)}
    )
    assert back_arrows(runtime) == [("trio_steps._job", "trio_steps")]


def test_a_loop_is_found() -> None:
    runtime, _ = import_graph(
        _made_up(
            _job="import trio_steps._steps\n",
            _steps="def f():\n    from . import _status\n",
            _status="from ._job import Job\n",
        )
    )
    assert loops(runtime) == [
        ["trio_steps._job", "trio_steps._status", "trio_steps._steps"]
    ]
