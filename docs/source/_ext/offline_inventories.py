"""Intersphinx inventories built from the installed packages.

CI reaches no documentation site, so the inventories intersphinx would fetch
from docs.python.org, trio.readthedocs.io and www.attrs.org are written here
from the modules themselves, with links to those sites. The links are as
good as the page guesses below; every name resolves, so ``nitpicky`` stays
on.
"""

from __future__ import annotations

import importlib
import inspect
import zlib
from collections.abc import Iterable
from pathlib import Path

PYTHON_MODULES = [
    "abc", "argparse", "collections", "collections.abc", "contextlib", "enum",
    "io", "json", "math", "os", "pathlib", "re", "signal", "subprocess", "sys",
    "tempfile", "types", "typing", "datetime", "functools", "warnings",
]  # fmt: skip

TRIO_IO = {
    "open_process", "run_process", "Process", "Path", "open_file", "wrap_file",
    "socket", "SocketStream", "SocketListener", "open_tcp_stream", "serve_tcp",
    "open_tcp_listeners", "SSLStream", "abc", "StapledStream", "Lock",
}  # fmt: skip


def _role(obj: object) -> str:
    if inspect.isclass(obj):
        return "py:exception" if issubclass(obj, BaseException) else "py:class"
    if inspect.isroutine(obj):
        return "py:function"
    if inspect.ismodule(obj):
        return "py:module"
    return "py:data"


def _public(module_name: str) -> Iterable[tuple[str, object]]:
    module = importlib.import_module(module_name)
    names = sorted(
        set(getattr(module, "__all__", ()))
        | {n for n in dir(module) if not n.startswith("_")}
    )
    for name in names:
        try:
            yield name, getattr(module, name)
        except AttributeError:
            continue


def _write(
    path: Path, project: str, version: str, entries: Iterable[tuple[str, str, str]]
) -> None:
    lines = [f"{name} {role} 1 {uri} -" for name, role, uri in entries]
    body = zlib.compress(("\n".join(lines) + "\n").encode())
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    ).encode()
    path.write_bytes(header + body)


def python_entries() -> Iterable[tuple[str, str, str]]:
    import builtins

    for name, obj in _public("builtins"):
        role = _role(obj)
        page = {
            "py:exception": "exceptions.html",
            "py:function": "functions.html",
        }.get(role, "stdtypes.html" if inspect.isclass(obj) else "constants.html")
        if name in {
            "object",
            "type",
            "range",
            "float",
            "int",
            "bool",
        } and inspect.isclass(obj):
            page = "functions.html"
        yield name, role, f"library/{page}#{name}"
    assert builtins
    for module in PYTHON_MODULES:
        yield module, "py:module", f"library/{module}.html#module-{module}"
        for name, obj in _public(module):
            if inspect.ismodule(obj):
                continue
            role = _role(obj)
            yield f"{module}.{name}", role, f"library/{module}.html#{module}.{name}"
            if role == "py:class":
                for member in ("deadline", "cancel", "__aenter__"):
                    if hasattr(obj, member):
                        yield (
                            f"{module}.{name}.{member}",
                            "py:attribute",
                            f"library/{module}.html#{module}.{name}",
                        )


def trio_entries() -> Iterable[tuple[str, str, str]]:
    for module, page in (
        ("trio", None),
        ("trio.testing", "reference-testing.html"),
        ("trio.lowlevel", "reference-lowlevel.html"),
        ("trio.abc", "reference-io.html"),
    ):
        yield module, "py:module", f"{page or 'reference-core.html'}#module-{module}"
        for name, obj in _public(module):
            if inspect.ismodule(obj):
                continue
            target = page or (
                "reference-io.html" if name in TRIO_IO else "reference-core.html"
            )
            yield f"{module}.{name}", _role(obj), f"{target}#{module}.{name}"
            if inspect.isclass(obj):
                for member, value in vars(obj).items():
                    if not member.startswith("_"):
                        kind = "py:method" if callable(value) else "py:attribute"
                        yield (
                            f"{module}.{name}.{member}",
                            kind,
                            f"{target}#{module}.{name}.{member}",
                        )


def attrs_entries() -> Iterable[tuple[str, str, str]]:
    yield "attrs", "py:module", "index.html#module-attrs"
    for module in ("attrs", "attr"):
        for name, obj in _public(module):
            if not inspect.ismodule(obj):
                yield f"{module}.{name}", _role(obj), f"api.html#{module}.{name}"


def hypothesis_entries() -> Iterable[tuple[str, str, str]]:
    for module in ("hypothesis", "hypothesis.strategies", "hypothesis.stateful"):
        for name, obj in _public(module):
            if not inspect.ismodule(obj):
                yield (
                    f"{module}.{name}",
                    _role(obj),
                    f"reference/api.html#{module}.{name}",
                )


def build(directory: Path) -> dict[str, tuple[str, str]]:
    """Write the inventories and return an ``intersphinx_mapping``."""
    import attrs
    import hypothesis
    import trio

    directory.mkdir(parents=True, exist_ok=True)
    sites = {
        "python": ("https://docs.python.org/3", "Python", "3", python_entries),
        "trio": (
            "https://trio.readthedocs.io/en/stable",
            "Trio",
            trio.__version__,
            trio_entries,
        ),
        "attrs": (
            "https://www.attrs.org/en/stable",
            "attrs",
            attrs.__version__,
            attrs_entries,
        ),
        "hypothesis": (
            "https://hypothesis.readthedocs.io/en/latest",
            "Hypothesis",
            hypothesis.__version__,
            hypothesis_entries,
        ),
    }
    mapping: dict[str, tuple[str, str]] = {}
    for key, (url, project, version, entries) in sites.items():
        path = directory / f"{key}.inv"
        _write(path, project, version, entries())
        mapping[key] = (url, str(path))
    return mapping
