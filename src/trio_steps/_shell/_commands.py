"""Parsing of GitHub's file commands and workflow commands (rules §12).

Pure functions, no I/O: :func:`parse_key_values` and :func:`parse_path_file`
read the contents of ``GITHUB_OUTPUT``/``GITHUB_ENV``/``GITHUB_STATE`` and
``GITHUB_PATH``; :func:`parse_workflow_command` recognises a ``::name
props::data`` line. The executor in :mod:`trio_steps._shell` applies them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Final, NamedTuple, final

from .._context import StepRun

if TYPE_CHECKING:
    pass

__all__ = [
    "WORKFLOW_COMMANDS",
    "FileCommandError",
    "WorkflowCommand",
    "parse_key_values",
    "parse_path_file",
    "parse_workflow_command",
    "unescape_data",
    "unescape_property",
]

#: The workflow command names GitHub's runner registers (problem matchers
#: excepted: ``::add-matcher::`` lines are ordinary output here).
WORKFLOW_COMMANDS: Final = frozenset(
    {
        "add-mask",
        "add-path",
        "debug",
        "echo",
        "endgroup",
        "error",
        "group",
        "notice",
        "save-state",
        "set-env",
        "set-output",
        "stop-commands",
        "warning",
    }
)

_DATA_ESCAPES: Final = {"%25": "%", "%0D": "\r", "%0A": "\n"}
_PROPERTY_ESCAPES: Final = {**_DATA_ESCAPES, "%3A": ":", "%2C": ","}
_DATA_RE: Final = re.compile("%25|%0D|%0A")
_PROPERTY_RE: Final = re.compile("%25|%0D|%0A|%3A|%2C")


class FileCommandError(Exception):
    """A file command file is malformed.

    Args:
        file: The file command (``GITHUB_OUTPUT``, ``GITHUB_ENV`` …).
        line: The 1-based line number where the problem is.
        reason: What is wrong, without the line's content (it may be secret).
    """

    def __init__(self, file: str, line: int, reason: str) -> None:
        self.file = file
        self.line = line
        self.reason = reason
        super().__init__(f"{file} line {line}: {reason}")


def _lines(data: bytes, file: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, text)``; ``\\n`` or ``\\r\\n`` end a line.

    Lines are cut out one at a time: a file of many short lines never
    exists twice in memory as a list of pieces.
    """
    start, number, size = 0, 0, len(data)
    while start <= size:
        end = data.find(b"\n", start)
        if end < 0:
            end = size
        raw = data[start:end]
        start = end + 1
        number += 1
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FileCommandError(file, number, "not valid UTF-8") from None
        if "\x00" in text:
            raise FileCommandError(file, number, "contains a NUL byte")
        yield number, text


def parse_key_values(data: bytes, file: str) -> Iterator[tuple[str, str]]:
    """Parse ``name=value`` lines and ``name<<DELIMITER`` heredocs.

    Follows GitHub's runner: empty lines are ignored; whichever of ``=`` and
    ``<<`` comes first in a line decides its form; a heredoc's value is the
    lines up to the one equal to ``DELIMITER``, joined with ``\\n``. Pairs
    are yielded as they are parsed, so a caller that applies them applies
    everything before a malformed line (as the runner does).

    Args:
        data: The file's bytes.
        file: The file command's name, for error messages.

    Yields:
        ``(name, value)`` pairs, in file order.

    Raises:
        FileCommandError: A line has neither ``=`` nor ``<<``, a name or
            delimiter is empty, a heredoc never closes, or a line is not
            UTF-8 or contains a NUL byte.
    """
    lines = _lines(data, file)
    for number, line in lines:
        if not line:
            continue
        equals = line.find("=")
        heredoc = line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            name, value = line[:equals], line[equals + 1 :]
            if not name:
                raise FileCommandError(file, number, "empty name before '='")
            yield name, value
        elif heredoc >= 0:
            name, delimiter = line[:heredoc], line[heredoc + 2 :]
            if not name:
                raise FileCommandError(file, number, "empty name before '<<'")
            if not delimiter:
                raise FileCommandError(file, number, "empty delimiter after '<<'")
            body: list[str] = []
            for _, value_line in lines:
                if value_line == delimiter:
                    break
                body.append(value_line)
            else:
                raise FileCommandError(
                    file, number, f"'{name}<<' is never closed by its delimiter line"
                )
            yield name, "\n".join(body)
        else:
            raise FileCommandError(
                file, number, "expected 'name=value' or 'name<<DELIMITER'"
            )


def parse_path_file(data: bytes, file: str = "GITHUB_PATH") -> Iterator[str]:
    """Parse ``GITHUB_PATH``: one entry per line, empty lines ignored.

    Args:
        data: The file's bytes.
        file: The name used in error messages.

    Yields:
        Path entries in file order (a later one takes precedence, R5.2).

    Raises:
        FileCommandError: A line is not UTF-8 or contains a NUL byte.
    """
    for _, line in _lines(data, file):
        if line:
            yield line


def unescape_data(value: str) -> str:
    """Undo GitHub's escaping of a command's data (``%25``, ``%0D``, ``%0A``)."""
    if "%" not in value:
        return value
    return _DATA_RE.sub(lambda m: _DATA_ESCAPES[m.group()], value)


def unescape_property(value: str) -> str:
    """Undo GitHub's escaping of a property value (data escapes, ``%3A``, ``%2C``)."""
    if "%" not in value:
        return value
    return _PROPERTY_RE.sub(lambda m: _PROPERTY_ESCAPES[m.group()], value)


class WorkflowCommand(NamedTuple):
    """One parsed ``::name key=value,…::data`` line.

    Attributes:
        name: The command name (``warning``, ``set-output`` …).
        properties: Unescaped ``key=value`` properties.
        data: The unescaped data after the second ``::``.
    """

    name: str
    properties: Mapping[str, str]
    data: str


def parse_workflow_command(
    line: str, names: frozenset[str] = WORKFLOW_COMMANDS
) -> WorkflowCommand | None:
    """Parse ``line`` as a workflow command, as GitHub's runner does.

    Leading whitespace is ignored. Properties are split on ``,`` and then on
    the first ``=``; a property without a value is dropped.

    Args:
        line: One output line.
        names: The command names that count; others are plain output.

    Returns:
        The command, or ``None`` when the line is not one.
    """
    text = line.lstrip()
    if not text.startswith("::"):
        return None
    end = text.find("::", 2)
    if end < 0:
        return None
    info = text[2:end]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name not in names:
        return None
    properties: dict[str, str] = {}
    if space > 0:
        for item in info[space + 1 :].strip().split(","):
            key, sep, value = item.partition("=")
            if key and sep and value:
                properties[key] = unescape_property(value)
    return WorkflowCommand(name, properties, unescape_data(text[end + 2 :]))


_UNSECURE_MESSAGE: Final = (
    "The `{}` command is disabled. Please upgrade to using Environment Files "
    "or opt into unsecure command execution by setting the "
    "`ACTIONS_ALLOW_UNSECURE_COMMANDS` environment variable to `true`."
)


@final
class _Commands:
    """Workflow commands found in the output of one step run."""

    __slots__ = ("allow_unsecure", "debug", "echo", "errors", "run", "stop_names")

    def __init__(self, run: StepRun, env: Mapping[bytes, bytes]) -> None:
        self.run = run
        # The runner honours the variable from its own environment too.
        self.allow_unsecure = _truthy(env, b"ACTIONS_ALLOW_UNSECURE_COMMANDS")
        self.debug = _truthy(env, b"ACTIONS_STEP_DEBUG")
        self.echo = self.debug
        self.errors: list[str] = []
        #: While ``::stop-commands::TOKEN`` is in force: ``{TOKEN}``.
        self.stop_names: frozenset[str] | None = None

    def fail(self, message: str) -> None:
        self.errors.append(message)
        self.run.annotate("error", message)

    def line(self, line: str, stream: str) -> None:
        if line[:2] == "::" or (line[:1].isspace() and line.lstrip()[:2] == "::"):
            if self.stop_names is not None:
                if parse_workflow_command(line, self.stop_names) is not None:
                    self.stop_names = None
                    return
            else:
                command = parse_workflow_command(line)
                if command is not None:
                    self.apply(command, line, stream)
                    return
        self.run.output(line, stream)

    def apply(self, command: WorkflowCommand, line: str, stream: str) -> None:
        run = self.run
        name, data = command.name, command.data
        if name == "add-mask":
            # Never echoed: the line holds the secret.
            if data.strip():
                run.add_mask(data)
            else:
                run.annotate(
                    "warning",
                    "Can't add secret mask for empty string in ::add-mask:: command.",
                )
            return
        if self.echo:
            run.output(line, stream)
        if name in ("error", "warning", "notice"):
            run.annotate(name, _annotation(command))
        elif name == "group":
            run.output(f"##[group]{data}", stream)
        elif name == "endgroup":
            run.output("##[endgroup]", stream)
        elif name == "debug":
            if self.debug:
                run.output(f"##[debug]{data}", stream)
        elif name == "echo":
            value = data.strip().lower()
            if value in ("on", "off"):
                self.echo = value == "on"
            else:
                self.fail("Invalid ::echo:: value: use 'on' or 'off'.")
        elif name == "stop-commands":
            if not data or data in WORKFLOW_COMMANDS:
                self.fail(
                    "Invalid ::stop-commands:: token: it must be non-empty and "
                    "not the name of a workflow command."
                )
            else:
                self.stop_names = frozenset({data})
        elif name in ("set-output", "save-state", "set-env"):
            if name == "set-env" and not self.allow_unsecure:
                self.fail(_UNSECURE_MESSAGE.format(name))
                return
            key = command.properties.get("name", "")
            if not key:
                self.fail(
                    f"Required property 'name' is missing in the ::{name}:: command."
                )
            elif name == "set-output":
                run.set_output(key, data)
            elif name == "save-state":
                run.state[key] = data
            elif "=" in key or "\x00" in key or "\x00" in data:
                self.fail(
                    "Invalid ::set-env:: command: the name may not contain '=' or NUL."
                )
            else:
                run.set_env(key, data)
        elif name == "add-path":
            if not self.allow_unsecure:
                self.fail(_UNSECURE_MESSAGE.format(name))
            elif not data or "\x00" in data:
                self.fail(
                    "Invalid ::add-path:: command: the path is empty or contains NUL."
                )
            else:
                run.add_path(data)


def _annotation(command: WorkflowCommand) -> str:
    props = command.properties
    where = props.get("file", "")
    if where:
        for key in ("line", "col"):
            if key not in props:
                break
            where += f":{props[key]}"
    message = command.data
    if title := props.get("title"):
        message = f"{title}: {message}"
    return f"{where}: {message}" if where else message


def _truthy(env: Mapping[bytes, bytes], name: bytes) -> bool:
    return env.get(name, b"").strip().lower() == b"true"
