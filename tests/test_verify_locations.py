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
    AUDITOR,
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


# -- every address field, folded names, postal codes, polygons ---------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"region": None, "address": _address("Ürümqi")},
        {"region": None, "address": _address("烏魯木齊")},
        {"region": None, "address": _address("Industrial Park", region_name="Sinkiang")},
        {"region": None, "address": _address("Industrial Park", region_name="CN-XJ")},
        {"region": None, "address": _address("Shanshan County", region_name="Turpan")},
        {"region": None, "address": _address("Manas County")},
        {"region": None, "address": _address("Zhundong Economic Development Zone, Jimsar")},
        {"region": None, "address": _address("Kuytun")},
        {"region": None, "address": _address("Yuli County")},
        {"region": None, "address": _address("Shawan")},
        {
            "region": None,
            "address": {
                "street": "新疆维吾尔自治区库尔勒市经济开发区",
                "locality": "Industrial Park",
                "country": "CN",
            },
        },
        {
            "region": None,
            "address": {
                "street": "Korla Economic Zone, Bayingolin",
                "locality": "Industrial Park",
                "country": "CN",
            },
        },
        {"region": None, "address": _address("Industrial Park", postal_code="841000")},
    ],
    ids=[
        "accents",
        "traditional-chinese",
        "sinkiang",
        "region-name-code",
        "shanshan-turpan",
        "manas",
        "zhundong-jimsar",
        "kuytun",
        "yuli-no-other-province",
        "shawan-no-other-province",
        "street-in-chinese",
        "street-in-english",
        "postal-code",
    ],
)
def test_xinjiang_in_any_address_field_is_high_risk(world: World, fields: dict[str, Any]) -> None:
    _chain(world, country="CN", **fields)
    found = _codes(world)
    assert set(found) == {"REGION_HIGH_RISK"}
    assert [f["severity"] for f in found["REGION_HIGH_RISK"]] == ["error"]
    _same_offline(world)


@pytest.mark.parametrize(
    "fields",
    [
        {"region": "CN-SH", "address": _address("Shanghai", street="1200 Xinjiang Road")},
        {"region": "CN-SH", "address": _address("Jing'an", street="乌鲁木齐中路 88号")},
        {"region": "CN-SH", "address": _address("Shanghai", street="3 Urumqi North Road")},
        {"region": "CN-BJ", "address": _address("Beijing", street="Xinjiang Mansion, 7 Sanlihe")},
        {"region": "CN-SC", "address": _address("Shawan District, Leshan")},
        {"region": "CN-ZJ", "address": _address("Yiwu", postal_code="322000")},
        {"region": "CN-HE", "address": _address("Yutian County, Tangshan")},
        {
            "country": "KZ",
            "region": "KZ-ALM",
            "address": _address("Korla", "KZ", postal_code="841000"),
        },
    ],
    ids=[
        "xinjiang-road-shanghai",
        "urumqi-middle-road-chinese",
        "urumqi-north-road",
        "xinjiang-mansion-beijing",
        "shawan-in-sichuan",
        "yiwu-in-zhejiang",
        "yutian-in-hebei",
        "postal-code-outside-china",
    ],
)
def test_streets_buildings_and_namesakes_elsewhere_are_not_xinjiang(
    world: World, fields: dict[str, Any]
) -> None:
    _chain(world, **{"country": "CN", **fields})
    assert world.verify().findings == ()


def test_a_polygon_whose_edges_cross_xinjiang_with_every_vertex_outside(world: World) -> None:
    """A thin rectangle from Gansu across Xinjiang into Kazakhstan: no vertex inside."""
    ring = [[97.5, 40.0], [97.5, 40.3], [60.0, 40.3], [60.0, 40.0], [97.5, 40.0]]
    _chain(
        world,
        country="CN",
        region="CN-GS",
        address=_address("Dunhuang"),
        geo={"type": "Polygon", "coordinates": [ring]},
    )
    found = _codes(world)
    assert set(found) == {"REGION_HIGH_RISK", "LOCATION_CONFLICT"}
    assert "its geo polygon of 4 vertices is in CN-XJ" in found["REGION_HIGH_RISK"][0]["message"]
    _same_offline(world)


def test_a_site_polygon_in_gansu_near_the_border_is_not_xinjiang(world: World) -> None:
    ring = [[94.6, 40.1], [94.7, 40.1], [94.7, 40.2], [94.6, 40.2], [94.6, 40.1]]
    _chain(
        world,
        country="CN",
        region="CN-GS",
        address=_address("Dunhuang"),
        geo={"type": "Polygon", "coordinates": [ring]},
    )
    assert world.verify().findings == ()


# -- one finding per fault, the declaration in force, declarations after entry -----------


def _composite_chain(w: World, region: str) -> dict[str, str]:
    """A US farm, gin and spinner selling to one knit composite (knitting, dyeing,
    cut-and-sew at one plant) in ``region``; returns the composite's three events."""
    now = w.at(day("2025-03-01"))
    imp = "party:acme-imports"
    w.s.party(imp, "Acme Imports LLC", "US", ["importer"], now, filer_codes=["ABC"])
    w.s.party(AUDITOR, "Bureau Social Audit SA", "CH", ["auditor"], now)
    sites = {
        "farm": ("Texas Cotton Farm LLC", "US", "US-TX", ["farming"]),
        "gin": ("Lubbock Gin Co.", "US", "US-TX", ["ginning"]),
        "spin": ("Carolina Yarns Inc.", "US", "US-NC", ["spinning"]),
        "comp": (
            "Aksu Knit Composite Co., Ltd.",
            "CN",
            region,
            ["knitting", "dyeing", "cut-and-sew"],
        ),
    }
    for key, (legal, country, where, processes) in sites.items():
        w.s.party(f"party:{key}", legal, country, ["supplier"], now)
        w.s.facility(
            f"facility:{key}",
            f"{legal} plant",
            f"party:{key}",
            country,
            processes,
            now,
            region=where,
        )
        if key != "farm":
            audit = w.s.audit(AUDITOR, f"facility:{key}", "pass", "2024-05-20", now).attestation
            w.s.certificate(
                AUDITOR,
                f"C-{key}",
                f"facility:{key}",
                [audit],
                "2024-06-01",
                "2026-05-31",
                now,
                processes=processes,
            )

    def make(key: str, process: str, ref: str, amount: str, out: dict[str, Any], when: str) -> str:
        at = w.at(day(when))
        return w.s.transform(
            f"party:{key}", f"facility:{key}", process, [(ref, amount)], [out], at, at
        ).attestation

    def move(seller: str, buyer: str, ref: str, amount: str, out: dict[str, Any], when: str) -> str:
        at = w.at(day(when))
        return (
            w.s.transfer(f"party:{seller}", buyer, [(ref, amount)], [out], at, at).attestation
            + "#0"
        )

    at = w.at(day("2025-03-02"))
    seed = output("F-1", "seed cotton", "5201.00", "10000")
    origin = w.s.origin(
        "party:farm", "facility:farm", "seed cotton", "5201.00", [seed], "2025-03-02", at
    )
    ref = move(
        "farm",
        "party:gin",
        origin.attestation + "#0",
        "10000",
        output("G-IN", "seed cotton", "5201.00", "10000"),
        "2025-03-03",
    )
    ref = (
        make(
            "gin",
            "ginning",
            ref,
            "10000",
            output("L-1", "cotton lint", "5201.00", "3500"),
            "2025-03-05",
        )
        + "#0"
    )
    ref = move(
        "gin",
        "party:spin",
        ref,
        "3500",
        output("S-IN", "cotton lint", "5201.00", "3500"),
        "2025-03-07",
    )
    ref = (
        make(
            "spin",
            "spinning",
            ref,
            "3500",
            output("Y", "cotton yarn", "5205.26", "3000"),
            "2025-03-09",
        )
        + "#0"
    )
    ref = move(
        "spin",
        "party:comp",
        ref,
        "3000",
        output("C-IN", "cotton yarn", "5205.26", "3000"),
        "2025-03-10",
    )
    events = {}
    events["knitting"] = make(
        "comp",
        "knitting",
        ref,
        "3000",
        output("K", "cotton jersey", "6006.21", "2900"),
        "2025-03-14",
    )
    events["dyeing"] = make(
        "comp",
        "dyeing",
        events["knitting"] + "#0",
        "2900",
        output("D", "dyed cotton jersey", "6006.22", "2850"),
        "2025-03-16",
    )
    tees = output("TS", "cotton T-shirts", "6109.10", "10000", "pcs", "2000")
    events["sewing"] = make(
        "comp", "cut-and-sew", events["dyeing"] + "#0", "2850", tees, "2025-03-20"
    )
    po = output("PO", "cotton T-shirts", "6109.10", "10000", "pcs", "2000")
    ref = move("comp", imp, events["sewing"] + "#0", "10000", po, "2025-03-25")
    at = w.at(day("2025-05-27"))
    w.ids["shipment"] = w.s.shipment(
        imp,
        "ABC-1234567-8",
        [(ref, "10000")],
        "party:comp",
        "party:comp",
        "CN",
        "2025-06-01",
        at,
        hts_code="6109.10.0012",
    ).attestation
    return events


def test_one_xinjiang_plant_running_three_stages_is_one_finding(world: World) -> None:
    events = _composite_chain(world, "CN-XJ")
    found = _codes(world)
    assert set(found) == {"REGION_HIGH_RISK"}
    risk = found["REGION_HIGH_RISK"]
    assert [f["attestation"] for f in risk] == [events["knitting"]]
    assert "3 events of the chain there" in risk[0]["message"]
    assert "lot K" in risk[0]["message"] and "lot TS" in risk[0]["message"]
    assert "((" not in risk[0]["message"] and "))" not in risk[0]["message"]
    _same_offline(world)


def test_the_same_composite_plant_in_zhejiang_passes(world: World) -> None:
    _composite_chain(world, "CN-ZJ")
    verdict = world.verify()
    assert verdict.status == "pass" and verdict.findings == ()


def test_no_region_warning_is_judged_on_the_declaration_in_force(world: World) -> None:
    """Declared in Gujarat, then re-declared in China with no region before its events."""
    chain = CottonChain(world)
    chain.actors()
    _gin_declared(world, chain, country="CN", region=None, address=_address("Industrial Park"))
    chain.certify()
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew, chain.ship):
        stage()
    found = _codes(world)
    assert set(found) == {"REGION_HIGH_RISK"}
    assert [f["severity"] for f in found["REGION_HIGH_RISK"]] == ["warning"]
    assert "cannot be ruled out" in found["REGION_HIGH_RISK"][0]["message"]
    assert world.verify().status == "review"
    _same_offline(world)


def test_a_declaration_into_xinjiang_after_entry_is_a_dated_warning(world: World) -> None:
    chain = CottonChain(world)
    chain.build()
    assert world.verify().findings == ()
    world.s.facility(
        chain.facility("spinner"),
        "Coimbatore Mill No. 2",
        chain.party("spinner"),
        "CN",
        ["spinning"],
        world.at(day("2025-04-20")),
        region="CN-XJ",
    )
    found = _codes(world)
    assert set(found) == {"REGION_HIGH_RISK"}
    risk = found["REGION_HIGH_RISK"]
    assert [f["severity"] for f in risk] == ["warning"]
    assert "declared on 2025-04-20 (declaration date), after the event" in risk[0]["message"]
    assert "after the entry date 2025-04-18" in risk[0]["message"]
    assert world.verify().status == "review"
    _same_offline(world)


def test_a_declaration_into_xinjiang_after_the_event_but_before_entry_fails(
    world: World,
) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew):
        stage()
    world.s.facility(
        chain.facility("spinner"),
        "Coimbatore Mill No. 2",
        chain.party("spinner"),
        "CN",
        ["spinning"],
        world.at(day("2025-04-01")),
        region="CN-XJ",
    )
    chain.ship()
    found = _codes(world)
    assert set(found) == {"REGION_HIGH_RISK"}
    risk = found["REGION_HIGH_RISK"]
    assert [f["severity"] for f in risk] == ["error"]
    assert "(declaration date), after the event" in risk[0]["message"]
    assert "after the entry date" not in risk[0]["message"]
    _same_offline(world)


@pytest.mark.parametrize("region", ["cn-xj", "CN_XJ", "XJ", "CN-65 "])
def test_a_misspelt_region_code_is_refused_in_plain_words(world: World, region: str) -> None:
    from ledger.errors import LedgerError

    with pytest.raises(LedgerError) as refused:
        _chain(world, country="CN", region=region, address=_address("Industrial Park"))
    assert refused.value.code == "SCHEMA"
    message = str(refused.value)
    assert "is not an ISO 3166-2 region code" in message and "like CN-XJ" in message
    assert "^[A-Z]" not in message


def test_a_region_code_written_as_the_region_name_is_read_and_compared(world: World) -> None:
    _chain(world, country="CN", region="CN-GS", address=_address("Jiuquan", region_name="CN-XJ"))
    found = _codes(world)
    assert set(found) == {"REGION_HIGH_RISK", "LOCATION_CONFLICT"}
    assert "its address region name is 'CN-XJ'" in found["LOCATION_CONFLICT"][0]["message"]
    _same_offline(world)
