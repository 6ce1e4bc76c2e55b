"""What a case costs on Temporal Cloud: the billed actions its history shows.

Read by the case bench, the tests that keep the standard path cheap, and the report's
monthly estimate. Not workflow code: it reads finished histories.
"""

import dataclasses
from collections import Counter

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

# How Temporal Cloud bills a history, from https://docs.temporal.io/cloud/actions ("Temporal
# Cloud Actions"): a start; a signal-with-start is one action in all (its start and first signal
# together); each activity attempt; all local activities of one workflow task together; each
# timer started; each signal; each update accepted or rejected; each upsert of search
# attributes, except those set at start and the SDK's `TemporalChangeVersion` upserts
# (`workflow.patched`), which are exempt. Queries and rejected updates are billed too but leave
# no event: a history cannot show them.
CHANGE_VERSION = "TemporalChangeVersion"
LOCAL_ACTIVITY_MARKER = "core_local_activity"


ONE_EACH = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: "start",
    EventType.EVENT_TYPE_TIMER_STARTED: "timer",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "update",
}


def billed_actions(history: WorkflowHistory) -> Counter[str]:
    """Temporal Cloud actions in a history (rejected updates leave no event: none are sent)."""
    counted: Counter[str] = Counter()
    events = list(history.events)
    task_has_local = False
    started_with_signal = True  # until the first signal is seen
    first_task_started = False
    for event in events:
        kind = event.event_type
        if kind in ONE_EACH:
            counted[ONE_EACH[kind]] += 1
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            # The signal of a signal-with-start is one action with its start: the first one,
            # recorded before the first workflow task started (right after the start on a
            # server, after the first task was scheduled on the time-skipping test server).
            counted["signal"] += not (started_with_signal and not first_task_started)
            started_with_signal = False
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            first_task_started = True
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attempt = event.activity_task_started_event_attributes.attempt
            counted["activity attempt"] += max(1, attempt)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            task_has_local = False
            metering = event.workflow_task_completed_event_attributes.metering_metadata
            counted["local activity retry"] += metering.nonfirst_local_activity_execution_attempts
        elif kind == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes.marker_name
            if marker == LOCAL_ACTIVITY_MARKER and not task_has_local:
                task_has_local = True
                counted["local activities (one task)"] += 1
        elif kind == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
            counted["search attribute upsert"] += bool(
                set(fields.indexed_fields) - {CHANGE_VERSION}
            )
    return +counted


@dataclasses.dataclass(frozen=True)
class MonthActions:
    """Temporal Cloud actions of the month's cases, estimated: the cases visibility counts
    started this month times the mean billed actions of a sample of finished case histories.

    Counted so (not summed over every history) because a month can hold millions of cases and
    a history is one request each; queries and rejected updates, billed but absent from
    histories, are not in it.
    """

    month: str  # "2026-12"
    cases: int  # case runs started this month (a continued case counts each run)
    sampled: int  # finished case histories read
    per_case: float  # mean billed actions of those
    actions: int  # cases x per_case
