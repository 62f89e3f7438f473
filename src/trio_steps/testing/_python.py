"""Render a job of scripted steps as the Python code that builds it."""

from __future__ import annotations

import math
from collections.abc import Mapping

from .._job import Job
from .._status import always, cancelled, failure, success
from .._steps import Cancel, MainStep, Parallel, Step, Wait, WaitAll
from ._scripted import RaisingCondition, Script, Write

__all__ = ["job_to_python"]

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


def _condition(condition: object) -> str:
    if isinstance(condition, RaisingCondition):
        return repr(condition)
    for function, text in _STATUS_FUNCTIONS.items():
        if condition is function:
            return text
    raise ValueError(f"cannot write the condition {condition!r} as Python")


def _write(write: Write) -> str:
    return (
        f"Write(at={_number(write.at)}, kind={write.kind!r}, name={write.name!r}, "
        f"value={write.value!r})"
    )


def _step(step: Step) -> str:
    script = step.run
    if not isinstance(script, Script):
        raise ValueError(f"step {step.id!r} is not scripted")
    keywords: dict[str, str] = {}
    if script.ending != "succeed":
        keywords["ending"] = repr(script.ending)
    if script.writes:
        keywords["writes"] = "[" + ", ".join(_write(w) for w in script.writes) + "]"
    if script.stop_delay:
        keywords["stop_delay"] = _number(script.stop_delay)
    if script.observe:
        keywords["observe"] = "True"
    for field in ("id", "name"):
        value = getattr(step, field)
        if value is not None:
            keywords[field] = repr(value)
    if step.background:
        keywords["background"] = "True"
    if step.condition is not None:
        keywords["condition"] = _condition(step.condition)
    if isinstance(step.continue_on_error, str) or isinstance(step.timeout, str):
        raise ValueError(
            f"step {step.id!r}: ${{{{ }}}} templates are not supported here"
        )
    if step.continue_on_error:
        keywords["continue_on_error"] = "True"
    if step.timeout is not None:
        keywords["timeout"] = _number(step.timeout)
    if step.env:
        raise ValueError(f"step {step.id!r}: step env is not supported here")
    return f"ScriptedStep({_args([_number(script.duration)], keywords)})"


def _control_keywords(entry: Wait | WaitAll | Cancel) -> dict[str, str]:
    keywords: dict[str, str] = {}
    if entry.id is not None:
        keywords["id"] = repr(entry.id)
    if entry.name is not None:
        keywords["name"] = repr(entry.name)
    if not isinstance(entry, Cancel) and entry.continue_on_error:
        keywords["continue_on_error"] = "True"
    return keywords


def _entry(entry: MainStep) -> str:
    if isinstance(entry, Step):
        return _step(entry)
    if isinstance(entry, Parallel):
        members = "[" + ", ".join(_step(m) for m in entry.steps) + "]"
        keywords = {"name": repr(entry.name)} if entry.name is not None else {}
        return f"ts.Parallel({_args([members], keywords)})"
    if isinstance(entry, WaitAll):
        return f"ts.WaitAll({_args([], _control_keywords(entry))})"
    kind = "Wait" if isinstance(entry, Wait) else "Cancel"
    return f"ts.{kind}({_args([repr(list(entry.ids))], _control_keywords(entry))})"


def job_to_python(job: Job) -> str:
    """Write a job of scripted steps as Python code that builds an equal job.

    The code imports what it needs and assigns the job to ``job``; ``exec``
    it, or paste it into a test.

    Args:
        job: A job whose run steps come from
            :func:`~trio_steps.testing.ScriptedStep`, with ``None``, status
            function or :class:`~trio_steps.testing.RaisingCondition`
            conditions.

    Returns:
        The source code.

    Raises:
        ValueError: The job uses something this function cannot write
            (an unscripted step, another condition, a step env, secrets …).
    """
    if job.secrets or job.vars or job.inputs or job.github or job.workspace:
        raise ValueError("job_to_python writes only steps and run settings")
    lines = [_HEADER + "job = ts.Job(", "    steps=["]
    lines += [f"        {_entry(entry)}," for entry in job.steps]
    lines.append("    ],")
    if job.post_steps:
        lines.append("    post_steps=[")
        lines += [f"        {_step(step)}," for step in job.post_steps]
        lines.append("    ],")
    if job.env:
        lines.append(f"    env={dict(job.env)!r},")
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
            lines.append(f"    {field}={text},")
    lines.append(")")
    return "\n".join(lines) + "\n"
