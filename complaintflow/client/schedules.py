"""Temporal Schedules the project keeps (spike checks, retraining): one workflow started every
so often, a run skipped while the last still runs; created, or updated in place when one of
that id already exists, so running the command again changes, never doubles."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)


async def schedule_every(
    client: Client,
    schedule_id: str,
    *,
    run: Any,
    arg: Any,
    workflow_id: str,
    every_seconds: float,
    task_queue: str,
) -> str:
    """Start workflow `run(arg)` as `workflow_id` every `every_seconds` (skipping a run while
    the previous one is still going): create the Schedule `schedule_id` or replace the one of
    that id; return the id."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(run, arg, id=workflow_id, task_queue=task_queue),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=every_seconds))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace)
    return schedule_id
