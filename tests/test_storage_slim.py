"""The slim log tables (migration 9): ids stored as digests, integer keys, node cache.

A database laid out as before migration 9 (the tables as lotchain 8 made them) is
migrated in place; afterwards every query answers exactly as before, and the audit
passes. The contract's ids and refs leave storage unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import peewee as pw
import pytest

import pg
from conftest import PASSPHRASE
from ledger.audit import audit_log
from ledger.errors import StorageError
from ledger.merkle import inclusion_proof
from ledger.storage.ids import id_key, id_text, node_key, node_of, ref_key, ref_text
from ledger.storage.lookup import Lookups
from ledger.storage.migrations import MIGRATIONS, status
from ledger.storage.nodes import CACHED_LEVEL
from ledger.storage.sql import SqlStore
from verify_fixtures import (
    CottonChain,
    World,
    make_world,
    world_fixture,  # noqa: F401 - the `world` fixture
)

ID = "sha256:" + "0123456789abcdef" * 4


def test_ids_and_refs_round_trip() -> None:
    assert id_key(ID) == bytes.fromhex(ID[7:])
    assert id_text(bytes.fromhex(ID[7:])) == ID
    assert id_text(ID) == ID  # a row written as text reads back as it stands
    for bad in (ID.upper().replace("SHA256", "sha256"), ID[:-1], ID + "0", "sha1:" + ID[7:], ""):
        assert id_key(bad) is None
    assert ref_key(ID + "#12") == (bytes.fromhex(ID[7:]), 12)
    assert ref_text(bytes.fromhex(ID[7:]), 12) == ID + "#12"
    for bad in (ID, ID + "#", ID + "#01", ID + "#-1", ID + "#1x", "x#1"):
        assert ref_key(bad) is None
    assert node_of(node_key(19, 123_456)) == (19, 123_456)
    assert node_key(1, 0) > node_key(0, (1 << 56) - 1)  # each level one contiguous run
    with pytest.raises(StorageError):
        node_key(0, 1 << 56)


def _old_models(db: pw.Database) -> list[type[pw.Model]]:
    """The log's tables exactly as lotchain made them before migration 9."""

    class Base(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Entry(Base):
        idx = pw.BigIntegerField(primary_key=True)
        attestation_id = pw.TextField(unique=True)
        type = pw.TextField(index=True)
        issuer = pw.TextField(index=True)
        integrated_at = pw.TextField()
        leaf = pw.BlobField()
        leaf_hash = pw.BlobField()
        envelope = pw.BlobField()

    class Node(Base):
        level = pw.IntegerField()
        idx = pw.BigIntegerField()
        hash = pw.BlobField()

        class Meta:
            primary_key = pw.CompositeKey("level", "idx")

    class Output(Base):
        ref = pw.TextField(primary_key=True)
        attestation = pw.TextField(index=True)
        position = pw.IntegerField()
        holder = pw.TextField(index=True)
        amount = pw.TextField()
        unit = pw.TextField()
        mass_kg = pw.TextField(null=True)
        material = pw.TextField()
        lot = pw.TextField(index=True)

    class Spend(Base):
        ref = pw.TextField(index=True)
        consumer = pw.TextField(index=True)
        amount = pw.TextField()

    class Lookup(Base):
        kind = pw.TextField()
        key = pw.TextField()
        attestation = pw.TextField()
        entry_idx = pw.BigIntegerField()

        class Meta:
            indexes = ((("kind", "key"), False),)

    return [Entry, Node, Output, Spend, Lookup]


def _to_version_8(store: SqlStore) -> None:
    """Rewrite a new database's log tables into the layout of version 8 (same rows)."""
    db = store.db
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for table in ("entry", "node", "output", "spend", "lookup"):
        rows[table] = db.execute_sql(f'SELECT * FROM "{table}"').fetchall()
    ids = {int(r[0]): id_text(r[1]) for r in rows["entry"]}
    with db.atomic():
        for table in ("entry", "node", "output", "spend", "lookup"):
            db.execute_sql(f'DROP TABLE "{table}"')
        db.execute_sql(
            'DROP TRIGGER IF EXISTS schema_migration_no_delete ON "schema_migration"'
            if store.is_postgres
            else 'DROP TRIGGER IF EXISTS "schema_migration_no_delete"'
        )
        db.execute_sql('DELETE FROM "schema_migration" WHERE version >= 9')
        store._protect("schema_migration")
        old = _old_models(db)
        db.create_tables(old)
        entry, node, output, spend, lookup = old
        for r in rows["entry"]:
            entry.insert(
                idx=r[0], attestation_id=ids[int(r[0])], type=r[2], issuer=r[3],
                integrated_at=r[4], leaf=r[5], leaf_hash=r[6], envelope=r[7],
            ).execute()  # fmt: skip
        for key, h in rows["node"]:
            level, idx = node_of(int(key))
            node.insert(level=level, idx=idx, hash=h).execute()
        for idx, pos, holder, amount, unit, mass, material, lot in rows["output"]:
            output.insert(
                ref=f"{ids[int(idx)]}#{pos}", attestation=ids[int(idx)], position=pos,
                holder=holder, amount=amount, unit=unit, mass_kg=mass, material=material, lot=lot,
            ).execute()  # fmt: skip
        for out_idx, out_pos, consumer, amount in rows["spend"]:
            spend.insert(
                ref=f"{ids[int(out_idx)]}#{out_pos}", consumer=ids[int(consumer)], amount=amount
            ).execute()
        for _, kind, key, idx in rows["lookup"]:
            if kind == "declared":  # rows of migration 10
                continue
            lookup.insert(kind=kind, key=key, attestation=ids[int(idx)], entry_idx=idx).execute()
        for table in ("entry", "node", "output", "spend", "lookup"):
            store._protect(table)


def _answers(store: SqlStore) -> dict[str, Any]:
    """What every query of the log tables answers, for everything in this log."""
    look = Lookups(store)
    entries = list(store.iter_entries())
    ids = [e.attestation_id for e in entries]
    refs = look.refs_of(ids)
    parties = sorted({e.issuer for e in entries})
    facilities = [r[1] for r in look.names() if r[0] == "facility"]
    lots = sorted({o.lot for r in refs if (o := store.output(r)) is not None})
    size = store.size()
    keys = [node_of(int(k)) for (k,) in store.db.execute_sql('SELECT key FROM "node"')]
    return {
        "entries": entries,
        "find": [store.find(i) for i in ids],
        "attestation": [store.attestation(i) for i in ids],
        "outputs": [(r, store.output(r), store.consumed(r)) for r in refs],
        "consumers": [look.related("consumer", r) for r in refs],
        "consumers_of": look.consumers_of(refs),
        "held_by": {p: sorted(look.held_by(p)) for p in parties},
        "holdings": {p: look.holdings(p, 10_000) for p in parties},
        "issued": {p: look.issued_by(p, ["origin", "transfer", "transformation"]) for p in parties},
        "lots": {lot: sorted(look.refs_with_lot(lot)) for lot in lots},
        "lookups": {
            (k, f): look.related(k, f)
            for f in facilities
            for k in ("certificate", "audit", "event", "facility")
        },
        "revocations": [look.related("revocation", i) for i in ids],
        "declared": {p: look.related("declared", p) for p in parties},
        "types": [len(store.entries_of_type(t, limit=1000)) for t in ("origin", "shipment")],
        "nodes": dict(store.stored_nodes(keys)),
        "proofs": [inclusion_proof(i, size, store) for i in range(0, size, 7)],
        "unknown": (store.find(ID), store.output(ID + "#0"), store.attestation("nonsense")),
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def built(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    db = None if request.param == "sqlite" else pg.fresh_schema()
    w = make_world(tmp_path, db)
    CottonChain(w).build()
    yield w
    w.ledger.store.close()


@pytest.mark.slow
def test_a_version_8_database_migrates_and_answers_the_same(built: World) -> None:
    store: SqlStore = built.ledger.store  # type: ignore[assignment]
    before = _answers(store)
    assert before["outputs"] and any(c for c in before["consumers"]) and before["lookups"]
    assert any(before["declared"].values())
    verdict = built.verify().to_json()
    _to_version_8(store)
    assert status(store).version == 8
    assert "ref" in {c.name for c in store.db.get_columns("output")}
    store.close()

    reopened = built.home.open_ledger(PASSPHRASE, clock=built.clock)
    built.ledger = built.s.ledger = reopened
    new: SqlStore = reopened.store  # type: ignore[assignment]
    assert status(new).version == MIGRATIONS[-1].version
    assert {c.name for c in new.db.get_columns("output")} >= {"entry_idx", "position"}
    assert _answers(new) == before
    assert built.verify().to_json() == verdict
    assert audit_log(new, reopened.trust).ok
    # the tables are still insert-only after being rebuilt
    for table in ("entry", "node", "output", "spend", "lookup"):
        with pytest.raises(pw.DatabaseError, match="append-only"), new.db.atomic():
            new.db.execute_sql(f'DELETE FROM "{table}"')
    # and the log grows on, and audits clean
    built.s.party("party:after", "After Migration Ltd.", "US", ["supplier"], built.clock.now)
    assert audit_log(new, reopened.trust).ok and new.size() == len(before["entries"]) + 1
    indexes = {i.name for i in new.db.get_indexes("entry")}
    assert "entry_integrated_at" not in indexes


def test_new_databases_use_larger_pages(world: World) -> None:
    store: SqlStore = world.ledger.store  # type: ignore[assignment]
    assert store.db.execute_sql("PRAGMA page_size").fetchone()[0] == 8192
    tables = {
        name: sql
        for name, sql in store.db.execute_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
        )
    }
    assert "WITHOUT ROWID" in tables["output"] and "WITHOUT ROWID" in tables["spend"]


def _grow(world: World) -> int:
    """The cotton chain and enough more entries for a node at the cached level."""
    CottonChain(world).build()
    while world.ledger.size() < (1 << CACHED_LEVEL) + 1:
        n = world.ledger.size()
        world.s.party(f"party:filler-{n}", f"Filler {n}", "US", ["supplier"], world.clock.now)
    return world.ledger.size()


def test_cached_upper_nodes_never_hide_a_changed_node_from_the_audit(world: World) -> None:
    """Proofs read the upper levels from memory; the audit reads the database."""
    import sqlite3

    size = _grow(world)
    store: SqlStore = world.ledger.store  # type: ignore[assignment]
    upper = (CACHED_LEVEL, 0)
    before = inclusion_proof(0, size, store)
    assert upper in store.get_nodes([upper]) and node_key(*upper) in store.nodes.cache
    with sqlite3.connect(world.home.db_url()) as conn:
        conn.execute('DROP TRIGGER "node_no_update"')
        conn.execute("UPDATE node SET hash = ? WHERE key = ?", (bytes(32), node_key(*upper)))
    assert inclusion_proof(0, size, store) == before  # served from memory
    report = audit_log(store, world.ledger.trust)
    assert not report.ok and {f.code for f in report.findings} == {"LOG_CHAIN"}


def test_nodes_read_inside_a_write_are_not_cached(world: World) -> None:
    _grow(world)
    store: SqlStore = world.ledger.store  # type: ignore[assignment]
    store.nodes.cache.clear()
    keys = [(0, 0), (CACHED_LEVEL, 0)]
    with store.writer():
        assert set(store.get_nodes(keys)) == set(keys)
    assert not store.nodes.cache
    store.get_nodes(keys)
    assert set(store.nodes.cache) == {node_key(CACHED_LEVEL, 0)}  # the lower levels stay on disk


def test_the_upper_levels_are_read_in_one_scan(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger import merkle
    from ledger.storage import nodes

    size = _grow(world)
    store: SqlStore = world.ledger.store  # type: ignore[assignment]
    monkeypatch.setattr(nodes, "WARM_LEVEL", 2)
    store.nodes = nodes.NodeTable(store.db)
    store.get_nodes([(0, 0)])
    stored = {(level, i) for level in range(2, 64) for i in range(size >> level)}
    assert {node_of(k) for k in store.nodes.cache} == stored
    truth = merkle.MemoryNodes.from_leaf_hashes([e.leaf_hash for e in store.range(0, size)])
    for index in (0, size // 2, size - 1):
        assert inclusion_proof(index, size, store) == inclusion_proof(index, size, truth)


def test_the_scan_is_made_again_once_the_log_has_grown(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger import merkle
    from ledger.storage import nodes

    monkeypatch.setattr(nodes, "WARM_LEVEL", 2)
    monkeypatch.setattr(nodes, "REWARM_MISSES", 2)
    store: SqlStore = world.ledger.store  # type: ignore[assignment]
    store.nodes = nodes.NodeTable(store.db)
    store.get_nodes([])  # nothing asked: nothing read
    assert not store.nodes.warm
    CottonChain(world).build()  # appends read nodes inside their writes only
    store.get_nodes([(0, 0)])  # the first read outside a write scans the upper levels
    first = world.ledger.size()
    assert store.nodes.warm and len(store.nodes.cache) >= first >> 2
    while world.ledger.size() < first + 40:  # appends: their reads stay out of memory
        n = world.ledger.size()
        world.s.party(f"party:later-{n}", f"Later {n}", "US", ["supplier"], world.clock.now)
    size = world.ledger.size()
    truth = merkle.MemoryNodes.from_leaf_hashes([e.leaf_hash for e in store.range(0, size)])
    for index in range(0, size, 3):
        assert inclusion_proof(index, size, store) == inclusion_proof(index, size, truth)
    stored = {(level, i) for level in range(2, 64) for i in range(size >> level)}
    assert stored <= {node_of(k) for k in store.nodes.cache}
    assert store.nodes.misses < 2  # scanned again after the misses
