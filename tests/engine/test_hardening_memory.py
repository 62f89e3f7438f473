"""What a step cannot make the runner keep without bound (issue 12, beyond 19-23).

Counted, never timed: the annotations a running step keeps, and the length
of the error summary a report keeps.
"""

from __future__ import annotations

import trio
import trio.testing

import trio_steps as ts
from trio_steps._context import ANNOTATION_LIMIT, ERROR_LIMIT, StepRun


class _Sink:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def output(self, run: StepRun, line: str, stream: str) -> None:
        self.lines.append(line)


def test_a_flood_of_annotations_keeps_only_the_first_ones() -> None:
    sink = _Sink()
    run = StepRun(
        sink=sink,  # type: ignore[arg-type]
        id="s",
        name="s",
        env={},
        steps={},
        path=(),
        script="true",
        shell=None,
        working_directory=None,
        workspace=".",
        interrupt_grace=0,
        terminate_grace=0,
    )
    for i in range(10 * ANNOTATION_LIMIT):
        run.annotate("warning", f"w{i}")
    assert len(run.annotations) == ANNOTATION_LIMIT
    assert run.annotations[-1] == ("warning", f"w{ANNOTATION_LIMIT - 1}")
    # every one still reaches the log
    assert len(sink.lines) == 10 * ANNOTATION_LIMIT
    assert sink.lines[-1] == f"Warning: w{10 * ANNOTATION_LIMIT - 1}"


async def test_a_huge_exception_message_is_cut_in_the_error_not_in_the_log(
    autojump_clock: trio.testing.MockClock,
) -> None:
    secret = "hunter2xyz"
    # The secret straddles the cut: masking comes first, so no part leaks.
    prefix = "ValueError: "
    message = "x" * (ERROR_LIMIT - len(prefix) - 5) + secret + "y" * 10_000_000
    masked = prefix + message.replace(secret, "***")

    async def huge(ctx: ts.StepContext) -> None:
        raise ValueError(message)

    seen: list[str] = []
    report = await ts.run_job(
        ts.Job([ts.Step(huge, id="h")], secrets={"S": secret}),
        on_event=lambda e: seen.append(str(e.data.get("line", ""))),
    )
    error = report.steps["h"].error
    assert error is not None
    assert len(error) <= ERROR_LIMIT + 100
    assert error.startswith("ValueError: xxx")
    more = len(masked) - ERROR_LIMIT
    assert error == (
        masked[:ERROR_LIMIT]
        + f"… ({more} more characters; the whole message is in the step's log)"
    )
    assert "hunter" not in error and "2xyz" not in error
    # the whole (masked) message went out live with the traceback
    assert seen.count(masked) == 2  # the traceback's last line, then the error
