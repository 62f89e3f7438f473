"""HypoFuzz collects trio_steps.testing.properties as they are (issue 14).

Both checks run in a subprocess: HypoFuzz collects through ``pytest.main``,
which must not run inside this pytest session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import trio_steps.testing.properties as properties

ROOT = Path(__file__).parents[2]

COLLECT = """
import json
from hypofuzz.collection import collect_tests
result = collect_tests(["--pyargs", "trio_steps.testing.properties", "-p", "no:cacheprovider"])
print(json.dumps({
    "targets": [t.nodeid.rsplit("::", 1)[-1] for t in result.fuzz_targets],
    "not_collected": sorted(result.not_collected),
}))
"""


def test_hypofuzz_collects_every_property() -> None:
    # HypoFuzz leaves out tests under a derandomized profile, such as the
    # "ci" profile Hypothesis loads when CI or HYPOTHESIS_PROFILE=ci is set
    # (fuzzing.rst says so): collect as a fuzzing machine would.
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    done = subprocess.run(
        [sys.executable, "-c", COLLECT],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(found["targets"]) == sorted(properties.__all__)
    assert found["not_collected"] == []


def test_pytest_runs_the_properties_as_they_are() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--pyargs",
            "trio_steps.testing.properties",
            "--hypothesis-seed=0",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(properties.__all__)} passed" in done.stdout
