"""The settings table (complaintflow/settings.py) against the code: every COMPLAINTFLOW_*
variable read anywhere is in it, it lists none that nobody reads, and docs/configuration.md is
what the generator writes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from complaintflow import settings
from complaintflow.cli.operators import worker as worker_command

ROOT = Path(__file__).resolve().parent.parent
# Where variables are read: the package, and the suite's own helpers (history recording).
SOURCES = (ROOT / "complaintflow", ROOT / "tests" / "support")
TABLE = ROOT / "complaintflow" / "settings.py"
NAME = re.compile(r"COMPLAINTFLOW_[A-Z0-9_]+")
PREFIX = "COMPLAINTFLOW_"


def _tuning_names() -> set[str]:
    """The worker's tuning flags, each read from COMPLAINTFLOW_<FLAG> (a name built in code)."""
    return {PREFIX + flag.upper().replace("-", "_") for flag, _, _ in worker_command._TUNING}


# Files that build variable names from a "COMPLAINTFLOW_" prefix, and the names they build.
BUILT = {ROOT / "complaintflow" / "cli" / "operators" / "worker.py": _tuning_names}


def names_in(source: str) -> tuple[set[str], bool]:
    """The variable names `source` holds as whole string literals (what os.environ.get, a
    constant such as `TOKEN = "..."` or a webhook source's `secret="..."` carries; names only
    mentioned inside docstrings and messages are not reads), and whether it builds names from
    the bare prefix."""
    found: set[str] = set()
    builds = False
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if NAME.fullmatch(node.value):
                found.add(node.value)
            elif node.value == PREFIX:
                builds = True
    return found, builds


def read_in_code() -> dict[str, set[Path]]:
    """Every variable name read under SOURCES, with the files reading it."""
    readers: dict[str, set[Path]] = {}
    for root in SOURCES:
        for path in sorted(root.rglob("*.py")):
            if path == TABLE:
                continue
            found, builds = names_in(path.read_text(encoding="utf-8"))
            if builds:
                assert path in BUILT, (
                    f"{path.relative_to(ROOT)} builds COMPLAINTFLOW_* names: "
                    "teach tests/test_configuration.py which (BUILT)"
                )
                found |= BUILT[path]()
            for name in found:
                readers.setdefault(name, set()).add(path.relative_to(ROOT))
    return readers


def test_every_variable_read_is_in_the_settings_table() -> None:
    missing = {
        name: sorted(str(p) for p in paths)
        for name, paths in read_in_code().items()
        if name not in settings.by_name()
    }
    assert not missing, f"add these to complaintflow/settings.py: {missing}"


def test_the_settings_table_lists_no_variable_nobody_reads() -> None:
    unread = sorted(set(settings.by_name()) - set(read_in_code()))
    assert not unread, f"complaintflow/settings.py lists variables nothing reads: {unread}"


def test_the_settings_table_names_each_variable_once_in_a_known_group() -> None:
    names = [setting.name for setting in settings.SETTINGS]
    assert len(names) == len(set(names)), "a variable is listed twice"
    assert {setting.group for setting in settings.SETTINGS} <= set(settings.GROUPS)


def test_the_scan_sees_reads_and_ignores_mentions() -> None:
    # The scan itself must not be blind: a read, a constant and a keyword count; prose does not.
    source = (
        "import os\n"
        "A = os.environ.get('COMPLAINTFLOW_ONE', '')\n"
        "B = 'COMPLAINTFLOW_TWO'\n"
        "C = dict(secret='COMPLAINTFLOW_THREE')\n"
        "def f():\n"
        "    '''Reads COMPLAINTFLOW_FOUR.'''\n"
        "    raise ValueError('set COMPLAINTFLOW_FIVE first')\n"
    )
    found, builds = names_in(source)
    assert found == {"COMPLAINTFLOW_ONE", "COMPLAINTFLOW_TWO", "COMPLAINTFLOW_THREE"}
    assert not builds
    assert names_in("v = 'COMPLAINTFLOW_' + flag.upper()\n") == (set(), True)


def test_the_configuration_page_is_what_the_generator_writes() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert page == settings.render_markdown(), (
        "docs/configuration.md is stale: run python scripts/generate_configuration.py"
    )
