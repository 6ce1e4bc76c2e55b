"""What every adapter shares: one way to make an HTTP call and classify its failure, and
turning an adapter method into a Temporal activity that maps PlatformError to retry advice."""

import time
import typing
from collections.abc import Awaitable, Callable, Mapping
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
# A rate-limited call is retried after the wait the platform names, but not forever: after
# this many attempts the step fails (and the case escalates) instead of waiting on.
RATE_LIMITED_ATTEMPTS = 12


def may_have_run_before() -> bool:
    """Whether an earlier attempt of this action may already have done it on the platform.

    False only on an activity's first attempt (unless a shared activity tried the call
    before: ActionRequest.tried), so that attempt posts without first looking for itself (a
    search per reply is slow and rate-limited on X). Outside an activity it is True: always
    look.
    """
    return not _FIRST_ATTEMPT.get()


def http_failure(
    what: str,
    status: int,
    message: str,
    retry_after: str | None,
    headers: Mapping[str, str] | None = None,
) -> PlatformError:
    """A failed HTTP answer: 429 and 5xx are retried, other statuses are not; the platform's
    message is kept. The wait comes from Retry-After (seconds), or for X from
    x-rate-limit-reset (epoch seconds, https://docs.x.com/fundamentals/rate-limits)."""
    delay = None
    if retry_after:
        try:
            delay = max(0.0, float(retry_after))
        except ValueError:
            delay = None
    reset = (headers or {}).get("x-rate-limit-reset")
    if delay is None and status == 429 and reset:
        try:
            delay = max(1.0, float(reset) - time.time())
        except ValueError:
            delay = None
    return PlatformError(
        f"{what}: {status} {message}".strip(),
        status=status,
        retryable=status == 429 or status >= 500,
        retry_after=delay,
    )


Failure = Callable[[str, httpx.Response], PlatformError]


def _first_words(response: httpx.Response) -> str:
    return response.text[:300]


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    what: str = "",
    reason: Callable[[httpx.Response], str] = _first_words,
    failure: Failure | None = None,
    **request: Any,
) -> Any:
    """Make one call; its JSON answer ({} when it has none).

    A timeout or a connection lost mid-answer is retryable (the call may have happened: the
    adapter looks before trying again); an HTTP error is classified by `http_failure`, with
    `reason(response)` as the other side's words, or by `failure(what, response)` when given
    (a platform that signals retryable conditions in 4xx bodies). `what` names the call in
    errors (default: METHOD URL).
    """
    what = what or f"{method} {url}"
    try:
        response = await client.request(method, url, **request)
    except httpx.TimeoutException as exc:
        raise PlatformError(f"{what}: timed out", retryable=True) from exc
    except httpx.TransportError as exc:
        raise PlatformError(f"{what}: {exc!r}", retryable=True) from exc
    if response.status_code >= 400:
        if failure is not None:
            raise failure(what, response)
        raise http_failure(
            what,
            response.status_code,
            reason(response),
            response.headers.get("Retry-After"),
            response.headers,
        )
    try:
        return response.json()
    except ValueError:
        return {}


async def send_bearer(
    client: httpx.AsyncClient, base_url: str, method: str, path: str, token: str, **request: Any
) -> Any:
    """`send` to `base_url + path` with a bearer token, naming the call METHOD path."""
    return await send(
        client,
        method,
        base_url + path,
        what=f"{method} {path}",
        headers={"Authorization": f"Bearer {token}"},
        **request,
    )


async def after_refresh(call: Awaitable[Any]) -> Any:
    """A call made with a just-refreshed token. A 401 now means the new token expired on the
    way (a short lifetime under load): retried after a second, a bounded number of times (a
    grant that is really revoked fails its next refresh, which is not retried)."""
    try:
        return await call
    except PlatformError as exc:
        if exc.status != 401:
            raise
        raise PlatformError(
            f"{exc} (with a just-refreshed token)", status=401, retryable=True, retry_after=1.0
        ) from exc


class TokenSource(typing.Protocol):
    """Access tokens that expire: the current one, and a fresh one after a refusal."""

    async def get(self) -> str: ...

    async def refused(self, token: str) -> str: ...


async def with_token(tokens: TokenSource, call: Callable[[str], Awaitable[Any]]) -> Any:
    """`call(token)` with the current access token; a 401 refreshes it once and calls again
    (see after_refresh for a refusal of the fresh one)."""
    token = await tokens.get()
    try:
        return await call(token)
    except PlatformError as exc:
        if exc.status != 401:
            raise
    fresh = await tokens.refused(token)
    return await after_refresh(call(fresh))


def as_activity(
    name: str, action: Callable[[In], Awaitable[Out]]
) -> Callable[[In], Awaitable[Out]]:
    """An activity called `name` that runs `action`; a PlatformError becomes an
    ApplicationError that is retried (after Retry-After, when given) or not, as classified.
    A call still rate-limited after RATE_LIMITED_ATTEMPTS attempts is not retried again."""

    async def run(request: In) -> Out:
        attempt = activity.info().attempt
        first = _FIRST_ATTEMPT.set(attempt == 1 and not getattr(request, "tried", False))
        try:
            return await action(request)
        except PlatformError as exc:
            delay = timedelta(seconds=exc.retry_after) if exc.retry_after else None
            retryable = exc.retryable
            message = str(exc)
            if retryable and exc.retry_after and attempt >= RATE_LIMITED_ATTEMPTS:
                retryable = False
                message += f" (still rate-limited after {attempt} attempts)"
            raise ApplicationError(
                message,
                type="PlatformError",
                non_retryable=not retryable,
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


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    payload: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> Any:
    """POST `payload` to a configured endpoint; a non-retryable PlatformError when none is."""
    if not url:
        raise PlatformError(
            "no endpoint is configured for this action (see the README's environment variables)",
            retryable=False,
        )
    return await send(client, "POST", url, json=payload, headers=headers or {})
