"""Turns an adapter method into a Temporal activity, mapping PlatformError to retry advice."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from complaintflow.errors import PlatformError
from complaintflow.workflows.messages import ActionRequest, ActionResult

Action = Callable[[ActionRequest], Awaitable[ActionResult]]


def as_activity(name: str, action: Action) -> Action:
    """An activity called `name` that runs `action`; a PlatformError becomes an
    ApplicationError that is retried (after Retry-After, when given) or not, as classified."""

    @activity.defn(name=name)
    async def run(request: ActionRequest) -> ActionResult:
        try:
            return await action(request)
        except PlatformError as exc:
            delay = timedelta(seconds=exc.retry_after) if exc.retry_after else None
            raise ApplicationError(
                str(exc),
                type="PlatformError",
                non_retryable=not exc.retryable,
                next_retry_delay=delay,
            ) from exc

    return run
