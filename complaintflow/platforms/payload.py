"""Reading platform webhook payloads: what every platform's normaliser shares.

`Mentions` is what one delivery yields (the mentions, and each entry skipped with where and
why); the readers below take a JSON value apart, raising IngestError naming where it is
wrong, so one bad entry skips itself and never its batch. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from complaintflow.errors import IngestError
from complaintflow.platforms.facts import BadId, checked_author_id, checked_id
from complaintflow.rules.mention import PRIVATE_KIND, Mention
from complaintflow.signatures import Encoding

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from complaintflow.rules.model import CompiledPolicy

# A receiving account in a delivery: (the platforms the account may be on, its id, the part of
# the payload addressed to it), as the multi-brand router reads them.
Addressed = tuple[tuple[str, ...], str, Any]
# The secret named by an environment variable, as the ingest service was given it.
SecretOf = Callable[[str], str]

# The kind of a private message to the brand (a DM, a Messenger or Instagram message): the
# contact of its author's open case, never a public post to answer in a thread.
PRIVATE = PRIVATE_KIND
# A private message's id as Messenger and Instagram write it (`message.mid`, e.g.
# "m_1457764197618:41d102a3e1ae206a38"): kept as the contact's reference, never in a URL.
MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:=+-]{1,300}")
EARLIEST, LATEST = 2000, 2100  # years a post's time may have
# The Unix times a post may carry: the years ingest accepts (EARLIEST to LATEST).
FIRST_TIME = int(datetime(EARLIEST, 1, 1, tzinfo=UTC).timestamp())
LAST_TIME = int(datetime(LATEST, 1, 1, tzinfo=UTC).timestamp()) - 1


@dataclasses.dataclass(frozen=True)
class WebhookSource:
    """How one webhook route is signed and read, and how a delivery with nothing to take is
    answered: a platform retries any answer but 2xx (Meta for 36 hours, X three times in five
    minutes), and a retry cannot fix a bad entry, so a platform's readable delivery is 2xx
    with its entries under `skipped`; the generic route's sender is told with a 400."""

    path: str  # the route, e.g. /webhooks/x
    header: str  # the signature header
    encoding: Encoding  # how the signature is written
    secret: str  # the environment variable holding the signing secret
    parse: Callable[[Any, CompiledPolicy], list[Mention]]
    # The receiving accounts in a parsed body (a body that is wrong as a whole raises).
    accounts: Callable[[Any], list[Addressed]]
    # The platform's subscription challenge (a GET on the same route), if it has one.
    challenge: Callable[[SecretOf, Request], Response] | None = None
    # Further environment variables the challenge reads (a verify token).
    variables: tuple[str, ...] = ()
    refuse_when_nothing_taken: bool = False


class Mentions(list[Mention]):
    """The mentions read from one delivery, and the entries skipped (each "where: why"):
    `skipped` are malformed, `ignored` well-formed but not something to ingest (a comment
    with no text, an Instagram mention notification)."""

    def __init__(self) -> None:
        super().__init__()
        self.skipped: list[str] = []
        self.ignored: list[str] = []

    def reported(self) -> list[str]:
        return self.skipped + self.ignored

    def skip(self, where: str, problem: Exception) -> None:
        """Report the entry at `where` as skipped because of `problem`."""
        if isinstance(problem, IngestError):
            self.skipped.append(str(problem))
        else:  # a value no check foresaw: still this entry's problem, never the batch's
            self.skipped.append(f"{where}: a value cannot be read ({problem!s:.200})")


class Unusable(IngestError):
    """A well-formed entry that cannot become a mention."""


def json_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise IngestError(f"{where} must be a JSON object")
    return value


def json_list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise IngestError(f"{where} must be a list")
    return value


def json_text(value: Any, where: str) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise IngestError(f"{where} must be a string")
    return str(value)


def count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def platform_id(platform: str, value: str, where: str) -> str:
    """`value` if it has the platform's documented id shape (an id like "1_2/../3" would
    address another object once in a URL); else the entry is bad."""
    try:
        checked_id(platform, value)
    except BadId as exc:
        raise IngestError(f"{where}: {exc}") from None
    return value


def user_id(platform: str, value: str, where: str) -> str:
    """`value` if it is empty or has the shape of the platform's user ids."""
    try:
        checked_author_id(platform, value)
    except BadId as exc:
        raise IngestError(f"{where}: {exc}") from None
    return value
