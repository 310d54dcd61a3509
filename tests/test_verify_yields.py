"""YIELD by material class, on the inputs a process transforms, and in pieces; UNIT when a
lot's mass_kg contradicts its amount in a mass unit.

Caps go by the class a lot is (resolved from the route that made it), never by words of
its name; the base is the inputs of the classes a product is made of, so padding a
process with inputs it does not transform raises nothing; by-products are capped too;
cells per wafer and modules per cell are bounded. Each fraud gets exactly its code, and
each clean variant none.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from verify_solar import SOLAR_SITES, SOLAR_STEPS, SolarChain

from ledger.errors import UnitError
from ledger.scenario import output
from ledger.verify import build_bundle, verify_bundle
from verify_bypass import bypass
from verify_fixtures import (
    AUDITOR,
    T0,
    CottonChain,
    World,
    day,
    only,
    world_fixture,  # noqa: F401 - the `world` fixture
)

YARN = output("CSL-Y-30S-0042", "combed cotton yarn 30s", "5205.26", "3200")


def _same_offline(w: World) -> None:
    online = w.verify(now=w.clock.now)
    bundle = build_bundle(w.ledger, w.ids["shipment"], now=w.clock.now)
    offline = verify_bundle(json.dumps(bundle).encode(), w.ledger.trust, now=w.clock.now)
    assert offline.to_json() == online.to_json()


def _gin(w: World, chain: CottonChain, made: list[dict[str, Any]], extra: list[str] = ()) -> None:
    """The gin gins the farm's 10000 kg of seed cotton (plus ``extra`` refs, all of them)."""
    now = w.at(day("2025-03-05"))
    inputs = [(w.ids["t:farm-gin"] + "#0", "10000"), *((ref, "10000") for ref in extra)]
    w.log(
        "ginning",
        w.s.transform(chain.party("gin"), chain.facility("gin"), "ginning", inputs, made, now, now),
    )


def _sell_spin_ship(w: World, chain: CottonChain, position: int, lot: dict[str, Any]) -> None:
    now = w.at(day("2025-03-08"))
    amount = lot["quantity"]["amount"]
    w.log(
        "t:gin-spinner",
        w.s.transfer(
            chain.party("gin"),
            chain.party("spinner"),
            [(f"{w.ids['ginning']}#{position}", amount)],
            [{**lot, "lot": "CSL-IN-25-0042"}],
            now,
            now,
        ),
    )
    chain.spin(bales=amount, yarn=YARN)
    chain.knit()
    chain.sew()
    chain.ship()


def _cotton(w: World) -> CottonChain:
    chain = CottonChain(w)
    chain.actors()
    chain.certify()
    chain.farm()
    return chain


def test_lint_named_ginned_cotton_is_capped_as_lint(world: World) -> None:
    chain = _cotton(world)
    lint = output("SG-B", "ginned cotton", "5201.00", "50", "bales", "9500")
    _gin(world, chain, [lint, output("SG-CS", "cotton seed", "1207.21", "500")])
    _sell_spin_ship(world, chain, 0, lint)
    found = only(world, "YIELD")
    assert [f["attestation"] for f in found] == [world.ids["ginning"]]
    assert "9500 kg of cotton lint from 10000 kg of seed cotton" in found[0]["message"]
    _same_offline(world)


def test_lint_named_ginned_cotton_at_a_real_turnout_passes(world: World) -> None:
    chain = _cotton(world)
    lint = output("SG-B", "ginned cotton", "5201.00", "20", "bales", "3600")
    _gin(world, chain, [lint, output("SG-CS", "cotton seed", "1207.21", "6000")])
    _sell_spin_ship(world, chain, 0, lint)
    assert world.verify().findings == ()


def test_gin_motes_by_product_is_capped(world: World) -> None:
    """6000 kg of "gin motes" (HS 5202) from 10000 kg of seed cotton, sold and spun."""
    chain = _cotton(world)
    motes = output("SG-M", "gin motes", "5202.99", "6000")
    _gin(world, chain, [output("SG-B", "cotton lint", "5201.00", "20", "bales", "3600"), motes])
    _sell_spin_ship(world, chain, 1, motes)
    found = only(world, "YIELD")
    assert [f["attestation"] for f in found] == [world.ids["ginning"]]
    assert "6000 kg of cotton waste from 10000 kg of seed cotton" in found[0]["message"]
    _same_offline(world)


def test_gin_motes_at_a_real_share_pass(world: World) -> None:
    """Lint, cottonseed and 2.5 % motes from the seed cotton: within every cap."""
    chain = _cotton(world)
    lint = output("SG-B", "cotton lint", "5201.00", "20", "bales", "3600")
    made = [
        lint,
        output("SG-CS", "cotton seed", "1207.21", "5800"),
        output("SG-M", "gin motes", "5202.99", "250"),
    ]
    _gin(world, chain, made)
    _sell_spin_ship(world, chain, 0, lint)
    assert world.verify().findings == ()


def test_gin_cannot_pad_its_inputs_with_cottonseed(world: World) -> None:
    """10000 kg of cottonseed passed through the gin does not raise the lint cap."""
    chain = _cotton(world)
    farm, gin = chain.party("farm"), chain.party("gin")
    now = world.at(day("2025-03-03"))
    seed = [output("CS-F", "cottonseed", "1207.29", "10000")]
    made = world.log(
        "o2",
        world.s.origin(
            farm, chain.facility("farm"), "cottonseed", "1207.29", seed, "2025-03-01", now
        ),
    )
    moved = world.log(
        "t2",
        world.s.transfer(
            farm,
            gin,
            [(made + "#0", "10000")],
            [output("CS-G", "cottonseed", "1207.29", "10000")],
            now,
            now,
        ),
    )
    lint = output("SG-B", "cotton lint", "5201.00", "50", "bales", "9000")
    _gin(world, chain, [lint, output("SG-CS", "cottonseed", "1207.29", "10000")], [moved + "#0"])
    _sell_spin_ship(world, chain, 0, lint)
    found = only(world, "YIELD")
    assert "9000 kg of cotton lint from 10000 kg of seed cotton" in found[0]["message"]
    _same_offline(world)


def _smelter_with_coal(w: World, silicon_kg: str) -> None:
    """30000 kg of quartz and 60000 kg of coal smelted into ``silicon_kg`` of MG-Si."""
    s = w.s
    now = w.at(T0)
    mine, smelter = SOLAR_SITES["mine"], SOLAR_SITES["smelter"]
    for site, processes in ((mine, ["quarrying", "mining"]), (smelter, ["smelting"])):
        s.party(site[0], site[1], site[2], ["supplier"], now)
        s.facility(site[3], site[4], site[0], site[2], processes, now, region=site[5])
    s.party(
        "party:sunny-imports", "Sunny Imports Inc.", "US", ["importer"], now, filer_codes=["SUN"]
    )
    s.party(AUDITOR, "Bureau Social Audit SA", "CH", ["auditor"], now)
    audit = w.log("a", s.audit(AUDITOR, smelter[3], "pass", "2024-09-01", now))
    s.certificate(
        AUDITOR, "C", smelter[3], [audit], "2024-10-01", "2026-09-30", now, processes=["smelting"]
    )
    now = w.at(day("2025-03-02"))
    quartz, coal = ("quartz lumps", "2506.10"), ("coal", "2701.12")
    q = w.log(
        "q", s.origin(mine[0], mine[3], *quartz, [output("Q", *quartz, "30000")], "2025-03-01", now)
    )
    c = w.log(
        "c", s.origin(mine[0], mine[3], *coal, [output("C", *coal, "60000")], "2025-03-01", now)
    )
    now = w.at(day("2025-03-03"))
    moved = w.log(
        "t",
        s.transfer(
            mine[0],
            smelter[0],
            [(q + "#0", "30000"), (c + "#0", "60000")],
            [output("QI", *quartz, "30000"), output("CI", *coal, "60000")],
            now,
            now,
        ),
    )
    now = w.at(day("2025-03-05"))
    mg = ("metallurgical-grade silicon", "2804.69")
    m = w.log(
        "smelting",
        s.transform(
            smelter[0],
            smelter[3],
            "smelting",
            [(moved + "#0", "30000"), (moved + "#1", "60000")],
            [output("MG", *mg, silicon_kg)],
            now,
            now,
        ),
    )
    now = w.at(day("2025-03-08"))
    sold = w.log(
        "t2",
        s.transfer(
            smelter[0],
            "party:sunny-imports",
            [(m + "#0", silicon_kg)],
            [output("MGI", *mg, silicon_kg)],
            now,
            now,
        ),
    )
    now = w.at(day("2025-03-10"))
    w.log(
        "shipment",
        s.shipment(
            "party:sunny-imports",
            "SUN-7654321-0",
            [(sold + "#0", silicon_kg)],
            smelter[0],
            smelter[0],
            "NO",
            "2025-04-01",
            now,
            hts_code="2804.69.5000",
            description="silicon",
        ),
    )


def test_smelter_cannot_pad_its_inputs_with_coal(world: World) -> None:
    _smelter_with_coal(world, "20000")
    found = only(world, "YIELD")
    assert [f["attestation"] for f in found] == [world.ids["smelting"]]
    assert "20000 kg of metallurgical silicon from 30000 kg of quartz" in found[0]["message"]
    _same_offline(world)


def test_smelter_with_its_coal_at_a_real_yield_passes(world: World) -> None:
    _smelter_with_coal(world, "10000")
    assert world.verify().findings == ()


def _solar_with(world: World, index: int, **changes: str) -> None:
    fields = {"name": 3, "amount": 5, "mass": 7}
    steps = [list(s) for s in SOLAR_STEPS]
    for key, value in changes.items():
        steps[index][fields[key]] = value
    SolarChain(world).build(steps=[tuple(s) for s in steps])


def test_smelting_capped_by_class_not_by_name(world: World) -> None:
    _solar_with(world, 0, name="MG-Si 553", amount="28000")
    found = only(world, "YIELD")
    assert "28000 kg of metallurgical silicon from 30000 kg of quartz" in found[0]["message"]
    _same_offline(world)


def test_smelting_named_mg_si_at_a_real_yield_passes(world: World) -> None:
    _solar_with(world, 0, name="MG-Si 553")
    assert world.verify().findings == ()


def test_modules_with_too_few_cells_each(world: World) -> None:
    """490000 cells assembled into 70000 modules: 7 cells a module."""
    _solar_with(world, 4, amount="70000", mass="1540000")
    found = only(world, "YIELD")
    assert [f["attestation"] for f in found] == [world.ids["module"]]
    assert (
        "70000 pieces of solar modules from 490000 pieces of solar cells" in (found[0]["message"])
    )
    _same_offline(world)


def test_sixty_and_seventy_two_cell_modules_pass(world: World) -> None:
    """490000 cells into 6805 modules of 72 (or 8166 of 60): realistic formats."""
    _solar_with(world, 4, amount="8166", mass="179652")
    assert world.verify().findings == ()


def test_cells_inflated_by_count(world: World) -> None:
    """500000 wafers into 5,000,000 cells (0.8 g each)."""
    _solar_with(world, 3, amount="5000000")
    found = only(world, "YIELD")
    assert [f["attestation"] for f in found] == [world.ids["cell"]]
    assert "5000000 pieces of solar cells from 500000 pieces" in found[0]["message"]


def test_half_cut_cells_pass(world: World) -> None:
    """500000 wafers cut into 980000 half cells, assembled 144 to a module."""
    steps = [list(s) for s in SOLAR_STEPS]
    steps[3][3], steps[3][5] = "half-cut solar cells", "980000"
    steps[4][5], steps[4][7] = "6805", "163320"
    SolarChain(world).build(steps=[tuple(s) for s in steps])
    assert world.verify().findings == ()


def _gin_refused_then_slipped(
    w: World, chain: CottonChain, made: list[dict[str, Any]], mp: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UnitError) as refused:
        _gin(w, chain, made)
    assert "its two masses disagree" in refused.value.message
    with bypass(mp):
        _gin(w, chain, made)


def test_mass_kg_contradicting_a_kg_amount_is_unit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lint declared as 9000 kg with mass_kg 4000: the cap is judged on the 9000 kg."""
    chain = _cotton(world)
    lint = output("SG-B", "cotton lint", "5201.00", "9000", "kg", "4000")
    made = [lint, output("SG-CS", "cotton seed", "1207.21", "1000")]
    _gin_refused_then_slipped(world, chain, made, monkeypatch)
    _sell_spin_ship(world, chain, 0, output("X", "cotton lint", "5201.00", "9000"))
    verdict = world.verify()
    assert {f.code for f in verdict.findings if f.attestation == world.ids["ginning"]} == {
        "UNIT",
        "YIELD",
    }
    unit = [f for f in verdict.findings if f.code == "UNIT"]
    assert "declared as 9000 kg but with mass_kg 4000" in unit[0].message


def test_mass_kg_disagreeing_alone_is_unit(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    chain = _cotton(world)
    lint = output("SG-B", "cotton lint", "5201.00", "3600", "kg", "3000")
    made = [lint, output("SG-CS", "cotton seed", "1207.21", "6000")]
    _gin_refused_then_slipped(world, chain, made, monkeypatch)
    _sell_spin_ship(world, chain, 0, output("X", "cotton lint", "5201.00", "3600"))
    found = only(world, "UNIT")
    assert [f["attestation"] for f in found] == [world.ids["ginning"]]
    _same_offline(world)


def test_mass_kg_agreeing_with_pounds_within_rounding_passes(world: World) -> None:
    chain = _cotton(world)
    lint = output("SG-B", "cotton lint", "5201.00", "7937", "lb", "3600")  # 3600.16 kg
    _gin(world, chain, [lint, output("SG-CS", "cotton seed", "1207.21", "6000")])
    _sell_spin_ship(world, chain, 0, lint)
    assert world.verify().findings == ()
