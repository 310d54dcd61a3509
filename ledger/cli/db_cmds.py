"""``lotchain db``: the database schema and its migrations."""

from __future__ import annotations

from ledger.cli.common import Options, emit, home_options
from ledger.cli.main import cli
from ledger.storage.migrations import MIGRATIONS, status
from ledger.storage.sql import SqlStore


@cli.group("db")
def db_group() -> None:
    """Inspect and migrate the database schema (SQLite or PostgreSQL)."""


@db_group.command("status")
@home_options
def db_status(opts: Options) -> None:
    """Show the migrations applied to the database and any still pending.

    Opening a database applies pending migrations (on a primary; never on a read
    replica), so this normally shows none pending.
    """
    store = SqlStore.open(opts.install.db_url(opts.db))
    try:
        state = status(store)
        value = {
            "database": store.url,
            "version": state.version,
            "latest": MIGRATIONS[-1].version,
            "replica": store.is_replica(),
            "applied": [{"version": v, "name": n, "applied_at": t} for v, n, t in state.applied],
            "pending": [{"version": m.version, "name": m.name} for m in state.pending],
        }
    finally:
        store.close()
    lines = [f"schema version {value['version']} (latest {value['latest']})"]
    lines += [f"  applied {v:>3}  {t}  {n}" for v, n, t in state.applied]
    lines += [f"  pending {m.version:>3}  {m.name}" for m in state.pending]
    emit(opts, value, "\n".join(lines))
