"""The README's example runs and prints what its comment says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs() -> None:
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    assert code is not None
    result = subprocess.run(
        [sys.executable, "-c", code.group(1)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == ["success", "cancelled"]


def test_readme_leads_with_the_two_commands() -> None:
    text = README.read_text()
    assert "trio-steps run examples/service.yml" in text
    assert "python3 -m pytest" in text
    assert (README.parent / "examples" / "service.yml").exists()
