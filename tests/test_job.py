"""§7: every problem of a job definition, in one JobDefinitionError."""

from __future__ import annotations

import pytest

import trio_steps as ts


async def noop(ctx: ts.StepContext) -> None:
    pass


def problems(build: object) -> tuple[str, ...]:
    with pytest.raises(ts.JobDefinitionError) as info:
        build()  # type: ignore[operator]
    assert isinstance(info.value, ValueError)
    return info.value.problems


def test_every_problem_is_listed_at_once() -> None:
    found = problems(
        lambda: ts.Job(
            [
                ts.Wait("later"),
                ts.Step(noop, id="fg"),
                ts.Step(noop, id="FG"),
                ts.Cancel("fg"),
                ts.Step(noop, id="later", background=True),
            ],
            max_background=0,
            interrupt_grace=-1,
        )
    )
    assert len(found) == 5
    joined = "\n".join(found)
    assert "max_background must be >= 1" in joined
    assert "interrupt_grace must be >= 0" in joined
    assert "'later' is not the id of a background step declared before" in joined
    assert "id 'FG' is used twice" in joined
    assert "'fg' is not a background step" in joined


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda: ts.Step(noop, id="9lives"), "must start with a letter"),
        (lambda: ts.Step(noop, id="__mine"), "reserved"),
        (lambda: ts.Step(noop, id="a b"), "must start with a letter"),
        (lambda: ts.Step(42), "run must be an async callable or a shell script"),  # type: ignore[arg-type]
        (lambda: ts.Step(noop, timeout=0), "timeout must be > 0"),
        (lambda: ts.Step(noop, timeout=float("nan")), "timeout must be > 0"),
        (lambda: ts.Step(noop, timeout="soon"), "is not a duration"),
        (lambda: ts.Step(noop, timeout="-5m"), "is not a duration"),
        (lambda: ts.Step(noop, timeout="${{ inputs. }}"), "timeout"),
        (lambda: ts.Step(noop, continue_on_error="${{ nope( }}"), "continue_on_error"),
        (
            lambda: ts.Step(noop, continue_on_error="yes"),
            "continue_on_error must be True, False",
        ),
        (lambda: ts.Step(noop, env={"A": 1}), "env value of 'A' must be a string"),  # type: ignore[dict-item]
        (lambda: ts.Step(noop, background="yes"), "background must be True or False"),  # type: ignore[arg-type]
        (lambda: ts.Step(noop, condition=3), "condition must be None"),  # type: ignore[arg-type]
        (lambda: ts.Step(noop, shell="bash"), "shell applies only to script steps"),
        (lambda: ts.Wait([]), "at least one step id"),
        (lambda: ts.Cancel([]), "at least one step id"),
        (lambda: ts.Wait([""]), "non-empty step id"),
        (lambda: ts.Parallel([]), "at least one member"),
        (lambda: ts.Parallel([ts.Step(noop, background=True)]), "drop background=True"),
        (lambda: ts.Parallel([ts.Parallel([ts.Step(noop)])]), "cannot be nested"),  # type: ignore[list-item]
        (lambda: ts.Parallel([ts.WaitAll()]), "control steps cannot be parallel"),  # type: ignore[list-item]
        (
            lambda: ts.Job(
                [ts.Step(noop)], post_steps=[ts.Step(noop, background=True)]
            ),
            "post steps cannot run in the background",
        ),
        (
            lambda: ts.Job([ts.Step(noop)], post_steps=[ts.WaitAll()]),  # type: ignore[list-item]
            "post steps must be run steps",
        ),
        (lambda: ts.Job(["echo"]), "must be a Step, Wait"),  # type: ignore[list-item]
        (
            lambda: ts.Job(
                [ts.Step(noop, id="a", background=True), ts.Wait("a", id="a")]
            ),
            "used twice",
        ),
        (
            lambda: ts.Job(
                [ts.Step(noop, id="a", background=True), ts.Wait(["a", "w"], id="w")]
            ),
            "cannot name itself",
        ),
        (
            lambda: ts.Job([ts.Step(noop)], terminate_grace=float("inf")),
            "terminate_grace must be >= 0",
        ),
        (lambda: ts.Job([ts.Step(noop)], timeout=-3), "timeout must be > 0"),
        (
            lambda: ts.Job([ts.Step(noop)], max_background=2.5),  # type: ignore[arg-type]
            "max_background must be an integer",
        ),
        (lambda: ts.Job("echo"), "steps must be a list"),  # type: ignore[arg-type]
        (lambda: ts.JobRunner("not a job"), "needs a Job"),  # type: ignore[arg-type]
    ],
)
def test_section_7_violations(build: object, fragment: str) -> None:
    assert fragment in "\n".join(problems(build))


def test_wait_may_name_parallel_members_and_ids_ignore_case() -> None:
    job = ts.Job(
        [
            ts.Parallel([ts.Step(noop, id="Member")]),
            ts.Wait("member"),
            ts.Cancel("MEMBER"),
        ]
    )
    assert [p.targets for p in job.plan if p.kind in ("wait", "cancel")] == [
        ("Member",),
        ("Member",),
        ("Member",),
    ]


def test_generated_ids_and_names() -> None:
    job = ts.Job(
        [
            ts.Step("echo hi\necho there"),
            ts.Step(noop, background=True),
            ts.WaitAll(),
            ts.Parallel([ts.Step(noop)]),
        ],
        post_steps=[ts.Step(noop)],
    )
    assert [(p.id, p.name, p.kind) for p in job.plan] == [
        ("__run_1", "Run echo hi", "run"),
        ("__run_2", "noop", "run"),
        ("__wait_all_3", "Wait for all background steps", "wait-all"),
        ("__parallel_4_1", "noop", "run"),
        ("__parallel_4_wait", "Wait for parallel steps", "wait"),
        ("__post_1", "noop", "run"),
    ]


def test_string_condition_that_does_not_parse_is_a_definition_error() -> None:
    assert "invalid condition" in "\n".join(
        problems(lambda: ts.Step(noop, condition="success("))
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("90s", 90.0), ("1.5m", 90.0), ("2h", 7200.0), (" 0.25 ", 0.25)],
)
def test_durations_as_strings(text: str, seconds: float) -> None:
    assert ts.Step(noop, timeout=text).timeout == seconds
