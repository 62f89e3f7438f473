"""Render a job of scripted steps as the Python code that builds it."""

from __future__ import annotations

import importlib
import math
from collections.abc import Mapping

from .._job import Job
from .._status import always, cancelled, failure, success
from .._steps import Cancel, MainStep, Parallel, Step, Wait, WaitAll
from ._scripted import RaisingCondition, Script, Write

__all__ = ["job_listing", "job_to_python"]

_STATUS_FUNCTIONS = {
    success: "ts.success",
    failure: "ts.failure",
    always: "ts.always",
    cancelled: "ts.cancelled",
}

_HEADER = """\
import math

import trio_steps as ts
from trio_steps.testing import RaisingCondition, ScriptedStep, Write

"""


def _number(value: float) -> str:
    if math.isinf(value):
        return "math.inf"
    return repr(float(value))


def _args(positional: list[str], keywords: Mapping[str, str]) -> str:
    return ", ".join([*positional, *(f"{k}={v}" for k, v in keywords.items())])


class _Writer:
    """Writes the parts of a job as Python, collecting the imports they need."""

    def __init__(self, *, strict: bool = True) -> None:
        #: ``False``: write what cannot be imported as a short ``<...>``
        #: placeholder instead of failing (for :func:`job_listing`).
        self.strict = strict
        self.imports: set[tuple[str, str]] = set()

    def importable(self, value: object, what: str) -> str:
        """An expression for ``value`` that imports it (or rebuilds it from its repr)."""
        found = _import_path(value)
        if found is not None:
            module, qualname = found
            self.imports.add((module, qualname.split(".", 1)[0]))
            return qualname
        found = _import_path(type(value))
        if found is not None and _repr_rebuilds(value, found):
            module, qualname = found
            self.imports.add((module, qualname.split(".", 1)[0]))
            return repr(value)
        if self.strict:
            raise ValueError(f"cannot write {what} {value!r} as Python")
        return f"<{_short(value)}>"

    def condition(self, condition: object) -> str:
        if isinstance(condition, RaisingCondition):
            return repr(condition)
        if isinstance(condition, str):
            return repr(condition)
        for function, text in _STATUS_FUNCTIONS.items():
            if condition is function:
                return text
        return self.importable(condition, "the condition")

    def step(self, step: Step) -> str:
        script = step.run
        if not isinstance(script, Script):
            return self.other_step(step)
        keywords: dict[str, str] = {}
        if script.ending != "succeed":
            keywords["ending"] = repr(script.ending)
        if script.writes:
            keywords["writes"] = "[" + ", ".join(_write(w) for w in script.writes) + "]"
        if script.stop_delay:
            keywords["stop_delay"] = _number(script.stop_delay)
        if script.observe:
            keywords["observe"] = "True"
        keywords.update(self.step_keywords(step, scripted=True))
        return f"ScriptedStep({_args([_number(script.duration)], keywords)})"

    def other_step(self, step: Step) -> str:
        """A step that is not scripted: its ``run`` imported by name."""
        if isinstance(step.run, str):
            run = repr(step.run)
        else:
            try:
                run = self.importable(step.run, f"the run of step {step.id!r}")
            except ValueError:
                raise ValueError(
                    f"step {step.id!r} is not scripted, and its run {step.run!r} "
                    "cannot be imported by name (define it at the top level of a "
                    "module, or make it an instance whose repr rebuilds it)"
                ) from None
        return f"ts.Step({_args([run], self.step_keywords(step, scripted=False))})"

    def step_keywords(self, step: Step, *, scripted: bool) -> dict[str, str]:
        keywords: dict[str, str] = {}
        for field in ("id", "name"):
            value = getattr(step, field)
            if value is not None:
                keywords[field] = repr(value)
        if step.background:
            keywords["background"] = "True"
        if step.condition is not None:
            keywords["condition"] = self.condition(step.condition)
        if scripted and (
            isinstance(step.continue_on_error, str) or isinstance(step.timeout, str)
        ):
            raise ValueError(
                f"step {step.id!r}: ${{{{ }}}} templates are not supported here"
            )
        if step.continue_on_error:
            keywords["continue_on_error"] = repr(step.continue_on_error)
        if step.timeout is not None:
            keywords["timeout"] = (
                repr(step.timeout)
                if isinstance(step.timeout, str)
                else _number(step.timeout)
            )
        if step.env:
            if scripted:
                raise ValueError(f"step {step.id!r}: step env is not supported here")
            keywords["env"] = repr(dict(step.env))
        for field in ("shell", "working_directory"):
            value = getattr(step, field)
            if value is not None:
                keywords[field] = repr(value)
        return keywords

    def entry(self, entry: MainStep) -> str:
        if isinstance(entry, Step):
            return self.step(entry)
        if isinstance(entry, Parallel):
            members = "[" + ", ".join(self.step(m) for m in entry.steps) + "]"
            keywords = {"name": repr(entry.name)} if entry.name is not None else {}
            return f"ts.Parallel({_args([members], keywords)})"
        if isinstance(entry, WaitAll):
            return f"ts.WaitAll({_args([], _control_keywords(entry))})"
        kind = "Wait" if isinstance(entry, Wait) else "Cancel"
        return f"ts.{kind}({_args([repr(list(entry.ids))], _control_keywords(entry))})"

    def settings(self, job: Job) -> list[str]:
        """``name=value`` for the job settings that differ from the defaults."""
        lines = []
        if job.env:
            lines.append(f"env={dict(job.env)!r}")
        defaults = Job([])
        for field in (
            "max_background",
            "interrupt_grace",
            "terminate_grace",
            "timeout",
            "name",
        ):
            value = getattr(job, field)
            if value != getattr(defaults, field):
                text = _number(value) if isinstance(value, float) else repr(value)
                lines.append(f"{field}={text}")
        return lines


def _import_path(value: object) -> tuple[str, str] | None:
    """``(module, qualname)`` of ``value``, if importing it gives it back."""
    module = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None
    if "<" in qualname or module == "__main__":
        return None
    try:
        found: object = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    if found is not value:
        return None
    return module, qualname


def _repr_rebuilds(value: object, found: tuple[str, str]) -> bool:
    """Whether ``repr(value)``, with its class imported, builds an equal value."""
    module, qualname = found
    name = qualname.split(".", 1)[0]
    namespace = {name: getattr(importlib.import_module(module), name)}
    try:
        rebuilt = eval(repr(value), namespace)  # a repr, evaluated to check it
    except Exception:
        return False
    return type(rebuilt) is type(value) and bool(rebuilt == value)


def _short(value: object, limit: int = 60) -> str:
    name = getattr(value, "__qualname__", None)
    if isinstance(name, str):
        return name
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _write(write: Write) -> str:
    return (
        f"Write(at={_number(write.at)}, kind={write.kind!r}, name={write.name!r}, "
        f"value={write.value!r})"
    )


def _control_keywords(entry: Wait | WaitAll | Cancel) -> dict[str, str]:
    keywords: dict[str, str] = {}
    if entry.id is not None:
        keywords["id"] = repr(entry.id)
    if entry.name is not None:
        keywords["name"] = repr(entry.name)
    if not isinstance(entry, Cancel) and entry.continue_on_error:
        keywords["continue_on_error"] = "True"
    return keywords


def _check_writable(job: Job) -> None:
    if job.secrets or job.vars or job.inputs or job.github or job.workspace:
        raise ValueError("job_to_python writes only steps and run settings")


def job_to_python(job: Job) -> str:
    """Write a job as Python code that builds an equal job.

    The code imports what it needs and assigns the job to ``job``; ``exec``
    it, or paste it into a test. Scripted steps are written as
    :func:`~trio_steps.testing.ScriptedStep` calls; other steps (yours, from
    ``jobs(extra_steps=...)``) as :class:`~trio_steps.Step` calls whose
    ``run`` (and condition) is imported by name: a function or class defined
    at the top level of a module, or an instance of such a class whose
    ``repr`` rebuilds it (an attrs class or a dataclass, say).

    Args:
        job: A job whose run steps come from
            :func:`~trio_steps.testing.ScriptedStep` or run importable code,
            with ``None``, status function, expression,
            :class:`~trio_steps.testing.RaisingCondition` or importable
            conditions.

    Returns:
        The source code.

    Raises:
        ValueError: The job uses something this function cannot write (a
            ``run`` defined inside a function or a lambda, ``${{ }}``
            templates in a scripted step, secrets …).
    """
    _check_writable(job)
    writer = _Writer()
    body = ["job = ts.Job(", "    steps=["]
    body += [f"        {writer.entry(entry)}," for entry in job.steps]
    body.append("    ],")
    if job.post_steps:
        body.append("    post_steps=[")
        body += [f"        {writer.step(step)}," for step in job.post_steps]
        body.append("    ],")
    body += [f"    {line}," for line in writer.settings(job)]
    body.append(")")
    extra = "".join(
        f"from {module} import {name}\n" for module, name in sorted(writer.imports)
    )
    return _HEADER + extra + ("\n" if extra else "") + "\n".join(body) + "\n"


def job_listing(job: Job) -> str:
    """A compact listing of a job, one line per entry, for failure messages.

    Like :func:`job_to_python` without the imports, and it never fails: what
    cannot be written as Python shows as ``<name>``.

    Args:
        job: Any job.

    Returns:
        The listing.
    """
    writer = _Writer(strict=False)
    lines = [f"job ({', '.join(writer.settings(job)) or 'default settings'}):"]
    for entry in job.steps:
        try:
            lines.append(f"  {writer.entry(entry)}")
        except ValueError as exc:
            lines.append(f"  <{exc}>")
    for step in job.post_steps:
        try:
            lines.append(f"  post: {writer.step(step)}")
        except ValueError as exc:
            lines.append(f"  post: <{exc}>")
    return "\n".join(lines) + "\n"


def job_text(job: Job) -> str:
    """The job as :func:`job_to_python` writes it, else as :func:`job_listing`."""
    try:
        return job_to_python(job)
    except ValueError:
        return job_listing(job)
