"""Secrets never reach a log, event, report, trace, timeline or statistics.

Issue 12, items 1, 2, 5 and 6, and what attacking the masking found
(``docs/source/cli.rst``, "What is masked"). Engine tests on the autojump
clock; the command line is tested in ``tests/cli/test_cli_secrets.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import hypothesis
import hypothesis.strategies
import trio
import trio.testing

import trio_steps as ts
from trio_steps import job_statistics, write_trace
from trio_steps._masking import Masker, _json_string
from trio_steps._shell._execution import LineSplitter
from trio_steps._trace._stats import format_statistics, statistics_to_json

SECRET = "hunter2xyz"


def _all_text(report: ts.JobReport, tmp_path: Path) -> str:
    """Everything a report can be turned into, as one text."""
    jsonl, chrome = tmp_path / "t.jsonl", tmp_path / "t.json"
    write_trace(report, jsonl)
    write_trace(report, chrome)
    loaded = ts.load_trace(jsonl)
    return "\n".join(
        [
            repr(report),
            jsonl.read_text(encoding="utf-8"),
            chrome.read_text(encoding="utf-8"),
            ts.render_timeline(report, format="svg"),
            ts.render_timeline(loaded, format="html"),
            format_statistics(report),
            json.dumps(statistics_to_json(job_statistics(loaded))),
        ]
    )


# -- item 5: the union of overlapping matches -----------------------------


def test_overlapping_values_are_masked_as_their_union() -> None:
    masker = Masker(["abcd1234", "1234wxyz"])
    assert masker.mask("<abcd1234wxyz>") == "<***>"
    assert masker.mask("1234wxyzabcd1234") == "******"  # touching: two masks
    assert masker.spans("..abcd1234wxyz..1234") == [(2, 14)]


async def test_overlapping_secrets_leave_nothing_visible(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def leak(ctx: ts.StepContext) -> None:
        ctx.log("token abcd1234wxyz end")
        raise RuntimeError("abcd1234wxyz")

    report = await ts.run_job(
        ts.Job([ts.Step(leak, id="s")], secrets={"A": "abcd1234", "B": "1234wxyz"})
    )
    log = report.steps["s"].log
    assert log[0] == "token *** end"
    assert log[-1] == "RuntimeError: ***"  # the traceback's last line
    assert not any("abcd" in line or "wxyz" in line for line in log)
    assert report.steps["s"].error == "RuntimeError: ***"


# -- item 6: secrets that are not UTF-8 ------------------------------------


def test_a_secret_of_undecodable_bytes_is_masked_as_output_decodes_it() -> None:
    # "\udcff" is how Python holds the byte 0xff of a command-line argument;
    # a step's output decoder turns that byte into U+FFFD.
    masker = Masker(["hunter\udcffpw"])
    assert masker.mask("pw: hunter\ufffdpw.") == "pw: ***."
    assert masker.mask("pw: hunter\udcffpw.") == "pw: ***."


async def test_an_undecodable_secret_printed_by_a_step_is_masked(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def leak(ctx: ts.StepContext) -> None:
        raw = ctx.env["TOK"].encode("utf-8", "surrogateescape")
        ctx.log(raw.decode("utf-8", "replace"))  # as a shell step's output is

    report = await ts.run_job(
        ts.Job(
            [ts.Step(leak, id="s", env={"TOK": "${{ secrets.TOK }}"})],
            secrets={"TOK": "hunter\udcffpw"},
        )
    )
    assert report.steps["s"].log == ("***",)


# -- item 1: step names -----------------------------------------------------


async def test_step_names_are_masked(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    async def produce(ctx: ts.StepContext) -> None:
        ctx.add_mask("added-value")
        ctx.set_output("m", "added-value")
        ctx.set_output("s", SECRET)

    names: list[str] = []
    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(produce, id="a", name="step ${{ secrets.TOK }}"),
                ts.Step(
                    # Not async on purpose: the name is expanded before the
                    # call, and the step failing after it does not matter here.
                    lambda ctx: names.append(ctx.name),  # type: ignore[arg-type, return-value]
                    id="b",
                    name="from ${{ steps.a.outputs.m }} ${{ steps.a.outputs.s }}",
                ),
                ts.Step(lambda ctx: None, id="c", name=f"literal {SECRET}"),  # type: ignore[arg-type, return-value]
            ],
            secrets={"TOK": SECRET},
        )
    )
    assert [s.name for s in report.steps.values()] == [
        "step ***",
        "from *** ***",
        "literal ***",
    ]
    assert names == ["from *** ***"]
    text = _all_text(report, tmp_path)
    assert SECRET not in text
    assert "added-value" not in text


async def test_a_wait_step_names_its_targets_masked(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def work(ctx: ts.StepContext) -> None:
        await trio.sleep(1)

    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(work, id="bg", name="job ${{ secrets.TOK }}", background=True),
                ts.Wait("bg", id="w"),
            ],
            secrets={"TOK": SECRET},
        )
    )
    assert report.steps["w"].log == ("Waiting for: job ***", "job ***: success")


# -- item 2: what the report holds, and every writer ----------------------


async def test_report_env_outputs_and_path_are_masked_steps_see_real_values(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    seen: list[object] = []

    async def produce(ctx: ts.StepContext) -> None:
        ctx.add_mask("masked-later")
        ctx.set_output("out", SECRET)
        ctx.set_output("m", "masked-later")
        ctx.set_env("FROM_STEP", f"x{SECRET}x")
        ctx.add_path(f"/opt/{SECRET}/bin")

    async def consume(ctx: ts.StepContext) -> None:
        seen.append(dict(ctx.steps["a"].outputs))
        seen.append(ctx.env["FROM_STEP"])
        seen.append(ctx.env["JOB"])

    report = await ts.run_job(
        ts.Job(
            [ts.Step(produce, id="a"), ts.Step(consume, id="b")],
            env={"JOB": "${{ secrets.TOK }}"},
            secrets={"TOK": SECRET},
        )
    )
    # Steps get the real values (GitHub masks logs, not what steps read) ...
    assert seen == [{"out": SECRET, "m": "masked-later"}, f"x{SECRET}x", SECRET]
    # ... the report, and so every file made from it, never holds them.
    assert dict(report.steps["a"].outputs) == {"out": "***", "m": "***"}
    assert dict(report.env) == {"JOB": "***", "FROM_STEP": "x***x"}
    assert report.path == ("/opt/***/bin",)
    text = _all_text(report, tmp_path)
    assert SECRET not in text
    assert "masked-later" not in text


async def test_the_live_trace_writer_and_job_name_are_masked(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    async def produce(ctx: ts.StepContext) -> None:
        ctx.log(f"value {SECRET}")
        ctx.set_output("out", SECRET)

    path = tmp_path / "live.jsonl"
    with ts.TraceWriter(path) as writer:
        report = await ts.run_job(
            ts.Job(
                [ts.Step(produce, id="a")],
                name=f"job {SECRET}",
                secrets={"TOK": SECRET},
            ),
            on_event=writer,
        )
        writer.write_report(report)
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    assert '"name":"job ***"' in text


async def test_a_mask_added_later_masks_the_earlier_lines_of_the_report(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    # The live output showed the line before the mask existed (as on
    # GitHub); the report, and so a trace written from it, masks it.
    lines: list[str] = []

    async def early(ctx: ts.StepContext) -> None:
        ctx.log("token late-value")
        await trio.sleep(1)

    async def masker(ctx: ts.StepContext) -> None:
        await trio.sleep(0.5)
        ctx.add_mask("late-value")
        ctx.log("again late-value")

    report = await ts.run_job(
        ts.Job(
            [
                ts.Step(early, id="bg", background=True),
                ts.Step(masker, id="m"),
            ]
        ),
        on_event=lambda e: (
            lines.append(str(e.data["line"])) if e.kind == "step-output" else None
        ),
    )
    assert lines[:2] == ["token late-value", "again ***"]
    assert report.steps["bg"].log == ("token ***",)
    assert "late-value" not in _all_text(report, tmp_path)


async def test_a_multiline_mask_masks_each_of_its_lines(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def leak(ctx: ts.StepContext) -> None:
        ctx.add_mask("first-line\n  second-line\n")
        ctx.log("a first-line b")
        ctx.log("c second-line d")

    report = await ts.run_job(ts.Job([ts.Step(leak, id="s")]))
    assert report.steps["s"].log == ("a *** b", "c *** d")


async def test_json_and_url_forms_of_a_secret_are_masked(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # toJSON(secrets) or a URL would otherwise show a secret holding a quote.
    async def leak(ctx: ts.StepContext) -> None:
        ctx.log(json.dumps({"pw": 'ab"cd/ef'}))
        ctx.log("https://x/?pw=ab%22cd%2Fef")

    report = await ts.run_job(
        ts.Job([ts.Step(leak, id="s")], secrets={"PW": 'ab"cd/ef'})
    )
    assert report.steps["s"].log == ('{"pw": "***"}', "https://x/?pw=***")


# -- item 3: a long line is never cut inside a secret ---------------------


def _pieces(chunks: list[str], masker: Masker, max_chars: int) -> list[str]:
    lines: list[str] = []
    splitter = LineSplitter(lines.append, max_chars, masker)
    for chunk in chunks:
        splitter.feed(chunk.encode())
    splitter.close()
    return lines


def test_the_line_splitter_never_cuts_a_secret() -> None:
    masker = Masker([SECRET])
    line = "x" * 7 + SECRET + "y" * 20
    for size in (1, 3, len(line)):
        chunks = [line[i : i + size] for i in range(0, len(line), size)]
        pieces = _pieces(chunks, masker, 10)
        assert "".join(pieces) == line
        assert all(len(p) <= 10 for p in pieces)
        assert [masker.mask(p) for p in pieces] == ["x" * 7, "***", "y" * 10, "y" * 10]


def test_the_line_splitter_keeps_a_secret_longer_than_a_piece_whole() -> None:
    masker = Masker(["s" * 25])
    pieces = _pieces(["ab" + "s" * 25 + "c\n"], masker, 10)
    assert [masker.mask(p) for p in pieces] == ["ab", "***", "c"]


async def test_a_short_mask_does_not_break_the_trace(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    # Only free text is masked: result names, kinds and reasons stay
    # readable, so the trace loads back.
    async def short(ctx: ts.StepContext) -> None:
        ctx.log("SUCCEEDED run")
        ctx.add_mask("S")
        ctx.add_mask("run")

    report = await ts.run_job(ts.Job([ts.Step(short, id="s", name="Short")]))
    assert report.steps["s"].log == ("***UCCEEDED ***",)
    assert report.steps["s"].name == "***hort"
    for suffix in (".jsonl", ".json"):
        write_trace(report, tmp_path / f"t{suffix}")
        loaded = ts.load_trace(tmp_path / f"t{suffix}")
        assert loaded.steps["s"].conclusion is ts.Result.SUCCEEDED
        assert loaded.steps["s"].log == report.steps["s"].log


def test_base64_forms_of_a_secret_are_masked_at_any_offset() -> None:
    # echo "$TOKEN" | base64, with anything before it.
    import base64

    masker = Masker([SECRET])
    for before in (b"", b"a", b"ab", b"abc"):
        encoded = base64.b64encode(before + SECRET.encode() + b"\n").decode()
        masked = masker.mask(encoded)
        assert "***" in masked
        assert len(masked.replace("***", "")) <= 8  # what the neighbours set
    assert Masker(["short"]).mask(base64.b64encode(b"short").decode()) == "c2hvcnQ="


def test_many_masks_keep_few_patterns() -> None:
    # Each ::add-mask:: used to recompile one pattern of every value: 2,000
    # masks took minutes. Chunks merged like a binary counter stay few.
    masker = Masker()
    for n in range(1, 2049):
        masker.add(f"value-{n:05d}")
        assert len(masker._chunks) <= len(masker._values).bit_length()
    assert masker.mask("a value-00001 b value-02048 c") == "a *** b *** c"


@hypothesis.given(hypothesis.strategies.text())
def test_the_json_form_of_a_value_is_what_json_writes(text: str) -> None:
    # The masker writes JSON escapes itself (no json import on the run path).
    assert _json_string(text) == json.dumps(text, ensure_ascii=False)[1:-1]
