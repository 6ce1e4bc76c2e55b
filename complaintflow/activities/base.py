"""What every adapter shares: one way to make an HTTP call and classify its failure, and
turning an adapter method into a Temporal activity that maps PlatformError to retry advice."""

import typing
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from complaintflow.errors import PlatformError
from complaintflow.workflows.messages import ActionRequest, ActionResult

Action = Callable[[ActionRequest], Awaitable[ActionResult]]
In = TypeVar("In")
Out = TypeVar("Out")
_FIRST_ATTEMPT: ContextVar[bool] = ContextVar("first_attempt", default=False)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)  # every adapter's client: calls are short


def may_have_run_before() -> bool:
    """Whether an earlier attempt of this action may already have done it on the platform.

    False only on an activity's first attempt, so that attempt posts without first looking
    for itself (a search per reply is slow and rate-limited on X). Outside an activity it is
    True: always look.
    """
    return not _FIRST_ATTEMPT.get()


def http_failure(what: str, status: int, message: str, retry_after: str | None) -> PlatformError:
    """A failed HTTP answer: 429 and 5xx are retried (after Retry-After seconds, when the
    header gives them), other statuses are not; the platform's message is kept."""
    delay = None
    if retry_after:
        try:
            delay = max(0.0, float(retry_after))
        except ValueError:
            delay = None
    return PlatformError(
        f"{what}: {status} {message}".strip(),
        status=status,
        retryable=status == 429 or status >= 500,
        retry_after=delay,
    )


def _first_words(response: httpx.Response) -> str:
    return response.text[:300]


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    what: str = "",
    reason: Callable[[httpx.Response], str] = _first_words,
    **request: Any,
) -> Any:
    """Make one call; its JSON answer ({} when it has none).

    A timeout or a connection lost mid-answer is retryable (the call may have happened: the
    adapter looks before trying again); an HTTP error is classified by `http_failure`, with
    `reason(response)` as the other side's words. `what` names the call in errors
    (default: METHOD URL).
    """
    what = what or f"{method} {url}"
    try:
        response = await client.request(method, url, **request)
    except httpx.TimeoutException as exc:
        raise PlatformError(f"{what}: timed out", retryable=True) from exc
    except httpx.TransportError as exc:
        raise PlatformError(f"{what}: {exc!r}", retryable=True) from exc
    if response.status_code >= 400:
        raise http_failure(
            what, response.status_code, reason(response), response.headers.get("Retry-After")
        )
    try:
        return response.json()
    except ValueError:
        return {}


def as_activity(
    name: str, action: Callable[[In], Awaitable[Out]]
) -> Callable[[In], Awaitable[Out]]:
    """An activity called `name` that runs `action`; a PlatformError becomes an
    ApplicationError that is retried (after Retry-After, when given) or not, as classified."""

    async def run(request: In) -> Out:
        first = _FIRST_ATTEMPT.set(activity.info().attempt == 1)
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
        finally:
            _FIRST_ATTEMPT.reset(first)

    # The SDK decodes the argument by the activity's annotations: give it the action's own
    # (its last parameter: a partial may have bound the ones before).
    hints = typing.get_type_hints(getattr(action, "func", action))
    argument = [k for k in hints if k != "return"][-1]
    run.__annotations__ = {"request": hints[argument], "return": hints["return"]}
    return activity.defn(name=name)(run)
