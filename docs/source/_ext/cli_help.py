"""``.. cli-help:: [SUBCOMMAND]`` — the command line's help, from its parser.

The text is ``format_help()`` of the real :mod:`argparse` parser that
``trio-steps`` uses, so the reference cannot drift from the program.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from trio_steps._cli._main import build_parser


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found = action.choices.get(name)
            if isinstance(found, argparse.ArgumentParser):
                return found
    raise KeyError(name)


class CliHelp(SphinxDirective):
    optional_arguments = 1

    def run(self) -> list[nodes.Node]:
        os.environ["COLUMNS"] = "80"
        parser = build_parser()
        if self.arguments:
            try:
                parser = _subparser(parser, self.arguments[0])
            except KeyError:
                raise self.error(
                    f"trio-steps has no subcommand {self.arguments[0]!r}"
                ) from None
        text = parser.format_help()
        block = nodes.literal_block(text=text)
        block["language"] = "text"
        return [block]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("cli-help", CliHelp)
    return {"parallel_read_safe": True, "version": "1"}
