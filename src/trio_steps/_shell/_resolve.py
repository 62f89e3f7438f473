"""Which program runs a shell step: ``shell:`` to an argument list (rules §12).

GitHub's defaults: ``bash -e {0}`` without ``shell:`` (``sh -e {0}`` where
there is no bash), ``bash --noprofile --norc -eo pipefail {0}`` for an
explicit ``shell: bash``, ``python`` for ``shell: python``, and a custom
template containing ``{0}``. Answers are cached per search path.

The default follows the runner's ``ScriptHandler.RunAsync`` (actions/runner
``src/Runner.Worker/Handlers/ScriptHandler.cs``): with no shell it takes
``bash`` (or ``sh``) from ``PATH`` and the arguments of ``sh`` from
``ScriptHandlerHelpers._defaultArguments``, ``-e {0}``: no ``pipefail``.
"""

from __future__ import annotations

import os
import shlex
import shutil
from typing import TYPE_CHECKING, Final

from .._context import StepFailed

if TYPE_CHECKING:
    pass

__all__ = ["forget_shell", "resolve_shell"]
_BASH: Final = ("bash", "--noprofile", "--norc", "-eo", "pipefail", "{0}")
_SH: Final = ("sh", "-e", "{0}")
#: No ``shell:``: bash or sh, with sh's arguments (rules §12).
_DEFAULT: Final[tuple[tuple[str, ...], ...]] = (("bash", "-e", "{0}"), _SH)
_EXTENSIONS: Final = {"bash": ".sh", "sh": ".sh", "python": ".py", "python3": ".py"}


_RESOLVED: dict[tuple[str | None, str], tuple[tuple[str, ...], str]] = {}


def resolve_shell(shell: str | None, search_path: str) -> tuple[list[str], str]:
    """Turn a step's ``shell`` into an argv template and a script extension.

    Args:
        shell: ``None`` (``bash -e``, or ``sh -e`` where bash is missing),
            ``"bash"``,
            ``"sh"``, ``"python"`` (or ``python3`` where ``python`` is
            missing), or a command template containing ``{0}``, split like a
            POSIX shell would.
        search_path: The ``PATH`` the step runs with; programs are looked up
            in it.

    Returns:
        The argv, whose first item is an absolute path and where ``{0}``
        stands for the script file, and the script file's extension.

    Raises:
        StepFailed: The shell is unknown or its program cannot be found.
    """
    key = (shell, search_path)
    cached = _RESOLVED.get(key)
    # No check that the program is still there: when it cannot be executed,
    # the step's spawn calls forget_shell() and resolves once more.
    if cached is None:
        argv, extension = _resolve_shell(shell, search_path)
        if len(_RESOLVED) >= 256:
            _RESOLVED.clear()
        cached = _RESOLVED[key] = (tuple(argv), extension)
    return list(cached[0]), cached[1]


def forget_shell(shell: str | None, search_path: str) -> None:
    """Drop what :func:`resolve_shell` remembers for ``shell`` on ``search_path``."""
    _RESOLVED.pop((shell, search_path), None)


def _resolve_shell(shell: str | None, search_path: str) -> tuple[list[str], str]:
    def find(program: str) -> str | None:
        return shutil.which(program, path=search_path)

    if shell is None:
        for default in _DEFAULT:
            found = find(default[0])
            if found is not None:
                return [found, *default[1:]], ".sh"
        raise StepFailed("No shell found: neither 'bash' nor 'sh' is on PATH.")
    name = shell.strip()
    if name in ("bash", "sh"):
        template: tuple[str, ...] = _BASH if name == "bash" else _SH
        found = find(name)
        if found is None:
            raise StepFailed(f"Shell {name!r} was not found on PATH.")
        return [found, *template[1:]], ".sh"
    if name == "python":
        found = find("python") or find("python3")
        if found is None:
            raise StepFailed(
                "Shell 'python' was not found: neither 'python' nor 'python3' is on PATH."
            )
        return [found, "{0}"], ".py"
    if "{0}" not in name:
        raise StepFailed(
            f"Unknown shell {shell!r}: use bash, sh, python, or a command "
            "template containing {0}."
        )
    try:
        argv = shlex.split(name)
    except ValueError as exc:
        raise StepFailed(f"Invalid shell template {shell!r}: {exc}.") from None
    found = find(argv[0])
    if found is None:
        raise StepFailed(
            f"Shell program {argv[0]!r} (from shell {shell!r}) was not found."
        )
    return [found, *argv[1:]], _EXTENSIONS.get(os.path.basename(argv[0]), "")
