"""Regenerate complaintflow/rules/policy.schema.json after a step kind's spec or a platform's
facts changed.

The step kinds' blocks and the shared `$defs` come from complaintflow/rules/steps/, the
brand's accounts block from each platform folder's facts.py; the rest of the file is kept
as written. tests/rules/test_step_kinds.py fails when the file is stale.
Run: python scripts/generate_schema.py
"""

from __future__ import annotations

import json
from pathlib import Path

from complaintflow.rules import schema

PATH = Path(schema.__file__).with_name(schema.SCHEMA_FILE)


def main() -> None:
    base = json.loads(PATH.read_text(encoding="utf-8"))
    PATH.write_text(schema.render_schema(schema.generated_schema(base)), encoding="utf-8")
    print(f"wrote {PATH}")


if __name__ == "__main__":
    main()
