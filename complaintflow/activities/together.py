"""The activity that makes several steps' calls in one (workflows/together.py says why).

Each call runs the function registered under its activity's name, in order, inside this
activity: the same code, the same idempotency (an attempt after this activity's first looks
for what an earlier one may have done before it posts). It never fails for a call's sake: a
call refused for good is answered FAILED and its step's later calls SKIPPED; a call that may
succeed later is answered RETRY, and the case runs it again as its own activity, marked as
tried. Only a dead worker or a timeout retries this activity whole.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from complaintflow.metrics import count_activity
from complaintflow.workflows.together import (
    DONE,
    FAILED,
    RETRY,
    RUN_STEPS,
    SKIPPED,
    CallOutcome,
    StepCall,
)

MAX_ERROR = 500  # characters of a call's error kept in its outcome


def by_name(activities: Sequence[Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """The activities among `activities`, by the name they are registered under."""
    found: dict[str, Callable[..., Any]] = {}
    for fn in activities:
        definition = getattr(fn, "__temporal_activity_definition", None)
        if definition is not None and definition.name:
            found[definition.name] = fn
    return found


def steps_together(activities: Sequence[Callable[..., Any]]) -> Callable[..., Any]:
    """The shared activity, making calls to `activities` (a worker's others)."""
    known = by_name(activities)

    @activity.defn(name=RUN_STEPS)
    async def run_steps(calls: list[StepCall]) -> list[CallOutcome]:
        outcomes: list[CallOutcome] = []
        failed_steps: set[int] = set()
        for call in calls:
            if call.step in failed_steps:
                outcomes.append(CallOutcome(SKIPPED))
                continue
            outcome = await _one(known, call)
            if outcome.outcome != DONE:
                failed_steps.add(call.step)
            outcomes.append(outcome)
        return outcomes

    return run_steps


async def _one(known: dict[str, Callable[..., Any]], call: StepCall) -> CallOutcome:
    fn = known.get(call.activity)
    argument = call.request if call.request is not None else call.label
    if fn is None or argument is None:
        what = "no argument" if fn is not None else "no such activity on this worker"
        return CallOutcome(FAILED, error=f"{call.activity}: {what}")
    platform = str(getattr(call.request, "platform", "") or "none")
    kind = call.activity.removeprefix("complaintflow.")
    started = time.monotonic()
    try:
        result = await _awaited(fn(argument))
    except asyncio.CancelledError:
        raise  # the worker stops or the activity was cancelled: retried whole
    except ApplicationError as err:
        count_activity(platform, kind, "failed")
        outcome = FAILED if err.non_retryable else RETRY
        return CallOutcome(outcome, error=str(err)[:MAX_ERROR])
    except Exception as err:  # as Temporal would: anything else is retried
        count_activity(platform, kind, "failed")
        return CallOutcome(RETRY, error=f"{type(err).__name__}: {err}"[:MAX_ERROR])
    count_activity(platform, kind, "ok", time.monotonic() - started)
    return CallOutcome(DONE, result=result if call.request is not None else None)


async def _awaited(value: Awaitable[Any] | Any) -> Any:
    return await value if isinstance(value, Awaitable) else value
