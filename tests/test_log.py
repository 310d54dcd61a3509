"""The log: receipts, proofs between checkpoints, atomic appends, append-only tables."""

from __future__ import annotations

from datetime import timedelta

import peewee
import pytest

from conftest import PASSPHRASE, T0, Clock
from ledger import merkle
from ledger.checkpoint import verify_checkpoint
from ledger.encoding import b64decode, b64encode
from ledger.errors import LedgerError, StorageError
from ledger.home import Home
from ledger.keys import Signer
from ledger.leaf import ZERO_HASH, parse_leaf
from ledger.log import Ledger, Receipt
from ledger.scenario import Scenario


def _grow(scenario: Scenario, clock: Clock, count: int) -> list[Receipt]:
    receipts = []
    for i in range(count):
        clock.now = T0 + timedelta(seconds=i)
        receipts.append(
            scenario.party(
                f"party:supplier-{i:03d}", f"Supplier {i} Ltd.", "VN", ["supplier"], clock.now
            )
        )
    return receipts


def test_receipt_inclusion_proof_verifies_against_its_checkpoint(
    scenario: Scenario, ledger: Ledger, clock: Clock, home: Home
) -> None:
    vkey = home.trust_root().log_vkey
    for receipt in _grow(scenario, clock, 12):
        cp = verify_checkpoint(receipt.checkpoint, vkey)
        assert cp.size == receipt.index + 1
        leaf = receipt.leaf
        assert receipt.inclusion.leaf_hash == merkle.leaf_hash(leaf)
        receipt.inclusion.verify(cp.root)
        again = merkle.InclusionProof.from_json(receipt.to_json()["inclusion"])
        again.verify(cp.root)
        assert b64decode(receipt.to_json()["leaf"]) == leaf
        assert parse_leaf(leaf).attestation == receipt.attestation


def test_every_pair_of_signed_checkpoints_is_consistent(
    scenario: Scenario, ledger: Ledger, clock: Clock, home: Home
) -> None:
    _grow(scenario, clock, 9)
    vkey = home.trust_root().log_vkey
    checkpoints = [verify_checkpoint(c.note, vkey) for c in ledger.store.checkpoints()]
    assert [c.size for c in checkpoints] == list(range(1, 11))
    for old in checkpoints:
        for new in checkpoints:
            if old.size <= new.size:
                proof = ledger.consistency_proof(old.size, new.size)
                proof.verify(old.root, new.root)
    with pytest.raises(LedgerError):
        ledger.consistency_proof(5, 3)


def test_old_inclusion_proofs_against_an_earlier_tree_size(
    scenario: Scenario, ledger: Ledger, clock: Clock
) -> None:
    receipts = _grow(scenario, clock, 7)
    proof = ledger.inclusion_proof(receipts[2].attestation, tree_size=5)
    root = ledger.store.checkpoint(5)
    assert root is not None
    proof.verify(root.root)
    with pytest.raises(LedgerError):
        ledger.inclusion_proof(receipts[6].attestation, tree_size=5)


def test_leaves_chain_by_prev_and_carry_integration_time(
    scenario: Scenario, ledger: Ledger, clock: Clock
) -> None:
    _grow(scenario, clock, 4)
    prev = ZERO_HASH
    for entry in ledger.store.range(0, 100):
        leaf = parse_leaf(entry.leaf)
        assert leaf.index == entry.index
        assert leaf.prev == prev
        prev = merkle.leaf_hash(entry.leaf).hex()
    last = parse_leaf(ledger.store.get(4).leaf)
    assert last.integrated_at == T0 + timedelta(seconds=3)


def test_integration_time_never_goes_backwards(
    scenario: Scenario, ledger: Ledger, clock: Clock
) -> None:
    clock.now = T0 + timedelta(hours=1)
    scenario.party("party:alpha", "A Ltd.", "VN", ["supplier"], T0)
    clock.now = T0  # the server's clock stepped back
    scenario.party("party:bravo", "B Ltd.", "VN", ["supplier"], T0)
    times = [parse_leaf(e.leaf).integrated_at for e in ledger.store.range(0, 10)]
    assert times == sorted(times)


def test_tables_refuse_update_and_delete(ledger: Ledger) -> None:
    """The database itself refuses to change or remove a row, on every backend."""
    store = ledger.store
    tables = {model._meta.table_name: model for model in store.m.values()}
    assert {"entry", "node", "checkpoint"} <= set(tables)
    checked = 0
    for name, model in tables.items():
        if not model.select().exists():
            continue  # row triggers have nothing to refuse in an empty table
        column = next(iter(model._meta.columns))
        for sql in (f'DELETE FROM "{name}"', f'UPDATE "{name}" SET "{column}" = "{column}"'):
            with pytest.raises(peewee.DatabaseError, match="append-only"), store.db.atomic():
                store.db.execute_sql(sql)
        checked += 1
    assert checked >= 6
    if store.is_postgres:
        with pytest.raises(peewee.DatabaseError, match="append-only"), store.db.atomic():
            store.db.execute_sql('TRUNCATE "entry" CASCADE')


def test_a_failed_commit_writes_nothing(
    scenario: Scenario, ledger: Ledger, clock: Clock, home: Home
) -> None:
    """Atomic append: a crash inside the write leaves neither entry nor checkpoint."""
    before = ledger.size()
    newcomer = Signer.from_seed(b"n" * 32)
    att = scenario.sign(
        "party",
        "party:registrar",
        {
            "party_id": "party:newcomer",
            "legal_name": "Newcomer Ltd.",
            "country": "VN",
            "roles": ["supplier"],
            "keys": [
                {
                    "key_id": newcomer.key_id,
                    "public_key": b64encode(newcomer.public_key),
                    "valid_from": "2025-03-01T08:00:00Z",
                }
            ],
        },
        T0,
    )
    original = ledger.store.append

    def crash(batch: object) -> None:
        original(batch)  # type: ignore[arg-type]
        raise StorageError("simulated crash after writing, before commit")

    ledger.store.append = crash  # type: ignore[method-assign]
    with pytest.raises(StorageError):
        ledger.append(att.envelope)
    ledger.store.append = original  # type: ignore[method-assign]
    fresh = home.open_ledger(PASSPHRASE)
    assert fresh.size() == before
    assert fresh.store.find(att.id) is None
    assert len(list(fresh.store.checkpoints())) == before


def test_read_only_ledger_cannot_append(home: Home) -> None:
    ledger = home.open_ledger(None)
    with pytest.raises(LedgerError):
        ledger.append(b"{}")


def test_concurrent_appends_from_threads_are_group_committed(
    scenario: Scenario, ledger: Ledger, home: Home
) -> None:
    """Threads appending at once each get a receipt that verifies; none is lost or doubled."""
    import threading

    signers = {f"party:thread-{i}": Signer.from_seed(bytes([i]) * 32) for i in range(8)}
    envelopes = []
    for party, signer in signers.items():
        scenario.signers[party] = signer
        envelopes.append(
            scenario.sign(
                "party",
                "party:registrar",
                {
                    "party_id": party,
                    "legal_name": f"{party} Ltd.",
                    "country": "VN",
                    "roles": ["supplier"],
                    "keys": [
                        {
                            "key_id": signer.key_id,
                            "public_key": b64encode(signer.public_key),
                            "valid_from": "2025-03-01T08:00:00Z",
                        }
                    ],
                },
                T0,
            ).envelope
        )
    envelopes.append(envelopes[0])  # a replay among them: exactly one of the two wins
    receipts: list[Receipt] = []
    errors: list[LedgerError] = []
    start = threading.Barrier(len(envelopes))

    def worker(envelope: object) -> None:
        start.wait()
        try:
            receipts.append(ledger.append(envelope))  # type: ignore[arg-type]
        except LedgerError as e:
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(e,)) for e in envelopes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(receipts) == 8 and [e.code for e in errors] == ["REPLAY"]
    assert sorted(r.index for r in receipts) == list(range(1, 9))
    vkey = home.trust_root().log_vkey
    for r in receipts:
        r.inclusion.verify(verify_checkpoint(r.checkpoint, vkey).root)


def test_receipts_from_a_server_are_checked_against_the_trust_root(
    scenario: Scenario, ledger: Ledger, clock: Clock, home: Home
) -> None:
    from ledger.log import verify_receipt

    receipts = _grow(scenario, clock, 3)
    vkey = home.trust_root().log_vkey
    good = receipts[1].to_json()
    assert verify_receipt(good, vkey, receipts[1].attestation).index == receipts[1].index
    forged_leaf = dict(good, leaf=receipts[0].to_json()["leaf"])
    other_id = dict(good, attestation=receipts[0].attestation)
    bad_note = dict(good, checkpoint=good["checkpoint"].replace("\n", "\n\n", 1))
    for bad, code in (
        (forged_leaf, "LOG_INCLUSION"),
        (other_id, "LOG_INCLUSION"),
        (bad_note, "CHECKPOINT"),
        ([1], "MALFORMED"),
    ):
        with pytest.raises(LedgerError) as err:
            verify_receipt(bad, vkey)
        assert err.value.code == code
    with pytest.raises(LedgerError):
        verify_receipt(good, vkey, receipts[0].attestation)
