"""REGION_HIGH_RISK and LOCATION_CONFLICT (step 19): every location a facility declares.

A gin declared in Gansu (CN-GS) whose address is in Korla, or whose geo point lies in
Xinjiang, is caught; near misses (Aksu in Kazakhstan, a Xinjiang Road in Shanghai, a
site in Gansu) are not; a declaration that disagrees with itself is a warning.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from verify_solar import SolarChain

from ledger.scenario import output
from ledger.verify import build_bundle, verify_bundle
from verify_fixtures import (
    COTTON_SITES,
    CottonChain,
    World,
    any_world_fixture,  # noqa: F401 - the `any_world` fixture
    day,
    world_fixture,  # noqa: F401 - the `world` fixture
)

KORLA = {"type": "Point", "coordinates": [86.1746, 41.7259]}
SHIHEZI = {"type": "Point", "coordinates": [86.0411, 44.3059]}
DUNHUANG = {"type": "Point", "coordinates": [94.6616, 40.1421]}
ALMATY = {"type": "Point", "coordinates": [76.8897, 43.2389]}


def _gin_declared(w: World, chain: CottonChain, **fields: Any) -> None:
    """Re-declare the gin with ``fields`` (country, region, address, geo) before its events."""
    party, _, country, facility, name, region, processes = COTTON_SITES["gin"]
    body: dict[str, Any] = {
        "facility_id": facility,
        "name": name,
        "operator": party,
        "address": {"street": "Plot 7, Cotton Market Road", "locality": "Rajkot", "country": "IN"},
        "country": country,
        "region": region,
        "processes": processes,
    }
    body.update(fields)
    for key in [k for k, v in body.items() if v is None]:
        del body[key]
    w.s.append("facility", party, body, w.clock.now)


def _chain(w: World, **gin: Any) -> CottonChain:
    chain = CottonChain(w)
    chain.actors()
    if gin:
        _gin_declared(w, chain, **gin)
    chain.certify()
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew, chain.ship):
        stage()
    return chain


def _codes(w: World) -> dict[str, list[dict[str, Any]]]:
    """Findings by code. Cotton placed in Xinjiang also falls under the Xinjiang
    region-wide WRO by the same locations (tests/test_wro.py): checked, then left out."""
    out: dict[str, list[dict[str, Any]]] = {}
    for f in w.verify().findings:
        if f.code == "WRO":
            assert "wro-2021-01-13-xinjiang-cotton-tomato" in f.message, f.message
            continue
        out.setdefault(f.code, []).append(f.to_json())
    return out


def _same_offline(w: World) -> None:
    online = w.verify(now=w.clock.now)
    bundle = build_bundle(w.ledger, w.ids["shipment"], now=w.clock.now)
    offline = verify_bundle(json.dumps(bundle).encode(), w.ledger.trust, now=w.clock.now)
    assert offline.to_json() == online.to_json()


def _address(locality: str, country: str = "CN", **more: str) -> dict[str, str]:
    return {"street": "88 Gongye Road", "locality": locality, "country": country, **more}


def test_a_gin_declared_in_gansu_with_an_address_in_korla(world: World) -> None:
    _chain(world, country="CN", region="CN-GS", address=_address("Korla"))
    found = _codes(world)
    assert set(found) == {"REGION_HIGH_RISK", "LOCATION_CONFLICT"}
    risk = found["REGION_HIGH_RISK"]
    assert [f["attestation"] for f in risk] == [world.ids["ginning"]]
    assert risk[0]["severity"] == "error"
    assert "Shree Gin Rajkot (facility:shree-gin-rajkot)" in risk[0]["message"]
    assert "its address locality 'Korla' is in CN-XJ" in risk[0]["message"]
    conflict = found["LOCATION_CONFLICT"]
    assert conflict[0]["severity"] == "warning"
    assert "not in CN-GS as declared" in conflict[0]["message"]
    assert world.verify().status == "fail"
    _same_offline(world)


def test_a_gin_declared_in_gansu_with_a_geo_point_in_xinjiang(world: World) -> None:
    _chain(world, country="CN", region="CN-GS", address=_address("Jiuquan"), geo=KORLA)
    found = _codes(world)
    assert set(found) == {"REGION_HIGH_RISK", "LOCATION_CONFLICT"}
    assert (
        "geo point 41.7259, 86.1746 (latitude, longitude) is in CN-XJ"
        in (found["REGION_HIGH_RISK"][0]["message"])
    )
    _same_offline(world)


def test_a_gin_whose_address_region_is_xinjiang(world: World) -> None:
    _chain(world, country="CN", region="CN-GS", address=_address("Dunhuang", region="CN-65"))
    found = _codes(world)
    assert set(found) == {"REGION_HIGH_RISK", "LOCATION_CONFLICT"}
    assert "its address gives region CN-65" in found["REGION_HIGH_RISK"][0]["message"]
    assert (
        "its region is CN-GS but its address gives CN-65"
        in (found["LOCATION_CONFLICT"][0]["message"])
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"region": None, "address": _address("Korla City", region_name="Bayingolin")},
        {"region": None, "address": _address("库尔勒市")},
        {"region": None, "address": _address("Industrial Park"), "geo": SHIHEZI},
    ],
    ids=["locality", "chinese-locality", "geo-only"],
)
def test_xinjiang_by_address_or_geo_alone_is_high_risk(
    world: World, fields: dict[str, Any]
) -> None:
    _chain(world, country="CN", **fields)
    found = _codes(world)
    assert set(found) == {"REGION_HIGH_RISK"}
    assert found["REGION_HIGH_RISK"][0]["severity"] == "error"


@pytest.mark.parametrize(
    "fields",
    [
        {"country": "KZ", "region": "KZ-ALM", "address": _address("Aksu", "KZ"), "geo": ALMATY},
        {"country": "CN", "region": "CN-SH", "address": _address("Shanghai")},
        {"country": "CN", "region": "CN-GS", "address": _address("Dunhuang"), "geo": DUNHUANG},
        {"country": "HK", "region": "CN-HK", "address": _address("Kwun Tong", "HK")},
        {"country": "CN", "region": "CN-BJ", "address": _address("Yanqi Town, Huairou")},
    ],
    ids=["aksu-in-kazakhstan", "shanghai", "gansu", "hong-kong", "yanqi-in-beijing"],
)
def test_near_misses_are_not_xinjiang(world: World, fields: dict[str, Any]) -> None:
    if fields["country"] == "CN" and fields["region"] == "CN-SH":
        fields["address"]["street"] = "1200 Xinjiang Road"  # a street name, not a place
    _chain(world, **fields)
    assert world.verify().findings == ()


def test_a_declaration_that_disagrees_with_itself_is_a_warning(world: World) -> None:
    _chain(world, address=_address("Coimbatore", "IN", region="IN-TN"))
    found = _codes(world)
    assert set(found) == {"LOCATION_CONFLICT"}
    assert (
        "its region is IN-GJ but its address gives IN-TN"
        in found["LOCATION_CONFLICT"][0]["message"]
    )
    assert world.verify().status == "review"
    _same_offline(world)


def test_a_gin_that_leaves_korla_by_redeclaring_keeps_its_history(world: World) -> None:
    chain = CottonChain(world)
    chain.actors()
    _gin_declared(world, chain, country="CN", region=None, address=_address("Korla"))
    _gin_declared(world, chain)  # back to Rajkot, Gujarat
    chain.certify()
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew, chain.ship):
        stage()
    found = _codes(world)
    assert set(found) == {"REGION_HIGH_RISK"}
    assert "Korla" in found["REGION_HIGH_RISK"][0]["message"]


def test_a_polysilicon_plant_with_a_geo_point_in_shihezi(world: World) -> None:
    SolarChain(world).build()
    poly = {
        "facility_id": "facility:bavaria-poly",
        "name": "Bavaria Polysilicon Plant",
        "operator": "party:bavaria-poly",
        "address": _address("Shihezi"),
        "country": "CN",
        "geo": SHIHEZI,
        "processes": ["polysilicon-production"],
    }
    world.s.append("facility", "party:bavaria-poly", poly, world.clock.now)
    found = _codes(world)
    assert set(found) == {"REGION_HIGH_RISK"}
    assert [f["attestation"] for f in found["REGION_HIGH_RISK"]] == [world.ids["poly"]]


def test_a_clean_chain_with_every_location_declared_passes(any_world: World) -> None:
    gujarat = {"type": "Point", "coordinates": [70.8022, 22.3039]}
    _chain(any_world, address=_address("Rajkot", "IN", region="IN-GJ"), geo=gujarat)
    verdict = any_world.verify()
    assert verdict.status == "pass" and verdict.findings == ()


def test_an_origin_whose_plot_lies_in_xinjiang(world: World) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    now = world.at(day("2025-03-02"))
    seed = [output("SC-2025-017", "seed cotton", "5201.00", "10000")]
    body = {
        "facility": chain.facility("farm"),
        "material": {"name": "seed cotton", "hs_code": "5201.00"},
        "produced_on": "2025-03-01",
        "plot": {"name": "Field 12", "geo": KORLA},
        "outputs": seed,
    }
    world.log("origin", world.s.append("origin", chain.party("farm"), body, now))
    now = world.at(day("2025-03-03"))
    world.log(
        "t:farm-gin",
        world.s.transfer(
            chain.party("farm"),
            chain.party("gin"),
            [(world.ids["origin"] + "#0", "10000")],
            [output("SG-IN-017", "seed cotton", "5201.00", "10000")],
            now,
            now,
        ),
    )
    for stage in (chain.gin, chain.spin, chain.knit, chain.sew, chain.ship):
        stage()
    found = _codes(world)
    assert set(found) == {"REGION_HIGH_RISK"}
    assert [f["attestation"] for f in found["REGION_HIGH_RISK"]] == [world.ids["origin"]]
    assert "plot 'Field 12'" in found["REGION_HIGH_RISK"][0]["message"]
    _same_offline(world)
