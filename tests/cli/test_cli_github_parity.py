"""``trio-steps run`` does what GitHub does where act agrees (issue 17).

End to end, in subprocesses on the real clock: the default shell has no
``pipefail`` (§12), a step's env reads the job's env and ``if:`` sees the
step's env expanded, and templates print arrays and objects as ``format()``
does (§14).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

Run = Callable[..., subprocess.CompletedProcess[str]]
Write = Callable[..., Path]

HEAD = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n"


def test_default_shell_has_no_pipefail_but_shell_bash_has_spec_12(
    run_cli: Run, workflow: Write
) -> None:
    path = workflow(
        HEAD + "    steps:\n"
        "      - id: plain\n"
        "        run: |\n          false | true\n          echo after-plain\n"
        "      - id: bash\n        shell: bash\n        continue-on-error: true\n"
        "        run: |\n          false | true\n          echo after-bash\n"
    )
    result = run_cli("run", str(path))
    assert result.returncode == 0, result.stderr
    assert "[plain] after-plain" in result.stdout
    assert "after-bash" not in result.stdout


def test_defaults_run_shell_bash_brings_pipefail_spec_12(
    run_cli: Run, workflow: Write
) -> None:
    path = workflow(
        HEAD + "    defaults:\n      run:\n        shell: bash\n    steps:\n"
        "      - run: |\n          false | true\n          echo unreachable\n"
    )
    result = run_cli("run", str(path))
    assert result.returncode == 1
    assert "unreachable" not in result.stdout


def test_step_env_and_condition_and_templates_s14(
    run_cli: Run, workflow: Write
) -> None:
    path = workflow(
        HEAD + "    env:\n      X: job\n    steps:\n"
        "      - id: one\n"
        "        if: env.X == 'step-job'\n"
        "        env:\n          X: step-${{ env.X }}\n"
        "        run: echo \"[$X] ${{ fromJSON('[1]') }} ${{ github }}\"\n"
        "      - id: two\n"
        "        if: env.X == 'job'\n"
        "        env:\n          X: other\n"
        "        run: echo not-$X\n"
    )
    result = run_cli("run", str(path))
    assert result.returncode == 0, result.stderr
    assert "[one] [step-job] Array Object" in result.stdout
    assert "not-other" not in result.stdout
