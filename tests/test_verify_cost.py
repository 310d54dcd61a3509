"""Verification reads what the chain relies on, never the log: counted, not timed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from ledger.attestation import make_attestation
from ledger.keys import Signer
from ledger.scenario import output
from ledger.verify import build_bundle, chain_ids, verify_shipment_online
from verify_fixtures import (
    CottonChain,
    World,
    day,
    world_fixture,  # noqa: F401 - the `world` fixture
)


@contextmanager
def counting(w: World) -> Iterator[list[str]]:
    """Every SQL statement the store runs inside the block."""
    db: Any = w.ledger.store.db  # type: ignore[attr-defined]
    seen: list[str] = []
    real = db.execute_sql

    def execute_sql(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        seen.append(sql)
        return real(sql, params, *args, **kwargs)

    db.execute_sql = execute_sql
    try:
        yield seen
    finally:
        del db.execute_sql


def shape(sql: str) -> str:
    """A statement with the node keys of a Merkle proof elided (their number is log n)."""
    return "SELECT nodes" if ' FROM "node" ' in sql else sql


def unrelated_trade(w: World, count: int) -> None:
    """``count`` more entries by other parties: another farm's harvests and sales."""
    farm, buyer = "party:other-farm", "party:other-buyer"
    now = w.at(day("2025-04-11"))
    w.s.party(farm, "Other Farm", "US", ["supplier"], now)
    w.s.party(buyer, "Other Buyer", "US", ["supplier"], now)
    w.s.facility(
        "facility:other-farm", "Other Farm Fields", farm, "US", ["farming"], now, region="US-TX"
    )
    signer: Signer = w.s.signers[farm]
    made = 0
    while made < count:
        batch = []
        for i in range(min(500, count - made)):
            body = {
                "facility": "facility:other-farm",
                "material": {"name": "seed cotton", "hs_code": "5201.00"},
                "produced_on": "2025-04-10",
                "outputs": [output(f"OF-{made + i}", "seed cotton", "5201.00", "100")],
            }
            batch.append(make_attestation("origin", farm, body, [signer], now=now).envelope)
        results = w.ledger.append_batch(batch)
        assert all(not isinstance(r, Exception) for r in results)
        made += len(batch)


@pytest.mark.slow
def test_cost_follows_the_chain_not_the_log(world: World) -> None:
    CottonChain(world).build()
    shipment = world.ids["shipment"]
    small = world.ledger.size()
    with counting(world) as reads_small:
        before = verify_shipment_online(world.ledger, shipment, now=world.clock.now)
    unrelated_trade(world, 4000)
    assert world.ledger.size() > small + 4000
    with counting(world) as reads_large:
        after = verify_shipment_online(world.ledger, shipment, now=world.clock.now)
    assert after.findings == before.findings == ()
    assert after.summary["counts"] == before.summary["counts"]
    # the same statements, in the same number: nothing scales with the 4000 new entries
    # (a Merkle proof asks for O(log n) nodes, still in one statement)
    assert len(reads_large) == len(reads_small)
    assert sorted(map(shape, reads_large)) == sorted(map(shape, reads_small))
    # and they are a few per relied-on entry
    assert len(reads_small) < 8 * before.summary["counts"]["relied_on"]


def test_no_statement_scans_a_table(world: World) -> None:
    CottonChain(world).build()
    shipment = world.ids["shipment"]
    with counting(world) as reads:
        ids = chain_ids(world.ledger, shipment)
        bundle = build_bundle(world.ledger, shipment)
    assert len(bundle["entries"]) == len(ids)
    selects = [r for r in reads if r.lstrip().upper().startswith("SELECT")]
    assert selects
    for sql in selects:
        table = sql.split(" FROM ", 1)[1].split()[0].strip('"')
        if table in ("checkpoint", "screening_list"):  # the head (LIMIT 1); the few lists
            continue
        assert " WHERE " in sql, sql
