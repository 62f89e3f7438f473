"""Sphinx configuration for trio_steps."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import offline_inventories  # noqa: E402

import trio_steps  # noqa: E402

project = "trio_steps"
author = "The trio_steps developers"
copyright = "2026, the trio_steps developers"
release = version = trio_steps.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.doctest",
    "sphinxcontrib_trio",
    "trace_directive",
    "cli_help",
    "rule_role",
]

nitpicky = True
nitpick_ignore_regex = [
    # Type variables and private helpers that appear in signatures.
    (r"py:.*", r"(trio_steps\.)?.*\._[A-Za-z].*"),
    (r"py:class", r"(K|V|R|T)"),
    (r"py:class", r"StepFunction|Condition|MainStep|ControlStep"),
    (r"py:class", r"trio_steps\..*StepFunction|trio_steps\..*Condition"),
    (
        r"py:class",
        r"(CompiledExpression|JobStatistics|StepContext|Event|Step|Job|Status|StepView)",
    ),
    (r"py:class", r"argparse\._SubParsersAction.*"),
    (r"py:class", r"ruamel\..*"),
    (r"py:class", r"hypothesis\.strategies\._internal\..*"),
    (r"py:class", r"NoneType"),
    (r"py:class", r"(trio_steps\._context\.)?StepRun"),
    (r"py:class", r"(trio_steps\._workflow\.)?Problem"),
    (r"py:class", r"attr\..*"),
]

intersphinx_mapping = offline_inventories.build(HERE.parent / "build" / "_inventories")

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_default_options: dict[str, object] = {}
autodoc_inherit_docstrings = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

doctest_global_setup = """
import trio
import trio.testing
import trio_steps as ts
"""

html_theme = "alabaster"
html_static_path = ["_static"]
html_theme_options = {"description": "CI job steps on Trio, with background steps"}
exclude_patterns = ["_build"]
