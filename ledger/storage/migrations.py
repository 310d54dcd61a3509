"""Versioned schema migrations, the same on SQLite and PostgreSQL.

Each migration has a number, a name and a function of the store; applied ones are
recorded in ``schema_migration`` (insert-only, like every table). Opening a store
applies what is pending, inside one transaction holding the write lock (PostgreSQL:
an advisory lock, so several API processes starting at once migrate exactly once). A
read replica is never migrated: it reports a schema behind its primary instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ledger.encoding import format_timestamp
from ledger.errors import ConfigError

if TYPE_CHECKING:
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


def _shipment_metrics(store: SqlStore) -> None:
    """One summary row per shipment for the metrics report, filled for shipments already
    in the log (new ones get theirs from the append that adds them)."""
    from ledger.attestation import parse_attestation
    from ledger.metrics import metric_row
    from ledger.storage.bulk import insert_rows

    model = store.m["shipment_metric"]
    store.db.create_tables([model], safe=True)
    store._protect(model._meta.table_name)
    after = -1
    while batch := store.entries_of_type("shipment", after=after, limit=500):
        rows = []
        for entry in batch:
            row = metric_row(
                entry.attestation_id, entry.issuer, parse_attestation(entry.envelope).body
            )
            rows.append({"entry_idx": entry.index, **dataclasses.asdict(row)})
        insert_rows(store.db, "shipment_metric", rows)
        after = batch[-1].index


def _list_kinds(store: SqlStore) -> None:
    """Screening list versions gain a kind: ``entity`` (entity lists) or ``wro``
    (Withhold Release Orders and Findings); existing versions are entity lists."""
    columns = {c.name for c in store.db.get_columns("screening_list")}
    if "kind" not in columns:  # a database created by this lotchain has it already
        store.db.execute_sql(
            "ALTER TABLE \"screening_list\" ADD COLUMN kind TEXT NOT NULL DEFAULT 'entity'"
        )


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
