"""``python -m devtools.load``: see ``devtools.load.cli``."""

from __future__ import annotations

from devtools.load.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
