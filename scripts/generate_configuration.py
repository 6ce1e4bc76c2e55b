"""Regenerate docs/configuration.md from the settings table (complaintflow/settings.py, with
each platform folder's variables.py).

tests/test_configuration.py fails when the page is stale or the table misses a variable.
Run: python scripts/generate_configuration.py
"""

from __future__ import annotations

from pathlib import Path

from complaintflow import settings

PATH = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def main() -> None:
    PATH.write_text(settings.render_markdown(), encoding="utf-8")
    print(f"wrote {PATH}")


if __name__ == "__main__":
    main()
