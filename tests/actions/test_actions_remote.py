"""Remote actions: fetched with git into a cache, reused offline (R16.8).

The "server" is a directory of bare repositories reached by a ``file://``
URL, as ``--actions-url`` allows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import trio_steps as ts

from .action_helpers import Workspace, publish

ECHO = """\
    inputs:
      word: {default: one}
    runs:
      using: composite
      steps:
        - {shell: bash, run: "echo v1 ${{ inputs.word }}"}
"""


@pytest.fixture
def server(tmp_path: Path) -> Path:
    root = tmp_path / "server"
    root.mkdir()
    return root


async def test_fetched_then_reused_from_the_cache_offline_r16_8(
    ws: Workspace, server: Path
) -> None:
    publish(server, "octo", "echo", {"action.yml": ECHO}, "v1")
    url = f"file://{server}"
    report = await ws.run("- {id: e, uses: octo/echo@v1, with: {word: hi}}\n", url=url)
    assert report.steps["e"].log[-1] == "v1 hi"
    assert (ws.cache / "octo" / "echo" / "v1" / "action.yml").is_file()
    assert not (ws.cache / "octo" / "echo" / "v1" / ".git").exists()
    # The server is gone: the cache still has it.
    (server / "octo" / "echo").rename(server / "gone")
    report = await ws.run("- {id: e, uses: octo/echo@v1}\n", url=url)
    assert report.steps["e"].log[-1] == "v1 one"


async def test_refresh_fetches_the_new_commit_r16_8(
    ws: Workspace, server: Path
) -> None:
    publish(server, "octo", "echo", {"action.yml": ECHO}, "v1")
    url = f"file://{server}"
    await ws.run("- {id: e, uses: octo/echo@v1}\n", url=url)
    publish(server, "octo", "echo", {"action.yml": ECHO.replace("v1 ", "v2 ")}, "v1")
    stale = await ws.run("- {id: e, uses: octo/echo@v1}\n", url=url)
    assert stale.steps["e"].log[-1] == "v1 one"
    fresh = await ws.run("- {id: e, uses: octo/echo@v1}\n", url=url, refresh=True)
    assert fresh.steps["e"].log[-1] == "v2 one"
    again = await ws.run("- {id: e, uses: octo/echo@v1}\n", url=url)
    assert again.steps["e"].log[-1] == "v2 one"


async def test_a_path_inside_the_repository_and_a_branch_r16_8(
    ws: Workspace, server: Path
) -> None:
    publish(
        server,
        "octo",
        "tools",
        {
            "sub/action.yml": "runs: {using: node20, main: index.js}\n",
            "sub/index.js": "console.log('from sub ' + process.env.GITHUB_ACTION_PATH.endsWith('/sub'))\n",
        },
        "v2",
    )
    report = await ws.run(
        "- {id: t, uses: octo/tools/sub@main}\n", url=f"file://{server}"
    )
    assert report.steps["t"].conclusion is ts.Result.SUCCEEDED, report.steps["t"].log
    assert report.steps["t"].log == ("from sub true",)


async def test_a_remote_composite_uses_a_remote_action_r16_8(
    ws: Workspace, server: Path
) -> None:
    publish(server, "octo", "echo", {"action.yml": ECHO}, "v1")
    publish(
        server,
        "octo",
        "outer",
        {
            "action.yml": """\
            runs:
              using: composite
              steps:
                - {uses: octo/echo@v1, with: {word: nested}}
            """
        },
        "v1",
    )
    report = await ws.run("- {id: o, uses: octo/outer@v1}\n", url=f"file://{server}")
    assert report.steps["o"].log[-1] == "v1 nested"


def test_an_unknown_repository_or_ref_is_a_load_error_r16_8(
    ws: Workspace, server: Path
) -> None:
    publish(server, "octo", "echo", {"action.yml": ECHO}, "v1")
    for uses in ("octo/nope@v1", "octo/echo@v9"):
        with pytest.raises(ts.WorkflowError) as info:
            ws.load(f"- uses: {uses}\n", url=f"file://{server}")
        [problem] = info.value.problems
        assert (problem.line, problem.column) == (6, 15)
        assert problem.message.startswith(f"cannot fetch {uses} from file://")
    assert not any(
        p.name.startswith(".fetch") for p in (ws.cache / "octo" / "echo").iterdir()
    )


async def test_checkout_keeps_its_local_meaning_r16_8(ws: Workspace) -> None:
    report = await ws.run("- {id: co, uses: actions/checkout@v4}\n")
    assert report.steps["co"].conclusion is ts.Result.SUCCEEDED
    assert not ws.cache.exists()


@pytest.mark.parametrize(
    "uses",
    [
        "../escape@v1",
        "octo/..@v1",
        "octo/echo@--upload-pack=touch pwned",
        "octo/echo@-x",
        "-octo/echo@v1",
    ],
)
def test_names_that_would_escape_the_cache_or_reach_git_as_options(
    ws: Workspace, server: Path, uses: str
) -> None:
    with pytest.raises(ts.WorkflowError) as info:
        ws.load(f"- uses: '{uses}'\n", url=f"file://{server}")
    [problem] = info.value.problems
    assert "names no" in problem.message
    assert not ws.cache.exists()
    assert not (ws.root / "pwned").exists()


def test_a_path_that_leaves_the_repository(ws: Workspace, server: Path) -> None:
    publish(server, "octo", "echo", {"action.yml": ECHO}, "v1")
    with pytest.raises(ts.WorkflowError) as info:
        ws.load("- uses: octo/echo/../../x@v1\n", url=f"file://{server}")
    [problem] = info.value.problems
    assert (
        problem.message
        == "'uses: octo/echo/../../x@v1': the path leaves the repository"
    )


async def test_a_commit_hash_as_the_ref_r16_8(ws: Workspace, server: Path) -> None:
    first = publish(server, "octo", "echo", {"action.yml": ECHO}, "v1")
    publish(server, "octo", "echo", {"action.yml": ECHO.replace("v1 ", "v2 ")}, "v2")
    report = await ws.run(
        f"- {{id: e, uses: 'octo/echo@{first}'}}\n", url=f"file://{server}"
    )
    assert report.steps["e"].log[-1] == "v1 one"
    assert (ws.cache / "octo" / "echo" / first / "action.yml").is_file()


async def test_action_repository_and_ref_r16_8(ws: Workspace, server: Path) -> None:
    publish(
        server,
        "octo",
        "ctx",
        {
            "c/action.yml": """\
            runs:
              using: composite
              steps:
                - shell: bash
                  run: echo "${{ github.action_repository }} ${{ github.action_ref }}"
                - uses: ./local
            """,
            "n/action.yml": "runs: {using: node20, main: m.js}\n",
            "n/m.js": "const e = process.env;\n"
            "console.log(e.GITHUB_ACTION_REPOSITORY + ' ' + e.GITHUB_ACTION_REF)\n",
        },
        "v3",
    )
    (ws.root / "local").mkdir()
    (ws.root / "local" / "action.yml").write_text(
        "runs:\n  using: composite\n  steps:\n"
        "    - {shell: bash, run: 'echo \"[${{ github.action_repository }}]\"'}\n"
    )
    report = await ws.run(
        "- {id: c, uses: octo/ctx/c@v3}\n- {id: n, uses: octo/ctx/n@v3}\n",
        url=f"file://{server}",
    )
    assert report.steps["c"].log[1] == "octo/ctx v3"
    assert report.steps["c"].log[-1] == "[]"
    assert report.steps["n"].log == ("octo/ctx v3",)
