"""The layers hold at run time: importing ingest or the supervisor CLI loads no worker, no
activity and no platform adapter (import-linter checks the static imports in the gate)."""

import json
import subprocess
import sys

import pytest

FORBIDDEN = ("complaintflow.activities", "complaintflow.worker")


def loaded_by(module: str) -> list[str]:
    """The complaintflow modules a fresh interpreter has loaded after importing `module`."""
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [name for name in json.loads(done.stdout) if name.startswith("complaintflow")]


def _heavy(name: str) -> bool:
    return name.startswith(FORBIDDEN) or (
        name.startswith("complaintflow.platforms.")
        and name.rsplit(".", 1)[-1] in ("adapter", "credentials", "settings", "emulator")
    )


@pytest.mark.parametrize(
    "module",
    [
        "complaintflow.ingest.service",
        "complaintflow.ingest.app",
        "complaintflow.ingest.brands",
        "complaintflow.cli.supervisors",
        "complaintflow.client.cases",
    ],
)
def test_clients_load_no_worker_activity_or_adapter(module: str) -> None:
    loaded = loaded_by(module)
    assert module in loaded
    assert [name for name in loaded if _heavy(name)] == []


def test_the_policy_language_loads_no_temporal() -> None:
    code = (
        "import sys, complaintflow.rules.compiler, complaintflow.rules.triage; "
        "print(sorted(n for n in sys.modules if n.split('.')[0] in "
        "('temporalio', 'httpx', 'starlette')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
