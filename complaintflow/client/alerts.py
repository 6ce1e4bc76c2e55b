"""Spike alerts for a policy: its `alerts.spike` settings, and the Schedule that checks them.

The Schedule (id `spike-POLICY`) starts a SpikeWatch every `check_every`; an existing one is
updated in place, so running `complaintflow alerts` again after an edit is safe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from temporalio.client import (
    Client,
)

from complaintflow.client.schedules import schedule_every
from complaintflow.errors import ComplaintflowError
from complaintflow.rules.compiler import load_policy
from complaintflow.rules.durations import parse_duration
from complaintflow.workflows.spikes import SpikeSettings, SpikeWatch


class NoSpikeAlert(ComplaintflowError, ValueError):
    """The policy has no `alerts.spike`."""


def spike_settings(path: Path) -> SpikeSettings:
    """The policy file's spike settings (the file must be a valid policy)."""
    policy = load_policy(path)  # raises PolicyError with located errors
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    spike = (data.get("alerts") or {}).get("spike")
    if not spike:
        raise NoSpikeAlert(f"{path}: no alerts.spike in this policy")
    seconds = {}
    for key, default in (("window", 900), ("baseline", 7 * 86400), ("check_every", 60)):
        text = spike.get(key)
        value = default if text is None else parse_duration(str(text))
        if not value:
            raise NoSpikeAlert(f"{path}: alerts.spike.{key}: {text!r} is not a duration")
        seconds[key] = value
    if seconds["baseline"] <= seconds["window"]:
        raise NoSpikeAlert(f"{path}: alerts.spike.baseline must be longer than its window")
    return SpikeSettings(
        policy=policy.name,
        window_seconds=seconds["window"],
        baseline_seconds=seconds["baseline"],
        factor=float(spike.get("factor", 3.0)),
        minimum=int(spike.get("minimum", 10)),
        check_every_seconds=seconds["check_every"],
        via=spike["notify"]["via"],
        target=spike["notify"].get("target", ""),
    )


def schedule_id(settings: SpikeSettings) -> str:
    return f"spike-{settings.policy}"


async def schedule_spike_alerts(client: Client, settings: SpikeSettings, task_queue: str) -> str:
    """Create or update the policy's spike Schedule; return its id."""
    return await schedule_every(
        client,
        schedule_id(settings),
        run=SpikeWatch.run,
        arg=settings,
        workflow_id=f"spike-watch-{settings.policy}",
        every_seconds=settings.check_every_seconds,
        task_queue=task_queue,
    )
