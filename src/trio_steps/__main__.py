"""``python -m trio_steps``: the ``trio-steps`` command."""

from __future__ import annotations

import sys

from ._cli._main import main

if __name__ == "__main__":
    sys.exit(main())
