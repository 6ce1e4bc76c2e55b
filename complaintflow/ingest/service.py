"""The ingest service's core: the live policy, Temporal, the decision store; each mention is
enriched, triaged, and either opens (or joins) its thread's case or is logged as a remark.

A matched route reaches the thread's case: a signal when it runs, a signal-with-start when the
thread has none or its case ended; a throwaway remark is recorded in the decision store (and
appended to the JSON-lines export). A redelivered post is recognised by the store, or by the
case that took it, and never starts its case twice.
"""

import dataclasses
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import structlog
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from complaintflow import metrics
from complaintflow.client.cases import case_key, open_case, thread_post
from complaintflow.ingest.decision_log import DecisionLog
from complaintflow.ingest.enrich import CustomerLookup
from complaintflow.logs import redact_customer_text
from complaintflow.platforms import registry
from complaintflow.platforms.payload import PRIVATE
from complaintflow.rules.caseref import case_ref, refs_in
from complaintflow.rules.compiler import UNREAD_ROUTE
from complaintflow.rules.features import language_of
from complaintflow.rules.language import load as load_language_model
from complaintflow.rules.mention import Customer, Mention
from complaintflow.rules.model import CompiledPolicy
from complaintflow.rules.sentiment import sentiment
from complaintflow.rules.triage import Decision, Triage, shadow_policy
from complaintflow.store import DecisionStore, Entry, open_store
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import CaseState, CustomerContact

log = structlog.get_logger()
MAX_REFERENCE = 500  # the customer_contact signal's bounds (workflows.messages.FIELD_LIMITS)
MAX_CONTACT_TEXT = 1_000  # what the case keeps of a contact's text
# Temporal answers that no retry can change: that mention is skipped, not "retry later".
PERMANENT = {
    RPCStatusCode.INVALID_ARGUMENT,
    RPCStatusCode.FAILED_PRECONDITION,
    RPCStatusCode.OUT_OF_RANGE,
}
RACES = 3  # how often a post chases a thread's case that ends as it is delivered


@dataclasses.dataclass(frozen=True)
class IngestSecrets:
    """Webhook secrets, from the environment (never from policy files): each webhook source
    names the variable holding its secret (platforms/<name>/webhooks.py)."""

    x_consumer_secret: str = ""
    meta_app_secret: str = ""
    meta_verify_token: str = ""
    generic_secret: str = ""
    # Secrets of sources other than the four above, by variable.
    others: dict[str, str] = dataclasses.field(default_factory=dict)

    # The variables kept in the named fields above.
    FIELDS: ClassVar[dict[str, str]] = {
        "COMPLAINTFLOW_X_CONSUMER_SECRET": "x_consumer_secret",
        "COMPLAINTFLOW_META_APP_SECRET": "meta_app_secret",
        "COMPLAINTFLOW_META_VERIFY_TOKEN": "meta_verify_token",
        "COMPLAINTFLOW_WEBHOOK_SECRET": "generic_secret",
    }

    def get(self, variable: str) -> str:
        """The secret held by the environment variable `variable` ("" when not set)."""
        field = self.FIELDS.get(variable)
        return str(getattr(self, field)) if field else self.others.get(variable, "")

    @classmethod
    def from_environment(cls) -> "IngestSecrets":
        """Every webhook source's secret (and challenge token) from the environment."""
        env = os.environ
        variables = {
            name
            for source in registry.webhook_sources()
            for name in (source.secret, *source.variables)
        }
        named = {field: env.get(variable, "") for variable, field in cls.FIELDS.items()}
        variables.add("COMPLAINTFLOW_ZENDESK_SECRET")  # the helpdesk's (ingest.contacts)
        others = {v: env.get(v, "") for v in sorted(variables) if v not in cls.FIELDS}
        return cls(**named, others=others)


class Ingest:
    """What the webhook handlers share: the live policy, Temporal, the decision log."""

    def __init__(
        self,
        client: Client,
        policy: CompiledPolicy,
        *,
        task_queue: str,
        secrets: IngestSecrets,
        decision_log: Path | None = None,
        customers: CustomerLookup | None = None,
        store: DecisionStore | None = None,
    ) -> None:
        self.client = client
        self.always_redact = False  # set when the logs are shared with a redacting policy
        # How a reloaded policy goes live: alone, at once; in a deployment of several
        # brands, only if it claims no other brand's account or name (brands.Brands).
        self.admit: Callable[[CompiledPolicy], list[str]] = self._admit_alone
        self._make_live(policy)
        self.task_queue = task_queue
        self.secrets = secrets
        # The JSON-lines file is an export for people who want files; the store is the truth.
        self.decisions = (
            DecisionLog(decision_log)
            if decision_log is not None and str(decision_log) != os.devnull
            else None
        )
        self.store = store if store is not None else _store_beside(decision_log)
        self.customers = customers
        self.skipped_entries = 0  # batch entries that could not be read (logged, reported)

    @property
    def decision_log(self) -> Path:
        if self.decisions is None:
            raise AttributeError("this ingest writes no decision-log file")
        return self.decisions.path

    @property
    def policy(self) -> CompiledPolicy:
        return self.triage.policy

    def use_policy(self, policy: CompiledPolicy) -> None:
        """Make `policy` live for new mentions (running cases keep theirs)."""
        self._make_live(policy)
        log.info("policy.live", policy=policy.label)

    def _admit_alone(self, policy: CompiledPolicy) -> list[str]:
        self.use_policy(policy)
        return []

    def _make_live(self, policy: CompiledPolicy) -> None:
        self.triage = Triage(policy)
        shadow = shadow_policy(policy)
        self.shadow = Triage(shadow) if shadow is not None else None
        metrics.register_policy(policy.name, [r.name for r in policy.routes] + [UNREAD_ROUTE])
        load_language_model()  # once per process, before the first webhook waits for it
        # Several policies in one process share the logs: one asking for redaction is enough.
        redact_customer_text(policy.redact_customer_text or self.always_redact)

    async def accept(self, mentions: list[Mention]) -> dict[str, Any]:
        """Triage each mention and act on it; return what was done (`refused`: the mentions
        Temporal refused for good, each with why; the others are still taken)."""
        opened: list[str] = []
        logged: list[str] = []
        refused: list[str] = []
        policy = self.policy.name
        private = [m for m in mentions if m.kind == PRIVATE]
        contacts = [await self._private(message) for message in private]
        # A private message from someone with no open case is a complaint like a public one:
        # triaged, and its case answers in that conversation (an attachment alone is not).
        complaints = [
            message
            for message, contact in zip(private, contacts, strict=True)
            if contact["case"] is None and not contact.get("redelivered") and message.text.strip()
        ]
        triaged = [m for m in mentions if m.kind != PRIVATE] + complaints
        try:
            decisions = await self._triage(triaged, opened, logged, refused)
        except BaseException:
            for message in complaints:  # not taken: the platform's retry must find it new
                if await self.store.message_case(message.platform, message.id, policy=policy):
                    continue
                await self.store.release_message(message.platform, message.id, policy=policy)
            raise
        done: dict[str, Any] = {
            "cases": opened,
            "logged": logged,
            "decisions": decisions,
            "refused": refused,
        }
        if private:
            done["contacts"] = contacts
        return done

    async def _triage(
        self, mentions: list[Mention], opened: list[str], logged: list[str], refused: list[str]
    ) -> list[dict[str, Any]]:
        """Triage each mention and open, join or log it; its summary, in order."""
        decisions: list[dict[str, Any]] = []
        for raw in mentions:
            mention = await self._enriched(raw)
            started = time.perf_counter()
            decision = self.triage.decide(mention)
            metrics.TRIAGE_SECONDS.observe(time.perf_counter() - started)
            summary = {"id": mention.id, "route": decision.route, "score": decision.score}
            record = {**decision.to_record(), "platform": mention.platform}
            if self.shadow is not None:  # what the candidate would decide; never acted on
                shadowed = self.shadow.decide(mention)
                record["shadow"] = {"route": shadowed.route, "score": shadowed.score}
            policy = self.policy.name
            if decision.playbook is None:
                # The store keeps a remark's mention: `complaintflow open` can make it a case.
                kept = {**record, "mention": mention.to_dict()}
                if await self.store.record(self._entry(mention, kept, None)):
                    logged.append(mention.id)
                    await self._export(record)
                else:
                    summary["redelivered"] = True
            elif known := await self.store.case_for(mention.platform, mention.id, policy=policy):
                # Already opened for this very post by this brand (the case may even be
                # closed by now): a redelivery must not start the thread's case again.
                opened.append(known)
                summary["case"] = known
                summary["redelivered"] = True
            else:
                try:
                    case_id = await self._deliver(mention, decision)
                except RPCError as exc:
                    if exc.status not in PERMANENT:
                        raise  # Temporal cannot take it now: the platform retries
                    log.error("ingest.refused_by_temporal", error=exc.message[:300])
                    refused.append(
                        f"mention {mention.id[:40]!r}: Temporal refused it: {exc.message:.200}"
                    )
                    continue
                await self.store.record(self._entry(mention, record, case_id))
                await self._remember_case(mention, case_id)
                if mention.private:  # its redelivery is known by its message id
                    await self.store.settle_message(
                        mention.platform, mention.id, case_id, policy=policy
                    )
                opened.append(case_id)
                summary["case"] = case_id
            metrics.DECISIONS.labels(
                route=metrics.route_name(decision.route), policy=metrics.policy_label(policy)
            ).inc()
            decisions.append(summary)
            log.info(
                "mention.triaged",
                platform=mention.platform,
                mention_id=mention.id,
                author_handle=mention.author.handle,
                text=mention.text[:280],
                score=decision.score,
                route=decision.route,
                case_id=summary.get("case"),
                redelivered=summary.get("redelivered", False),
            )
        return decisions

    async def _deliver(self, mention: Mention, decision: Decision) -> str:
        """Give a post the store does not know to its thread's case, and return the case id.

        A post the store does not know may still have reached a case: its first delivery was
        answered 503 after the case started (the store write failed), and this is the
        platform's retry. It must not start the thread's case again, which would answer the
        same post twice. So a new run is started (signal-with-start) only when the thread has
        no case, or its last run ended without this post. A running case gets a plain signal,
        which cannot start a run: if the case ends meanwhile the signal is refused and the
        case is looked at again. A case that ended having taken the post is the answer.
        One look-up per new post."""
        case_id = case_key(mention, self.policy.name)
        handle = self.client.get_workflow_handle(case_id, result_type=CaseState)
        for _ in range(RACES):
            try:
                described = await handle.describe()
            except RPCError as exc:
                if exc.status is not RPCStatusCode.NOT_FOUND:
                    raise
                break  # no case for the thread yet
            if described.status is WorkflowExecutionStatus.RUNNING:
                try:
                    await handle.signal(CaseWorkflow.thread_update, thread_post(mention, decision))
                except RPCError as exc:
                    if exc.status is not RPCStatusCode.NOT_FOUND:
                        raise
                    continue  # it ended between the look and the signal: look again
                return case_id
            if described.status is WorkflowExecutionStatus.COMPLETED:
                state = await handle.result(follow_runs=False)
                if mention.id in state.mentions:
                    return case_id
            break  # ended without the post (or failed): a new post reopens the thread
        else:  # the thread's case ended under every delivery: the platform delivers again
            raise RPCError(
                f"the case {case_id} kept ending while a post was delivered to it",
                RPCStatusCode.UNAVAILABLE,
                b"",
            )
        handle = await open_case(
            self.client,
            mention=mention,
            decision=decision,
            policy=self.policy,
            task_queue=self.task_queue,
        )
        return handle.id

    async def _private(self, message: Mention) -> dict[str, Any]:
        """A private message to the brand: the contact of the case it quotes (`{case.ref}`)
        or of its author's latest open case on that platform; `case` None when it has none.

        Taken once by its platform and message id (an X DM event id, a Messenger or
        Instagram `message.mid`): a redelivery is answered with the case it reached and is
        not told to it again."""
        policy = self.policy.name
        if not await self.store.claim_message(message.platform, message.id, policy=policy):
            known = await self.store.message_case(message.platform, message.id, policy=policy)
            log.info(
                "contact.redelivered",
                platform=message.platform,
                message_id=message.id,
                case_id=known,
            )
            return {"id": message.id, "case": known, "redelivered": True}
        try:
            case_id = await self._contact_case(message)
        except BaseException:
            await self.store.release_message(message.platform, message.id, policy=policy)
            raise
        if case_id is not None:
            await self.store.settle_message(message.platform, message.id, case_id, policy=policy)
        return {"id": message.id, "case": case_id}

    async def _contact_case(self, message: Mention) -> str | None:
        """Signal `message` as contact to its author's open case; that case, or None."""
        policy = self.policy.name
        candidates = [
            found
            for ref in refs_in(message.text, self.policy.brand.name)
            if (found := await self.store.case_for_ref(ref, policy=policy)) is not None
        ]
        candidates += await self.store.cases_of_author(
            message.platform, message.author.id, policy=policy
        )
        contact = CustomerContact(
            channel=PRIVATE,
            reference=f"{message.platform} message {message.id}"[:MAX_REFERENCE],
            text=message.text[:MAX_CONTACT_TEXT],
            at=message.created_at,
        )
        for case_id in dict.fromkeys(candidates):
            if await self.signal_contact(case_id, contact):
                log.info(
                    "contact.received",
                    platform=message.platform,
                    message_id=message.id,
                    case_id=case_id,
                )
                return case_id
        log.info("contact.unmatched", platform=message.platform, message_id=message.id)
        return None

    async def signal_contact(self, case_id: str, contact: CustomerContact) -> bool:
        """Signal `contact` to the case; False when the case is closed (or unknown)."""
        try:
            await self.client.get_workflow_handle(case_id).signal("customer_contact", contact)
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True

    async def _remember_case(self, mention: Mention, case_id: str) -> None:
        """Keep the case's reference and author: a customer's private message or email
        quoting `{case.ref}` finds it."""
        await self.store.record_case(
            policy=self.policy.name,
            ref=case_ref(self.policy.brand.name, case_id),
            case_id=case_id,
            platform=mention.platform,
            author_id=mention.author.id,
        )

    async def _enriched(self, raw: Mention) -> Mention:
        """`raw` with its sentiment, language and customer filled in where missing."""
        mention = (
            raw
            if raw.sentiment is not None
            else dataclasses.replace(raw, sentiment=sentiment(raw.text))
        )
        if mention.language is None:  # identified once; the case reads it from here
            language, confidence = language_of(mention, self.triage.prior)
            mention = dataclasses.replace(
                mention, language=language, language_confidence=confidence
            )
        if self.customers is not None and mention.customer == Customer():
            mention = dataclasses.replace(mention, customer=await self.customers.find(mention))
        return mention

    def _entry(self, mention: Mention, record: dict[str, Any], case_id: str | None) -> Entry:
        return Entry(
            platform=mention.platform,
            mention_id=mention.id,
            policy=self.policy.name,
            route=record.get("route"),
            score=float(record.get("score") or 0.0),
            case_id=case_id,
            decided_at=datetime.now(UTC).isoformat(timespec="microseconds"),
            record=record,
        )

    async def _export(self, record: dict[str, Any]) -> None:
        """Append to the JSON-lines export; the store already has the row, so a failure here
        is reported, not answered as an error (the export can be rebuilt with `export`)."""
        if self.decisions is None:
            return
        try:
            await self.decisions.append(record)
        except Exception as exc:
            log.error("decision_log.not_written", path=str(self.decisions.path), error=str(exc))


def _store_beside(decision_log: Path | None) -> DecisionStore:
    """A SQLite store next to the decision-log file (in memory without one)."""
    if decision_log is None or str(decision_log) == os.devnull:
        return open_store("sqlite:///:memory:")
    return open_store(f"sqlite:///{decision_log.with_suffix('.db')}")
