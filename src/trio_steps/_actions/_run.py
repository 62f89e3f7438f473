"""Running one phase of an action inside a step (rules §16).

A JavaScript action's script runs with the host's ``node`` through the
shell executor, so it gets what a shell step gets: its own process group
and the signal ladder when stopped (R6.3), workflow commands on stdout, and
the file commands (``GITHUB_OUTPUT``, ``GITHUB_ENV``, ``GITHUB_PATH``,
``GITHUB_STATE``). A composite action's steps run one after another inside
the step, each with a record of its own whose log lines go to the step's
log; what they publish is seen by the composite's later steps, and its
``outputs`` are evaluated at the end (R16.4).
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Final, TypeVar, final

from .._context import ANNOTATION_LIMIT, StepFailed, StepRun
from .._shell._execution import run_shell
from .._status import CONTEXT_NAMES
from ._definition import ActionCall, ActionDefinition, CompositeStep, input_variable

if TYPE_CHECKING:
    from .._shell._workspace import ShellJob
    from ..expressions._errors import Fault
    from ..expressions._hashfiles import HashKey

__all__ = ["ActionJob", "run_action"]

_SUCCESS: Final = "success"


#: Computes one ``hashFiles()`` call: its result, or the fault it raised.
Hasher = Callable[["HashKey"], Awaitable["str | Fault"]]
_T = TypeVar("_T")

#: A JavaScript action with a post script that ran inside a composite action:
#: the action, its inputs as evaluated, and the key its state is saved under.
_NestedPost = tuple[ActionDefinition, Mapping[str, str], int]


@final
class ActionJob:
    """What the action steps of one job share: which mains ran, saved state.

    A ``post`` phase runs only if its ``main`` phase started (R16.7); the
    state a phase saved (``save-state``, ``GITHUB_STATE``) reaches the later
    phases of the same step as ``STATE_<name>``.

    Args:
        hasher: Computes one ``hashFiles()`` call off the event loop (the
            engine's worker thread); without it, calls are computed as the
            expression is evaluated.
    """

    __slots__ = ("_nested", "_ran", "_state", "hasher")

    def __init__(self, hasher: Hasher | None = None) -> None:
        #: Computes a ``hashFiles()`` call off the event loop; ``None``:
        #: in the loop, as the expression is evaluated.
        self.hasher = hasher
        self._ran: set[int] = set()
        self._state: dict[int, dict[str, str]] = {}
        self._nested: dict[int, list[_NestedPost]] = {}

    def add_nested_post(self, key: int, post: _NestedPost) -> None:
        """Remember a JavaScript action with a post script that ran in a composite."""
        self._nested.setdefault(key, []).append(post)

    def nested_posts(self, key: int) -> list[_NestedPost]:
        """The nested posts of the composite step ``key``, in the order of their mains."""
        return self._nested.get(key, [])

    def main_ran(self, key: int) -> bool:
        """Whether the ``main`` phase of the step ``key`` started."""
        return key in self._ran

    def state(self, key: int) -> Mapping[str, str]:
        """The state saved so far by the phases of the step ``key``."""
        return self._state.get(key, {})

    def save(self, key: int, state: Mapping[str, str]) -> None:
        if state:
            self._state.setdefault(key, {}).update(state)

    def started(self, key: int) -> None:
        self._ran.add(key)


@final
class _Forward:
    """The sink of a composite's inner step: everything goes to the outer step."""

    __slots__ = ("_outer",)

    def __init__(self, outer: StepRun) -> None:
        self._outer = outer

    def output(self, run: StepRun, line: str, stream: str) -> None:
        self._outer.output(line, stream)

    def signal_sent(self, run: StepRun, signal: str) -> None:
        self._outer.signal_sent(signal)

    def grace_expired(self, run: StepRun, which: str) -> None:
        self._outer.grace_expired(which)

    def add_mask(self, value: str) -> None:
        self._outer.add_mask(value)


async def _evaluate(fn: Callable[[], _T], actions: ActionJob) -> _T:
    """``fn()``, an evaluation, with its ``hashFiles()`` calls computed off the loop.

    The calls are deferred: each one not known yet is computed by the
    job's hasher (a worker thread), then ``fn`` is evaluated again, as the
    engine does for the workflow's own steps.
    """
    if actions.hasher is None:
        return fn()
    from ..expressions._hashfiles import HashFilesPending, deferred_hash_files

    hashes: dict[HashKey, str | Fault] = {}
    while True:
        try:
            with deferred_hash_files(hashes):
                return fn()
        except HashFilesPending as pending:
            hashes[pending.key] = await actions.hasher(pending.key)


def _render(text: str, contexts: Mapping[str, object]) -> str:
    if "${{" not in text:
        return text
    from ..expressions import compile_template

    return compile_template(text, names=CONTEXT_NAMES).render(contexts)


def _inputs(call: ActionCall, contexts: Mapping[str, object]) -> dict[str, str]:
    """The action's inputs: ``with:`` and defaults, evaluated (R16.3)."""
    return {name: _render(text, contexts) for name, text in call.with_.items()}


def _holds(condition: str, contexts: Mapping[str, object]) -> bool:
    from ..expressions import compile_condition, truthy

    return truthy(compile_condition(condition, names=CONTEXT_NAMES).evaluate(contexts))


async def run_action(
    run: StepRun,
    call: ActionCall,
    contexts: Mapping[str, object],
    shell_job: ShellJob | None,
    actions: ActionJob,
    *,
    root: int | None = None,
) -> None:
    """Run one phase of an action to its end, in the step's own task and scope.

    Args:
        run: The step's record; ``run.env`` is the step's env.
        call: The action and the phase to run.
        contexts: What ``${{ }}`` in ``with:`` evaluates against.
        shell_job: What the job's shell steps share.
        actions: What the job's action steps share (state, mains that ran).
        root: The key of the workflow's step, for an action that runs
            inside a composite action: its post runs in that step's post.

    Raises:
        StepFailed: The action failed (a process exited non-zero, a
            composite step failed, ``node`` is missing …).
        trio.Cancelled: The step was stopped.
    """
    definition = call.definition
    if call.phase == "main":
        actions.started(call.key)  # R16.7: its post runs, whatever happens now
    try:
        inputs = await _evaluate(functools.partial(_inputs, call, contexts), actions)
    except Exception as exc:
        raise StepFailed(f"Interpolation of with: failed: {exc}") from None
    if definition.is_composite:
        if call.phase == "post":
            await _run_nested_posts(run, call.key, contexts, shell_job, actions)
            return
        await _run_composite(
            run,
            definition,
            inputs,
            contexts,
            shell_job,
            actions,
            root=call.key if root is None else root,
        )
        return
    if root is not None and definition.post is not None:
        actions.add_nested_post(root, (definition, inputs, call.key))
    script = {"pre": definition.pre, "post": definition.post}.get(
        call.phase, definition.main
    )
    assert script is not None
    try:
        await _run_node(
            run, definition, script, inputs, actions.state(call.key), shell_job
        )
    finally:
        actions.save(call.key, run.state)


def _search_path(run: StepRun, env: Mapping[str, str]) -> str:
    inherited = env.get("PATH", os.environ.get("PATH", os.defpath))
    return os.pathsep.join((*run.path, inherited)) if run.path else inherited


async def _run_node(
    run: StepRun,
    definition: ActionDefinition,
    script: str,
    inputs: Mapping[str, str],
    state: Mapping[str, str],
    shell_job: ShellJob | None,
) -> None:
    """Run a JavaScript action's script with the host's ``node`` (R16.5)."""
    env = dict(run.env)
    for name, value in inputs.items():
        env[input_variable(name)] = value
    for name, value in state.items():
        env[f"STATE_{name}"] = value
    env["GITHUB_ACTION_PATH"] = definition.directory
    env["GITHUB_ACTION_REPOSITORY"] = definition.repository
    env["GITHUB_ACTION_REF"] = definition.ref
    node = shutil.which("node", path=_search_path(run, env))
    if node is None:
        raise StepFailed(
            f"{definition.reference} is a JavaScript action ({definition.using}) "
            "and needs Node.js, but no 'node' is on the PATH; install Node.js "
            "or put it on the PATH"
        )
    if definition.using == "node16":
        run.annotate(
            "warning",
            f"{definition.reference} uses node16, which GitHub has retired; it "
            f"runs with {node}",
        )
    run.env = env
    run.script = None
    run.working_directory = None
    # node itself leads the step's process group, as a shell would.
    await run_shell(run, shell_job, program=[node, script])


def _step_entry(
    outputs: Mapping[str, str], outcome: str, conclusion: str
) -> dict[str, object]:
    return {"outputs": dict(outputs), "outcome": outcome, "conclusion": conclusion}


def _inner_run(
    run: StepRun, name: str, env: Mapping[str, str], path: tuple[str, ...]
) -> StepRun:
    """The record of a step inside an action step: its lines are the step's."""
    return StepRun(
        sink=_Forward(run),
        id=run.id,
        name=name,
        env=env,
        steps=run.steps,
        path=path,
        script=None,
        shell=None,
        working_directory=None,
        workspace=run.workspace,
        interrupt_grace=run.interrupt_grace,
        terminate_grace=run.terminate_grace,
        runner_temp=run.runner_temp,
        masker=run.masker,
    )


async def _run_nested_posts(
    run: StepRun,
    key: int,
    contexts: Mapping[str, object],
    shell_job: ShellJob | None,
    actions: ActionJob,
) -> None:
    """The post scripts of the JavaScript actions a composite ran (R16.7).

    In reverse order of their mains, each if its ``post-if`` holds; one that
    fails fails the post step, and the others still run.
    """
    failed: str | None = None
    for definition, inputs, nested_key in reversed(actions.nested_posts(key)):
        assert definition.post is not None
        if definition.post_if is not None:
            try:
                holds = await _evaluate(
                    functools.partial(_holds, definition.post_if, contexts), actions
                )
            except Exception as exc:
                run.output(f"Error: post-if of {definition.reference}: {exc}", "log")
                failed = failed or definition.reference
                continue
            if not holds:
                continue
        run.output(f"Post Run {definition.reference}", "log")
        inner = _inner_run(run, f"Post Run {definition.reference}", run.env, run.path)
        try:
            await _run_node(
                inner,
                definition,
                definition.post,
                inputs,
                actions.state(nested_key),
                shell_job,
            )
        except Exception as exc:
            run.output(f"Error: {exc}", "log")
            failed = failed or definition.reference
        finally:
            actions.save(nested_key, inner.state)
    if failed is not None:
        raise StepFailed(f"The post script of {failed} failed")


async def _run_composite(
    run: StepRun,
    definition: ActionDefinition,
    inputs: Mapping[str, str],
    contexts: Mapping[str, object],
    shell_job: ShellJob | None,
    actions: ActionJob,
    *,
    root: int,
) -> None:
    """Run a composite action's steps as a nested sequence (R16.4)."""
    github = dict(_mapping(contexts.get("github")))
    github["action_path"] = definition.directory
    github["action_repository"] = definition.repository
    github["action_ref"] = definition.ref
    job_status = str(_mapping(contexts.get("job")).get("status", _SUCCESS))
    steps: dict[str, object] = {}
    env = dict(run.env)
    path = run.path
    failed: str | None = None
    for index, step in enumerate(definition.steps):
        local: dict[str, object] = {
            **contexts,
            "github": github,
            "inputs": dict(inputs),
            "steps": steps,
            "env": env,
            "job": {"status": "failure" if failed is not None else job_status},
        }
        step_id = step.id or f"__{index}"
        try:
            step_env, holds = await _evaluate(
                functools.partial(_prepare, step, env, local), actions
            )
            # What the runner sets for each step of a composite action.
            step_env["GITHUB_ACTION_PATH"] = definition.directory
        except Exception as exc:
            run.output(f"Error: {step.display_name}: {exc}", "log")
            failed = failed or step.display_name
            steps[step_id] = _step_entry({}, "failure", "failure")
            continue
        if not holds:
            steps[step_id] = _step_entry({}, "skipped", "skipped")
            continue
        inner = _inner_run(run, step.display_name, step_env, path)
        error: str | None = None
        try:
            name, script, working_directory = await _evaluate(
                functools.partial(_fields, step, local), actions
            )
            if step.uses is not None:
                run.output(name if name is not None else step.display_name, "log")
                call = ActionCall(definition=step.uses, with_=step.with_)
                await run_action(inner, call, local, shell_job, actions, root=root)
            else:
                assert script is not None
                first = next(
                    (ln.strip() for ln in script.splitlines() if ln.strip()), ""
                )
                run.output(name if name is not None else f"Run {first}", "log")
                inner.script = script
                inner.shell = step.shell
                inner.working_directory = working_directory
                await run_shell(inner, shell_job)
        except Exception as exc:
            error = str(exc)
            run.output(f"Error: {error}", "log")
        outcome = "success" if error is None else "failure"
        conclusion = outcome
        if error is not None:
            coe = step.continue_on_error
            if isinstance(coe, str):
                try:
                    coe = await _evaluate(
                        functools.partial(_truthy, coe, local), actions
                    )
                except Exception:
                    coe = False
            if coe:
                conclusion = "success"
            else:
                failed = failed or step.display_name
        steps[step_id] = _step_entry(inner.outputs, outcome, conclusion)
        # What the inner step published: later inner steps and the job see it.
        for key, value in inner.env_changes.items():
            env[key] = value
            run.set_env(key, value)
        for entry in inner.path_added:
            path = (entry, *(p for p in path if p != entry))
            run.add_path(entry)
        if inner.summary:
            run.summary = (run.summary or "") + inner.summary
        for annotation in inner.annotations:
            if len(run.annotations) < ANNOTATION_LIMIT:
                run.annotations.append(annotation)
    final: dict[str, object] = {
        **contexts,
        "github": github,
        "inputs": dict(inputs),
        "steps": steps,
        "env": env,
    }
    for name, template in definition.outputs.items():
        try:
            run.set_output(
                name,
                await _evaluate(functools.partial(_render, template, final), actions),
            )
        except Exception as exc:
            failed = failed or f"output {name!r}: {exc}"
    if failed is not None:
        raise StepFailed(f"The composite action failed at {failed}")


def _prepare(
    step: CompositeStep, env: Mapping[str, str], local: dict[str, object]
) -> tuple[dict[str, str], bool]:
    """An inner step's env, then its condition, which sees that env (§14)."""
    step_env = dict(env)
    for key, value in step.env.items():
        step_env[key] = _render(value, local)
    local["env"] = dict(step_env)
    return step_env, _holds(step.condition or "success()", local)


def _fields(
    step: CompositeStep, local: Mapping[str, object]
) -> tuple[str | None, str | None, str | None]:
    """An inner step's name, script and working directory, evaluated."""
    return (
        None if step.name is None else _render(step.name, local),
        None if step.run is None else _render(step.run, local),
        None
        if step.working_directory is None
        else _render(step.working_directory, local),
    )


def _truthy(template: str, contexts: Mapping[str, object]) -> bool:
    from ..expressions import compile_template, truthy

    return truthy(compile_template(template, names=CONTEXT_NAMES).evaluate(contexts))


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}
