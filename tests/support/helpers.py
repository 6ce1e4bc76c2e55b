"""Small helpers: a free loopback port from the OS, waiting for a condition, and the
position of a piece of text (for located policy errors)."""

from __future__ import annotations

import asyncio
import inspect
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@overload
async def until(
    condition: Callable[[], Awaitable[T | None]],
    *,
    seconds: float,
    every: float = ...,
    what: Callable[[], str] = ...,
) -> T: ...
@overload
async def until(
    condition: Callable[[], T | None],
    *,
    seconds: float,
    every: float = ...,
    what: Callable[[], str] = ...,
) -> T: ...
async def until(
    condition: Callable[[], object],
    *,
    seconds: float,
    every: float = 0.05,
    what: Callable[[], str] = lambda: "",
) -> Any:
    """Poll `condition` (plain or async) until it returns something truthy, and return that;
    fail the test after `seconds`, with `what()` saying what was last seen."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not done within {seconds} s {what()}".rstrip())
        await asyncio.sleep(every)


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing `needle`."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


def column_of(text: str, needle: str) -> int:
    """1-based column where `needle` starts on its line."""
    for line in text.splitlines():
        if needle in line:
            return line.index(needle) + 1
    raise AssertionError(needle)
