"""The store's async face: batched, atomic, idempotent writes on one database thread.

Writes that arrive together share one transaction (group commit); a batch that fails is
retried one entry at a time, so one bad entry fails alone and the others are kept.
"""

from __future__ import annotations

import abc
import asyncio
import dataclasses
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from complaintflow.errors import ComplaintflowError
from complaintflow.labels import Label
from complaintflow.metrics import STORE_WRITE_SECONDS
from complaintflow.store.migrations import MIGRATIONS


class StoreError(ComplaintflowError):
    """The store could not take an entry; nothing of it was written."""


class StoreUnavailable(StoreError):
    """The database did not answer or is full: retrying later can help (503)."""


class StoreRejected(StoreError):
    """The database refused this entry as it is: retrying the same entry will not help."""


def _storable(text: str) -> str:
    """`text` with what no database column can hold (lone surrogates, NUL) escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def mention_key(platform: str, mention_id: str) -> str:
    """The post a row is about; a row is unique by its policy (the brand) and this key."""
    return _storable(f"{platform}:{mention_id}")


@dataclasses.dataclass(frozen=True)
class Entry:
    """One triage decision; `case_id` is None for a throwaway remark."""

    platform: str
    mention_id: str
    policy: str
    route: str | None
    score: float
    case_id: str | None
    decided_at: str
    record: dict[str, Any]

    @property
    def key(self) -> str:
        return mention_key(self.platform, self.mention_id)

    def row(self) -> tuple[Any, ...]:
        return (
            _storable(self.policy),
            self.key,
            _storable(self.platform),
            _storable(self.mention_id),
            None if self.route is None else _storable(self.route),
            float(self.score),
            None if self.case_id is None else _storable(self.case_id),
            self.decided_at,
            json.dumps(self.record, separators=(",", ":"), default=str),
        )


INSERT = (
    "INSERT INTO decisions (policy, mention_key, platform, mention_id, route, score, case_id,"
    " decided_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (policy, mention_key) DO NOTHING"
)
INSERT_LABEL = (
    "INSERT INTO labels (policy, mention_key, platform, mention_id, case_id, text, label,"
    " severity, source, labelled_by, labelled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (policy, mention_key) DO NOTHING"
)
SELECT_LABELS = (
    "SELECT policy, platform, mention_id, text, label, source, labelled_by, labelled_at,"
    " case_id, severity FROM labels WHERE policy = ? ORDER BY labelled_at, mention_key"
)


def label_row(label: Label) -> tuple[Any, ...]:
    return (
        _storable(label.policy),
        mention_key(label.platform, label.mention_id),
        _storable(label.platform),
        _storable(label.mention_id),
        _storable(label.case_id) or None,
        _storable(label.text),
        int(label.label),
        label.severity,
        _storable(label.source),
        _storable(label.by),
        label.time,
    )


def label_of(row: tuple[Any, ...]) -> Label:
    policy, platform, mention_id, text, value, source, by, at, case_id, severity = row
    return Label(
        str(policy),
        str(platform),
        str(mention_id),
        str(text),
        int(value),
        str(source),
        str(by),
        str(at),
        str(case_id or ""),
        None if severity is None else int(severity),
    )


PROBE_BYTES = 16 * 1024  # a probe write: larger than any one decision's row


class Backend(abc.ABC):
    """One connection to one database, used only from the store's thread."""

    url: str

    @abc.abstractmethod
    def sql(self, statement: str) -> str:
        """`statement` with `?` placeholders in this database's style."""

    @abc.abstractmethod
    def begin(self) -> Any:
        """Start a write transaction (taking the lock writers queue on); return a cursor."""

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...

    @abc.abstractmethod
    def cursor(self) -> Any:
        """A cursor for reads (autocommit)."""

    @abc.abstractmethod
    def lock_migrations(self, cursor: Any) -> None:
        """Make concurrent start-ups apply the migrations one at a time."""

    @abc.abstractmethod
    def classify(self, error: Exception) -> StoreError:
        """StoreUnavailable if retrying can help, else StoreRejected."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def migrate(self) -> list[int]:
        """Apply the migrations not yet applied; return their versions."""
        cursor = self.begin()
        try:
            self.lock_migrations(cursor)
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            cursor.execute("SELECT version FROM schema_migrations")
            done = {int(row[0]) for row in cursor.fetchall()}
            applied = []
            for version, statements in MIGRATIONS:
                if version in done:
                    continue
                for statement in statements:
                    cursor.execute(statement)
                cursor.execute(
                    self.sql(
                        "INSERT INTO schema_migrations (version, applied_at)"
                        " VALUES (?, CURRENT_TIMESTAMP)"
                    ),
                    (version,),
                )
                applied.append(version)
            self.commit()
            return applied
        except Exception:
            self.rollback()
            raise

    def write(self, rows: list[tuple[Any, ...]]) -> list[bool]:
        """Insert `rows` in one transaction; True for each row that was new."""
        cursor = self.begin()
        try:
            inserted = []
            for row in rows:
                cursor.execute(self.sql(INSERT), row)
                inserted.append(cursor.rowcount == 1)
            self.commit()
            return inserted
        except BaseException:
            self.rollback()
            raise

    def check_spike(
        self,
        policy: str,
        now: datetime,
        window: timedelta,
        baseline: timedelta,
        factor: float,
        minimum: int,
    ) -> SpikeCheck:
        """Count, compare, and open or close the policy's spike, in one transaction."""
        start = (now - window).isoformat(timespec="microseconds")
        since = (now - baseline).isoformat(timespec="microseconds")
        count = self.sql(
            "SELECT COUNT(*) FROM decisions WHERE policy = ? AND case_id IS NOT NULL"
            " AND decided_at >= ? AND decided_at < ?"
        )
        cursor = self.begin()
        try:
            cursor.execute(count, (policy, start, now.isoformat(timespec="microseconds")))
            recent = int(cursor.fetchone()[0])
            cursor.execute(count, (policy, since, start))
            before = int(cursor.fetchone()[0])
            expected = before * window / (baseline - window) if baseline > window else 0.0
            spiking = recent >= minimum and recent > factor * expected
            cursor.execute(
                self.sql("SELECT started_at FROM spikes WHERE policy = ? AND ended_at IS NULL"),
                (policy,),
            )
            open_spike = cursor.fetchone()
            alert = spiking and open_spike is None
            stamp = now.isoformat(timespec="microseconds")
            if alert:
                cursor.execute(
                    self.sql(
                        "INSERT INTO spikes (policy, started_at, complaints, expected)"
                        " VALUES (?, ?, ?, ?)"
                    ),
                    (policy, stamp, recent, expected),
                )
            elif open_spike is not None and not spiking:
                cursor.execute(
                    self.sql("UPDATE spikes SET ended_at = ? WHERE policy = ? AND started_at = ?"),
                    (stamp, policy, open_spike[0]),
                )
            self.commit()
        except BaseException:
            self.rollback()
            raise
        return SpikeCheck(policy, recent, round(expected, 2), spiking, alert)

    def probe(self) -> None:
        """Write a row larger than any decision and roll it back: raises when the database
        cannot take a write now (full, read-only, locked past the busy timeout)."""
        cursor = self.begin()
        try:
            cursor.execute(
                self.sql("INSERT INTO store_probes (pad) VALUES (?)"), ("x" * PROBE_BYTES,)
            )
        finally:
            self.rollback()

    def write_label(self, row: tuple[Any, ...]) -> bool:
        """Insert one label row in its own transaction; True if it was new."""
        cursor = self.begin()
        try:
            cursor.execute(self.sql(INSERT_LABEL), row)
            inserted = bool(cursor.rowcount == 1)
            self.commit()
            return inserted
        except BaseException:
            self.rollback()
            raise

    def update(self, statement: str, params: tuple[Any, ...]) -> bool:
        """Run one UPDATE in its own transaction; True if it changed a row."""
        cursor = self.begin()
        try:
            cursor.execute(self.sql(statement), params)
            changed = bool(cursor.rowcount >= 1)
            self.commit()
            return changed
        except BaseException:
            self.rollback()
            raise

    def query(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        cursor = self.cursor()
        cursor.execute(self.sql(statement), params)
        rows: list[tuple[Any, ...]] = list(cursor.fetchall())
        return rows


@dataclasses.dataclass(frozen=True)
class SpikeCheck:
    """One look at a policy's complaints: the window's count against its usual rate."""

    policy: str
    complaints: int  # in the window
    expected: float  # the usual number in a window that long, from the baseline period
    spiking: bool
    alert: bool  # a new spike: tell the team (False while one already alerted lasts)


@dataclasses.dataclass
class _Pending:
    row: tuple[Any, ...]
    done: asyncio.Future[bool]


class DecisionStore:
    """Idempotent writes by mention key, reads for the report, on one database thread."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.url = backend.url
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="complaintflow-store")
        self._queue: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None

    async def _run(self, call: Any, *args: Any) -> Any:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, call, *args)
        except StoreError:
            raise
        except Exception as exc:
            raise self.backend.classify(exc) from exc

    async def record(self, entry: Entry) -> bool:
        """Write `entry` durably; False if its mention is already stored (a redelivery).

        Raises StoreUnavailable or StoreRejected if it could not be written: then nothing of
        it is stored and the caller must not answer 2xx.
        """
        try:
            row = entry.row()
        except (TypeError, ValueError) as exc:
            raise StoreRejected(f"the decision for {entry.key} cannot be stored: {exc}") from exc
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(row, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        started = time.perf_counter()
        try:
            return await asyncio.shield(done)
        finally:
            STORE_WRITE_SECONDS.observe(time.perf_counter() - started)

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                results = await self._run(self.backend.write, [p.row for p in batch])
            except StoreError as exc:
                if len(batch) == 1:
                    _settle(batch[0].done, exc)
                    continue
                for pending in batch:  # one at a time: a bad entry fails alone
                    try:
                        (inserted,) = await self._run(self.backend.write, [pending.row])
                    except StoreError as single:
                        _settle(pending.done, single)
                    else:
                        _settle(pending.done, inserted)
                continue
            except BaseException as exc:  # cancelled: nobody waits forever
                for pending in batch:
                    _settle(pending.done, StoreUnavailable(f"the store stopped: {exc!r}"))
                raise
            for pending, inserted in zip(batch, results, strict=True):
                _settle(pending.done, inserted)

    async def case_for(self, platform: str, mention_id: str, *, policy: str) -> str | None:
        """The case `policy` (the brand) already opened for this mention, if any."""
        rows = await self._run(
            self.backend.query,
            "SELECT case_id FROM decisions WHERE policy = ? AND mention_key = ?",
            (_storable(policy), mention_key(platform, mention_id)),
        )
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    async def remark(
        self, platform: str, mention_id: str, *, policy: str
    ) -> tuple[dict[str, Any], str | None] | None:
        """The brand's decision on a mention (its record) and its case, if any; None when
        the store has no decision on it."""
        rows = await self._run(
            self.backend.query,
            "SELECT record, case_id FROM decisions WHERE policy = ? AND mention_key = ?",
            (_storable(policy), mention_key(platform, mention_id)),
        )
        if not rows:
            return None
        record, case_id = rows[0]
        return json.loads(record), None if case_id is None else str(case_id)

    async def mark_opened(
        self, platform: str, mention_id: str, case_id: str, *, policy: str
    ) -> bool:
        """Note that a person opened `case_id` for a logged remark; False if it already had
        a case (another `open` won)."""
        opened: bool = await self._run(
            self.backend.update,
            "UPDATE decisions SET case_id = ? WHERE policy = ? AND mention_key = ?"
            " AND case_id IS NULL",
            (_storable(case_id), _storable(policy), mention_key(platform, mention_id)),
        )
        return opened

    async def record_case(
        self, *, policy: str, ref: str, case_id: str, platform: str, author_id: str
    ) -> None:
        """Note that the brand opened `case_id` (reference `ref`, author `author_id` on
        `platform`): ingest finds the case from a quoted reference or the author's messages.
        Written again on a redelivery; a reference two cases share maps to the later one."""
        await self._run(
            self.backend.update,
            "INSERT INTO case_refs (policy, ref, case_id, platform, author_id, opened_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (policy, ref) DO UPDATE SET"
            " case_id = excluded.case_id, platform = excluded.platform,"
            " author_id = excluded.author_id, opened_at = excluded.opened_at",
            (
                _storable(policy),
                _storable(ref),
                _storable(case_id),
                _storable(platform),
                _storable(author_id),
                datetime.now(UTC).isoformat(),
            ),
        )

    async def case_for_ref(self, ref: str, *, policy: str) -> str | None:
        """The brand's case with the short reference `ref`, if any."""
        rows = await self._run(
            self.backend.query,
            "SELECT case_id FROM case_refs WHERE policy = ? AND ref = ?",
            (_storable(policy), _storable(ref)),
        )
        return str(rows[0][0]) if rows else None

    async def cases_of_author(self, platform: str, author_id: str, *, policy: str) -> list[str]:
        """The brand's cases opened for `author_id` on `platform`, the latest first (whether
        each is still open, the case itself knows)."""
        key = (_storable(policy), _storable(platform), _storable(author_id))
        rows = await self._run(
            self.backend.query,
            "SELECT case_id, opened_at FROM case_refs"
            " WHERE policy = ? AND platform = ? AND author_id = ?"
            " UNION ALL SELECT case_id, recorded_at FROM case_authors"
            " WHERE policy = ? AND platform = ? AND author_id = ?"
            " ORDER BY 2 DESC, 1",
            key + key,
        )
        return list(dict.fromkeys(str(row[0]) for row in rows))

    async def claim_message(self, platform: str, message_id: str, *, policy: str) -> bool:
        """Take a private message once: True if it is new, False if it was taken before (a
        redelivery; `message_case` says which case it reached)."""
        claimed: bool = await self._run(
            self.backend.update,
            "INSERT INTO private_messages (policy, message_key, case_id, received_at)"
            " VALUES (?, ?, NULL, ?) ON CONFLICT (policy, message_key) DO NOTHING",
            (_storable(policy), mention_key(platform, message_id), datetime.now(UTC).isoformat()),
        )
        return claimed

    async def release_message(self, platform: str, message_id: str, *, policy: str) -> None:
        """Forget a claimed message that could not be told to its case: the retry takes it."""
        await self._run(
            self.backend.update,
            "DELETE FROM private_messages WHERE policy = ? AND message_key = ?",
            (_storable(policy), mention_key(platform, message_id)),
        )

    async def settle_message(
        self, platform: str, message_id: str, case_id: str, *, policy: str
    ) -> None:
        """Note the case a claimed private message reached."""
        await self._run(
            self.backend.update,
            "UPDATE private_messages SET case_id = ? WHERE policy = ? AND message_key = ?",
            (_storable(case_id), _storable(policy), mention_key(platform, message_id)),
        )

    async def message_case(self, platform: str, message_id: str, *, policy: str) -> str | None:
        """The case a private message already reached, if any."""
        rows = await self._run(
            self.backend.query,
            "SELECT case_id FROM private_messages WHERE policy = ? AND message_key = ?",
            (_storable(policy), mention_key(platform, message_id)),
        )
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    async def record_case_author(
        self, *, policy: str, platform: str, author_id: str, case_id: str
    ) -> None:
        """Note that `author_id` (a PSID / IGSID a private reply answered with) is the
        customer of `case_id` on `platform`: their later private messages reach it."""
        await self._run(
            self.backend.update,
            "INSERT INTO case_authors (policy, platform, author_id, case_id, recorded_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (policy, platform, author_id) DO UPDATE SET"
            " case_id = excluded.case_id, recorded_at = excluded.recorded_at",
            (
                _storable(policy),
                _storable(platform),
                _storable(author_id),
                _storable(case_id),
                datetime.now(UTC).isoformat(),
            ),
        )

    async def remarks(self) -> list[dict[str, Any]]:
        """Every throwaway remark's decision, oldest first."""
        rows = await self._run(
            self.backend.query,
            "SELECT record FROM decisions WHERE case_id IS NULL"
            " ORDER BY decided_at, policy, mention_key",
        )
        return [json.loads(row[0]) for row in rows]

    async def decisions(self) -> list[dict[str, Any]]:
        """Every decision (remarks and cases), oldest first, as exported to JSON lines."""
        rows = await self._run(
            self.backend.query,
            "SELECT record, case_id, decided_at FROM decisions"
            " ORDER BY decided_at, policy, mention_key",
        )
        out = []
        for record, case_id, decided_at in rows:
            item = json.loads(record)
            item.setdefault("decided_at", decided_at)
            if case_id is not None:
                item.setdefault("case", case_id)
            out.append(item)
        return out

    async def check_spike(
        self, policy: str, *, window: timedelta, baseline: timedelta, factor: float, minimum: int
    ) -> SpikeCheck:
        """Whether `policy`'s complaints in the last `window` are a new spike."""
        check: SpikeCheck = await self._run(
            self.backend.check_spike,
            policy,
            datetime.now(UTC),
            window,
            baseline,
            factor,
            minimum,
        )
        return check

    async def record_label(self, label: Label) -> bool:
        """Write `label` durably; False if the brand already has a label for its mention
        (the first decision is the label: a redelivery or a later decision adds nothing)."""
        inserted: bool = await self._run(self.backend.write_label, label_row(label))
        return inserted

    async def labels(self, policy: str) -> list[Label]:
        """The brand's labels, oldest first."""
        rows = await self._run(self.backend.query, SELECT_LABELS, (_storable(policy),))
        return [label_of(row) for row in rows]

    async def count(self) -> int:
        rows = await self._run(self.backend.query, "SELECT COUNT(*) FROM decisions")
        return int(rows[0][0])

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers."""
        await self._run(self.backend.query, "SELECT 1")

    async def check_writable(self) -> None:
        """Raise StoreUnavailable unless the database would take a write now: a store on a
        full disk still answers reads, so answering is not enough to be ready."""
        await self._run(self.backend.probe)

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
        try:
            await asyncio.get_running_loop().run_in_executor(self._thread, self.backend.close)
        finally:
            self._thread.shutdown(wait=True)


def _settle(done: asyncio.Future[bool], outcome: bool | BaseException) -> None:
    if done.done():
        return
    if isinstance(outcome, BaseException):
        done.set_exception(outcome)
    else:
        done.set_result(outcome)
