"""Storage behind one narrow interface; :mod:`ledger.storage.sql` is the peewee one."""

from ledger.storage.base import AppendBatch, PendingEntry, Store, StoredCheckpoint, StoredEntry

__all__ = ["AppendBatch", "PendingEntry", "Store", "StoredCheckpoint", "StoredEntry", "open_store"]


def open_store(url: str) -> Store:
    """Open (creating if needed) the store at ``url``: a SQLite path or a database URL."""
    from ledger.storage.sql import SqlStore

    return SqlStore.open(url)
