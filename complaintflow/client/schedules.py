"""Temporal Schedules the project keeps (spike checks, retraining): created, or updated in
place when one of that id already runs, so running the command again changes, never doubles."""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleAlreadyRunningError,
    ScheduleUpdate,
    ScheduleUpdateInput,
)


async def create_or_update(client: Client, schedule_id: str, schedule: Schedule) -> str:
    """Create the Schedule `schedule_id`, or replace the one of that id; return the id."""
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace)
    return schedule_id
