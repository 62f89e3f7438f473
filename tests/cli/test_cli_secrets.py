"""``trio-steps run --secret``: no secret in any output or file (issue 12).

End to end, in subprocesses on the real clock. Each test scans stdout,
stderr and every file the run wrote (traces, timelines, log files).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

Run = Callable[..., subprocess.CompletedProcess[str]]
Write = Callable[..., Path]

HEAD = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n"
SECRET = "hunter2xyz"


def _leaks(
    tmp_path: Path, results: list[subprocess.CompletedProcess[str]], *values: str
) -> list[str]:
    """Where any of ``values`` shows: the outputs, then the files written."""
    found = []
    for n, result in enumerate(results):
        for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
            found += [f"{name} of run {n}: {v!r}" for v in values if v in text]
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file() and path.name != "workflow.yml":
            data = path.read_bytes()
            found += [f"{path.name}: {v!r}" for v in values if v.encode() in data]
    return found


def _trace_tools(run_cli: Run, trace: str) -> list[subprocess.CompletedProcess[str]]:
    results = [
        run_cli("timeline", trace, "-o", trace + ".svg"),
        run_cli("timeline", trace, "-o", trace + ".html"),
        run_cli("stats", trace),
    ]
    for result in results:
        assert result.returncode == 0, result.stderr
    return results


def test_names_env_outputs_and_summaries_never_show_a_secret(
    run_cli: Run, workflow: Write, tmp_path: Path
) -> None:
    # Item 1 (names in "started:" lines and the summary table) and item 2
    # (job env, GITHUB_ENV, outputs and ::add-mask:: values in the traces,
    # timelines and stats); annotations, the step summary, log files.
    path = workflow(
        HEAD + "    env:\n      JOB_TOKEN: ${{ secrets.TOK }}\n    steps:\n"
        "      - id: a\n"
        "        name: step ${{ secrets.TOK }}\n"
        "        run: |\n"
        '          echo "out=${{ secrets.TOK }}" >> "$GITHUB_OUTPUT"\n'
        '          echo "FROM_ENV=${{ secrets.TOK }}" >> "$GITHUB_ENV"\n'
        '          echo "::add-mask::added-value"\n'
        '          echo "m=added-value" >> "$GITHUB_OUTPUT"\n'
        '          echo "# ${{ secrets.TOK }}" >> "$GITHUB_STEP_SUMMARY"\n'
        '          echo "::warning title=${{ secrets.TOK }}::w ${{ secrets.TOK }}"\n'
        "      - name: from ${{ steps.a.outputs.m }} ${{ steps.a.outputs.out }}\n"
        '        run: test "$FROM_ENV" = "$JOB_TOKEN" && echo "ok $FROM_ENV"\n'
        "      - run: echo ${{ secrets.TOK }}\n"
        "      - id: fail\n"
        "        run: echo ${{ steps.a.outputs.m }} && exit 3\n"
    )
    results = [
        run_cli(
            "run",
            str(path),
            "--secret",
            f"TOK={SECRET}",
            "--trace",
            trace,
            "--log-dir",
            "logs",
        )
        for trace in ("t.jsonl", "t.json")
    ]
    for result in results:
        assert result.returncode == 1, result.stderr
    lines = results[0].stdout.splitlines()
    assert "[a] started: step ***" in lines
    assert "[from *** ***] ok ***" in lines
    assert "[a] Warning: ***: w ***" in lines
    assert any(line.startswith("step ***  ") for line in lines)  # the summary
    for trace in ("t.jsonl", "t.json"):
        results += _trace_tools(run_cli, trace)
    assert (tmp_path / "t.jsonl.html").exists()
    assert _leaks(tmp_path, results, SECRET, "added-value") == []


def test_a_secret_across_the_cut_of_a_long_line_is_masked(
    run_cli: Run, workflow: Write, tmp_path: Path
) -> None:
    # Item 3: lines longer than MAX_LINE_CHARS (65,536) are cut in pieces;
    # a secret across a cut, also one that arrives after the cut point was
    # read, is masked whole.
    script = (
        "import sys, time; s = sys.argv[1]; w = sys.stdout.write\n"
        "w('x' * 65531 + s + 'y' * 5 + '\\n')\n"
        "w('z' * 65533); sys.stdout.flush(); time.sleep(0.05)\n"
        "w(s + '\\n')\n"
    )
    (tmp_path / "long.py").write_text(script, encoding="utf-8")
    path = workflow(
        HEAD + "    steps:\n      - id: long\n"
        '        run: python3 long.py "${{ secrets.TOK }}"\n'
    )
    result = run_cli(
        "run",
        str(path),
        "--secret",
        f"TOK={SECRET}",
        "--trace",
        "t.jsonl",
        "--log-dir",
        "logs",
    )
    assert result.returncode == 0, result.stderr
    assert _leaks(tmp_path, [result], SECRET, SECRET[:5], SECRET[5:]) == []
    log = (tmp_path / "logs" / "long.log").read_text(encoding="utf-8").splitlines()
    assert log == ["x" * 65531, "***yyyyy", "z" * 65533, "***"]


def test_a_job_env_expression_error_does_not_quote_the_secret(
    run_cli: Run, workflow: Write, tmp_path: Path
) -> None:
    # Item 4: format() quotes its (invalid) format string, the secret.
    path = workflow(
        HEAD + "    env:\n      A: ${{ format(secrets.X) }}\n"
        "    steps:\n      - run: echo hi\n"
    )
    result = run_cli("run", str(path), "--secret", "X={hunter2secret")
    assert result.returncode == 2
    assert "format string is invalid: ***" in result.stderr
    assert _leaks(tmp_path, [result], "hunter2secret") == []


def test_overlapping_secrets_are_masked_as_their_union(
    run_cli: Run, workflow: Write, tmp_path: Path
) -> None:
    # Item 5.
    path = workflow(
        HEAD + "    steps:\n      - id: s\n        run: echo abcd1234wxyz\n"
    )
    result = run_cli(
        "run",
        str(path),
        "--secret",
        "A=abcd1234",
        "--secret",
        "B=1234wxyz",
        "--log-dir",
        "logs",
    )
    assert result.returncode == 0, result.stderr
    assert "[s] ***" in result.stdout.splitlines()
    assert _leaks(tmp_path, [result], "wxyz", "abcd") == []


def test_a_secret_that_is_not_utf8_is_masked(
    run_cli: Run, workflow: Write, tmp_path: Path
) -> None:
    # Item 6: Python holds the byte 0xff of the argument as "\udcff"; the
    # step prints the byte, and its output is decoded with U+FFFD.
    path = workflow(
        HEAD + "    steps:\n      - id: s\n"
        '        run: printf "pw %s\\n" "${{ secrets.PW }}"\n'
    )
    result = run_cli(
        "run", str(path), "--secret", "PW=hunter\udcffpw", "--trace", "t.jsonl"
    )
    assert result.returncode == 0, result.stderr
    assert "[s] pw ***" in result.stdout.splitlines()
    assert _leaks(tmp_path, [result], "hunter") == []


def test_a_mask_added_by_a_background_step_masks_what_follows(
    run_cli: Run, workflow: Write, tmp_path: Path
) -> None:
    # The mask is the job's at once: a foreground step's lines and name, the
    # summary table and the trace all mask it. (A name printed before the
    # mask existed, such as a default name quoting the script, is not.)
    path = workflow(
        HEAD + "    steps:\n"
        "      - id: bg\n        name: masker\n        background: true\n"
        '        run: echo "::add-mask::bg-value"; echo "v=bg-value" >> "$GITHUB_OUTPUT"\n'
        "      - wait: bg\n"
        "      - name: after ${{ steps.bg.outputs.v }}\n"
        "        run: echo bg-value\n"
    )
    result = run_cli("run", str(path), "--trace", "t.jsonl", "--log-dir", "logs")
    assert result.returncode == 0, result.stderr
    assert "[after ***] ***" in result.stdout.splitlines()
    assert _leaks(tmp_path, [result], "bg-value") == []
