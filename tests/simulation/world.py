"""One simulated deployment, built fresh for each history: two brands behind one multi-brand
ingest app (`serve --policies`) sharing one decision store, a case worker per brand whose real
adapters call that brand's platform emulator (faults injected there), all on one Temporal
time-skipping test server. `apply(step)` does one step; the model it keeps (what was
accepted, which cases exist, what every answer was) is what the invariants are checked against.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import itertools
import json
import random
import sqlite3
import tempfile
from collections.abc import Awaitable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    RPCTimeoutOrCancelledError,
    StartWorkflowInput,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from complaintflow import load_policy
from complaintflow.activities.labels import LabelRecorder
from complaintflow.client.cases import act, pending_step
from complaintflow.client.opening import CannotOpen, open_remark
from complaintflow.devkit.emulator import EmulatorState, Fault, Post
from complaintflow.devkit.emulator import create_app as create_emulator
from complaintflow.devkit.serve import serving
from complaintflow.devkit.stack import emulated_adapters
from complaintflow.errors import ComplaintflowError
from complaintflow.ingest.app import Ingest, create_app
from complaintflow.ingest.brands import Brands, brands_of, create_brands_app
from complaintflow.ingest.contacts import ZENDESK_SECRET, zendesk_signature
from complaintflow.ingest.reload import reload_once
from complaintflow.rules.caseref import case_ref
from complaintflow.store import DecisionStore, open_store
from complaintflow.store.sqlite import SqliteBackend
from complaintflow.worker import build_worker
from complaintflow.workflows.case import waiting
from complaintflow.workflows.messages import SupervisorAction
from tests.simulation.policies import BRANDS, INVALID_EDITS, PolicyShape, policy_text
from tests.simulation.steps import TEXTS, Step
from tests.support.cases import send_update
from tests.support.webhooks import SECRETS, hex_signature, x_signature

# Real-time bounds: generous, so a busy machine never fails a history; a case that does not
# answer within them is stuck, not slow.
ANSWER_BOUND = 20.0  # seconds for a query or an update to be answered
STEP_BOUND = 120.0  # seconds one step may take before the run counts as stuck
SLEEP_BOUND = 30.0  # real seconds a skip of Temporal time may take
SETTLE = 0.25  # seconds the workers get after each step before the invariants are read
AHEAD_STEP = "remove_public_hide"  # the standard playbook's removal (policies.py)
# The resolve variants a case may take: they are aimed at cases the removal would follow.
WOULD_RESOLVE = ("valid", "signal", "race_approve", "race_close")
HIDE_ROUTES = ("graph.edit", "x.hide_reply")  # the emulator's routes that hide a post
CONTACT_WAIT = 72 * 3600  # the standard playbook's await_contact (policies.py)
_WORLDS = itertools.count(1)
T = TypeVar("T")
# Workflow task execution latencies (ms) of the workers, through their client's runtime.
ACTIVATIONS = MetricBuffer(100_000)
_LATENCY = "workflow_task_execution_latency"
_WORKER_CLIENTS: dict[str, Client] = {}
_SECRETS = dataclasses.replace(SECRETS, others={ZENDESK_SECRET: "zendesk-secret"})
_ZENDESK_TIME = "2026-11-22T10:00:00Z"
# /metrics may gain a few series once (a fixed label for unknown paths), never one per path.
METRICS_GROWTH = 4096


@dataclasses.dataclass
class Model:
    """What the outside world saw: the basis of every invariant check."""

    accepted: set[tuple[str, str, str]] = dataclasses.field(default_factory=set)
    delivered: set[tuple[str, str, str]] = dataclasses.field(default_factory=set)
    cases: dict[str, str] = dataclasses.field(default_factory=dict)  # case id -> brand key
    routed: set[str] = dataclasses.field(default_factory=set)
    # Cases ended by the harness once they broke I2: a case whose workflow task fails forever
    # keeps the time-skipping server from skipping time for every other case.
    quarantined: set[str] = dataclasses.field(default_factory=set)
    violations: list[str] = dataclasses.field(default_factory=list)
    # (case id, static summary, static details) of every start ingest asked for: the
    # time-skipping server keeps no user metadata, so it is read on its way out.
    starts: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    activations: list[float] = dataclasses.field(default_factory=list)  # ms, each task
    # (brand key, platform, mention id) -> the case `open` made of that logged remark.
    # case id -> every run id a start (or signal-with-start) of it returned: a closed case that
    # a later post in its thread starts again is a new run (the test server has no visibility
    # list to ask, so the runs are read on their way out like the starts).
    runs: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    done: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (case, update)
    opened: dict[tuple[str, str, str], str] = dataclasses.field(default_factory=dict)
    # (brand key, platform, message id) -> every case ingest said a private message reached.
    dm_cases: dict[tuple[str, str, str], set[str]] = dataclasses.field(default_factory=dict)
    # The case a private message quoted (its `{case.ref}`) while that case was open.
    quoted: dict[tuple[str, str, str], str] = dataclasses.field(default_factory=dict)
    # Private-message ids that must reach no case: the brand's own echo, receipts.
    ignored: set[tuple[str, str, str]] = dataclasses.field(default_factory=set)
    # Cases that took a contact (a DM, a helpdesk's, a supervisor's) while they ran.
    contacted: set[str] = dataclasses.field(default_factory=set)
    # (case id, first run id, step) -> the deadline its approval wait showed first.
    deadlines: dict[tuple[str, str, str], str] = dataclasses.field(default_factory=dict)
    unavailable: set[str] = dataclasses.field(default_factory=set)  # posts answered 503
    # Faults armed on a brand's hide routes (graph.edit, x.hide_reply): each may make one more
    # hide request of a post (a retried call), never one more hidden post.
    hide_faults: dict[str, int] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class _Delivery:
    path: str
    body: bytes
    signature: tuple[str, str]
    good: list[tuple[str, str, str]]  # (brand key, platform, mention id) each good entry
    private: tuple[str, str] | None = None  # (brand key, platform) of private messages


class World:
    """The system under test for one history; use `async with World(env) as world`."""

    def __init__(
        self, env: WorkflowEnvironment, *, seed: int = 0, activation_budget: float | None = None
    ) -> None:
        self.env = env
        # I7 as a time: no workflow task may take longer (ms). Wall-clock dependent, so only
        # the long runs set it; every run checks for the deadlock detector's failures.
        self.activation_budget = activation_budget
        self.number = next(_WORLDS)
        self.rng = random.Random(seed)
        self.model = Model()
        self.shapes = {key: PolicyShape() for key in BRANDS}
        self.emulators = {
            key: EmulatorState(token="tok", brand_x_id=b.x, brand_page_id=b.page, seed=seed)
            for key, b in BRANDS.items()
        }
        for emulator in self.emulators.values():
            emulator.x_refuses_duplicates = False  # not a documented guarantee
        self.roots: dict[tuple[str, int], str] = {}  # (platform, thread) -> first post id
        self.deliveries: list[_Delivery] = []
        self.notes: list[str] = []  # what went wrong in the harness, not in the system
        self._ids = itertools.count(1)
        self._stack = contextlib.AsyncExitStack()
        self.folder = Path(tempfile.mkdtemp(prefix="complaintflow-sim-"))
        self.store: DecisionStore
        self.brands: Brands
        self.http: httpx.AsyncClient
        # /remarks/open is served by each brand's own ingest app (the multi-brand router
        # forwards webhooks only), so each brand has its app on loopback too.
        self.single: dict[str, httpx.AsyncClient] = {}
        self.workers: dict[str, Worker] = {}
        self._worker_args: dict[str, tuple[list[Any], str]] = {}
        self._workers_client: Client
        # The store made unavailable (another connection holds its write lock) and the
        # deliveries it made ingest answer 503: the platform sends them again once it is back.
        self.store_down = False
        self.owed: list[_Delivery] = []
        self._locker: sqlite3.Connection | None = None
        # Workers with a workflow cache (sticky), as deployed; or without one, every workflow
        # task replaying its case's history. Only uncached workers are restarted: the
        # time-skipping server sends a stopped sticky worker's queries nowhere for ever (nor
        # implements ResetStickyTaskQueue), and races two updates one after the other (it
        # leaves two concurrent updates of an uncached case unanswered).
        self.cached = True
        self.case_states: dict[str, dict[str, Any]] = {}  # the last state_query of each case
        # The product's continue-as-new threshold, while a history runs with a lower one.
        self._product_threshold: int | None = None

    # -- building and tearing down ------------------------------------------------------------
    async def __aenter__(self) -> World:
        stack = self._stack
        self.store = open_store(f"sqlite:///{self.folder / 'store.db'}")
        # A write the store cannot take fails after 0.2 s instead of 10 (an outage step holds
        # the lock): the same 503, sooner.
        backend = self.store.backend
        assert isinstance(backend, SqliteBackend)
        backend._connection.execute("PRAGMA busy_timeout = 200")
        config = self.env.client.config()
        config["interceptors"] = [_Starts(self.model)]
        client = Client(**config)
        self._workers_client = await _worker_client(self.env)
        ACTIVATIONS.retrieve_updates()  # what earlier histories left
        ingests = []
        for key, brand in BRANDS.items():
            path = self.folder / f"{key}.yaml"
            path.write_text(policy_text(brand, self.shapes[key]))
            queue = f"sim-{self.number}-{key}"
            ingest = Ingest(
                client, load_policy(path), task_queue=queue, secrets=_SECRETS, store=self.store
            )
            ingests.append((path, ingest))
            url = await stack.enter_async_context(serving(create_emulator(self.emulators[key])))
            adapters_http = await stack.enter_async_context(httpx.AsyncClient(timeout=5.0))
            archive = self.folder / f"archive-{key}"
            archive.mkdir()
            # Labels go to this deployment's store (not the default one of the machine), so
            # the labels table the invariants read is the one the cases write.
            activities = [
                *emulated_adapters(url, "tok", archive, client=adapters_http),
                *LabelRecorder(self.store).activities(),
            ]
            self._worker_args[key] = (activities, queue)
            await self._start_worker(key)
        self.brands = brands_of(ingests)
        for path, ingest in ingests:
            own = await stack.enter_async_context(serving(create_app(ingest)))
            self.single[path.stem] = await stack.enter_async_context(
                httpx.AsyncClient(base_url=own, timeout=30)
            )
        url = await stack.enter_async_context(serving(create_brands_app(self.brands)))
        self.http = await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30))
        return self

    async def __aexit__(self, *_: object) -> None:
        # This history's cases end with it: left running without a worker, their timers
        # would keep the shared server busy in every later history's time skipping.
        for case_id in self.model.cases:
            with contextlib.suppress(Exception):
                await _bounded(self.env.client.get_workflow_handle(case_id).terminate())
        for key in list(self.workers):
            await self._stop_worker(key)
        await self._stack.aclose()
        self._unlock_store()
        await self.store.close()
        if self._product_threshold is not None:
            waiting.ROLL_OVER_EVENTS = self._product_threshold

    async def _start_worker(self, key: str) -> None:
        activities, queue = self._worker_args[key]
        worker = build_worker(
            self._workers_client,
            activities=activities,
            task_queue=queue,
            max_cached_workflows=1000 if self.cached else 0,
            graceful_shutdown_timeout=timedelta(seconds=2),
        )
        await worker.__aenter__()
        self.workers[key] = worker

    async def _stop_worker(self, key: str) -> None:
        worker = self.workers.pop(key)
        await worker.__aexit__(None, None, None)

    # -- one step -----------------------------------------------------------------------------
    async def apply(self, step: Step) -> None:
        """Do `step`, then give the workers a moment to act on it."""
        method = getattr(self, f"_{step.kind}")
        await method(**step.kwargs)
        await asyncio.sleep(SETTLE)

    def ingest_of(self, key: str) -> Ingest:
        return next(b.ingest for b in self.brands.brands if b.path.stem == key)

    def _new_id(self) -> str:
        return f"{self.number:04d}{next(self._ids):08d}"  # X and Graph: digits

    # posts -----------------------------------------------------------------------------------
    async def _post_x(
        self, thread: int, followup: bool, text: int, loud: bool, brands: str
    ) -> None:
        tweet = self._new_id()
        author = f"77{thread}"
        root = self.roots.get(("x", thread)) if followup else None
        if root is None:
            self.roots[("x", thread)] = tweet
        for key in brands:
            brand = BRANDS[key]
            words = TEXTS[text].format(handle=brand.handle)
            self.emulators[key].add_post(Post(tweet, "x", author, words, in_reply_to=root or ""))
            event: dict[str, Any] = {
                "id_str": tweet,
                "text": words,
                "created_at": "Sun Nov 22 10:00:00 +0000 2026",
                "user": {
                    "id_str": author,
                    "screen_name": f"user{author}",
                    "name": f"Customer {thread}",
                    "followers_count": 20_000 if loud else 120,
                },
            }
            if root:
                event["in_reply_to_status_id_str"] = root
            body = {"for_user_id": brand.x, "tweet_create_events": [event]}
            await self._deliver("/webhooks/x", body, [(key, "x", tweet)])

    async def _post_meta(
        self, thread: int, followup: bool, text: int, bad_time: bool, extra: int, brand: str
    ) -> None:
        """One Meta delivery: an entry per brand in `brand` ("ab": both Pages in one body,
        which the multi-brand router parses once and splits by Page)."""
        entries, good = [], []
        for key in brand:
            entry, taken = self._meta_entry(thread, followup, text, bad_time, extra, key)
            entries.append(entry)
            good += taken
        body = {"object": "page", "entry": entries}
        await self._deliver("/webhooks/meta", body, good)

    def _meta_entry(
        self, thread: int, followup: bool, text: int, bad_time: bool, extra: int, brand: str
    ) -> tuple[dict[str, object], list[tuple[str, str, str]]]:
        owner = BRANDS[brand]
        post_id = f"{owner.page}_{self.number}"
        changes, good = [], []
        for n in range(1 + extra):
            comment = f"{post_id}{self._new_id()}"
            root = self.roots.get(("facebook", thread)) if (followup and n == 0) else None
            if n == 0 and root is None:
                self.roots[("facebook", thread)] = comment
            words = TEXTS[(text + n) % len(TEXTS)].format(handle=owner.handle)
            author = f"88{thread}{n}"
            self.emulators[brand].add_post(
                Post(comment, "facebook", author, words, in_reply_to=root or post_id)
            )
            changes.append(_comment(comment, words, post_id, root, author, 1_764_000_000))
            good.append((brand, "facebook", comment))
        if bad_time:  # one entry no clock can read, beside good ones
            comment = f"{post_id}{self._new_id()}"
            changes.insert(1, _comment(comment, "broken, refund", post_id, None, "999", 10**15))
        return {"id": owner.page, "time": 1, "changes": changes}, good

    async def _post_generic(self, text: int, brand: str) -> None:
        owner = BRANDS[brand]
        post = self._new_id()
        words = TEXTS[text].format(handle=owner.handle)
        self.emulators[brand].add_post(Post(post, "x", "7999", words))
        body = {
            "account": owner.x,
            "id": post,
            "platform": "x",
            "text": words,
            "author": {"id": "7999", "handle": "user7999", "name": "Gen"},
        }
        await self._deliver("/webhooks/generic", body, [(brand, "x", post)])

    async def _redeliver(self, index: int) -> None:
        if self.deliveries:
            delivery = self.deliveries[index % len(self.deliveries)]
            await self._send(delivery, first=False)

    async def _deliver(self, path: str, payload: object, good: list[tuple[str, str, str]]) -> None:
        body = json.dumps(payload).encode()
        signature = _signature(path, body)
        delivery = _Delivery(path, body, signature, good)
        self.deliveries.append(delivery)
        await self._send(delivery, first=True)

    async def _send(self, delivery: _Delivery, *, first: bool, expect: bool = True) -> None:
        answer = await self.http.post(
            delivery.path, content=delivery.body, headers=[delivery.signature]
        )
        where = f"{delivery.path} ({len(delivery.good)} good entries)"
        if self._unavailable(answer, where):
            self.owed.append(delivery)
            self.model.unavailable.update(mention for _, _, mention in delivery.good)
            return
        if answer.status_code >= 500:
            self.violate("I4", f"{where} answered {answer.status_code}: {answer.text[:200]}")
            return
        if answer.status_code >= 300:
            if delivery.private is not None and expect:
                self.violate(
                    "I4",
                    f"{where}: a private message refused with {answer.status_code}: "
                    f"{answer.text[:300]}",
                )
            if delivery.good:
                self.violate(
                    "I4",
                    f"{where} refused with {answer.status_code}, its good entries lost: "
                    f"{answer.text[:300]}",
                )
            return
        done = answer.json()
        if delivery.private is not None:
            self._took_contacts(done, delivery)
        for case_id in done.get("cases", []):
            self.model.cases.setdefault(case_id, _brand_of(case_id, delivery.good))
        decisions = {d.get("id"): d for d in done.get("decisions", [])}
        for key, platform, mention in delivery.good:
            policy = BRANDS[key].policy
            seen = (policy, platform, mention)
            if mention not in decisions:
                self.violate("I4", f"{where}: good entry {mention} not taken: {answer.text[:300]}")
                continue
            if first and seen not in self.model.delivered and decisions[mention].get("redelivered"):
                self.violate(
                    "I1",
                    f"{platform} post {mention} reached {policy} for the first time, but ingest "
                    f"took it for a redelivery (case {decisions[mention].get('case')})",
                )
            self.model.delivered.add(seen)
            self.model.accepted.add(seen)

    def _unavailable(self, answer: httpx.Response, where: str) -> bool:
        """Whether `answer` is the 503 a store that cannot take a write may give: with a
        reason, while the store is down (at any other time a 503 breaks I4)."""
        if answer.status_code != 503 or not self.store_down:
            return False
        if "retry" not in answer.text:
            self.violate("I4", f"{where} answered 503 with no reason: {answer.text[:200]}")
        return True

    async def _probe_paths(self, count: int) -> None:
        """Unauthenticated POSTs to paths nobody serves: 404s, and /metrics must not grow."""
        before = len((await self.http.get("/metrics")).content)
        for _ in range(count):
            path = f"/webhooks/{self.rng.getrandbits(64):x}"
            answer = await self.http.post(path, content=b"{}")
            if answer.status_code >= 500:
                self.violate("I4", f"POST {path} answered {answer.status_code}")
        after = len((await self.http.get("/metrics")).content)
        if after - before > METRICS_GROWTH:
            self.violate(
                "I6",
                f"/metrics grew by {after - before} bytes after {count} POSTs to made-up paths",
            )

    async def _hostile_body(self, route: str, seed: int) -> None:
        """A correctly signed body that is nonsense in one of a few ways."""
        rng = random.Random(seed)
        bodies = [
            bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 200))),
            b"[" * 5000,
            json.dumps({"tweet_create_events": [{"id_str": 1e400}], "entry": "x"}).encode(),
            json.dumps({"object": "page", "entry": [{"id": {"a": 1}, "changes": [None]}]}).encode(),
            json.dumps({"account": ["1500"], "id": "1/../../2", "text": 5}).encode(),
        ]
        body = rng.choice(bodies)
        path = f"/webhooks/{route}"
        answer = await self.http.post(path, content=body, headers=[_signature(path, body)])
        if answer.status_code >= 500:
            self.violate("I4", f"signed hostile body to {path} answered {answer.status_code}")

    # opening a logged remark ------------------------------------------------------------------
    async def _open_remark(self, index: int, brand: str, how: str, seed: int) -> None:
        """`complaintflow open` (its core) or the signed POST /remarks/open on a logged remark:
        the first open makes a case, every later one names that case; hostile bodies get 4xx."""
        if how == "hostile":
            await self._open_hostile(brand, seed)
            return
        policy = BRANDS[brand].policy
        logged = [
            ("x" if r.get("platform") is None else str(r.get("platform")), str(r.get("id")))
            for r in await self.store.remarks()
            if r.get("policy") == policy
        ]
        logged += [(p, m) for (k, p, m) in self.model.opened if k == brand]
        if how == "unknown":
            logged = [("x", f"{self._new_id()}")]
        elif not logged:
            return
        platform, mention = logged[index % len(logged)]
        for _ in range(2 if how == "twice" else 1):
            await self._open_once(brand, platform, mention, how, known=how != "unknown")

    async def _open_once(
        self, brand: str, platform: str, mention: str, how: str, known: bool
    ) -> None:
        where = f"open of {platform} remark {mention} for {BRANDS[brand].policy} ({how})"
        if how == "cli":
            ingest = self.ingest_of(brand)
            try:
                opened = await open_remark(
                    ingest.client,
                    ingest.store,
                    ingest.policy,
                    platform=platform,
                    mention_id=mention,
                    by="dana",
                    playbook=None,
                    task_queue=ingest.task_queue,
                )
            except CannotOpen as exc:
                self.notes.append(f"{where}: {exc}")
                return
            case_id, new = opened.case_id, opened.new
        else:
            body = json.dumps({"mention_id": mention, "by": "dana", "platform": platform})
            answer = await self._post_open(brand, body.encode())
            if self._unavailable(answer, where):
                return
            if answer.status_code >= 500:
                self.violate("I4", f"{where} answered {answer.status_code}: {answer.text[:200]}")
                return
            if not known:
                if answer.status_code != 404:
                    self.violate("I4", f"{where} answered {answer.status_code}, not 404")
                return
            if answer.status_code >= 300:  # e.g. a policy without a route that answers
                self.notes.append(f"{where}: {answer.status_code} {answer.text[:200]}")
                return
            done = answer.json()
            case_id, new = str(done.get("case")), bool(done.get("opened"))
        key = (brand, platform, mention)
        before = self.model.opened.get(key)
        if new and before is not None:
            self.violate("I1", f"{where} made a second case {case_id} (it had {before})")
        elif not new and before is not None and case_id != before:
            self.violate("I1", f"{where} named case {case_id}, but it was opened as {before}")
        elif not new and before is None:
            self.violate("I1", f"{where} said it already had case {case_id}, never opened")
        self.model.opened.setdefault(key, case_id)
        self.model.cases.setdefault(case_id, brand)

    async def _open_hostile(self, brand: str, seed: int) -> None:
        rng = random.Random(seed)
        bodies: list[object] = [
            {"mention_id": "1", "by": "dana", "admin": True},
            {"mention_id": 5, "by": "dana"},
            {"mention_id": "1" * 5000, "by": "dana"},
            {"mention_id": "1", "by": "d" * 5000},
            {"mention_id": "1", "by": "   "},
            {"mention_id": "1", "by": "dana", "playbook": "no-such-playbook"},
            {"mention_id": "1", "by": "dana", "platform": "../../etc"},
            {"by": "dana"},
            ["mention_id"],
            None,
            {"mention_id": {"$ne": 1}, "by": "dana"},
        ]
        raw = [
            json.dumps(rng.choice(bodies)).encode(),
            bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 200))),
            b"[" * 5000,
        ]
        body = rng.choice(raw)
        answer = await self._post_open(brand, body)
        if not 400 <= answer.status_code < 500:
            self.violate(
                "I4",
                f"hostile body to /remarks/open answered {answer.status_code}: "
                f"{answer.text[:200]} (body {body[:80]!r})",
            )

    async def _post_open(self, brand: str, body: bytes) -> httpx.Response:
        return await self.single[brand].post(
            "/remarks/open", content=body, headers=[_signature("/remarks/open", body)]
        )

    # policies --------------------------------------------------------------------------------
    async def _reload(self, brand: str, edit: str) -> None:
        ingest = self.ingest_of(brand)
        path = self.folder / f"{brand}.yaml"
        before = ingest.policy.label
        if edit == "invalid":
            path.write_text(INVALID_EDITS[self.rng.randrange(len(INVALID_EDITS))])
            reload_once(path, ingest, "")
            if ingest.policy.label != before:
                self.violate("I2", f"an invalid edit of {path.name} went live")
            return
        self.shapes[brand] = self.shapes[brand].edited(edit)
        path.write_text(policy_text(BRANDS[brand], self.shapes[brand]))
        reload_once(path, ingest, "")
        if ingest.policy.version != self.shapes[brand].version:
            self.violate("I2", f"a valid edit ({edit}) of {path.name} was refused")

    # supervisors -----------------------------------------------------------------------------
    def _case(self, index: int) -> str | None:
        cases = sorted(self.model.cases)
        return cases[index % len(cases)] if cases else None

    async def _supervise(self, case: int, update: str, payload: str) -> None:
        case_id = self._case(case)
        if case_id is not None:
            await self._update(case_id, update, payload)

    async def _race(self, case: int, first: str, second: str) -> None:
        case_id = self._case(case)
        if case_id is not None and not self.cached:
            await self._update(case_id, first, "valid")
            await self._update(case_id, second, "valid")
        elif case_id is not None:
            await asyncio.gather(
                self._update(case_id, first, "valid"), self._update(case_id, second, "valid")
            )

    async def _update(self, case_id: str, update: str, payload: str) -> None:
        handle = self.env.client.get_workflow_handle(case_id)
        try:
            if payload == "cli" and update != "contact":  # (the CLI has no contact command)
                await _bounded(self._cli_update(case_id, update))
            else:
                body = await self._payload(case_id, update, payload)
                await _bounded(send_update(handle, update, body))
        except (WorkflowUpdateFailedError, RPCError, ComplaintflowError):
            return  # refused: what a supervisor sees for a wrong or late action
        except (TimeoutError, RPCTimeoutOrCancelledError):  # (the second: cut by the bound)
            self.violate("I2", f"{case_id}: the {update} update was not answered")
            return
        if update == "route":
            self.model.routed.add(case_id)
        if update == "contact":
            self.model.contacted.add(case_id)
        self.model.done.append((case_id, update))

    async def _cli_update(self, case_id: str, update: str) -> None:
        """What `complaintflow UPDATE CASE --by dana` does: approve, edit and reject without
        --step act on the step the case is waiting on."""
        client = self.env.client
        step = ""
        if update in ("approve", "edit", "reject"):
            step = await pending_step(client, case_id)
        text = "We are sorry; a replacement is on its way." if update == "edit" else ""
        owner = BRANDS[self.model.cases[case_id]]
        playbook = (self.shapes[owner.key].urgent or "standard") if update == "route" else ""
        action = SupervisorAction(step=step, by="dana", note="cli", text=text, playbook=playbook)
        await act(client, case_id, update, action)

    async def _payload(self, case_id: str, update: str, variant: str) -> object:
        step = ""
        with contextlib.suppress(Exception):
            state = await _bounded(
                self.env.client.get_workflow_handle(case_id).query("state_query")
            )
            pending = state.get("pending") if isinstance(state, dict) else None
            step = pending["step"] if pending else ""
        owner = BRANDS[self.model.cases[case_id]]
        valid: dict[str, dict[str, object]] = {
            "approve": {"step": step, "by": "dana"},
            "edit": {
                "step": step,
                "by": "dana",
                "text": "We are sorry; a replacement is on its way.",
            },
            "reject": {"step": step, "by": "dana", "note": "not now"},
            "route": {
                "playbook": self.shapes[owner.key].urgent or "standard",
                "by": "dana",
                "note": "read it",
            },
            "resolve": {"by": "dana", "note": "refunded"},
            "escalate": {"by": "dana", "priority": "urgent", "note": "press"},
            "close": {"by": "dana", "note": "done"},
            "dismiss": {"by": "dana", "note": "not a complaint"},
            "contact": {"by": "dana", "channel": "phone", "note": "called, refund agreed"},
        }
        body = dict(valid[update])
        if variant == "oversize_by":
            body["by"] = "d" * 5000
        elif variant == "wrong_type":
            body["by"] = 5
        elif variant == "unknown_field":
            body["admin"] = True
        elif variant == "not_an_object":
            return ["approve"]
        return body

    async def _resolve_ahead(self, case: int, variant: str, fault: str) -> None:
        """A supervisor resolves a case and approves its removal with it ("approve"), or a
        hostile variant of that: a hostile update must be refused with a reason and leave the
        case unresolved, a hostile signal ignored (and audited)."""
        case_id = self._case_ahead(case) if variant in WOULD_RESOLVE else self._case(case)
        if case_id is None:
            return
        key = self.model.cases[case_id]
        if fault != "none":  # met by the removal's shared activity (archive, hide, thank)
            for route in ("graph.comment", *HIDE_ROUTES):
                made = Fault(route=route, drop=True, times=1)
                if fault == "500":
                    made = Fault(route=route, status=500, times=1)
                self.emulators[key].faults.append(made)
            self.model.hide_faults[key] = self.model.hide_faults.get(key, 0) + 1
        if variant in ("race_approve", "race_close"):
            await self._race_ahead(case_id, "approve" if variant == "race_approve" else "close")
        elif variant in ("signal", "signal_unknown"):
            await self._signal_ahead(case_id, variant)
        elif variant == "valid":
            await self._update_ahead(case_id, await self._ahead_payload(case_id, variant))
        else:
            await self._hostile_ahead(case_id, variant)

    def _case_ahead(self, index: int) -> str | None:
        """A case a resolve approving the removal would take it through it: a Facebook case
        of the standard playbook still to be resolved (as last seen); else any case."""
        hideable = sorted(
            case_id
            for case_id, state in self.case_states.items()
            if state.get("platform") == "facebook"
            and state.get("status") in ("awaiting_resolution", "awaiting_contact")
            and not state.get("resolved")
            and case_id not in self.model.quarantined
        )
        return hideable[index % len(hideable)] if hideable else self._case(index)

    async def _ahead_payload(self, case_id: str, variant: str) -> dict[str, object]:
        """The resolve's body: valid, or one of the hostile AHEAD_VARIANTS."""
        body: dict[str, object] = {"by": "dana", "note": "refunded", "approve": AHEAD_STEP}
        if variant in ("unknown", "signal_unknown"):
            body["approve"] = "remove_everything"
        elif variant == "passed":
            body["approve"] = "reply_acknowledge"  # the first step of `standard`
        elif variant == "no_approval":
            body["approve"] = "reply_follow_up"  # later, but asks no approval
        elif variant == "current":
            state = await self._state(case_id)
            body["approve"] = str(state.get("current_step") or "reply_acknowledge")
        elif variant == "stranger":
            body["by"] = "sam"  # the removal's approvers are dana and lee
        elif variant == "wrong_type":
            body["approve"] = [AHEAD_STEP]
        elif variant == "oversize":
            body["approve"] = f"{AHEAD_STEP}, " + "x" * 1000
        return body

    async def _state(self, case_id: str) -> dict[str, Any]:
        with contextlib.suppress(Exception):
            state = await _bounded(
                self.env.client.get_workflow_handle(case_id).query("state_query")
            )
            if isinstance(state, dict):
                return state
        return {}

    async def _update_ahead(self, case_id: str, body: object) -> bool:
        """Send a resolve update; whether the case took it."""
        handle = self.env.client.get_workflow_handle(case_id)
        try:
            await _bounded(send_update(handle, "resolve", body))
        except (WorkflowUpdateFailedError, RPCError):
            return False
        except (TimeoutError, RPCTimeoutOrCancelledError):
            self.violate("I2", f"{case_id}: a resolve approving {AHEAD_STEP} was not answered")
            return False
        self.model.done.append((case_id, "resolve"))
        return True

    async def _hostile_ahead(self, case_id: str, variant: str) -> None:
        """A resolve whose "approve" no case may take: refused with a reason, case unresolved."""
        was_resolved = (case_id, "resolve") in self.model.done
        handle = self.env.client.get_workflow_handle(case_id)
        body = await self._ahead_payload(case_id, variant)
        try:
            await _bounded(send_update(handle, "resolve", body))
        except WorkflowUpdateFailedError as refused:
            cause = refused.cause
            reason = str(getattr(cause, "message", "") or cause or "")
            if not reason.strip():
                self.violate("I2", f"{case_id}: a resolve ({variant}) was refused without a reason")
        except RPCError:
            return  # the case is gone: nothing to refuse
        except (TimeoutError, RPCTimeoutOrCancelledError):
            self.violate("I2", f"{case_id}: a hostile resolve ({variant}) was not answered")
            return
        else:
            self.model.done.append((case_id, "resolve"))
            named = repr(body.get("approve"))[:120]
            self.violate("I2", f"{case_id}: a resolve approving {named} ({variant}) was accepted")
            return
        state = await self._state(case_id)
        if state.get("resolved") and not was_resolved and case_id not in self.model.routed:
            self.violate("I2", f"{case_id}: a refused resolve ({variant}) left the case resolved")

    async def _signal_ahead(self, case_id: str, variant: str) -> None:
        """The resolve as a signal: a valid one is applied, a hostile one ignored (audited)."""
        handle = self.env.client.get_workflow_handle(case_id)
        before = await self._state(case_id)
        body = await self._ahead_payload(case_id, variant)
        try:
            await _bounded(handle.signal("resolve_signal", body))
        except (RPCError, TimeoutError, RPCTimeoutOrCancelledError):
            return  # the case has ended: nothing to signal
        if variant == "signal":
            if before and not before.get("resolved"):
                self.model.done.append((case_id, "resolve"))  # (applied if the case was open)
            return
        earlier = _ignored_resolves(before)
        for _ in range(20):  # the signal is applied by the case's next workflow task
            state = await self._state(case_id)
            if not state or state.get("status") == "closed":
                return
            if _ignored_resolves(state) > earlier:
                break
            await asyncio.sleep(0.25)
        else:
            self.violate("I2", f"{case_id}: a hostile resolve signal was not ignored (audited)")
        if state.get("resolved") and not before.get("resolved"):
            self.violate("I2", f"{case_id}: a hostile resolve signal resolved the case")

    async def _race_ahead(self, case_id: str, other: str) -> None:
        """The valid resolve with its approval, racing a supervisor's approve or close."""
        second = self._update(case_id, other, "valid")
        body = await self._ahead_payload(case_id, "valid")
        if self.cached:
            await asyncio.gather(self._update_ahead(case_id, body), second)
        else:  # (the test server leaves concurrent updates of an uncached case unanswered)
            await self._update_ahead(case_id, body)
            await second

    # continue-as-new ------------------------------------------------------------------------
    async def _roll_over(self, events: int) -> None:
        """Cases continue as new once their history has `events` events (0: the product's
        threshold). Only before the first case starts: a worker replaying a case must see the
        threshold it ran with."""
        if events and not self.model.cases and self._product_threshold is None:
            self._product_threshold = waiting.ROLL_OVER_EVENTS
            waiting.ROLL_OVER_EVENTS = events

    async def _workers(self, cached: bool) -> None:
        """Workers with or without a workflow cache (only before the first case starts)."""
        if cached == self.cached or self.model.cases:
            return
        self.cached = cached
        for key in list(self.workers):
            await self._stop_worker(key)
            await self._start_worker(key)

    # private messages and contacts ----------------------------------------------------------
    async def _dm(self, platform: str, sender: int, quote: int, brand: str, variant: str) -> None:
        """A private message to `brand` on X or Messenger from a thread's author (or a
        stranger), perhaps quoting a case's reference; in one of DM_VARIANTS."""
        owner = BRANDS[brand]
        if sender == 9:
            author = f"66{self._new_id()}"
        else:
            author = f"77{sender}" if platform == "x" else f"88{sender}0"
        mid = self._new_id() if platform == "x" else f"m_{self._new_id()}"
        key = (brand, platform, mid)
        text = "hello, it is me about the broken kettle"
        quoted = self._case(quote) if quote >= 0 else None
        if quoted is not None:
            ref = case_ref(self.ingest_of(brand).policy.brand.name, quoted)
            text = f"my reference is {ref}, please call me back"
            if self.model.cases.get(quoted) == brand and await self._running(quoted):
                self.model.quoted[key] = quoted
        if variant == "oversize":
            text = "broken " * 6000
        own = variant == "echo"
        if variant in ("echo", "receipt"):
            self.model.ignored.add(key)
        if platform == "x":
            payload = _x_dm(owner.x, author, mid, text, variant)
            path = "/webhooks/x"
        else:
            payload = _messenger(owner.page, author, mid, text, variant)
            path = "/webhooks/meta"
        body = json.dumps(payload).encode()
        expect = not own and variant not in ("receipt", "oversize")
        delivery = _Delivery(path, body, _signature(path, body), [], private=(brand, platform))
        self.deliveries.append(delivery)
        for _ in range(2 if variant == "twice" else 1):
            await self._send(delivery, first=True, expect=expect)

    def _took_contacts(self, done: dict[str, Any], delivery: _Delivery) -> None:
        """Note which case each private message of a 2xx answer reached."""
        assert delivery.private is not None
        brand, platform = delivery.private
        for contact in done.get("contacts", []):
            case_id = contact.get("case") if isinstance(contact, dict) else None
            if not case_id:
                continue
            key = (brand, platform, str(contact.get("id")))
            self.model.dm_cases.setdefault(key, set()).add(str(case_id))
            self.model.cases.setdefault(str(case_id), brand)
            self.model.contacted.add(str(case_id))

    async def _running(self, case_id: str) -> bool:
        handle = self.env.client.get_workflow_handle(case_id)
        with contextlib.suppress(Exception):
            description = await _bounded(handle.describe())
            return description.status == WorkflowExecutionStatus.RUNNING
        return False

    async def _helpdesk(self, route: str, case: int, name: str, variant: str) -> None:
        """A helpdesk (Zendesk) or any other system tells a case of the customer's contact,
        naming it by its id or its reference; in one of HELPDESK_VARIANTS."""
        case_id = self._case(case)
        if case_id is None:
            return
        brand = self.model.cases[case_id]
        target = next(k for k in BRANDS if k != brand) if variant == "other_brand" else brand
        ingest = self.ingest_of(brand)
        named = case_id if name == "id" else case_ref(ingest.policy.brand.name, case_id)
        if variant == "unknown_case":
            named = "case-x-1@nobody" if name == "id" else f"{named[:-6]}ZZZZZZ"
        body = json.dumps(_helpdesk_body(route, name, named, variant)).encode()
        path = f"/webhooks/{route}"
        headers = dict(_helpdesk_signature(route, body, wrong=variant == "bad_signature"))
        running = await self._running(case_id)
        # "via_router": the multi-brand app asks each brand in turn; the case's own answers.
        http = self.http if variant == "via_router" else self.single[target]
        answer = await http.post(path, content=body, headers=headers)
        where = f"{path} ({variant}, by {name}) about {case_id} to {BRANDS[target].policy}"
        status = answer.status_code
        if status >= 500:
            self.violate("I4", f"{where} answered {status}: {answer.text[:200]}")
            return
        wanted = {"bad_signature": (401,), "unknown_case": (404,), "other_brand": (404,)}
        if variant in ("valid", "via_router"):
            allowed: tuple[int, ...] = (200, 404)
        else:
            allowed = wanted.get(variant, (400,))
        if status not in allowed:
            self.violate("I4", f"{where} answered {status}, not {allowed}: {answer.text[:200]}")
        if status // 100 != 2:
            return
        reached = str(answer.json().get("case", ""))
        if reached != case_id or target != brand:
            self.violate("I1", f"{where} reached case {reached}")
            return
        if not running:
            self.notes.append(f"{where}: a closed case took a contact")
        self.model.contacted.add(case_id)

    # faults: a worker stopped, the store unavailable ----------------------------------------
    async def _restart_worker(self, brand: str, during: str) -> None:
        """Stop `brand`'s worker (an activity in flight is cancelled and retried by the next
        one), let something arrive while it is away, and start a fresh worker."""
        if self.cached:
            self.notes.append("restart_worker: workers with a cache are not restarted")
            return
        if during == "mid_reply":  # the platform is slow to take an urgent reply
            self.emulators[brand].faults.append(Fault(route="x.post_tweet", latency=3.0, times=1))
            await self._post_x(thread=3, followup=False, text=1, loud=True, brands=brand)
            await asyncio.sleep(1.0)  # the reply is on its way when the worker stops
        await self._stop_worker(brand)
        try:
            if during == "post":
                await self._post_x(thread=3, followup=False, text=1, loud=True, brands=brand)
            elif during == "dm":
                await self._dm("x", 0, -1, brand, "valid")
        finally:
            await self._start_worker(brand)

    async def _store_outage(self, brand: str, during: str, wait: int) -> None:
        """The store cannot take a write for a while (another connection holds its lock):
        ingest answers 503 with a reason, or 2xx only for what it stored; afterwards the
        platforms send again what got a 503, and it must be taken then."""
        self._lock_store()
        try:
            if during == "post":
                await self._post_x(thread=2, followup=False, text=1, loud=True, brands=brand)
            elif during == "redeliver":
                await self._redeliver(len(self.deliveries) - 1)
            elif during == "dm":
                await self._dm("x", 1, -1, brand, "valid")
            elif during == "open":
                await self._open_remark(0, brand, "http", 0)
            if wait:
                await self._sleep(wait)
        finally:
            self._unlock_store()
        owed, self.owed = self.owed, []
        for delivery in owed:
            await self._send(delivery, first=True)
        if during == "open":
            await self._open_remark(0, brand, "http", 0)

    def _lock_store(self) -> None:
        self._locker = sqlite3.connect(self.folder / "store.db", isolation_level=None)
        self._locker.execute("BEGIN EXCLUSIVE")
        self.store_down = True

    def _unlock_store(self) -> None:
        locker, self._locker = self._locker, None
        if locker is not None:
            locker.execute("ROLLBACK")
            locker.close()
        self.store_down = False

    # faults and time -------------------------------------------------------------------------
    async def _fault(self, brand: str, route: str, fault: str) -> None:
        made = {
            "drop": Fault(route=route, drop=True, times=1),
            "429": Fault(route=route, status=429, retry_after=1, times=1),
            "500": Fault(route=route, status=500, times=1),
        }[fault]
        self.emulators[brand].faults.append(made)
        if route in HIDE_ROUTES:
            self.model.hide_faults[brand] = self.model.hide_faults.get(brand, 0) + 1

    async def _sleep(self, seconds: int) -> None:
        """Skip `seconds` of Temporal time (timers, timeouts, retry back-offs fire); past
        every contact wait, no case still waits for the contact it waited for before."""
        waited = await self._awaiting_contact() if seconds > CONTACT_WAIT else {}
        await self._skip(seconds)
        if not waited:
            return
        for _ in range(40):  # the timers fired; the workers may still be acting on them
            still = await self._awaiting_contact()
            if not any(still.get(case_id) == run for case_id, run in waited.items()):
                return
            await asyncio.sleep(0.5)
        for case_id, run in waited.items():
            if still.get(case_id) == run and case_id not in self.model.routed:
                self.violate(
                    "I2",
                    f"{case_id} still waits for the customer's contact {seconds} s later, "
                    f"past its {CONTACT_WAIT} s wait",
                )

    async def _awaiting_contact(self) -> dict[str, str]:
        """The running cases waiting for the customer's contact, each with its first run."""
        waiting_now = {}
        for case_id in sorted(set(self.model.cases) - self.model.quarantined):
            handle = self.env.client.get_workflow_handle(case_id)
            with contextlib.suppress(Exception):
                description = await _bounded(handle.describe())
                if description.status != WorkflowExecutionStatus.RUNNING:
                    continue
                state = await _bounded(handle.query("state_query"))
                if isinstance(state, dict) and state.get("status") == "awaiting_contact":
                    info = description.raw_description.workflow_execution_info
                    waiting_now[case_id] = info.first_run_id
        return waiting_now

    async def _skip(self, seconds: int) -> None:
        request = SleepRequest()
        request.duration.FromTimedelta(timedelta(seconds=seconds))
        # The server skips time only while no workflow task or activity is running, so the
        # call can take a while in real time: bounded like a step, not by the default RPC one.
        try:
            await self.env.client.test_service.unlock_time_skipping_with_sleep(
                request, timeout=timedelta(seconds=SLEEP_BOUND)
            )
        except RPCError as exc:  # the test server's trouble, not the system's: go on
            self.notes.append(f"time did not pass ({seconds} s): {exc.message[:100]}")

    async def quarantine(self, case_id: str) -> None:
        """End a case that broke I2 (already reported), so time can pass for the others."""
        self.model.quarantined.add(case_id)
        with contextlib.suppress(Exception):
            handle = self.env.client.get_workflow_handle(case_id)
            await _bounded(handle.terminate(reason="simulation: quarantined after breaking I2"))

    def activation_times(self) -> list[float]:
        """The workflow task latencies (ms) measured since the last call."""
        fresh = [
            float(update.value)
            for update in ACTIVATIONS.retrieve_updates()
            if update.metric.name.endswith(_LATENCY)
            and str(update.attributes.get("task_queue", "")).startswith(f"sim-{self.number}-")
        ]
        self.model.activations += fresh
        return fresh

    # -- outcomes ------------------------------------------------------------------------------
    def violate(self, invariant: str, what: str) -> None:
        self.model.violations.append(f"{invariant}: {what}")


def _ignored_resolves(state: dict[str, Any]) -> int:
    return sum(e.get("what") == "ignored a resolve signal" for e in state.get("audit", []))


async def _worker_client(env: WorkflowEnvironment) -> Client:
    """A client of `env`'s server on a runtime whose metrics go to ACTIVATIONS (one for the
    process: a runtime starts threads of its own)."""
    target = env.client.service_client.config.target_host
    if target not in _WORKER_CLIENTS:
        runtime = Runtime(telemetry=TelemetryConfig(metrics=ACTIVATIONS))
        _WORKER_CLIENTS[target] = await Client.connect(
            target, namespace=env.client.namespace, runtime=runtime
        )
    return _WORKER_CLIENTS[target]


class _Starts(Interceptor):
    """Records the summary and details of every workflow start made through the client, and
    the run each start (or signal-with-start) reached."""

    def __init__(self, model: Model) -> None:
        self.model = model

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _StartsOutbound(next, self.model)


class _StartsOutbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, model: Model) -> None:
        super().__init__(next)
        self.model = model

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        summary, details = input.static_summary or "", input.static_details or ""
        self.model.starts.append((input.id, summary, details))
        handle = await super().start_workflow(input)
        if handle.result_run_id:
            self.model.runs.setdefault(input.id, set()).add(handle.result_run_id)
        return handle


def _brand_of(case_id: str, good: list[tuple[str, str, str]]) -> str:
    """The brand whose case `case_id` is: its id ends with "@policy" (one delivery may hold
    parts for two brands), else the delivery's first good entry's."""
    policy = case_id.rpartition("@")[2]
    owner = next((key for key, b in BRANDS.items() if b.policy == policy), None)
    return owner or (good[0][0] if good else "a")


def _comment(
    comment: str, text: str, post_id: str, root: str | None, author: str, created: int
) -> dict[str, object]:
    return {
        "field": "feed",
        "value": {
            "item": "comment",
            "verb": "add",
            "comment_id": comment,
            "post_id": post_id,
            "parent_id": root or post_id,
            "from": {"id": author, "name": f"Commenter {author}"},
            "message": text,
            "created_time": created,
        },
    }


def _signature(path: str, body: bytes) -> tuple[str, str]:
    if path == "/webhooks/x":
        return ("x-twitter-webhooks-signature", x_signature(body))
    if path == "/webhooks/meta":
        return ("x-hub-signature-256", hex_signature(body, SECRETS.meta_app_secret))
    digest = hmac.new(SECRETS.generic_secret.encode(), body, hashlib.sha256).hexdigest()
    return ("x-complaintflow-signature", f"sha256={digest}")


async def _bounded(call: Awaitable[T]) -> T:
    return await asyncio.wait_for(call, ANSWER_BOUND)


def _x_dm(brand: str, author: str, mid: str, text: str, variant: str) -> dict[str, object]:
    """An Account Activity delivery of one private message (or receipt) to `brand`
    (https://docs.x.com/x-api/enterprise/account-activity-api/guides/account-activity-data-objects):
    a `message_create` event and the senders in `users`; read and typing receipts are events
    of their own keys."""
    if variant == "receipt":
        return {
            "for_user_id": brand,
            "direct_message_mark_read_events": [
                {
                    "created_timestamp": "1764000000000",
                    "last_read_event_id": mid,
                    "sender_id": author,
                }
            ],
        }
    sender, recipient = (brand, author) if variant == "echo" else (author, brand)
    data: dict[str, object] = {"text": text}
    if variant == "attachment":
        data = {"text": "", "attachment": {"type": "media", "media": {"id": 1, "id_str": "1"}}}
    event: dict[str, object] = {
        "type": "message_create",
        "id": mid,
        "created_timestamp": "1764000000000",
        "message_create": {
            "target": {"recipient_id": recipient},
            "sender_id": sender,
            "message_data": data,
        },
    }
    if variant == "unknown_field":
        event["admin"] = True
        event["message_create"] = {**event["message_create"], "source_app_id": "268278"}  # type: ignore[dict-item]
    events: list[object] = [event]
    if variant == "wrong_type":  # an entry nobody can read, beside the good one
        events.insert(0, {"type": "message_create", "id": 5, "message_create": "x"})
    return {
        "for_user_id": brand,
        "direct_message_events": events,
        "users": {author: {"id": author, "name": "Customer", "screen_name": f"user{author}"}},
    }


def _messenger(page: str, author: str, mid: str, text: str, variant: str) -> dict[str, object]:
    """A Page webhook of one Messenger message (or receipt) to `page`
    (https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages,
    .../message-deliveries, .../message-echoes)."""
    stamp = 1_764_000_000_000
    if variant == "receipt":
        event: dict[str, object] = {
            "sender": {"id": author},
            "recipient": {"id": page},
            "timestamp": stamp,
            "delivery": {"mids": [mid], "watermark": stamp},
        }
    else:
        message: dict[str, object] = {"mid": mid, "text": text}
        if variant == "attachment":
            message = {"mid": mid, "attachments": [{"type": "image", "payload": {"url": "x"}}]}
        if variant == "echo":
            message["is_echo"] = True
        if variant == "unknown_field":
            message["quick_reply"] = {"payload": "YES"}
        sender, recipient = (page, author) if variant == "echo" else (author, page)
        event = {
            "sender": {"id": sender},
            "recipient": {"id": recipient},
            "timestamp": stamp,
            "message": message,
        }
    events: list[object] = [event]
    if variant == "wrong_type":
        events.insert(0, {"sender": {"id": ["x"]}, "message": {"mid": 5, "text": None}})
    return {"object": "page", "entry": [{"id": page, "time": stamp, "messaging": events}]}


def _helpdesk_body(route: str, name: str, named: str, variant: str) -> object:
    """What Zendesk's trigger (ingest.contacts) or another system sends about case `named`."""
    if variant == "not_an_object":
        return [named]
    body: dict[str, object]
    if route == "zendesk":
        ticket: dict[str, object] = {
            "id": 4242,
            "subject": f"Re: case {named}" if name == "ref" else "Broken kettle",
            "comment": "The customer wrote in by email.",
        }
        if name == "id":
            ticket["external_id"] = named
        fields = ticket
        body = {"ticket": ticket}
    else:
        body = {
            "case": named,
            "channel": "email",
            "text": "wrote to us",
            "at": _ZENDESK_TIME,
            "reference": "crm-1",
        }
        fields = body
    if variant == "oversize":
        fields["comment" if route == "zendesk" else "text"] = "x" * 30_000
    elif variant == "wrong_type":
        fields["subject" if route == "zendesk" else "case"] = {"$ne": 1}
    elif variant == "unknown_field":
        fields["admin"] = True
    return body


def _helpdesk_signature(route: str, body: bytes, *, wrong: bool) -> list[tuple[str, str]]:
    if route == "zendesk":
        secret = "not-the-secret" if wrong else _SECRETS.get(ZENDESK_SECRET)
        return [
            ("x-zendesk-webhook-signature", zendesk_signature(secret, _ZENDESK_TIME, body)),
            ("x-zendesk-webhook-signature-timestamp", _ZENDESK_TIME),
        ]
    header, value = _signature("/webhooks/contact", body)
    return [(header, "sha256=" + "0" * 64 if wrong else value)]
