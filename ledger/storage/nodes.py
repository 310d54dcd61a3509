"""Merkle nodes in the SQL store: one integer key per node, the upper levels in memory.

A node never changes once committed (the table is insert-only), so the nodes at
:data:`CACHED_LEVEL` and above are kept once read: a 2**20-leaf tree has 62 k of them
(a few MB, one copy per store), and every proof passes through them. The cache is
filled only from reads outside a transaction, never with a node a rolled-back append
wrote; the audit reads the database itself (:meth:`NodeTable.stored`).
"""

from __future__ import annotations

from collections.abc import Sequence

import peewee as pw

from ledger.errors import LogChainError
from ledger.merkle import NodeKey
from ledger.storage.ids import LEVEL_SHIFT, node_key, node_of

#: The lowest level kept in memory once read.
CACHED_LEVEL = 5
#: The levels read into memory in one ordered scan when the store opens (a 2**20-leaf
#: tree has 4 k nodes there): a proof then reads the same number of nodes from the
#: database in a large log as in a small one.
WARM_LEVEL = 8
#: Reads of nodes at WARM_LEVEL and above that missed memory (the log grew since the
#: scan) after which the scan is made again.
REWARM_MISSES = 64
#: At most this many nodes in memory (about 30 MB; a log of 2**21 leaves fills it).
CACHE_MAX = 1 << 17
CHUNK = 500


class NodeTable:
    def __init__(self, db: pw.Database) -> None:
        self.db = db
        self.cache: dict[int, bytes] = {}
        self.warm = False
        self.misses = 0

    def get(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Nodes by ``(level, index)``; the upper levels from memory once read."""
        if not keys:
            return {}
        wanted = {node_key(*k) for k in keys}
        outside = not self.db.in_transaction()
        if outside and (not self.warm or self.misses >= REWARM_MISSES):
            self.warm_up()
        found = {k: self.cache[k] for k in wanted if k in self.cache}
        rest = [k for k in wanted if k not in found]
        if rest:
            read = self._read(rest)
            if outside:
                self.misses += sum(1 for k in rest if k >> LEVEL_SHIFT >= WARM_LEVEL)
                if len(self.cache) < CACHE_MAX:
                    self.cache.update(
                        (k, h) for k, h in read.items() if k >> LEVEL_SHIFT >= CACHED_LEVEL
                    )
            found.update(read)
        return _answer(wanted, found)

    def stored(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Nodes as the database holds them now, never from memory (for audits)."""
        wanted = {node_key(*k) for k in keys}
        return _answer(wanted, self._read(list(wanted)) if wanted else {})

    def warm_up(self) -> None:
        """Read the nodes at :data:`WARM_LEVEL` and above (highest levels first) into
        memory: when a store opens (or at its first read outside a write), and again
        once the log has grown past what was read."""
        self.warm, self.misses = True, 0
        rows = self.db.execute_sql(
            f'SELECT key, hash FROM "node" WHERE key >= {self.db.param} '  # noqa: S608
            f"ORDER BY key DESC LIMIT {self.db.param}",
            (node_key(WARM_LEVEL, 0), CACHE_MAX // 2),
        )
        upper = {int(k): bytes(h) for k, h in rows}
        if len(self.cache) + len(upper) > CACHE_MAX:
            self.cache.clear()
        self.cache.update(upper)

    def _read(self, keys: list[int]) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            sql = 'SELECT key, hash FROM "node" WHERE key IN ({})'.format(  # noqa: S608
                ", ".join([self.db.param] * len(chunk))
            )
            out.update((int(k), bytes(h)) for k, h in self.db.execute_sql(sql, chunk))
        return out


def _answer(wanted: set[int], found: dict[int, bytes]) -> dict[NodeKey, bytes]:
    missing = sorted(node_of(k) for k in wanted - set(found))
    if missing:
        raise LogChainError(
            f"Merkle nodes missing from storage: {missing[:4]}",
            missing=[list(k) for k in missing[:4]],
        )
    return {node_of(k): h for k, h in found.items() if k in wanted}
