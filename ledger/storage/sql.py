"""The peewee store: SQLite by default (WAL, durable commits), PostgreSQL by URL.

Every table is insert-only, enforced by triggers in the database itself, so neither a
bug nor a careless operator can update or delete a row through SQL without dropping
the triggers first (which ``lotchain audit`` would then expose through the hashes).
"""

from __future__ import annotations

import functools
import inspect
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlparse

import peewee as pw

from ledger.encoding import format_timestamp, parse_timestamp
from ledger.errors import ConfigError, LedgerError, LogChainError, NotFoundError, StorageError
from ledger.merkle import NodeKey
from ledger.metrics import DENIED, PENDING, Group
from ledger.state import (
    AttestationRecord,
    EnforcementStep,
    FacilityRecord,
    KeyRecord,
    OutputRecord,
    PartyRecord,
    StateAnswer,
    StateRequest,
)
from ledger.storage.base import AppendBatch, StoredCheckpoint, StoredEntry, display_url
from ledger.storage.bulk import (
    OUTPUT_COLUMNS,
    OUTPUT_JOIN,
    bulk_state,
    delta_rows,
    insert_rows,
    output_record,
    resolve_spends,
)
from ledger.storage.ids import (
    id_key,
    id_key_strict,
    id_text,
    node_key,
    ref_key,
)
from ledger.storage.models import make_models
from ledger.storage.nodes import NodeTable

MAX_RANGE = 1000

#: SQLite page size of new databases: an entry row (envelope, leaf, columns: about
#: 1.6 KB) fills 4 KB pages only half, 8 KB pages five rows to a page; larger pages
#: would double the WAL bytes an insert into the id index writes, for nothing more.
PAGE_SIZE = 8192
# (SQLite's page cache stays at its default: it is per connection, one per server
# thread, and would grow the server's memory with the log for little gain; the upper
# Merkle levels are cached once per store instead, see ledger.storage.nodes.)


def _connect(url: str) -> pw.Database:
    parsed = urlparse(url)
    if parsed.scheme in ("postgresql", "postgres"):
        try:
            from playhouse.db_url import connect
        except ImportError as e:  # pragma: no cover - playhouse ships with peewee
            raise ConfigError("PostgreSQL support needs peewee's playhouse") from e
        try:
            db: pw.Database = connect(url.replace("postgres://", "postgresql://", 1))
        except Exception as e:
            raise ConfigError(f"cannot use database URL {url!r}: {e}") from e
        return db
    path = parsed.path if parsed.scheme == "sqlite" else url
    if parsed.scheme not in ("", "sqlite") and len(parsed.scheme) > 1:
        raise ConfigError(f"unsupported database URL scheme {parsed.scheme!r}")
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return pw.SqliteDatabase(
        path,
        pragmas={
            "page_size": PAGE_SIZE,  # takes effect only in a new, empty database
            "journal_mode": "wal",
            "synchronous": "full",
            "foreign_keys": 1,
            # INSERT OR REPLACE deletes the row it replaces; only with recursive triggers
            # does that delete meet the append-only trigger (and get refused).
            "recursive_triggers": 1,
            "busy_timeout": 60_000,
        },
        check_same_thread=False,
    )


class SqlStore:
    """A :class:`~ledger.storage.base.Store` on a peewee database."""

    def __init__(self, db: pw.Database, url: str) -> None:
        self.db = db
        self.url = url
        self.m = make_models(db)
        self.is_postgres = isinstance(db, pw.PostgresqlDatabase)
        self._lock = threading.RLock()
        self.nodes = NodeTable(db)

    @classmethod
    def open(cls, url: str) -> SqlStore:
        db = _connect(url)
        store = cls(db, url)
        try:
            db.connect(reuse_if_open=True)
            store._create()
            store.nodes.warm_up()
        except pw.PeeweeException as e:
            raise StorageError(f"cannot open the database at {display_url(url)}: {e}") from e
        return store

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()

    # -- schema ------------------------------------------------------------------------

    def _create(self) -> None:
        from ledger.storage.migrations import migrate

        migrate(self)

    def is_replica(self) -> bool:
        """True on a PostgreSQL hot standby (read-only; never migrated or written)."""
        if not self.is_postgres:
            return False
        return bool(self.db.execute_sql("SELECT pg_is_in_recovery()").fetchone()[0])

    def _protect(self, table: str) -> None:
        """Refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) on ``table`` in the database."""
        if self.is_postgres:
            self.db.execute_sql(
                "CREATE OR REPLACE FUNCTION lotchain_append_only() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'lotchain: %% is append-only', TG_TABLE_NAME; END; "
                "$$ LANGUAGE plpgsql"
            )
            for op, scope in (("update", "ROW"), ("delete", "ROW"), ("truncate", "STATEMENT")):
                self.db.execute_sql(
                    f'CREATE OR REPLACE TRIGGER {table}_no_{op} BEFORE {op.upper()} ON "{table}" '
                    f"FOR EACH {scope} EXECUTE FUNCTION lotchain_append_only()"
                )
            return
        for op in ("UPDATE", "DELETE"):
            self.db.execute_sql(
                f'CREATE TRIGGER IF NOT EXISTS "{table}_no_{op.lower()}" BEFORE {op} ON "{table}" '
                f"BEGIN SELECT RAISE(ABORT, 'lotchain: {table} is append-only'); END"
            )

    # -- writing -----------------------------------------------------------------------

    @contextmanager
    def writer(self) -> Iterator[None]:
        with self._lock:
            try:
                if self.is_postgres:
                    with self.db.atomic():
                        self.db.execute_sql("SELECT pg_advisory_xact_lock(7311)")
                        yield
                else:
                    with self.db.atomic(lock_type="IMMEDIATE"):
                        yield
            except pw.PeeweeException as e:
                raise StorageError(f"the database refused the write: {e}") from e

    def append(self, batch: AppendBatch) -> None:
        rows: dict[str, list[dict[str, Any]]] = {
            "entry": [
                {
                    "idx": p.entry.index,
                    "attestation_id": id_key_strict(p.entry.attestation_id),
                    "type": p.entry.type,
                    "issuer": p.entry.issuer,
                    "integrated_at": format_timestamp(p.entry.integrated_at, micro=True),
                    "leaf": p.entry.leaf,
                    "leaf_hash": p.entry.leaf_hash,
                    "envelope": p.entry.envelope,
                }
                for p in batch.entries
            ],
            "node": [{"key": node_key(*k), "hash": h} for k, h in batch.nodes],
        }
        for p in batch.entries:
            delta_rows(p.entry.index, p.delta, rows)
        in_batch = {row["attestation_id"]: row["idx"] for row in rows["entry"]}
        resolve_spends(self.db, rows, in_batch)
        cp = batch.checkpoint
        rows["checkpoint"] = [{"size": cp.size, "root": cp.root, "note": cp.note}]
        for table, items in rows.items():
            insert_rows(self.db, table, items)

    def bulk(self, request: StateRequest) -> StateAnswer:
        """Answer a whole batch's state questions in one statement per table."""
        return bulk_state(self.db, request)

    # -- reading the log ---------------------------------------------------------------

    def head(self) -> StoredCheckpoint | None:
        row = self.db.execute_sql(
            'SELECT size, root, note FROM "checkpoint" ORDER BY size DESC LIMIT 1'
        ).fetchone()
        return None if row is None else StoredCheckpoint(int(row[0]), bytes(row[1]), bytes(row[2]))

    def checkpoint(self, size: int) -> StoredCheckpoint | None:
        c = self.m["checkpoint"]
        row = c.get_or_none(c.size == size)
        return None if row is None else StoredCheckpoint(row.size, bytes(row.root), bytes(row.note))

    def checkpoints(self) -> Iterator[StoredCheckpoint]:
        c = self.m["checkpoint"]
        for row in c.select().order_by(c.size).iterator():
            yield StoredCheckpoint(row.size, bytes(row.root), bytes(row.note))

    def size(self) -> int:
        e = self.m["entry"]
        value = e.select(pw.fn.MAX(e.idx)).scalar()
        return 0 if value is None else int(value) + 1

    def get(self, index: int) -> StoredEntry:
        row = self.db.execute_sql(
            f'SELECT {_ENTRY_COLUMNS} FROM "entry" WHERE idx = {self.db.param}',  # noqa: S608
            (index,),
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no entry at index {index}")
        return _entry(_Row(*row))

    def find(self, attestation_id: str) -> StoredEntry | None:
        key = id_key(attestation_id)
        if key is None:
            return None
        row = self.db.execute_sql(
            f'SELECT {_ENTRY_COLUMNS} FROM "entry" '  # noqa: S608
            f"WHERE attestation_id = {self.db.param}",
            (key,),
        ).fetchone()
        return None if row is None else _entry(_Row(*row))

    def range(self, start: int, end: int) -> list[StoredEntry]:
        e = self.m["entry"]
        end = min(end, start + MAX_RANGE)
        query = e.select().where((e.idx >= start) & (e.idx < end)).order_by(e.idx)
        return [_entry(row) for row in query]

    def iter_entries(self, start: int = 0, batch: int = 500) -> Iterator[StoredEntry]:
        """Every entry from ``start`` in index order, read in pages (for audits)."""
        end = self.size()
        position = start
        while position < end:
            yield from self.range(position, position + batch)
            position += batch

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Nodes by ``(level, index)``; the upper levels from memory once read."""
        return self.nodes.get(keys)

    def stored_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Nodes as the database holds them now, never from memory (for audits)."""
        return self.nodes.stored(keys)

    # -- the state view ----------------------------------------------------------------

    def attestation(self, attestation_id: str) -> AttestationRecord | None:
        key = id_key(attestation_id)
        if key is None:
            return None
        row = self.db.execute_sql(
            f'SELECT idx, type, issuer FROM "entry" WHERE attestation_id = {self.db.param}',  # noqa: S608
            (key,),
        ).fetchone()
        return None if row is None else AttestationRecord(attestation_id, row[0], row[1], row[2])

    def party(self, party_id: str) -> PartyRecord | None:
        p = self.m["party_version"]
        row = p.select().where(p.party_id == party_id).order_by(p.entry_idx.desc()).first()
        if row is None:
            return None
        return PartyRecord(
            row.party_id,
            row.legal_name,
            row.country,
            frozenset(json.loads(row.roles)),
            tuple(json.loads(row.aliases)),
            row.attestation,
            tuple(json.loads(row.filer_codes)),
        )

    def parties(self) -> list[PartyRecord]:
        p = self.m["party_version"]
        ids = [r[0] for r in p.select(p.party_id).distinct().order_by(p.party_id).tuples()]
        return [rec for pid in ids if (rec := self.party(pid)) is not None]

    def key(self, key_id: str) -> KeyRecord | None:
        k = self.m["key"]
        row = k.get_or_none(k.key_id == key_id)
        if row is None:
            return None
        return KeyRecord(
            row.key_id,
            row.party,
            bytes(row.public_key),
            parse_timestamp(row.valid_from),
            row.attestation,
        )

    def key_revoked_at(self, key_id: str) -> datetime | None:
        r = self.m["key_revocation"]
        value = r.select(pw.fn.MIN(r.effective_at)).where(r.key_id == key_id).scalar()
        return None if value is None else parse_timestamp(value)

    def facility(self, facility_id: str) -> FacilityRecord | None:
        f = self.m["facility_version"]
        row = f.select().where(f.facility_id == facility_id).order_by(f.entry_idx.desc()).first()
        if row is None:
            return None
        return FacilityRecord(
            row.facility_id, row.name, row.operator, row.country, row.region, row.attestation
        )

    def output(self, ref: str) -> OutputRecord | None:
        key = ref_key(ref)
        if key is None:
            return None
        p = self.db.param
        row = self.db.execute_sql(
            f"SELECT {OUTPUT_COLUMNS} FROM {OUTPUT_JOIN} "  # noqa: S608
            f"WHERE e.attestation_id = {p} AND o.position = {p}",
            key,
        ).fetchone()
        return None if row is None else output_record(row)

    def consumed(self, ref: str) -> Decimal:
        key = ref_key(ref)
        if key is None:
            return Decimal(0)
        p = self.db.param
        amounts = self.db.execute_sql(
            'SELECT s.amount FROM "spend" s JOIN "entry" e ON e.idx = s.out_idx '  # noqa: S608
            f"WHERE e.attestation_id = {p} AND s.out_pos = {p}",
            key,
        ).fetchall()
        return sum((Decimal(a[0]) for a in amounts), Decimal(0))

    def shipment_by_entry(self, entry_number: str) -> str | None:
        s = self.m["shipment"]
        row = s.get_or_none(s.entry_number == entry_number)
        return None if row is None else str(row.attestation)

    def enforcement(self, shipment_id: str) -> tuple[EnforcementStep, ...]:
        t = self.m["enforcement_step"]
        rows = t.select().where(t.shipment == shipment_id).order_by(t.entry_idx)
        return tuple(
            EnforcementStep(
                shipment=row.shipment,
                attestation=row.attestation,
                kind=row.kind,
                status=row.status,
                on=row.step_on,
                basis=row.basis,
                detention=row.detention,
                due=row.due,
                late=bool(row.late),
                decide_by=row.decide_by,
            )
            for row in rows
        )

    def enforcement_statuses(self) -> dict[str, str]:
        """Every detained shipment's current enforcement status (its latest step's)."""
        rows = self.db.execute_sql(
            'SELECT s.shipment, s.status FROM "enforcement_step" s JOIN '
            '(SELECT shipment, MAX(entry_idx) AS last FROM "enforcement_step" GROUP BY shipment) m '
            "ON s.shipment = m.shipment AND s.entry_idx = m.last"
        ).fetchall()
        return {str(shipment): str(status) for shipment, status in rows}

    def metric_groups(
        self, by: str, date_from: str | None = None, date_to: str | None = None
    ) -> list[Group]:
        """The metrics report's groups: one indexed scan of the shipments' summary rows,
        joined to each shipment's latest enforcement step (never a verification)."""
        column = _METRIC_COLUMNS[by]  # a fixed expression per dimension, never user text
        clauses, params = [], []
        if date_from is not None:
            clauses.append(f"m.entry_date >= {self.db.param}")
            params.append(date_from)
        if date_to is not None:
            clauses.append(f"m.entry_date <= {self.db.param}")
            params.append(date_to)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        denied = ", ".join(f"'{s}'" for s in DENIED)
        pending = ", ".join(f"'{s}'" for s in PENDING)
        sql = (
            f"SELECT {column} AS k, COUNT(*), SUM(m.value_micro), "  # noqa: S608
            "SUM(CASE WHEN st.status IS NULL THEN 0 ELSE 1 END), "
            "SUM(CASE WHEN st.status = 'released' THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN st.status IN ({denied}) THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN st.status IN ({pending}) THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN st.status IS NULL THEN 0 ELSE m.value_micro END) "
            'FROM "shipment_metric" m LEFT JOIN ('
            'SELECT s.shipment, s.status, s.basis FROM "enforcement_step" s JOIN '
            '(SELECT shipment, MAX(entry_idx) AS last FROM "enforcement_step" GROUP BY shipment) l '
            "ON s.shipment = l.shipment AND s.entry_idx = l.last) st ON st.shipment = m.shipment "
            f"{where} GROUP BY {column} ORDER BY {column}"
        )
        return [
            Group(str(k), *(int(v or 0) for v in rest))
            for k, *rest in self.db.execute_sql(sql, params).fetchall()
        ]

    # -- queries for the HTTP API (additive) -------------------------------------------

    def entries_of_type(
        self, type_: str, *, after: int = -1, limit: int = 100, issuer: str | None = None
    ) -> list[StoredEntry]:
        """Entries of one type (and issuer) with index above ``after``, in index order.

        Cursor pagination over the indexed ``type`` and ``issuer`` columns: the API lists
        shipments and certificates with it without reading the rest of the log.
        """
        e = self.m["entry"]
        clause = (e.type == type_) & (e.idx > after)
        if issuer is not None:
            clause &= e.issuer == issuer
        query = e.select().where(clause).order_by(e.idx).limit(max(0, min(limit, MAX_RANGE)))
        return [_entry(row) for row in query]


_METRIC_COLUMNS = {
    "month": "m.month",
    "quarter": "m.quarter",
    "fiscal-year": "m.fiscal_year",
    "country": "m.country",
    "industry": "m.section",
    "hs4": "m.hs4",
    "status": "COALESCE(st.status, 'none')",
    "legal-basis": "COALESCE(st.basis, 'none')",
}

_ENTRY_COLUMNS = "idx, attestation_id, type, issuer, integrated_at, leaf, leaf_hash, envelope"


class _Row(NamedTuple):
    """An entry row read with plain SQL, shaped like the peewee model for :func:`_entry`."""

    idx: int
    attestation_id: bytes
    type: str
    issuer: str
    integrated_at: str
    leaf: bytes
    leaf_hash: bytes
    envelope: bytes


def _entry(row: Any) -> StoredEntry:
    try:
        integrated_at = parse_timestamp(row.integrated_at)
    except LedgerError as e:
        raise LogChainError(
            f"the stored integration time of entry {row.idx} is corrupt", index=int(row.idx)
        ) from e
    return StoredEntry(
        index=int(row.idx),
        attestation_id=id_text(row.attestation_id),
        type=row.type,
        issuer=row.issuer,
        integrated_at=integrated_at,
        leaf=bytes(row.leaf),
        leaf_hash=bytes(row.leaf_hash),
        envelope=bytes(row.envelope),
    )


def _translated(method: Callable[..., Any]) -> Callable[..., Any]:
    """Turn database exceptions into :class:`StorageError` where they enter the core.

    A corrupt or truncated file, a lost connection or a dropped table then reaches the
    user as a coded error, never as a driver traceback.
    """

    def fail(e: Exception) -> StorageError:
        return StorageError(f"the database failed: {e}", cause=type(e).__name__)

    def consume(iterator: Iterator[Any]) -> Iterator[Any]:
        try:
            yield from iterator
        except (pw.PeeweeException, sqlite3.Error) as e:
            raise fail(e) from e

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = method(*args, **kwargs)
        except (pw.PeeweeException, sqlite3.Error) as e:
            raise fail(e) from e
        if inspect.isgenerator(result):
            return consume(result)
        return result

    return wrapper


def _translate_public_methods(cls: type) -> None:
    for name, member in list(vars(cls).items()):
        if name.startswith("_") or name in ("open", "writer") or not inspect.isfunction(member):
            continue
        setattr(cls, name, _translated(member))


_translate_public_methods(SqlStore)
