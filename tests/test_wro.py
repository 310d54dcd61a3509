"""Step 18 (WRO, FINDING): CBP's orders on realistic cotton, polysilicon and tuna chains.

The list applied is the project's own ``data/wro-findings.csv`` (real orders), loaded in
every world, except where a test needs an order that list does not hold; each test
breaks one rule and expects exactly its code (plus REGION_HIGH_RISK where the goods come
from Xinjiang, which that rule reports on its own).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from wro_chains import Tier, build, cotton, solar, tuna

from ledger.lists import record_version
from ledger.verify import verify_shipment_online
from ledger.verify.core import run
from ledger.verify.order_rules import Modification
from ledger.verify.rules import default_rules
from ledger.verify.source import LedgerSource
from ledger.verify.verdict import STEP_OF, Verdict
from verify_fixtures import (
    WRO_LIST,
    World,
    any_world_fixture,  # noqa: F401 - the `any_world` fixture
    world_fixture,  # noqa: F401 - the `world` fixture
)

HEADER = (
    "id,action,status,issued_on,modified_on,revoked_on,country,producer,aliases,merchandise,"
    "hs_prefixes,scope,region,source,notes\n"
)




def verdict_of(w: World) -> Verdict:
    return w.verify(now=w.clock.now)


def codes(w: World) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in verdict_of(w).findings:
        out.setdefault(f.code, []).append(f.message)
    return out


def exactly(w: World, code: str, *also: str) -> list[str]:
    """The verdict fails with ``code`` (and only ``also`` besides); its messages."""
    verdict = verdict_of(w)
    found = codes(w)
    assert set(found) == {code, *also}, found
    assert verdict.status == "fail"
    assert all(f.step == STEP_OF[f.code] for f in verdict.findings)
    return found[code]


def clean(w: World) -> None:
    verdict = verdict_of(w)
    assert verdict.status == "pass", [f.to_json() for f in verdict.findings]


def add_orders(w: World, rows: str, name: str = "extra-orders") -> None:
    record_version(
        w.ledger.store, (HEADER + rows).encode(), kind="wro", name=name, source=None,
        now=datetime.now(UTC),
    )


# -- producer and merchandise ----------------------------------------------------------------


def test_listed_producers_garments_are_caught_by_alias_on_both_backends(any_world: World) -> None:
    tiers = cotton(
        knitter=("Henan Knit Fabrics Co., Ltd.", "CN", "CN-HA"),
        garment=("Henan Hero Vast Garment Co., Ltd", "CN", "CN-HA"),
    )
    build(any_world, tiers, arrival="2025-04-20")
    (message,) = exactly(any_world, "WRO")
    assert "wro-2020-08-11-hero-vast" in message
    assert "'Henan Hero Vast Garment Co., Ltd.'" in message  # the alias that matched
    assert "an alias of 'Hero Vast Group'" in message  # and the listed main name
    assert "lot 'GARMENT-1'" in message and "HS 6109.10" in message
    assert "entry date 2025-04-20" in message and "issued 2020-08-11" in message


def test_a_listed_manufacturer_declared_on_the_entry_is_caught(world: World) -> None:
    tiers = cotton(knitter=("Saigon Knit Co., Ltd.", "VN", "VN-SG"),
                   garment=("Saigon Garment Co., Ltd.", "VN", "VN-SG"))
    maker = ("party:yuexi", "Yuexi Hero Vast Garment Co., Ltd.", "CN")
    build(world, tiers, manufacturer=maker)
    (message,) = exactly(world, "WRO")
    assert "entry HBR-2500001-3 line 1" in message and "HS 6109.10" in message
    assert "manufacturer party:yuexi on the entry" in message


def test_the_same_producers_other_merchandise_is_not_covered(world: World) -> None:
    # Tangshan Sanyou's order names soda ash, chlorides, caustic soda and viscose: not yarn
    build(world, cotton(spinner=("Tangshan Sanyou Group Co., Ltd.", "CN", "CN-HE")))
    clean(world)


@pytest.mark.parametrize(("country", "region", "caught"),
                         [("MU", "MU-PL", True), ("MG", "MG-T", False)])
def test_an_order_on_goods_made_in_one_country_spares_the_producers_plants_elsewhere(
    world: World, country: str, region: str, caught: bool
) -> None:
    # Firemount's WRO names garments "manufactured in Mauritius by Firemount Group Ltd."
    tiers = cotton(knitter=("Port Louis Knitting Ltd", "MU", "MU-PL"),
                   garment=("Firemount Group Ltd.", country, region))
    build(world, tiers, arrival="2025-11-20")
    if caught:
        (message,) = exactly(world, "WRO")
        assert "wro-2025-11-18-firemount" in message and "HS 6109.10" in message
    else:
        clean(world)


def test_an_order_for_all_products_covers_any_merchandise(world: World) -> None:
    build(world, cotton(spinner=(
        "Lop County No. 4 Vocational Skills Education and Training Center", "CN", "CN-GS")))
    (message,) = exactly(world, "WRO")
    assert "wro-2020-08-25-lop-no4-vsetc" in message and "(HS any)" in message


def test_an_order_issued_after_entry_catches_nothing(world: World) -> None:
    # Firemount's WRO (garments made in Mauritius) was issued 2025-11-18
    tiers = cotton(garment=("Firemount Group Ltd.", "MU", "MU-PL"),
                   knitter=("Port Louis Knitting Ltd", "MU", "MU-PL"))
    build(world, tiers, arrival="2025-05-02")
    clean(world)
    assert "wro-2025-11-18-firemount" not in str(codes(world))


def test_goods_made_before_the_order_and_entered_after_are_caught(world: World) -> None:
    tiers = cotton(garment=("Firemount Group Ltd.", "MU", "MU-PL"),
                   knitter=("Port Louis Knitting Ltd", "MU", "MU-PL"))
    build(world, tiers, arrival="2025-11-18")  # made in March, entered on the order's day
    (message,) = exactly(world, "WRO")
    assert "wro-2025-11-18-firemount" in message and "entry date 2025-11-18" in message


# -- region-wide and country-wide orders ------------------------------------------------------


def test_xinjiang_lint_inside_vietnamese_yarn(world: World) -> None:
    tiers = cotton(
        farm=("Aksu Cotton Cooperative", "CN", "CN-XJ"),
        gin=("Aksu Ginning Co., Ltd.", "CN", "CN-XJ"),
        spinner=("Saigon Cotton Spinning JSC", "VN", "VN-SG"),
    )
    build(world, tiers)
    (message,) = exactly(world, "WRO", "REGION_HIGH_RISK")
    assert "wro-2021-01-13-xinjiang-cotton-tomato" in message
    assert "its region is CN-XJ" in message and "more lot(s)" in message


def test_xinjiang_order_uses_the_old_region_code_too(world: World) -> None:
    tiers = cotton(farm=("Aksu Cotton Cooperative", "CN", "CN-65"))
    build(world, tiers)
    (message,) = exactly(world, "WRO", "REGION_HIGH_RISK")
    assert "CN-65" in message


def test_xinjiang_by_an_address_in_korla_though_the_region_says_gansu(world: World) -> None:
    build(world, cotton(gin=("Korla Ginning Co., Ltd.", "CN", "CN-GS")))
    gin = world.s.append("facility", "party:gin", {
        "facility_id": "facility:gin", "name": "Korla gin works", "operator": "party:gin",
        "address": {"street": "8 Mill Road", "locality": "Korla", "country": "CN"},
        "country": "CN", "region": "CN-GS", "processes": ["ginning"]}, world.clock.now)
    assert gin.attestation
    found = codes(world)
    assert "WRO" in found and "wro-2021-01-13-xinjiang-cotton-tomato" in found["WRO"][0]
    assert "Korla" in found["WRO"][0]


def test_turkmen_cotton_follows_into_garments_made_elsewhere(world: World) -> None:
    tiers = cotton(
        farm=("Mary Velayat Cotton Farm", "TM", "TM-M"),
        gin=("Mary Cotton Gin", "TM", "TM-M"),
        spinner=("Denizli Iplik A.S.", "TR", "TR-20"),
        knitter=("Gazipur Knit Fabrics Ltd.", "BD", "BD-18"),
        garment=("Dhaka Apparel Limited", "BD", "BD-18"),
    )
    build(world, tiers)
    (message,) = exactly(world, "WRO")
    assert "wro-2018-05-18-turkmenistan-cotton" in message
    assert "originates at facility facility:farm in TM" in message
    assert "derived from it wherever made" in message


def test_processing_in_turkmenistan_of_other_cotton_is_not_turkmen_cotton(world: World) -> None:
    tiers = cotton(gin=("Mary Cotton Gin", "TM", "TM-M"), spinner=("Ashgabat Mill", "TM", "TM-S"))
    build(world, tiers)
    clean(world)


# -- vessels ----------------------------------------------------------------------------------


def test_a_vessel_order_by_vessel_name_then_the_finding_governs(world: World) -> None:
    build(world, tuna({"name": "DA WANG", "imo": "8716332"}), start="2021-05-03")
    (message,) = exactly(world, "WRO")  # only the WRO was issued by then
    assert "wro-2020-08-18-da-wang" in message
    assert "'DA WANG' matches the listed name 'Da Wang'" in message


def test_a_finding_and_a_wro_on_the_same_goods_report_the_finding(any_world: World) -> None:
    build(any_world, tuna({"name": "Da Wang"}), start="2025-03-01")
    (message,) = exactly(any_world, "FINDING")
    assert "fnd-2022-01-28-da-wang" in message
    assert "wro-2020-08-18-da-wang, which this Finding governs" in message


def test_a_vessel_order_by_imo_number(world: World) -> None:
    add_orders(world, "wro-2024-01-10-sea-star,WRO,active,2024-01-10,,,FJ,Sea Star 88 (fishing "
               "vessel),IMO 9123458,tuna harvested by the Sea Star 88,03 | 1604,vessel,,"
               "https://example.gov/sea-star,test row\n")
    build(world, tuna({"name": "Ocean Harvest 7", "imo": "9123458"}))
    (message,) = exactly(world, "WRO")
    assert "IMO number" in message and "wro-2024-01-10-sea-star" in message


def test_a_fleet_order_reaches_vessels_by_their_operator(world: World) -> None:
    build(world, tuna({"name": "Liao Yu 7"}, operator="Dalian Ocean Fishing Co., Ltd.",
                      flag="CN", region="CN-LN"))
    (message,) = exactly(world, "WRO")
    assert "wro-2021-05-28-dalian-ocean-fishing" in message


# -- derived goods ----------------------------------------------------------------------------


def test_hoshine_silicon_inside_malaysian_modules(any_world: World) -> None:
    tiers = solar(("Hoshine Silicon (Jia Xing) Industry Co., Ltd.", "CN", "CN-ZJ"))
    build(any_world, tiers)
    (message,) = exactly(any_world, "WRO")
    assert "wro-2021-06-24-hoshine" in message
    assert "lot 'SMELTER-1'" in message and "HS 2804.69" in message
    assert "an alias of 'Hoshine Silicon Industry Co., Ltd.'" in message


def test_without_derived_goods_wafers_end_the_silicon_order(world: World) -> None:
    build(world, solar(("Hoshine Silicon Industry Co., Ltd.", "CN", "CN-ZJ")))
    rules = default_rules()
    derived = {k: v for k, v in rules.orders.derived_goods.items() if "hoshine" not in k}
    narrow = dataclasses.replace(
        rules, orders=dataclasses.replace(rules.orders, derived_goods=derived)
    )
    verdict, _ = run(
        LedgerSource(world.ledger), world.ledger.trust, world.ids["shipment"],
        now=world.clock.now, lists=_lists(world), rules=narrow,
    )
    assert verdict.status == "pass", [f.to_json() for f in verdict.findings]


def test_hoshine_merchandise_outside_its_order_is_not_covered(world: World) -> None:
    tiers = cotton(spinner=("Hoshine Silicon Industry Co., Ltd.", "CN", "CN-ZJ"))
    build(world, tiers)
    clean(world)


def _lists(w: World) -> list:  # type: ignore[type-arg]
    from ledger.lists import loaded_versions

    return loaded_versions(w.ledger.store)


# -- modifications and revocations -------------------------------------------------------------


@pytest.mark.parametrize(("start", "caught"), [("2020-02-20", True), ("2020-04-10", False)])
def test_a_revoked_order_applies_until_its_revocation(
    world: World, start: str, caught: bool
) -> None:
    build(world, tuna({"name": "F/V TUNAGO 61"}, flag="VU"), start=start)
    if caught:  # entry 2020-03-19, before the revocation of 2020-04-01
        (message,) = exactly(world, "WRO")
        assert "wro-2019-02-04-tunago-61" in message and "revoked 2020-04-01" in message
    else:
        clean(world)


@pytest.mark.parametrize(("start", "caught"), [("2024-06-10", True), ("2024-08-10", False)])
def test_a_full_lift_ends_the_order_at_its_date(world: World, start: str, caught: bool) -> None:
    build(world, tuna({"name": "Yu Long No.2"}, flag="TW"), start=start)
    if caught:
        (message,) = exactly(world, "WRO")
        assert "modified 2024-08-14" in message
    else:
        clean(world)


def test_a_modified_order_without_recorded_terms_stays_in_force_and_says_so(world: World) -> None:
    add_orders(world, "wro-2023-03-01-orchid,WRO,modified,2023-03-01,2024-01-15,,TH,Orchid "
               "Seafood Processing Co. Ltd.,,canned tuna,1604,entity,,https://example.gov,x\n")
    tiers = tuna({"name": "Lucky Star 3"})
    tiers[1] = dataclasses.replace(tiers[1], legal="Orchid Seafood Processing Co., Ltd.")
    build(world, tiers)
    (message,) = exactly(world, "WRO")
    assert "modified 2024-01-15, but the terms are not recorded" in message


TOMATO_ORDERS = (
    "wro-2022-03-01-sinaloa-tomatoes,WRO,modified,2022-03-01,2023-05-01,,MX,,,fresh tomatoes "
    "grown in Mexico and goods made from them,0702 | 2002,country,,https://example.gov/t,x\n"
    "wro-2020-01-10-coastal-paste,WRO,revoked,2020-01-10,,2020-03-23,MX,Coastal Paste Co.,,"
    "tomato paste,2002,entity,,https://example.gov/p,x\n"
)


def tomatoes(packer: str) -> list[Tier]:
    return [
        Tier("farm", "Rancho Los Pinos", "MX", "MX-SIN", "farming", "fresh tomatoes", "0702.00",
             "20000"),
        Tier("packer", packer, "MX", "MX-SIN", "processing", "tomato paste", "2002.90", "4000"),
    ]


def verdict_with(w: World, **terms: tuple[Modification, ...]) -> Verdict:
    """The verdict under the shipped rules plus modification terms for the test orders."""
    rules = default_rules()
    orders = dataclasses.replace(
        rules.orders, modifications={**rules.orders.modifications, **terms}
    )
    verdict, _ = run(
        LedgerSource(w.ledger), w.ledger.trust, w.ids["shipment"], now=w.clock.now,
        lists=_lists(w), rules=dataclasses.replace(rules, orders=orders),
    )
    return verdict


CARVE_OUT = (Modification("carve-out", date(2023, 5, 1), parties=("Culiacan Fresh Packers",)),)


def test_a_carve_out_for_a_named_supplier_exempts_only_its_goods(world: World) -> None:
    add_orders(world, TOMATO_ORDERS)
    build(world, tomatoes("Culiacan Fresh Packers S.A. de C.V."))
    verdict = verdict_with(world, **{"wro-2022-03-01-sinaloa-tomatoes": CARVE_OUT})
    assert verdict.status == "pass", [f.to_json() for f in verdict.findings]


def test_the_carve_out_does_not_reach_other_suppliers(world: World) -> None:
    add_orders(world, TOMATO_ORDERS)
    build(world, tomatoes("Mazatlan Conservas S.A. de C.V."))
    verdict = verdict_with(world, **{"wro-2022-03-01-sinaloa-tomatoes": CARVE_OUT})
    assert verdict.codes() == {"WRO"}
    (finding,) = verdict.findings
    assert "wro-2022-03-01-sinaloa-tomatoes" in finding.message
    assert "originates at facility facility:farm in MX" in finding.message


def test_a_lift_keyed_to_production_date_keeps_older_goods_covered(world: World) -> None:
    add_orders(world, TOMATO_ORDERS)
    build(world, tomatoes("Coastal Paste Co."), start="2020-02-20", arrival="2020-04-15")
    keyed = (Modification("lift", date(2020, 3, 23), produced_after=date(2020, 3, 16)),)
    verdict = verdict_with(world, **{"wro-2020-01-10-coastal-paste": keyed})
    assert verdict.codes() == {"WRO"}
    assert "only for goods produced after 2020-03-16" in verdict.findings[0].message
    lifted = verdict_with(world)  # without the production-date key: revoked before entry
    assert lifted.status == "pass", [f.to_json() for f in lifted.findings]


# -- offline equals online, lists shown ------------------------------------------------------


@pytest.mark.parametrize("code", ["FINDING", "WRO"])
def test_offline_bundle_reaches_the_same_wro_and_finding_verdicts(world: World, code: str) -> None:
    from ledger.verify import build_bundle, verify_bundle

    if code == "FINDING":
        build(world, tuna({"name": "Da Wang"}))
    else:
        build(world, solar(("Hoshine Silicon (Jia Xing) Industry Co., Ltd.", "CN", "CN-ZJ")))
    online = verdict_of(world)
    bundle = build_bundle(world.ledger, world.ids["shipment"], now=world.clock.now)
    kinds = {item.get("kind") for item in bundle["screening_lists"]}
    assert kinds == {"entity", "wro"}
    import json

    offline = verify_bundle(
        json.dumps(bundle).encode(), world.ledger.trust, now=world.clock.now
    )
    assert online.codes() == offline.codes() == {code}
    assert [f.to_json() for f in online.findings] == [f.to_json() for f in offline.findings]


def test_verdict_names_the_wro_list_version_it_applied(world: World) -> None:
    build(world, cotton())
    lists = verify_shipment_online(world.ledger, world.ids["shipment"]).summary[
        "screening_lists"
    ]
    import hashlib

    wro = [x for x in lists if x["kind"] == "wro"]
    assert [x["sha256"] for x in wro] == [hashlib.sha256(WRO_LIST.read_bytes()).hexdigest()]
    assert wro[0]["listings"] == 49
