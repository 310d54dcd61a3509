"""Graphs, chain scopes and impact queries over a ledger holding two supply chains."""

from __future__ import annotations

import pytest
from verify_solar import SOLAR_SITES, SolarChain

from ledger.errors import UsageError
from ledger.verify import chain_ids, impact, shipment_graph
from verify_fixtures import (
    AUDITOR,
    IMPORTER,
    CottonChain,
    World,
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
