"""What ``trio-steps`` imports for each command (start-up time, issue 18).

No timings here (``benchmarks/workflow.py`` measures them): these tests keep
the imports that make start-up slow away from the commands that do not need
them. Each runs the command in a fresh interpreter and lists the modules it
imported.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import trio_steps

from .cli_helpers import TIMEOUT, cli_env

Write = Callable[..., Path]

# Runs the command as the console script does, then lists (on stderr, after
# a marker) the modules that were not there before it started.
_PROBE = """\
import sys
before = set(sys.modules)
from trio_steps._cli._main import main
status = main(sys.argv[1:])
new = sorted(set(sys.modules) - before)
sys.stderr.write("\\nIMPORTED " + " ".join(new) + "\\n")
sys.exit(status)
"""

HEAD = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"


def _imports(
    *args: str, cwd: Path
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    marker = result.stderr.rfind("\nIMPORTED ")
    assert marker >= 0, result.stderr
    line = result.stderr[marker + len("\nIMPORTED ") :].splitlines()[0]
    return result, set(line.split())


def _any_of(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(
        m for m in modules for p in packages if m == p or m.startswith(p + ".")
    )


def test_version_imports_only_the_version(tmp_path: Path) -> None:
    result, modules = _imports("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == f"trio-steps {trio_steps.__version__}\n"
    # Not argparse, not typing, not trio: only the package and the CLI module
    # (and __future__, which ``from __future__ import annotations`` imports).
    assert modules <= {
        "__future__",
        "trio_steps",
        "trio_steps._cli",
        "trio_steps._cli._main",
        "trio_steps._version",
    }, modules


def test_validate_does_not_import_trio(tmp_path: Path, workflow: Write) -> None:
    path = workflow(HEAD + "      - run: true\n")
    result, modules = _imports("validate", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _any_of(modules, ("trio", "rich", "trio_steps._engine")) == []


def test_plain_run_imports_only_what_it_uses(tmp_path: Path, workflow: Write) -> None:
    # Piped output, no expressions, no trace, no mistakes: no terminal
    # printing, no expression language, no trace tools, no suggestions for
    # misspelt keys, nothing for tests.
    path = workflow(HEAD + "      - run: true\n      - run: echo hi\n")
    result, modules = _imports("run", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "trio" in modules
    unneeded = (
        "rich",
        "json",
        "difflib",
        "hypothesis",
        "trio.testing",
        "trio_steps.expressions",
        "trio_steps.testing",
        "trio_steps.reference",
        "trio_steps.testing._model",
        "trio_steps._trace",
    )
    assert _any_of(modules, unneeded) == []
