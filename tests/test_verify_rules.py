"""Verification rules of the material and compliance steps, each broken alone.

Yields, units, time order, certificates (judged at event time), screening lists and
high-risk regions: rules the log does not enforce at append time, so each test builds
a real chain that breaks exactly one and expects exactly its code.
"""

from __future__ import annotations

from typing import Any

import pytest
from verify_solar import SOLAR_STEPS, SolarChain

from ledger.scenario import output
from verify_fixtures import (
    AUDITOR,
    CottonChain,
    World,
    day,
    only,
    world_fixture,  # noqa: F401 - the `world` fixture
)

# -- YIELD, UNIT, TIME_ORDER ---------------------------------------------------------------


def test_yield_more_lint_than_seed_cotton_can_give(world: World) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    chain.farm()
    chain.gin(lint_kg="5000", seed_kg="4500")  # 0.50 of the seed cotton, above 0.45
    chain.spin()
    chain.knit()
    chain.sew()
    chain.ship()
    found = only(world, "YIELD")
    assert [f["attestation"] for f in found] == [world.ids["ginning"]]
    assert "lint" in found[0]["message"] and "0.45" in found[0]["message"]
    # in plain words: the process, its lots, the facility by name and id, the kind of date
    assert found[0]["message"].startswith(
        "ginning of lots SG-B-0881..0900 and SG-CS-0881 at Shree Gin Rajkot "
        "(facility:shree-gin-rajkot), event time 2025-03-05T10:00:00Z yields"
    )


def test_yield_more_silicon_than_quartz_holds(world: World) -> None:
    steps = list(SOLAR_STEPS)
    steps[0] = (
        "smelter",
        "smelting",
        "NS-MG-7",
        "metallurgical-grade silicon",
        "2804.69",
        "15000",
        "kg",
        None,
    )  # 0.5 of the quartz; silicon is 0.4674 of SiO2
    SolarChain(world).build(steps=steps)
    found = only(world, "YIELD")
    assert [f["attestation"] for f in found] == [world.ids["smelter"]]
    assert "0.4675" in found[0]["message"]


def test_unit_yarn_in_metres_with_no_mass(world: World) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    chain.farm()
    chain.gin()
    chain.spin(yarn=output("CSL-Y-30S-0042", "combed cotton yarn 30s", "5205.26", "150000", "m"))
    chain.knit(yarn_amount="150000")
    chain.sew()
    chain.ship()
    found = only(world, "UNIT")
    assert {f["attestation"] for f in found} == {
        world.ids["spinning"],
        world.ids["t:spinner-knitter"],
    }


def test_time_order_cotton_ginned_before_it_was_harvested(world: World) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    chain.farm(produced_on="2025-03-04")  # harvested after it was sold on 3 March
    chain.gin()
    chain.spin()
    chain.knit()
    chain.sew()
    chain.ship()
    found = only(world, "TIME_ORDER")
    assert {f["attestation"] for f in found} == {world.ids["origin"], world.ids["t:farm-gin"]}


# -- certificates ------------------------------------------------------------------------------


def _cotton(world: World, *, between_gin_and_spin: Any = None, **certify: Any) -> CottonChain:
    chain = CottonChain(world)
    chain.actors()
    chain.certify(**certify)
    chain.farm()
    chain.gin()
    if between_gin_and_spin:
        between_gin_and_spin(chain)
    chain.spin()
    chain.knit()
    chain.sew()
    chain.ship()
    return chain


def test_cert_missing_is_a_warning_and_the_verdict_review(world: World) -> None:
    _cotton(world, keys=("gin", "spinner", "garment"))
    found = only(world, "CERT_MISSING")
    assert [f["attestation"] for f in found] == [world.ids["knitting"]]
    assert found[0]["severity"] == "warning"
    assert world.verify().exit_code == 3


def _revoke_spinner_cert(effective: str) -> Any:
    def revoke(chain: CottonChain) -> None:
        w = chain.w
        w.s.revoke(
            AUDITOR,
            w.ids["cert:spinner"],
            "Unannounced visit found debt bondage",
            day(effective),
            w.at(day("2025-03-11")),
        )

    return revoke


def test_cert_invalid_revoked_before_the_event(world: World) -> None:
    _cotton(world, between_gin_and_spin=_revoke_spinner_cert("2025-03-10"))
    found = only(world, "CERT_INVALID")
    assert [f["attestation"] for f in found] == [world.ids["spinning"]]
    assert "revoked effective 2025-03-10" in found[0]["message"]


def test_certificate_revoked_after_the_event_still_counts(world: World) -> None:
    chain = _cotton(world)
    world.s.revoke(
        AUDITOR,
        world.ids["cert:spinner"],
        "Not renewed",
        day("2025-03-20"),
        world.at(day("2025-04-12")),
    )
    verdict = world.verify()
    assert verdict.status == "pass"
    spinning = next(
        t for t in verdict.summary["tiers"] if t["attestation"] == world.ids["spinning"]
    )
    assert spinning["certificates"][0]["status"] == "valid"
    assert chain.facility("spinner") == spinning["facility"]


def test_cert_invalid_expired_at_event_time(world: World) -> None:
    _cotton(world, valid_until="2025-03-10")
    found = only(world, "CERT_INVALID")
    assert {f["attestation"] for f in found} == {
        world.ids[k] for k in ("spinning", "knitting", "sewing")
    }
    assert "expired on 2025-03-10" in found[0]["message"]


def test_cert_invalid_resting_on_a_failed_audit(world: World) -> None:
    _cotton(world, result="fail")
    found = only(world, "CERT_INVALID")
    assert len(found) == 4
    assert "whose result was fail" in found[0]["message"]


# -- screening and regions ------------------------------------------------------------------


def test_entity_listed_garment_maker_on_the_uflpa_list(world: World) -> None:
    from ledger.lists import loaded_versions
    from verify_fixtures import ENTITY_LIST

    chain = CottonChain(world)
    chain.actors(
        names={"garment": "Guangdong Esquel Textile Company Limited"},
        countries={"garment": "CN"},
        regions={"garment": "CN-GD"},
    )
    chain.certify()
    chain.farm()
    chain.gin()
    chain.spin()
    chain.knit()
    chain.sew()
    chain.ship()
    orders_only = [x for x in loaded_versions(world.ledger.store) if x.kind == "wro"]
    assert world.verify(lists=orders_only).codes() == {"SCREENING_MISSING"}  # no entity list
    found = only(world, "ENTITY_LISTED")  # with the UFLPA Entity List the world loads
    # one finding for the one listed party, on the entry where it acts (its sewing)
    assert [f["attestation"] for f in found] == [world.ids["sewing"]]
    print(found[0]["message"])
    assert "Guangdong Esquel Textile Co., Ltd." in found[0]["message"]
    lists = world.verify().summary["screening_lists"]
    assert lists[0]["name"] == "uflpa-entity-list" and lists[0]["kind"] == "entity"
    assert lists[0]["sha256"] == __import__("hashlib").sha256(ENTITY_LIST.read_bytes()).hexdigest()


@pytest.mark.parametrize("region", ["CN-XJ", "CN-65"])
def test_region_high_risk_a_gin_in_xinjiang(world: World, region: str) -> None:
    chain = CottonChain(world)
    chain.actors(countries={"gin": "CN"}, regions={"gin": region})
    chain.certify()
    chain.farm()
    chain.gin()
    chain.spin()
    chain.knit()
    chain.sew()
    chain.ship()
    verdict = world.verify()
    assert verdict.codes() == {"REGION_HIGH_RISK", "WRO"}  # and the Xinjiang region-wide WRO
    found = [f.to_json() for f in verdict.findings if f.code == "REGION_HIGH_RISK"]
    assert [f["attestation"] for f in found] == [world.ids["ginning"]]
    assert region in found[0]["message"]


def test_region_high_risk_polysilicon_plant_in_xinjiang(world: World) -> None:
    SolarChain(world).build(regions={"poly": "CN-XJ"}, countries={"poly": "CN"})
    found = only(world, "REGION_HIGH_RISK")
    assert [f["attestation"] for f in found] == [world.ids["poly"]]


def test_a_chinese_facility_with_no_region_needs_review(world: World) -> None:
    chain = CottonChain(world)
    chain.actors(countries={"knitter": "CN"}, regions={"knitter": None})
    chain.certify()
    chain.farm()
    chain.gin()
    chain.spin()
    chain.knit()
    chain.sew()
    chain.ship()
    verdict = world.verify()
    assert verdict.status == "review"
    assert [(f.code, f.severity) for f in verdict.findings] == [("REGION_HIGH_RISK", "warning")]


def test_a_certificate_with_a_date_that_does_not_exist_is_refused_at_append(
    world: World,
) -> None:
    from ledger.errors import SchemaError

    chain = CottonChain(world)
    chain.actors()
    with pytest.raises(SchemaError) as refused:
        chain.certify(keys=("spinner",), valid_until="2026-02-30")
    assert refused.value.code == "SCHEMA"
    assert "valid_until: 2026-02-30 is not a real date (expected YYYY-MM-DD)" in str(
        refused.value.message
    )


def test_cert_invalid_when_its_audit_was_revoked_before_the_event(world: World) -> None:
    def revoke_audit(chain: CottonChain) -> None:
        w = chain.w
        w.s.revoke(
            AUDITOR,
            w.ids["audit:spinner"],
            "Auditor's evidence was falsified",
            day("2025-03-09"),
            w.at(day("2025-03-09")),
        )

    _cotton(world, between_gin_and_spin=revoke_audit)
    found = only(world, "CERT_INVALID")
    assert [f["attestation"] for f in found] == [world.ids["spinning"]]
    assert "rests on the audit of 2024-05-20 (audit date" in found[0]["message"]
    assert "revoked effective 2025-03-09" in found[0]["message"]
