"""Versioned schema migrations, the same on SQLite and PostgreSQL.

Each migration has a number, a name and a function of the store; applied ones are
recorded in ``schema_migration`` (insert-only, like every table). Opening a store
applies what is pending, inside one transaction holding the write lock (PostgreSQL:
an advisory lock, so several API processes starting at once migrate exactly once). A
read replica is never migrated: it reports a schema behind its primary instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ledger.encoding import format_timestamp
from ledger.errors import ConfigError, LedgerError

if TYPE_CHECKING:
    from ledger.storage.base import StoredEntry
    from ledger.storage.sql import SqlStore

MIGRATION_TABLE = "schema_migration"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[SqlStore], None]


def _initial(store: SqlStore) -> None:
    """The log (entries, Merkle nodes, checkpoints), ledger state, lookups, screening lists."""
    models = [m for name, m in store.m.items() if name != MIGRATION_TABLE]
    store.db.create_tables(models, safe=True)
    for model in models:
        store._protect(model._meta.table_name)


def _entry_time_index(store: SqlStore) -> None:
    """An index on integration time, for date-range queries over the log."""
    store.db.execute_sql(
        'CREATE INDEX IF NOT EXISTS entry_integrated_at ON "entry" (integrated_at)'
    )


def _api_tokens(store: SqlStore) -> None:
    """Bearer tokens of the HTTP API, stored as hashes."""
    from ledger.tokens import create_tables

    create_tables(store)


def _party_filer_codes(store: SqlStore) -> None:
    """Each party version's CBP entry filer codes (a JSON list; none for older rows)."""
    if store.is_postgres:
        store.db.execute_sql(
            'ALTER TABLE "party_version" ADD COLUMN IF NOT EXISTS filer_codes TEXT '
            "NOT NULL DEFAULT '[]'"
        )
        return
    columns = {row[1] for row in store.db.execute_sql('PRAGMA table_info("party_version")')}
    if "filer_codes" not in columns:  # a database created before this column existed
        store.db.execute_sql(
            "ALTER TABLE \"party_version\" ADD COLUMN filer_codes TEXT NOT NULL DEFAULT '[]'"
        )


def _allegations(store: SqlStore) -> None:
    """Allegations (confidential, CBP reads them) and CBP's links of them to the ledger."""
    from ledger.storage.allegations import create_tables

    create_tables(store)


def _enforcement_steps(store: SqlStore) -> None:
    """Detentions, admissibility submissions and determinations, by shipment."""
    model = store.m["enforcement_step"]
    store.db.create_tables([model], safe=True)
    store._protect(model._meta.table_name)


def _shipment_batches(store: SqlStore) -> Iterator[list[StoredEntry]]:
    """The shipments already in the log, 500 at a time: migrations that index them."""
    after = -1
    while batch := store.entries_of_type("shipment", after=after, limit=500):
        yield batch
        after = batch[-1].index


def _shipment_metrics(store: SqlStore) -> None:
    """One summary row per shipment for the metrics report, filled for shipments already
    in the log (new ones get theirs from the append that adds them)."""
    from ledger.attestation import parse_attestation
    from ledger.metrics import metric_row
    from ledger.storage.bulk import insert_rows

    model = store.m["shipment_metric"]
    store.db.create_tables([model], safe=True)
    store._protect(model._meta.table_name)
    for batch in _shipment_batches(store):
        rows = []
        for entry in batch:
            row = metric_row(
                entry.attestation_id, entry.issuer, parse_attestation(entry.envelope).body
            )
            rows.append({"entry_idx": entry.index, **dataclasses.asdict(row)})
        insert_rows(store.db, "shipment_metric", rows)


def _list_kinds(store: SqlStore) -> None:
    """Screening list versions gain a kind: ``entity`` (entity lists) or ``wro``
    (Withhold Release Orders and Findings); existing versions are entity lists."""
    columns = {c.name for c in store.db.get_columns("screening_list")}
    if "kind" not in columns:  # a database created by this lotchain has it already
        store.db.execute_sql(
            "ALTER TABLE \"screening_list\" ADD COLUMN kind TEXT NOT NULL DEFAULT 'entity'"
        )


def _columns(store: SqlStore, table: str) -> dict[str, str]:
    return {c.name: c.data_type.lower() for c in store.db.get_columns(table)}


def _set_aside(store: SqlStore, table: str) -> str:
    """Rename ``table`` to ``<table>_v8`` without its triggers, indexes and key
    constraint (their names return with the new table), and create the new one."""
    old = f"{table}_v8"
    db = store.db
    if store.is_postgres:
        for op in ("update", "delete", "truncate"):
            db.execute_sql(f'DROP TRIGGER IF EXISTS {table}_no_{op} ON "{table}"')
        db.execute_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS {table}_pkey')
    else:
        for op in ("update", "delete"):
            db.execute_sql(f'DROP TRIGGER IF EXISTS "{table}_no_{op}"')
    for index in db.get_indexes(table):
        if not index.name.startswith("sqlite_autoindex_"):
            db.execute_sql(f'DROP INDEX IF EXISTS "{index.name}"')
    db.execute_sql(f'ALTER TABLE "{table}" RENAME TO "{old}"')
    db.create_tables([store.m[table]])
    return old


def _copied(store: SqlStore, old: str, new: str) -> None:
    """Every row of ``old`` reached ``new`` (a row naming no entry would not): else stop."""
    count = store.db.execute_sql(f'SELECT COUNT(*) FROM "{old}"').fetchone()[0]  # noqa: S608
    got = store.db.execute_sql(f'SELECT COUNT(*) FROM "{new}"').fetchone()[0]  # noqa: S608
    if int(count) != int(got):
        raise ConfigError(
            f"migration 9: {int(got)} of {int(count)} rows of {new} could be converted; "
            "the database does not match its log (run lotchain audit with the older version)"
        )


def _slim_log(store: SqlStore) -> None:
    """The log's tables slimmed (fewer, smaller, mostly sequential index writes):
    attestation ids as 32-byte digests, outputs/spends/lookups keyed by entry index,
    Merkle nodes by one integer, unread indexes dropped. Existing rows are converted."""
    from ledger.storage.bulk import insert_rows
    from ledger.storage.ids import id_key_strict

    db = store.db
    if "ref" in _columns(store, "output"):  # outputs first: spends join the old ones
        old_output = _set_aside(store, "output")
        db.execute_sql(
            'INSERT INTO "output" (entry_idx, position, holder, amount, unit, mass_kg, '  # noqa: S608
            "material, lot) SELECT e.idx, o.position, o.holder, o.amount, o.unit, o.mass_kg, "
            f'o.material, o.lot FROM "{old_output}" o JOIN "entry" e '
            "ON e.attestation_id = o.attestation"
        )
        _copied(store, old_output, "output")
        if "ref" in _columns(store, "spend"):
            old = _set_aside(store, "spend")
            db.execute_sql(
                'INSERT INTO "spend" (out_idx, out_pos, consumer_idx, amount) '  # noqa: S608
                f'SELECT eo.idx, o.position, ec.idx, s.amount FROM "{old}" s '
                f'JOIN "{old_output}" o ON o.ref = s.ref '
                'JOIN "entry" eo ON eo.attestation_id = o.attestation '
                'JOIN "entry" ec ON ec.attestation_id = s.consumer'
            )
            _copied(store, old, "spend")
            db.execute_sql(f'DROP TABLE "{old}"')
            store._protect("spend")
        db.execute_sql(f'DROP TABLE "{old_output}"')
        store._protect("output")
    if "attestation" in _columns(store, "lookup"):
        old = _set_aside(store, "lookup")
        db.execute_sql(
            f'INSERT INTO "lookup" (kind, key, entry_idx) SELECT kind, key, entry_idx FROM "{old}" '  # noqa: S608
            "ORDER BY id"
        )
        _copied(store, old, "lookup")
        db.execute_sql(f'DROP TABLE "{old}"')
        store._protect("lookup")
    if "level" in _columns(store, "node"):
        old = _set_aside(store, "node")
        shifted = "(CAST(level AS BIGINT) << 56)" if store.is_postgres else "(level << 56)"
        db.execute_sql(
            f'INSERT INTO "node" (key, hash) SELECT {shifted} | idx, hash FROM "{old}"'  # noqa: S608
        )
        _copied(store, old, "node")
        db.execute_sql(f'DROP TABLE "{old}"')
        store._protect("node")
    if _columns(store, "entry")["attestation_id"] == "text":
        old = _set_aside(store, "entry")
        columns = "idx, attestation_id, type, issuer, integrated_at, leaf, leaf_hash, envelope"
        after = -1
        while True:
            rows = db.execute_sql(
                f'SELECT {columns} FROM "{old}" WHERE idx > {db.param} '  # noqa: S608
                "ORDER BY idx LIMIT 500",
                (after,),
            ).fetchall()
            if not rows:
                break
            insert_rows(
                db,
                "entry",
                [
                    dict(zip(columns.split(", "), (r[0], id_key_strict(r[1]), *r[2:]), strict=True))
                    for r in rows
                ],
            )
            after = int(rows[-1][0])
        _copied(store, old, "entry")
        db.execute_sql(f'DROP TABLE "{old}"')
        store._protect("entry")
    db.execute_sql("DROP INDEX IF EXISTS entry_integrated_at")  # read by no query


def _declared_parties(store: SqlStore) -> None:
    """Shipments already in the log become findable by the exporter and manufacturer they
    declare (new ones get these lookup rows from the append that adds them)."""
    from ledger.admission import lookup_rows
    from ledger.attestation import parse_attestation
    from ledger.storage.bulk import insert_rows

    for batch in _shipment_batches(store):
        rows = []
        for entry in batch:
            try:
                found = lookup_rows(parse_attestation(entry.envelope))
            except LedgerError:
                continue  # an entry that no longer reads is for `lotchain audit` to name
            rows += [
                {"kind": row.kind, "key": row.key, "entry_idx": entry.index}
                for row in found
                if row.kind == "declared"
            ]
        if rows:
            insert_rows(store.db, "lookup", rows)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1, "log, Merkle nodes, checkpoints, ledger state, lookups, screening lists", _initial
    ),
    Migration(2, "index entries by integration time", _entry_time_index),
    Migration(3, "API bearer tokens (hashes only)", _api_tokens),
    Migration(4, "CBP entry filer codes of parties", _party_filer_codes),
    Migration(5, "allegations and their links (confidential)", _allegations),
    Migration(6, "enforcement steps of shipments (detention to determination)", _enforcement_steps),
    Migration(7, "summary rows of shipments for the metrics report", _shipment_metrics),
    Migration(8, "screening list kinds (entity lists, WRO/Findings lists)", _list_kinds),
    Migration(9, "slim log tables: binary ids, integer keys, fewer indexes", _slim_log),
    Migration(10, "shipments found by their declared exporter and manufacturer", _declared_parties),
)


@dataclass(frozen=True)
class SchemaStatus:
    applied: tuple[tuple[int, str, str], ...]  # (version, name, applied_at)
    pending: tuple[Migration, ...]

    @property
    def version(self) -> int:
        return max((v for v, _, _ in self.applied), default=0)


def status(store: SqlStore) -> SchemaStatus:
    """What is applied (from the database) and what this lotchain would still apply."""
    table = store.m[MIGRATION_TABLE]
    if not store.db.table_exists(MIGRATION_TABLE):
        return SchemaStatus((), MIGRATIONS)
    rows = tuple(
        (int(r.version), str(r.name), str(r.applied_at))
        for r in table.select().order_by(table.version)
    )
    done = {v for v, _, _ in rows}
    latest = MIGRATIONS[-1].version
    newest = max(done, default=0)
    if newest > latest:
        raise ConfigError(
            f"the database schema is at version {newest}, newer than this lotchain knows "
            f"({latest}); upgrade lotchain"
        )
    return SchemaStatus(rows, tuple(m for m in MIGRATIONS if m.version not in done))


def migrate(store: SqlStore, *, now: datetime | None = None) -> list[Migration]:
    """Apply pending migrations in order, in one transaction; return what was applied."""
    if store.is_replica():
        pending = status(store).pending
        if pending:
            raise ConfigError(
                f"this database is a read replica at schema version {status(store).version}; "
                f"migrate the primary first (pending: {[m.version for m in pending]})"
            )
        return []
    with store.db.atomic():
        if store.is_postgres:  # several processes may open a fresh database at once
            store.db.execute_sql("SELECT pg_advisory_xact_lock(7310)")
        table = store.m[MIGRATION_TABLE]
        store.db.create_tables([table], safe=True)
        store._protect(MIGRATION_TABLE)
        pending = status(store).pending
        when = format_timestamp(now or datetime.now(UTC), micro=True)
        for migration in pending:
            migration.apply(store)
            table.create(version=migration.version, name=migration.name, applied_at=when)
    return list(pending)
