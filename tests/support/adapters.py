"""Adapter test helpers: endpoints wired to the emulator over loopback, action requests as a
case makes them, and Temporal's activity environment on a given attempt."""

import dataclasses
from pathlib import Path

from temporalio.testing import ActivityEnvironment

from complaintflow.activities.platforms import Endpoints, Platforms
from complaintflow.devkit import stack
from complaintflow.devkit.emulator import EmulatorState, Post
from complaintflow.platforms.meta.adapter import MetaAdapter
from complaintflow.platforms.x.adapter import XAdapter
from complaintflow.workflows.messages import ActionRequest

BRAND_X, PAGE = "1500", "104"


def x_of(platforms: Platforms) -> XAdapter:
    """The X adapter of `platforms`."""
    return platforms.adapter("x", XAdapter)


def meta_of(platforms: Platforms) -> MetaAdapter:
    """The Meta (Facebook, Instagram) adapter of `platforms`."""
    return platforms.adapter("meta", MetaAdapter)


def emulated_endpoints(url: str, tmp_path: Path, token: str = "t0k") -> Endpoints:
    """Endpoints for the emulator at `url`: user-context OAuth for X and Google."""
    return stack.emulated_endpoints(url, tmp_path / "tokens.sqlite3", token)


def request(
    platform: str,
    mention: str,
    *,
    text: str = "Sorry to hear this, Jo.",
    thread: str = "",
    action: str = "hide",
) -> ActionRequest:
    return ActionRequest(
        case_id="c",
        step_id="s",
        kind="reply",
        platform=platform,
        thread_id=thread or mention,
        mention_id=mention,
        author_id="777",
        text=text,
        action=action,
        key="c/s",
        account_id=BRAND_X if platform == "x" else PAGE,
    )


def replies(state: EmulatorState, to: str) -> list[Post]:
    return [p for p in state.posts.values() if p.in_reply_to == to]


def attempt(number: int) -> ActivityEnvironment:
    """Temporal's activity test environment, as on the given attempt."""
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(environment.info, attempt=number)
    return environment


def activity_name(function: object) -> str:
    definition = getattr(function, "__temporal_activity_definition")
    return str(definition.name)


def dataclass_replace(endpoints: Endpoints, folder: str, **changes: str) -> Endpoints:
    """`endpoints` with some of the settings of platform folder `folder` changed."""
    return endpoints.changed(folder, **changes)
