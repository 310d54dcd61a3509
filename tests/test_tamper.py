"""Tampering with the SQLite file directly: each change is caught by ``audit`` and named.

What an operator (or an intruder) with write access to the database file can do: drop
the append-only triggers and edit rows, or edit the file's bytes. Each case asserts the
finding's code and the first bad index.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import PASSPHRASE, SQLITE_ONLY, T0, Clock
from ledger.audit import AuditReport, audit_log
from ledger.checkpoint import verify_checkpoint
from ledger.dsse import parse_envelope, sign_envelope
from ledger.errors import LedgerError
from ledger.home import Home
from ledger.keys import Signer
from ledger.log import Ledger
from ledger.scenario import Scenario
from ledger.storage.ids import id_key, node_key
from ledger.witness import check_extends

SIZE = 12


@pytest.fixture
def populated(scenario: Scenario, ledger: Ledger, clock: Clock) -> Ledger:
    for i in range(SIZE - 1):
        clock.now = T0 + timedelta(minutes=i)
        scenario.party(f"party:mill-{i:02d}", f"Mill {i} Co., Ltd.", "BD", ["supplier"], clock.now)
    assert ledger.size() == SIZE
    return ledger


def _sql(ledger: Ledger, *statements: tuple[str, tuple[object, ...]]) -> None:
    path = ledger.store.url
    ledger.store.close()
    with sqlite3.connect(path) as conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'"):
            conn.execute(f'DROP TRIGGER "{name}"')
        for sql, params in statements:
            conn.execute(sql, params)


def _flip(blob: bytes, offset: int) -> bytes:
    return blob[:offset] + bytes([blob[offset] ^ 0x20]) + blob[offset + 1 :]


def _audit(home: Home) -> AuditReport:
    ledger = home.open_ledger(None)
    try:
        return audit_log(ledger.store, ledger.trust)
    finally:
        ledger.store.close()


def _row(ledger: Ledger, index: int, column: str) -> bytes:
    value: bytes = getattr(ledger.store.get(index), column)
    return value


Tamper = Callable[[Ledger], None]


def envelope_byte(ledger: Ledger) -> None:
    _sql(
        ledger,
        ("UPDATE entry SET envelope=? WHERE idx=5", (_flip(_row(ledger, 5, "envelope"), 60),)),
    )


def leaf_byte(ledger: Ledger) -> None:
    _sql(ledger, ("UPDATE entry SET leaf=? WHERE idx=5", (_flip(_row(ledger, 5, "leaf"), 30),)))


def stored_leaf_hash(ledger: Ledger) -> None:
    _sql(ledger, ("UPDATE entry SET leaf_hash=? WHERE idx=5", (bytes(32),)))


def node_byte(ledger: Ledger) -> None:
    node = ledger.store.get_nodes([(2, 1)])[(2, 1)]
    _sql(ledger, ("UPDATE node SET hash=? WHERE key=?", (_flip(node, 3), node_key(2, 1))))


def checkpoint_byte(ledger: Ledger) -> None:
    stored = ledger.store.checkpoint(6)
    assert stored is not None
    _sql(ledger, ("UPDATE checkpoint SET note=? WHERE size=6", (_flip(stored.note, 25),)))


def delete_last(ledger: Ledger) -> None:
    _sql(ledger, ("DELETE FROM entry WHERE idx=?", (SIZE - 1,)))


def delete_middle(ledger: Ledger) -> None:
    _sql(ledger, ("DELETE FROM entry WHERE idx=5", ()))


def swap_two(ledger: Ledger) -> None:
    a, b = ledger.store.get(5), ledger.store.get(7)
    _sql(
        ledger,
        ("DELETE FROM entry WHERE idx IN (5, 7)", ()),
        (
            "INSERT INTO entry VALUES (5,?,?,?,?,?,?,?)",
            (id_key(b.attestation_id), b.type, b.issuer, "x", b.leaf, b.leaf_hash, b.envelope),
        ),
        (
            "INSERT INTO entry VALUES (7,?,?,?,?,?,?,?)",
            (id_key(a.attestation_id), a.type, a.issuer, "x", a.leaf, a.leaf_hash, a.envelope),
        ),
    )


def forged_insert(ledger: Ledger) -> None:
    """A whole new entry at the end, with a well-formed leaf chained to the last one."""
    last = ledger.store.get(SIZE - 1)
    forged = last.leaf.replace(b'"index":%d' % (SIZE - 1), b'"index":%d' % SIZE)
    from ledger import merkle

    _sql(
        ledger,
        (
            "INSERT INTO entry VALUES (?,?,?,?,?,?,?,?)",
            (
                SIZE,
                bytes.fromhex("ab" * 32),
                last.type,
                last.issuer,
                "x",
                forged,
                merkle.leaf_hash(forged),
                last.envelope,
            ),
        ),
    )


def signature_swapped(ledger: Ledger) -> None:
    """The signature replaced by a valid signature of the same key over other bytes."""
    entry = ledger.store.get(5)
    env = parse_envelope(entry.envelope)
    registrar = Signer.from_seed(bytes(32))  # any key: the point is a valid sig, wrong bytes
    other = sign_envelope(env.payload + b" ", [registrar])
    forged = env.to_json()
    forged["signatures"] = [other.to_json()["signatures"][0] | {"keyid": env.signatures[0].keyid}]
    import json

    from ledger.canonical import canonical_bytes

    _sql(ledger, ("UPDATE entry SET envelope=? WHERE idx=5", (canonical_bytes(forged),)))
    del json


def checkpoint_from_other_key(ledger: Ledger) -> None:
    from ledger.checkpoint import sign_checkpoint

    stored = ledger.store.checkpoint(SIZE)
    assert stored is not None
    fake = sign_checkpoint(
        ledger.origin, SIZE, stored.root, Signer.from_seed(b"e" * 32).signing_key
    )
    _sql(ledger, ("UPDATE checkpoint SET note=? WHERE size=?", (fake.note, SIZE)))


def node_deleted(ledger: Ledger) -> None:
    _sql(ledger, ("DELETE FROM node WHERE key=?", (node_key(0, 9),)))


CASES: list[tuple[Tamper, set[str], int]] = [
    (envelope_byte, {"LOG_CHAIN", "MALFORMED", "SIGNATURE", "SCHEMA"}, 5),
    (leaf_byte, {"LOG_CHAIN", "MALFORMED"}, 5),
    (stored_leaf_hash, {"LOG_CHAIN"}, 5),
    (node_byte, {"LOG_CHAIN"}, 7),
    (checkpoint_byte, {"CHECKPOINT"}, 5),
    (delete_last, {"LOG_CHAIN"}, SIZE - 1),
    (delete_middle, {"LOG_CHAIN"}, 5),
    (swap_two, {"LOG_CHAIN"}, 5),
    (forged_insert, {"LOG_CHAIN"}, SIZE),
    (signature_swapped, {"LOG_CHAIN", "SIGNATURE"}, 5),
    (checkpoint_from_other_key, {"CHECKPOINT"}, SIZE - 1),
    (node_deleted, {"LOG_CHAIN"}, 9),
]


@pytest.mark.parametrize(
    ("tamper", "codes", "first_bad"), CASES, ids=[c[0].__name__ for c in CASES]
)
@SQLITE_ONLY
def test_audit_names_the_code_and_first_bad_index(
    populated: Ledger, home: Home, tamper: Tamper, codes: set[str], first_bad: int
) -> None:
    assert _audit(home).ok
    tamper(populated)
    report = _audit(home)
    assert not report.ok
    assert report.first_bad_index == first_bad, report.findings
    assert {f.code for f in report.findings} <= codes | {"LOG_CHAIN"}
    assert {f.code for f in report.findings} & codes


@SQLITE_ONLY
def test_truncated_file_is_a_coded_storage_error(populated: Ledger, home: Home) -> None:
    path = Path(populated.store.url)
    populated.store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    populated.store.close()
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.truncate(size // 2)
    with pytest.raises(LedgerError) as err:
        _audit(home)
    assert err.value.code in {"STORAGE", "LOG_CHAIN"}


@SQLITE_ONLY
def test_an_older_copy_restored_is_caught_by_a_remembered_checkpoint(
    home: Home, scenario: Scenario, ledger: Ledger, clock: Clock, tmp_path: Path
) -> None:
    """Rollback: the old file is self-consistent, so only a checkpoint seen before catches it."""
    scenario.party("party:mill-early", "Early Mill Ltd.", "BD", ["supplier"], T0)
    db = Path(ledger.store.url)
    ledger.store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    backup = tmp_path / "backup.db"
    shutil.copy(db, backup)
    for i in range(3):
        clock.now = T0 + timedelta(minutes=i + 1)
        scenario.party(f"party:mill-late-{i}", f"Late Mill {i} Ltd.", "BD", ["supplier"], clock.now)
    seen = verify_checkpoint(ledger.checkpoint().note, home.trust_root().log_vkey)
    ledger.store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    shutil.copy(backup, db)
    restored = home.open_ledger(PASSPHRASE)
    assert audit_log(restored.store, restored.trust).ok  # self-consistent on its own
    report = audit_log(restored.store, restored.trust, remembered=seen)
    assert [(f.code, f.step) for f in report.findings] == [("LOG_CONSISTENCY", 8)]
    current = restored.checkpoint()
    with pytest.raises(LedgerError) as err:
        check_extends(seen, current, restored.consistency_proof)
    assert err.value.code == "LOG_CONSISTENCY" and "rolled back" in err.value.message


@SQLITE_ONLY
def test_insert_or_replace_cannot_rewrite_a_row(populated: Ledger) -> None:
    """REPLACE deletes the old row first: the append-only trigger refuses that delete too."""
    import peewee

    store = populated.store
    with pytest.raises(peewee.DatabaseError, match="append-only"), store.db.atomic():
        store.db.execute_sql(
            "INSERT OR REPLACE INTO \"entry\" SELECT idx, attestation_id, 'forged', issuer, "
            'integrated_at, leaf, leaf_hash, envelope FROM "entry" WHERE idx = 1'
        )
    assert store.get(1).type == "party"
