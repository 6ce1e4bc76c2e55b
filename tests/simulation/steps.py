"""The steps a simulated history is made of: plain data, so a failing history prints as a script
and a regression test replays it. Each step names what it does by small numbers (thread 2,
case 0) that the world maps onto the ids of its own run."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

# What customers write: complaints (some loud, some naming the brand), chatter, thanks, and
# text that is hostile to whatever shows it (Markdown, HTML, a forged supervisor line).
TEXTS = (
    "@{handle} my kettle arrived broken, I want a refund",
    "@{handle} still broken and nobody answers, refund now",
    "@{handle} nice mug lol",
    "@{handle} thanks, sorted now!",
    "@{handle} broken again [refund form](http://evil.example/x) ![i](http://evil.example/i)"
    "\n# Approved by admin <img src=x onerror=alert(1)>",
    "@{handle} refund " + "very " * 900 + "broken",
    "@{handle} el hervidor llegó roto y nadie responde, quiero que me devuelvan el dinero",
)
HOSTILE_MARKER = "](http://evil.example"  # customer Markdown that must never reach a UI raw

UPDATES = (
    "approve",
    "edit",
    "reject",
    "route",
    "resolve",
    "escalate",
    "close",
    "dismiss",
    "contact",  # a supervisor records the customer's call: it ends the handoff wait
)
# A supervisor resolving a case and approving its removal in the same breath ("approve":
# the standard playbook's later remove_public_hide), and hostile variants the case must refuse
# as an update or ignore as a signal: a step no playbook has, a step already passed, a later
# step that asks no approval, the step the case is on, a sender who may not approve, a
# non-text "approve", an oversize one; the valid one sent as a signal, or racing an
# approval or a close of the case.
AHEAD_VARIANTS = (
    "valid",
    "unknown",
    "passed",
    "no_approval",
    "current",
    "stranger",
    "wrong_type",
    "oversize",
    "signal",
    "signal_unknown",
    "race_approve",
    "race_close",
)
# A platform fault armed on the brand's comment and hide routes just before the resolve, so
# that the removal's shared activity (archive, hide, thank-you reply) meets it.
AHEAD_FAULTS = ("none", "drop", "500")
# How `open` is asked for a logged remark: the CLI core, the signed HTTP call, the same call
# twice, and hostile bodies (unknown fields, wrong types, sizes, a mention nobody logged).
OPENS = ("cli", "http", "twice", "hostile", "unknown")
# "cli": as `complaintflow approve CASE` sends it, the step left out and read from the case.
PAYLOADS = ("valid", "oversize_by", "wrong_type", "unknown_field", "not_an_object", "cli")
RELOADS = ("version", "rename_standard", "rename_urgent", "add", "remove", "invalid")
# graph.edit hides a comment (the removal step): its calls run in a shared activity.
FAULT_ROUTES = ("x.post_tweet", "x.send_dm", "zendesk.ticket", "graph.comment", "graph.edit")
FAULT_KINDS = ("drop", "429", "500")
SLEEPS = (30, 3600, 3 * 3600, 3 * 86400, 4 * 86400)  # 4 days: past every contact wait (72h)
# Private messages to the brand: who sends one (a thread's author, 0-3, or 9: a stranger),
# and how it arrives: as sent, delivered twice, the brand's own echoed back, a delivery or read
# receipt, an attachment without text, and hostile entries (oversize, wrong types, unknown
# fields) beside a good one.
DM_SENDERS = (0, 1, 2, 3, 9)
DM_VARIANTS = (
    "valid",
    "twice",
    "echo",
    "receipt",
    "attachment",
    "oversize",
    "wrong_type",
    "unknown_field",
)
# A helpdesk telling a case of the customer's contact: Zendesk (by the ticket's external_id,
# the case id, or a reference in the subject) or any other system (POST /webhooks/contact).
HELPDESK_ROUTES = ("zendesk", "contact")
HELPDESK_NAMES = ("id", "ref")
HELPDESK_VARIANTS = (
    "valid",
    "bad_signature",
    "oversize",
    "wrong_type",
    "unknown_field",
    "not_an_object",
    "unknown_case",
    "other_brand",  # a case id of the other brand, sent to this brand's ingest
    "via_router",  # sent to the multi-brand app, which asks each brand in turn
)
# While a worker is stopped: nothing, a new complaint arrives, a DM arrives; or it stops while
# its urgent reply is on its way to a slow platform.
WHILE_STOPPED = ("nothing", "post", "dm", "mid_reply")
# While the store cannot take a write: a new complaint, a redelivery, a DM, a remark opened.
WHILE_STORE_DOWN = ("post", "redeliver", "dm", "open")
# Continue-as-new after this many events (0: the product's own threshold), set as a history
# starts so that cases cross continue-as-new with updates and signals in flight.
ROLL_OVERS = (0, 0, 30, 60)


@dataclasses.dataclass(frozen=True)
class Step:
    """One thing that happens to the system: `kind` names a World method, `args` its keywords."""

    kind: str
    args: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, kind: str, **args: Any) -> Step:
        return cls(kind, tuple(sorted(args.items())))

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.args)

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.args)
        return f"Step.of({self.kind!r}{', ' if inner else ''}{inner})"


def script(steps: list[Step]) -> str:
    """The steps as Python a regression test can paste (see regressions/)."""
    return "STEPS = [\n" + "".join(f"    {step},\n" for step in steps) + "]"


def random_step(rng: random.Random) -> Step:
    """One step drawn with the weights of the long, seeded runs."""
    kind = rng.choices(
        (
            "post_x",
            "post_meta",
            "post_generic",
            "redeliver",
            "probe_paths",
            "hostile_body",
            "reload",
            "supervise",
            "race",
            "fault",
            "sleep",
            "open_remark",
            "dm",
            "helpdesk",
            "restart_worker",
            "store_outage",
            "resolve_ahead",
        ),
        weights=(14, 8, 3, 4, 1, 2, 3, 12, 4, 4, 5, 3, 6, 4, 2, 2, 6),
    )[0]
    draw: dict[str, Any] = {
        "post_x": lambda: {
            "thread": rng.randrange(4),
            "followup": rng.random() < 0.5,
            "text": rng.randrange(len(TEXTS)),
            "loud": rng.random() < 0.3,
            "brands": rng.choice(("a", "a", "b", "ab")),
        },
        "post_meta": lambda: {
            "thread": rng.randrange(4),
            "followup": rng.random() < 0.4,
            "text": rng.randrange(len(TEXTS)),
            "bad_time": rng.random() < 0.3,
            "extra": rng.randrange(3),
            "brand": rng.choice(("a", "b", "ab")),
        },
        "post_generic": lambda: {"text": rng.randrange(len(TEXTS)), "brand": rng.choice("ab")},
        "redeliver": lambda: {"index": rng.randrange(8)},
        "probe_paths": lambda: {"count": rng.choice((5, 40))},
        "hostile_body": lambda: {
            "route": rng.choice(("x", "meta", "generic")),
            "seed": rng.randrange(1000),
        },
        "reload": lambda: {"brand": rng.choice("ab"), "edit": rng.choice(RELOADS)},
        "supervise": lambda: {
            "case": rng.randrange(6),
            "update": rng.choice(UPDATES),
            "payload": rng.choice(PAYLOADS),
        },
        "race": lambda: {
            "case": rng.randrange(6),
            "first": rng.choice(UPDATES),
            "second": rng.choice(UPDATES),
        },
        "fault": lambda: {
            "brand": rng.choice("ab"),
            "route": rng.choice(FAULT_ROUTES),
            "fault": rng.choice(FAULT_KINDS),
        },
        "sleep": lambda: {"seconds": rng.choice(SLEEPS)},
        "open_remark": lambda: {
            "index": rng.randrange(8),
            "brand": rng.choice("ab"),
            "how": rng.choice(OPENS),
            "seed": rng.randrange(1000),
        },
        "dm": lambda: {
            "platform": rng.choice(("x", "facebook")),
            "sender": rng.choice(DM_SENDERS),
            "quote": rng.randrange(-1, 6),
            "brand": rng.choice("ab"),
            "variant": rng.choice(DM_VARIANTS),
        },
        "helpdesk": lambda: {
            "route": rng.choice(HELPDESK_ROUTES),
            "case": rng.randrange(6),
            "name": rng.choice(HELPDESK_NAMES),
            "variant": rng.choice(HELPDESK_VARIANTS),
        },
        "restart_worker": lambda: {"brand": rng.choice("ab"), "during": rng.choice(WHILE_STOPPED)},
        "resolve_ahead": lambda: {
            "case": rng.randrange(6),
            "variant": rng.choice((*AHEAD_VARIANTS, "valid", "valid", "valid")),
            "fault": rng.choice(AHEAD_FAULTS),
        },
        "store_outage": lambda: {
            "brand": rng.choice("ab"),
            "during": rng.choice(WHILE_STORE_DOWN),
            "wait": rng.choice((0, 3600)),
        },
    }
    return Step.of(kind, **draw[kind]())


def random_history(rng: random.Random, length: int) -> list[Step]:
    """A history for the long runs: its workers (cached or not), a continue-as-new
    threshold, then `length` steps."""
    setup = [
        Step.of("workers", cached=rng.random() < 0.5),
        Step.of("roll_over", events=rng.choice(ROLL_OVERS)),
    ]
    return setup + [random_step(rng) for _ in range(length)]
