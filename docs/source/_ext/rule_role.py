"""``:rule:`R4.4``` — cite a numbered rule of :doc:`rules` by its number.

The link text is the number as written (``R4.4``, ``I5``, ``§7``,
``§11.9``, ``R2.4.3``); the target is the label that ``rules.rst`` gives that
rule. Sections are labelled ``s7``, ``s11.9`` because HTML anchors drop the
``§``. A number the page does not define is an undefined label, so a build
with ``-W`` fails on a citation of a rule that does not exist.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from docutils.parsers.rst.states import Inliner
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx


def rule_label(number: str) -> str:
    """The label in ``rules.rst`` of a rule number (Sphinx lowercases labels)."""
    return ("s" + number[1:] if number.startswith("§") else number).lower()


def rule_role(
    name: str,
    rawtext: str,
    text: str,
    lineno: int,
    inliner: Inliner,
    options: dict[str, Any] | None = None,
    content: list[str] | None = None,
) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    env = inliner.document.settings.env
    node = pending_xref(
        rawtext,
        refdomain="std",
        reftype="ref",
        reftarget=rule_label(text),
        refexplicit=True,
        refwarn=True,
        refdoc=env.docname,
    )
    node += nodes.inline(text, text, classes=["xref", "std", "std-ref"])
    return [node], []


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_role("rule", rule_role)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
