"""The spike check activity: asks the decision store whether a policy's complaints spiked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import activity

from complaintflow.store import DecisionStore
from complaintflow.workflows.spikes import CHECK_SPIKE, SpikeResult, SpikeSettings


class SpikeChecks:
    def __init__(self, store: DecisionStore) -> None:
        self.store = store

    def activities(self) -> list[Callable[..., Any]]:
        return [self.check_spike]

    @activity.defn(name=CHECK_SPIKE)
    async def check_spike(self, settings: SpikeSettings) -> SpikeResult:
        found = await self.store.check_spike(
            settings.policy,
            window=timedelta(seconds=settings.window_seconds),
            baseline=timedelta(seconds=settings.baseline_seconds),
            factor=settings.factor,
            minimum=settings.minimum,
        )
        return SpikeResult(found.complaints, found.expected, found.spiking, found.alert)
