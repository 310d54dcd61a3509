"""Graphs, chain scopes and impact queries over a ledger holding two supply chains."""

from __future__ import annotations

import pytest
from verify_solar import SOLAR_SITES, SolarChain

from ledger.errors import UsageError
from ledger.verify import chain_ids, impact, shipment_graph
from verify_fixtures import (
    AUDITOR,
    COTTON_SITES,
    IMPORTER,
    CottonChain,
    World,
    day,
    world_fixture,  # noqa: F401 - the `world` fixture
)


@pytest.fixture
def two_chains(world: World) -> tuple[World, str, str]:
    chain = CottonChain(world)
    chain.actors(countries={"gin": "CN"}, regions={"gin": "CN-XJ"})
    chain.certify()
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew):
        stage()
    cotton = chain.ship()
    cotton_ids = dict(world.ids)
    solar = SolarChain(world).build()
    world.ids.update({f"cotton:{k}": v for k, v in cotton_ids.items()})
    return world, cotton, solar


def test_shipment_graph_nodes_and_edges(two_chains: tuple[World, str, str]) -> None:
    w, cotton, _ = two_chains
    graph = shipment_graph(w.ledger, cotton)
    assert graph["shipment"] == cotton
    nodes = {n["attestation"]: n for n in graph["nodes"]}
    assert len(nodes) == 11
    ginning = nodes[w.ids["cotton:ginning"]]
    assert (ginning["process"], ginning["region"], ginning["country"]) == ("ginning", "CN-XJ", "CN")
    assert ginning["outputs"][0]["lot"] == "SG-B-0881..0900"
    edges = graph["edges"]
    assert len(edges) == 10
    edge = next(e for e in edges if e["to"] == w.ids["cotton:t:gin-spinner"])
    assert (edge["from"], edge["amount"], edge["unit"], edge["lot"]) == (
        w.ids["cotton:ginning"],
        "20",
        "bales",
        "SG-B-0881..0900",
    )
    assert all(e["from"] in nodes and e["to"] in nodes for e in edges)


def test_chain_ids_cover_what_the_chain_relies_on_only(two_chains: tuple[World, str, str]) -> None:
    w, cotton, solar = two_chains
    ids = chain_ids(w.ledger, cotton)
    for key in ("shipment", "origin", "ginning", "cert:knitter", "audit:knitter"):
        assert w.ids[f"cotton:{key}"] in ids
    assert w.ids["smelter"] not in ids and solar not in ids
    assert w.ids["smelter"] in chain_ids(w.ledger, solar)


def test_impact_by_party_facility_region_and_lot(two_chains: tuple[World, str, str]) -> None:
    w, cotton, solar = two_chains

    def shipments(**query: str) -> list[str]:
        return [s["shipment"] for s in impact(w.ledger, **query)]

    assert shipments(party="party:shree-ginning") == [cotton]
    assert shipments(party=IMPORTER) == [cotton]
    assert shipments(party=AUDITOR) == []
    assert shipments(facility=SOLAR_SITES["poly"][3]) == [solar]
    assert shipments(region="CN-XJ") == [cotton]
    assert shipments(region="CN-65") == [cotton]  # the old code of the same region
    assert shipments(region="US-NC") == [solar]
    assert shipments(lot="BRQ-7") == [solar]
    assert shipments(lot="SC-2025-017") == [cotton]
    assert shipments(lot="NO-SUCH-LOT") == []
    entry = impact(w.ledger, party="party:penang-wafer")[0]
    assert entry == {
        "shipment": solar,
        "entry_number": "SUN-7654321-0",
        "entry_date": "2025-05-01",  # its arrival date: the date lists are judged on
    }
    with pytest.raises(UsageError):
        impact(w.ledger)


def test_impact_finds_parties_named_only_on_the_entry(world: World) -> None:
    """A trading house declared only as the entry's exporter, and a manufacturer declared
    only there, reach the shipment: CBP's impact query for a newly listed entity must
    find every shipment whose verdict that listing changes."""
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew):
        stage()
    now = world.at(day("2025-04-10"))
    for party, name in (
        ("party:hk-trading", "Harbour Trading Ltd"),
        ("party:mid-maker", "Declared Maker Co Ltd"),
    ):
        world.s.party(party, name, "HK", ["supplier"], now)
    shipment = chain.ship(exporter="party:hk-trading", manufacturer="party:mid-maker")
    for party in ("party:hk-trading", "party:mid-maker"):
        assert [s["shipment"] for s in impact(world.ledger, party=party)] == [shipment]
    assert impact(world.ledger, party=AUDITOR) == []


def test_shipments_logged_before_the_lookup_rows_are_found_after_migration(
    world: World,
) -> None:
    """Migration 10 gives shipments already in the log their declared-party rows."""
    from ledger.storage.migrations import _declared_parties
    from ledger.storage.sql import SqlStore

    shipment = CottonChain(world).build()
    store = world.ledger.store
    assert isinstance(store, SqlStore)
    manufacturer = COTTON_SITES["garment"][0]
    drop = 'DROP TRIGGER IF EXISTS "lookup_no_delete"'
    store.db.execute_sql(drop)
    store.db.execute_sql("DELETE FROM \"lookup\" WHERE kind = 'declared'")
    assert store.db.execute_sql(
        "SELECT COUNT(*) FROM \"lookup\" WHERE kind = 'declared'"
    ).fetchone() == (0,)
    with store.db.atomic():
        _declared_parties(store)
    rows = store.db.execute_sql("SELECT key FROM \"lookup\" WHERE kind = 'declared'").fetchall()
    assert rows == [(manufacturer,)]  # exporter and manufacturer are one party here
    assert [s["shipment"] for s in impact(world.ledger, party=manufacturer)] == [shipment]


def test_the_migration_passes_over_a_shipment_that_no_longer_reads(world: World) -> None:
    """A damaged entry does not stop the database opening: audit names it."""
    from ledger.storage.migrations import _declared_parties
    from ledger.storage.sql import SqlStore

    CottonChain(world).build()
    store = world.ledger.store
    assert isinstance(store, SqlStore)
    for trigger in ("lookup_no_delete", "entry_no_update"):
        store.db.execute_sql(f'DROP TRIGGER IF EXISTS "{trigger}"')
    store.db.execute_sql("DELETE FROM \"lookup\" WHERE kind = 'declared'")
    store.db.execute_sql(
        "UPDATE \"entry\" SET envelope = ? WHERE type = 'shipment'", (b'{"not": "an envelope"}',)
    )
    with store.db.atomic():
        _declared_parties(store)
    assert store.db.execute_sql(
        "SELECT COUNT(*) FROM \"lookup\" WHERE kind = 'declared'"
    ).fetchone() == (0,)
