"""Helpers for the shell executor tests: a fake engine sink and a runner."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs
import trio

from trio_steps._context import StepFailed, StepRun
from trio_steps._shell._execution import run_shell


@attrs.define
class FakeSink:
    """Records what the executor reports, in order, with Trio clock times."""

    lines: list[tuple[str, str]] = attrs.Factory(list)
    events: list[tuple[str, str, float]] = attrs.Factory(list)
    masks: list[str] = attrs.Factory(list)

    def output(self, run: StepRun, line: str, stream: str) -> None:
        self.lines.append((line, stream))

    def signal_sent(self, run: StepRun, signal: str) -> None:
        self.events.append(("signal-sent", signal, trio.current_time()))

    def grace_expired(self, run: StepRun, which: str) -> None:
        self.events.append(("grace-expired", which, trio.current_time()))

    def add_mask(self, value: str) -> None:
        self.masks.append(value)
        # Masks take effect for later lines: record where the mask arrived.
        self.lines.append((f"<mask {len(self.masks)}>", "mask"))

    def stream(self, name: str) -> list[str]:
        """The lines of one stream, in order."""
        return [line for line, stream in self.lines if stream == name]

    def signals(self) -> list[str]:
        """The signals sent, in order."""
        return [what for kind, what, _ in self.events if kind == "signal-sent"]


@attrs.define
class ShellResult:
    """What one :func:`run_shell` call produced."""

    run: StepRun
    sink: FakeSink
    error: BaseException | None
    elapsed: float


def make_run(
    script: str,
    sink: FakeSink,
    *,
    workspace: str,
    env: Mapping[str, str] | None = None,
    path: tuple[str, ...] = (),
    shell: str | None = None,
    working_directory: str | None = None,
    interrupt_grace: float = 0.5,
    terminate_grace: float = 0.5,
) -> StepRun:
    """Build the StepRun the engine would give :func:`run_shell`."""
    return StepRun(
        sink=sink,
        id="s",
        name="Run s",
        env=dict(env or {}),
        steps={},
        path=path,
        script=script,
        shell=shell,
        working_directory=working_directory,
        workspace=workspace,
        interrupt_grace=interrupt_grace,
        terminate_grace=terminate_grace,
    )


ShellRunner = Callable[..., Awaitable[ShellResult]]


def make_shell_runner(tmp_path: Any) -> ShellRunner:
    """Run a script with :func:`run_shell` in ``tmp_path``.

    The returned coroutine function takes the script, ``cancel_after``
    (cancel the step's scope after that many seconds), ``cancel_first``
    (call it in an already cancelled scope), ``limit`` (a bound on the whole
    call, real clock) and the keywords of :func:`make_run`.
    """

    async def run(
        script: str,
        *,
        cancel_after: float | None = None,
        cancel_first: bool = False,
        limit: float = 20,
        **kwargs: Any,
    ) -> ShellResult:
        kwargs.setdefault("workspace", str(tmp_path))
        sink = FakeSink()
        step_run = make_run(script, sink, **kwargs)
        error: BaseException | None = None
        start = trio.current_time()
        with trio.fail_after(limit):
            with trio.CancelScope() as scope:
                if cancel_first:
                    scope.cancel()
                async with trio.open_nursery() as nursery:
                    if cancel_after is not None:

                        async def cancel_later() -> None:
                            await trio.sleep(cancel_after)
                            scope.cancel()

                        nursery.start_soon(cancel_later)
                    try:
                        await run_shell(step_run, None)
                    except (StepFailed, trio.Cancelled) as exc:
                        error = exc
                        if isinstance(exc, trio.Cancelled):
                            nursery.cancel_scope.cancel()
                            raise
                    nursery.cancel_scope.cancel()
        return ShellResult(step_run, sink, error, trio.current_time() - start)

    return run


def pgrp_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is ``pgid``, from /proc."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rfind(b")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            found.append(int(name))
    return found
