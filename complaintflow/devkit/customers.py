"""The customers of `complaintflow dev` after the handoff: when the brand's private message
reaches one of them, some answer by DM (on X, Messenger, Instagram), one by email through the
helpdesk, the others never (they were letting off steam); and one complains only privately.

Each answer is a documented webhook the emulator sends to ingest (`deliveries.Outbox`), so
the live view shows the contact reaching its case (`← contact`) and `complaintflow report`
a real offline rate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from complaintflow.caseref import case_ref
from complaintflow.devkit.deliveries import EMAIL, Delivered, Outbox
from complaintflow.platforms.emulation import EmulatorState
from complaintflow.rules.mention import Mention

# The emulator's routes that send the brand's private message: X's DM by participant id
# (its path ends /with/PARTICIPANT/messages) and Meta's Send API (a private reply to a
# comment, recipient.comment_id, or a message in a conversation, recipient.id).
X_DM_ROUTE = "x.send_dm"
META_MESSAGE_ROUTE = "graph.private_reply"


@dataclasses.dataclass(frozen=True)
class Answer:
    """How a customer answers the handoff: `channel` "dm" (a private message on the platform
    of the complaint) or "email" (to the helpdesk), `after` seconds after it reached them."""

    channel: str
    after: float
    text: str


@dataclasses.dataclass(frozen=True)
class PrivateComplaint:
    """A customer who never posts in public: a private message from someone with no case."""

    platform: str
    sender: str
    name: str
    text: str


# The bundled sample's customers (platform, author id): who answers, how, and how soon.
# Everyone else whose case reaches the handoff never answers: the case closes as venting
# when the handoff's wait for contact runs out.
SAMPLE_ANSWERS: dict[tuple[str, str], Answer] = {
    ("x", "2900000003"): Answer("dm", 20, "Hi, about {ref}: I was charged twice for order 5521."),
    ("x", "2900000006"): Answer(
        EMAIL, 40, "Case {ref}: the refund for order 4410 is 3 weeks late, details below."
    ),
    ("facebook", "7001"): Answer("dm", 30, "Hello, this is about {ref}. Refund for order 3390."),
    ("instagram", "17841400000000101"): Answer(
        "dm", 50, "{ref} - the bedside table, order 7712, still missing its screws"
    ),
}
SAMPLE_PRIVATE = PrivateComplaint(
    "x",
    "2900000040",
    "Lee",
    "Hi, I didn't want to post this publicly but my sofa order 6620 was cancelled and the "
    "refund never came. I've emailed twice with no answer.",
)


class Customers:
    """Follows the dev stream: which case each customer has (as ingest decided it), and, when
    the brand's private message reaches a customer who answers, has the outbox deliver their
    answer after their delay."""

    def __init__(
        self,
        state: EmulatorState,
        outbox: Outbox,
        *,
        brand: str,
        answers: dict[tuple[str, str], Answer] | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self.state = state
        self.outbox = outbox
        self.brand = brand
        self.answers = SAMPLE_ANSWERS if answers is None else answers
        self.say = say
        self.cases: dict[tuple[str, str], str] = {}  # (platform, author id) -> case id
        self.answered: set[tuple[str, str]] = set()

    def played(self, mention: Mention, decision: dict[str, Any]) -> None:
        """Remember the case ingest opened (or joined) for `mention`'s author."""
        if "case" in decision and mention.author.id:
            self.cases[(mention.platform, mention.author.id)] = str(decision["case"])

    def changed(self, route: str, path: str, body: dict[str, Any]) -> None:
        """The emulator's listener: a private message from the brand to a customer who
        answers schedules their answer."""
        customer = self._recipient(route, path, body)
        if customer is None or customer in self.answered:
            return
        answer = self.answers.get(customer)
        case_id = self.cases.get(customer)
        if answer is None or case_id is None:
            return
        self.answered.add(customer)
        platform, author = customer
        text = answer.text.format(ref=case_ref(self.brand, case_id))
        if answer.channel == EMAIL:
            self.outbox.email(f"customer{author}@mail.example", text[:60], text, after=answer.after)
        else:
            self.outbox.message(platform, author, text, after=answer.after)
        self.say(
            f"    … {'customer':20} {platform} {author} will answer by "
            f"{answer.channel} in {answer.after:g}s"
        )

    def complain_privately(self, complaint: PrivateComplaint = SAMPLE_PRIVATE) -> None:
        self.outbox.message(
            complaint.platform, complaint.sender, complaint.text, name=complaint.name
        )

    def _recipient(self, route: str, path: str, body: dict[str, Any]) -> tuple[str, str] | None:
        """(platform, author id) of the customer a brand's private message went to."""
        if route == X_DM_ROUTE:
            parts = path.rstrip("/").split("/")
            return ("x", parts[-2]) if len(parts) >= 2 else None
        if route != META_MESSAGE_ROUTE:
            return None
        recipient = body.get("recipient")
        if not isinstance(recipient, dict):
            return None
        comment = self.state.posts.get(str(recipient.get("comment_id", "")))
        if comment is not None:
            return comment.platform, comment.author_id
        person = str(recipient.get("id", ""))
        for (platform, author), _case in self.cases.items():
            if author == person and platform in ("facebook", "instagram"):
                return platform, author
        return None


def contact_line(delivered: Delivered) -> str:
    """The live view's line for what ingest did with a customer's message or email."""
    how = "email" if delivered.channel == EMAIL else f"{delivered.channel} dm"
    if delivered.status >= 400 or delivered.status == 0:
        detail = str(delivered.answer.get("detail") or delivered.answer)[:80]
        refused = f"refused {delivered.status} {detail}"
        return f"    ← {'contact':20} {how} from {delivered.sender}: {refused}"
    reached = [c for c in delivered.cases if c]
    if not reached:  # a private message from someone with no open case
        return f"    ← {'private message':20} {how:13} from {delivered.sender:18} no open case"
    return f"    ← {'contact':20} {how:13} from {delivered.sender:18} case {', '.join(reached)}"
