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
    StartWorkflowInput,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

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
from complaintflow.ingest.reload import reload_once
from complaintflow.store import DecisionStore, open_store
from complaintflow.worker import build_worker
from complaintflow.workflows.messages import SupervisorAction
from tests.simulation.policies import BRANDS, INVALID_EDITS, PolicyShape, policy_text
from tests.simulation.steps import TEXTS, Step
from tests.support.cases import send_update
from tests.support.webhooks import SECRETS, hex_signature, x_signature

# Real-time bounds: generous, so a busy machine never fails a history; a case that does not
# answer within them is stuck, not slow.
ANSWER_BOUND = 10.0  # seconds for a query or an update to be answered
STEP_BOUND = 120.0  # seconds one step may take before the run counts as stuck
SLEEP_BOUND = 30.0  # real seconds a skip of Temporal time may take
SETTLE = 0.25  # seconds the workers get after each step before the invariants are read
_WORLDS = itertools.count(1)
T = TypeVar("T")
# Workflow task execution latencies (ms) of the workers, through their client's runtime.
ACTIVATIONS = MetricBuffer(100_000)
_LATENCY = "workflow_task_execution_latency"
_WORKER_CLIENTS: dict[str, Client] = {}
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


@dataclasses.dataclass
class _Delivery:
    path: str
    body: bytes
    signature: tuple[str, str]
    good: list[tuple[str, str, str]]  # (brand key, platform, mention id) each good entry


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

    # -- building and tearing down ------------------------------------------------------------
    async def __aenter__(self) -> World:
        stack = self._stack
        self.store = open_store(f"sqlite:///{self.folder / 'store.db'}")
        config = self.env.client.config()
        config["interceptors"] = [_Starts(self.model)]
        client = Client(**config)
        workers = await _worker_client(self.env)
        ACTIVATIONS.retrieve_updates()  # what earlier histories left
        ingests = []
        for key, brand in BRANDS.items():
            path = self.folder / f"{key}.yaml"
            path.write_text(policy_text(brand, self.shapes[key]))
            queue = f"sim-{self.number}-{key}"
            ingest = Ingest(
                client, load_policy(path), task_queue=queue, secrets=SECRETS, store=self.store
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
            await stack.enter_async_context(
                build_worker(workers, activities=activities, task_queue=queue)
            )
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
        await self._stack.aclose()
        await self.store.close()

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

    async def _send(self, delivery: _Delivery, *, first: bool) -> None:
        answer = await self.http.post(
            delivery.path, content=delivery.body, headers=[delivery.signature]
        )
        where = f"{delivery.path} ({len(delivery.good)} good entries)"
        if answer.status_code >= 500:
            self.violate("I4", f"{where} answered {answer.status_code}: {answer.text[:200]}")
            return
        if answer.status_code >= 300:
            if delivery.good:
                self.violate(
                    "I4",
                    f"{where} refused with {answer.status_code}, its good entries lost: "
                    f"{answer.text[:300]}",
                )
            return
        done = answer.json()
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
        if case_id is not None:
            await asyncio.gather(
                self._update(case_id, first, "valid"), self._update(case_id, second, "valid")
            )

    async def _update(self, case_id: str, update: str, payload: str) -> None:
        handle = self.env.client.get_workflow_handle(case_id)
        try:
            if payload == "cli":
                await _bounded(self._cli_update(case_id, update))
            else:
                body = await self._payload(case_id, update, payload)
                await _bounded(send_update(handle, update, body))
        except (WorkflowUpdateFailedError, RPCError, ComplaintflowError):
            return  # refused: what a supervisor sees for a wrong or late action
        except TimeoutError:
            self.violate("I2", f"{case_id}: the {update} update was not answered")
            return
        if update == "route":
            self.model.routed.add(case_id)
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

    # faults and time -------------------------------------------------------------------------
    async def _fault(self, brand: str, route: str, fault: str) -> None:
        made = {
            "drop": Fault(route=route, drop=True, times=1),
            "429": Fault(route=route, status=429, retry_after=1, times=1),
            "500": Fault(route=route, status=500, times=1),
        }[fault]
        self.emulators[brand].faults.append(made)

    async def _sleep(self, seconds: int) -> None:
        """Skip `seconds` of Temporal time (timers, timeouts, retry back-offs fire)."""
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
