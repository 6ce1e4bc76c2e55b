"""The learning activities: write a supervisor's decision about a mention to the decision
store as a label, and retrain a candidate from a brand's labels (the Retrain Schedule).

Registered on every worker (build_worker adds it): a case records its label wherever it runs.
The store is COMPLAINTFLOW_DATABASE_URL's (SQLite in the state folder without it), opened on
the first label, once per worker process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from temporalio import activity

from complaintflow.learning.labels import RECORD_LABEL, Label
from complaintflow.store import DecisionStore, open_store
from complaintflow.workflows.retrain import RETRAIN_CANDIDATE, RetrainResult, RetrainSettings


class LabelRecorder:
    """Writes labels to one store, opened when the first label comes."""

    def __init__(self, store: DecisionStore | None = None) -> None:
        self.store = store
        self._opening = asyncio.Lock()

    def activities(self) -> list[Callable[..., Any]]:
        return [self.record_label, self.retrain_candidate]

    async def _store(self) -> DecisionStore:
        async with self._opening:
            if self.store is None:
                self.store = await asyncio.to_thread(open_store, None)
            return self.store

    @activity.defn(name=RECORD_LABEL)
    async def record_label(self, label: Label) -> bool:
        """True when the label is new; False when the mention already had one (kept)."""
        store = await self._store()
        return await store.record_label(label)

    @activity.defn(name=RETRAIN_CANDIDATE)
    async def retrain_candidate(self, settings: RetrainSettings) -> RetrainResult:
        """Export the brand's labels, train a candidate and compare it with the live model."""
        from complaintflow.learning.weekly import retrain_in_thread

        store = await self._store()
        labels = await store.labels(settings.policy)
        stamp = (activity.info().workflow_run_id or "run")[:12]
        return await retrain_in_thread(settings, labels, stamp)
