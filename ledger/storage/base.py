"""The storage interface: append, get, range, head, plus the state view and nodes.

Everything stored is insert-only. An append writes the entries, their Merkle nodes,
their state rows and the new checkpoint in one transaction, or nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ledger.merkle import NodeKey
from ledger.state import StateDelta, StateView


def display_url(url: str) -> str:
    """A database URL without its password, for messages."""
    if "://" not in url or "@" not in url.split("://", 1)[1].split("/", 1)[0]:
        return url
    scheme, rest = url.split("://", 1)
    userinfo, host = rest.split("@", 1)
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}" if ":" in userinfo else url


@dataclass(frozen=True)
class StoredEntry:
    index: int
    attestation_id: str
    type: str
    issuer: str
    integrated_at: datetime
    leaf: bytes
    leaf_hash: bytes
    envelope: bytes


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: bytes


@dataclass(frozen=True)
class PendingEntry:
    entry: StoredEntry
    delta: StateDelta


@dataclass(frozen=True)
class AppendBatch:
    entries: Sequence[PendingEntry]
    nodes: Sequence[tuple[NodeKey, bytes]]
    checkpoint: StoredCheckpoint


class Store(StateView, Protocol):
    """What the ledger needs from a database."""

    url: str

    def writer(self) -> AbstractContextManager[None]:
        """An exclusive write transaction: appends are serialised through it."""
        ...

    def append(self, batch: AppendBatch) -> None:
        """Write a batch inside :meth:`writer`; all of it or nothing."""
        ...

    def head(self) -> StoredCheckpoint | None:
        """The latest checkpoint, or None for an empty log."""
        ...

    def checkpoint(self, size: int) -> StoredCheckpoint | None: ...

    def checkpoints(self) -> Iterator[StoredCheckpoint]: ...

    def size(self) -> int:
        """One past the highest stored index (what the rows say, not the checkpoint)."""
        ...

    def get(self, index: int) -> StoredEntry: ...

    def find(self, attestation_id: str) -> StoredEntry | None: ...

    def range(self, start: int, end: int) -> list[StoredEntry]: ...

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]: ...

    def stored_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Nodes as the database holds them now, bypassing any cache (for audits)."""
        ...

    def close(self) -> None: ...
