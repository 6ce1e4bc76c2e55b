"""A candidate run in shadow: decisions record both outputs, only the live model acts, and
`evaluate --shadow` compares them on live traffic."""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from complaintflow.ingest.service import Ingest
from complaintflow.rules.compiler import load_policy
from complaintflow.rules.mention import Mention
from tests.support.labels import COMPLAINT, PRAISE, Cli, brand_rows, write
from tests.support.paths import EXAMPLE_POLICY
from tests.support.webhooks import SECRETS

LIVE = (
    '  complaint: {model: "builtin:complaint", description: "probability the post is a '
    'complaint"}\n'
    '  severity: {model: "builtin:severity", description: "expected severity 0..4 of the '
    'complaint"}'
)


def shadowed(tmp_path: Path, complaint: str, severity: str) -> Path:
    text = EXAMPLE_POLICY.read_text(encoding="utf-8")
    assert LIVE in text
    path = tmp_path / "policy.yaml"
    path.write_text(
        text.replace(
            LIVE,
            f'  complaint: {{model: "builtin:complaint", shadow: "{complaint}"}}\n'
            f'  severity: {{model: "builtin:severity", shadow: "{severity}"}}',
        ),
        encoding="utf-8",
    )
    return path


async def test_a_shadow_is_recorded_never_acted_on_and_compared_on_live_traffic(
    cli: Cli, env: WorkflowEnvironment, queue: str, tmp_path: Path
) -> None:
    labels = write(tmp_path / "labels.csv", brand_rows(150))
    for task in ("complaint", "severity"):
        trained = cli(
            "train",
            labels,
            "--task",
            task,
            "--base",
            f"builtin:{task}",
            "--brand-weight",
            "4",
            "--holdout",
            "0",
            "--out",
            tmp_path / f"{task}.cfmodel",
        )
        assert trained.code == 0, trained.err
    policy = shadowed(tmp_path, "complaint.cfmodel", "severity.cfmodel")
    assert cli("validate", policy).code == 0
    ingest = Ingest(
        env.client,
        load_policy(policy),
        task_queue=queue,
        secrets=SECRETS,
        decision_log=tmp_path / "decisions.jsonl",
    )
    live = [
        Mention(id=f"s-{n}", text=(COMPLAINT if n % 2 else PRAISE).format(c=f"lilac {n}"))
        for n in range(6)
    ]
    done = await ingest.accept(live)
    assert len(done["cases"]) == 6, "only the live model acts: it opens a case for praise too"
    records = await ingest.store.decisions()
    shadows = {r["id"]: r["shadow"]["route"] for r in records}
    assert shadows == {f"s-{n}": ("respond" if n % 2 else None) for n in range(6)}
    await ingest.store.close()
    answers = tmp_path / "answers.csv"
    write(
        answers,
        [
            {"id": f"x:s-{n}", "text": m.text, "label": str(n % 2), "time": f"t{n}"}
            for n, m in enumerate(live)
        ],
    )
    compared = await asyncio.to_thread(  # the command runs its own event loop
        cli,
        "evaluate",
        policy,
        answers,
        "--shadow",
        "--database",
        f"sqlite:///{tmp_path / 'decisions.db'}",
    )
    assert compared.code == 0, compared.err
    assert "live traffic  6 labelled mentions (3 complaints), each decided by both" in compared.out
    assert "  precision      0.500      1.000   +0.500" in compared.out, compared.out


def test_a_shadow_of_another_task_is_a_located_error(cli: Cli, tmp_path: Path) -> None:
    builtin = EXAMPLE_POLICY.parent / "complaintflow" / "models"
    policy = shadowed(
        tmp_path, str(builtin / "severity.cfmodel"), str(builtin / "severity.cfmodel")
    )
    result = cli("validate", policy)
    assert result.code == 1
    assert (
        "the shadow is a severity model; classifier complaint is a complaint model" in result.err
    ), result.err
