"""MATERIAL: what a lot is follows from the route that made it, and no stage is skipped.

A vague name or a bare HS heading ("raw cotton", "cotton", "silicon" 2804) cannot launder
a processing stage: the lot is what its producer could make (a farm's 5201 is seed
cotton, a smelter's 2804 is metallurgical silicon). Cells are made from wafers, a
facility only transforms by a process it declares, and a mill cannot re-originate what
its own processing makes. Each fraud is refused at append and, slipped past, caught by
the verifier alone with exactly MATERIAL; each clean variant passes with no finding.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from verify_solar import SolarChain

from ledger.errors import MaterialError
from ledger.scenario import output
from ledger.verify import build_bundle, verify_bundle
from verify_bypass import bypass
from verify_fixtures import (
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


def _cotton(w: World) -> CottonChain:
    chain = CottonChain(w)
    chain.actors()
    chain.certify()
    return chain


def _spin_refused_then_slipped(w: World, chain: CottonChain, mp: pytest.MonkeyPatch) -> None:
    """The spinning is refused at append; slipped past, the rest of the chain follows."""
    with pytest.raises(MaterialError) as refused:
        chain.spin(bales="10000", yarn=YARN)
    assert "seed cotton" in refused.value.message
    with bypass(mp):
        chain.spin(bales="10000", yarn=YARN)
    chain.knit()
    chain.sew()
    chain.ship()


def _assert_spinning_of_seed_cotton(w: World) -> None:
    found = only(w, "MATERIAL")
    assert [f["attestation"] for f in found] == [w.ids["spinning"]]
    assert "which the route that made it shows to be seed cotton" in found[0]["message"]
    _same_offline(w)


def _resell(w: World, chain: CottonChain, ref: str, name: str, amount: str) -> None:
    now = w.at(day("2025-03-06"))
    sold = [output("TR-RC-1", name, "5201.00", amount)]
    seller = chain.party("gin")
    w.log(
        "t:gin-spinner",
        w.s.transfer(seller, chain.party("spinner"), [(ref, amount)], sold, now, now),
    )


def test_seed_cotton_renamed_raw_cotton_in_a_transfer_is_still_seed_cotton(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seed cotton resold as "raw cotton" (same HS 5201) straight to a spinner: no gin."""
    chain = _cotton(world)
    chain.farm()
    _resell(world, chain, world.ids["t:farm-gin"] + "#0", "raw cotton", "10000")
    _spin_refused_then_slipped(world, chain, monkeypatch)
    _assert_spinning_of_seed_cotton(world)


def test_lint_traded_as_raw_cotton_is_still_lint(world: World) -> None:
    """Clean: the trade often calls ginned lint "raw cotton"; it stays lint and is spun."""
    chain = _cotton(world)
    chain.farm()
    chain.gin(sold=[output("CSL-IN-25-0042", "raw cotton", "5201.00", "20", "bales", "3600")])
    chain.spin()
    chain.knit()
    chain.sew()
    chain.ship()
    assert world.verify().findings == ()


def _farm_origin(w: World, chain: CottonChain, name: str) -> str:
    now = w.at(day("2025-03-02"))
    return str(
        w.log(
            "origin",
            w.s.origin(
                chain.party("farm"),
                chain.facility("farm"),
                name,
                "5201.00",
                [output("F-1", name, "5201.00", "10000")],
                "2025-03-01",
                now,
            ),
        )
    )


def test_a_farms_cotton_sold_straight_to_a_spinner_is_seed_cotton(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = _cotton(world)
    origin = _farm_origin(world, chain, "cotton")
    now = world.at(day("2025-03-06"))
    world.log(
        "t:gin-spinner",
        world.s.transfer(
            chain.party("farm"),
            chain.party("spinner"),
            [(origin + "#0", "10000")],
            [output("F-1-S", "cotton", "5201.00", "10000")],
            now,
            now,
        ),
    )
    _spin_refused_then_slipped(world, chain, monkeypatch)
    _assert_spinning_of_seed_cotton(world)


def test_a_farms_cotton_ginned_passes(world: World) -> None:
    """Clean: the farm calls its crop "cotton"; the gin gins it."""
    chain = _cotton(world)
    origin = _farm_origin(world, chain, "cotton")
    now = world.at(day("2025-03-03"))
    world.log(
        "t:farm-gin",
        world.s.transfer(
            chain.party("farm"),
            chain.party("gin"),
            [(origin + "#0", "10000")],
            [output("SG-IN-017", "cotton", "5201.00", "10000")],
            now,
            now,
        ),
    )
    chain.gin()
    chain.spin()
    chain.knit()
    chain.sew()
    chain.ship()
    assert world.verify().findings == ()


def _solar(w: World, steps: list[tuple[Any, ...]], mp: pytest.MonkeyPatch | None = None) -> None:
    if mp is None:
        SolarChain(w).build(steps=steps)
        return
    with pytest.raises(MaterialError):
        SolarChain(w).build(steps=steps)
    with bypass(mp):
        SolarChain(w).build(steps=steps)


SMELTER_SILICON = ("smelter", "smelting", "NS-SI-7", "silicon", "2804", "10000", "kg", None)
WAFERS = (
    "wafer",
    "wafering",
    "PW-W-7",
    "monocrystalline wafers",
    "3818.00",
    "500000",
    "pcs",
    "4000",
)
CELLS = ("cell", "cell-production", "PC-C-7", "solar cells", "8541.42", "490000", "pcs", "4100")
MODULES = (
    "module",
    "module-assembly",
    "OM-M-7",
    "solar modules",
    "8541.43",
    "7000",
    "pcs",
    "154000",
)


def test_silicon_heading_2804_from_a_smelter_cannot_skip_the_polysilicon_plant(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _solar(world, [SMELTER_SILICON, WAFERS, CELLS, MODULES], monkeypatch)
    found = only(world, "MATERIAL")
    assert [f["attestation"] for f in found] == [world.ids["wafer"]]
    assert "shows to be metallurgical silicon" in found[0]["message"]
    _same_offline(world)


def test_silicon_heading_2804_from_a_polysilicon_plant_passes(world: World) -> None:
    poly = ("poly", "polysilicon-production", "BP-PS-7", "silicon", "2804", "8000", "kg", None)
    smelter = ("smelter", "smelting", "NS-MG-7", "silicon metal", "2804.69", "10000", "kg", None)
    _solar(world, [smelter, poly, WAFERS, CELLS, MODULES])
    assert world.verify().findings == ()


def test_cells_cannot_be_made_straight_from_polysilicon_chunks(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = [
        (
            "smelter",
            "smelting",
            "NS-MG-7",
            "metallurgical-grade silicon",
            "2804.69",
            "10000",
            "kg",
            None,
        ),
        (
            "poly",
            "polysilicon-production",
            "BP-PS-7",
            "polysilicon chunks",
            "2804.61",
            "8000",
            "kg",
            None,
        ),
        ("cell", "cell-production", "PC-C-7", "solar cells", "8541.42", "1000000", "pcs", "9000"),
        (
            "module",
            "module-assembly",
            "OM-M-7",
            "solar modules",
            "8541.43",
            "15000",
            "pcs",
            "330000",
        ),
    ]
    _solar(world, steps, monkeypatch)
    found = only(world, "MATERIAL")
    assert [f["attestation"] for f in found] == [world.ids["cell"]]
    assert (
        "cell-production cannot make from polysilicon chunks (HS 2804.61)" in (found[0]["message"])
    )
    _same_offline(world)


def test_cells_from_undoped_wafers_declared_under_2804_61_pass(world: World) -> None:
    steps = [
        (
            "smelter",
            "smelting",
            "NS-MG-7",
            "metallurgical-grade silicon",
            "2804.69",
            "10000",
            "kg",
            None,
        ),
        ("poly", "polysilicon-production", "BP-PS-7", "polysilicon", "2804.61", "8000", "kg", None),
        ("wafer", "wafering", "PW-W-7", "silicon wafers", "2804.61", "500000", "pcs", "4000"),
        CELLS,
        MODULES,
    ]
    _solar(world, steps)
    assert world.verify().findings == ()


def _redeclare_spinner(w: World, chain: CottonChain, processes: list[str]) -> None:
    now = w.at(T0 + timedelta(hours=2))
    w.s.facility(
        chain.facility("spinner"),
        "Coimbatore Mill No. 2",
        chain.party("spinner"),
        "IN",
        processes,
        now,
        region="IN-TN",
    )


def _noil_origin(w: World, party: str, facility: str) -> Any:
    noil = [output("N-1", "comber noil", "5202.10", "10000")]
    now = w.at(day("2025-03-02"))
    return w.s.origin(party, facility, "comber noil", "5202.10", noil, "2025-03-01", now)


def test_a_spinning_mill_cannot_reoriginate_its_own_waste_as_recycled(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = _cotton(world)
    _redeclare_spinner(world, chain, ["spinning", "recycling"])
    where = (chain.party("spinner"), chain.facility("spinner"))
    with pytest.raises(MaterialError) as refused:
        _noil_origin(world, *where)
    assert "the facility also runs spinning, which makes it" in refused.value.message
    with bypass(monkeypatch):
        world.ids["t:gin-spinner"] = world.log("origin", _noil_origin(world, *where))
    chain.spin(bales="10000", yarn=YARN)
    chain.knit()
    chain.sew()
    chain.ship()
    found = only(world, "MATERIAL")
    assert [f["attestation"] for f in found] == [world.ids["origin"]]
    _same_offline(world)


def test_waste_collected_at_a_recycling_site_is_spun(world: World) -> None:
    """Clean: a separate collection site originates the waste and sells it to the mill."""
    chain = _cotton(world)
    now = world.at(T0 + timedelta(hours=2))
    collector, site = "party:tirupur-recyclers", "facility:tirupur-waste-yard"
    world.s.party(collector, "Tirupur Recyclers Pvt. Ltd.", "IN", ["supplier"], now)
    world.s.facility(
        site, "Tirupur Waste Yard", collector, "IN", ["recycling"], now, region="IN-TN"
    )
    origin = world.log("origin", _noil_origin(world, collector, site))
    now = world.at(day("2025-03-06"))
    world.log(
        "t:gin-spinner",
        world.s.transfer(
            collector,
            chain.party("spinner"),
            [(origin + "#0", "10000")],
            [output("N-1-S", "comber noil", "5202.10", "10000")],
            now,
            now,
        ),
    )
    chain.spin(bales="10000", yarn=YARN)
    chain.knit()
    chain.sew()
    chain.ship()
    codes = world.verify().codes()
    assert "MATERIAL" not in codes and "YIELD" not in codes


def test_a_spinner_that_also_farms_cannot_spin_its_own_raw_cotton(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = _cotton(world)
    _redeclare_spinner(world, chain, ["spinning", "farming"])
    now = world.at(day("2025-03-02"))
    raw = [output("N-1", "raw cotton", "5201.00", "10000")]
    world.ids["t:gin-spinner"] = world.log(
        "origin",
        world.s.origin(
            chain.party("spinner"),
            chain.facility("spinner"),
            "raw cotton",
            "5201.00",
            raw,
            "2025-03-01",
            now,
        ),
    )
    _spin_refused_then_slipped(world, chain, monkeypatch)
    _assert_spinning_of_seed_cotton(world)


def test_a_facility_transforms_only_by_a_process_it_declares(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spinner's mill (processes: spinning) logs a ginning of seed cotton."""
    chain = _cotton(world)
    chain.farm()
    now = world.at(day("2025-03-04"))
    world.log(
        "t:x",
        world.s.transfer(
            chain.party("gin"),
            chain.party("spinner"),
            [(world.ids["t:farm-gin"] + "#0", "10000")],
            [output("X", "seed cotton", "5201.00", "10000")],
            now,
            now,
        ),
    )
    now = world.at(day("2025-03-05"))
    args = (
        chain.party("spinner"),
        chain.facility("spinner"),
        "ginning",
        [(world.ids["t:x"] + "#0", "10000")],
        [output("L", "cotton lint", "5201.00", "3600")],
        now,
        now,
    )
    with pytest.raises(MaterialError) as refused:
        world.s.transform(*args)
    assert "declares the processes spinning, not ginning, and none of them makes" in (
        refused.value.message
    )
    with bypass(monkeypatch):
        world.ids["t:gin-spinner"] = world.log("ginning", world.s.transform(*args))
    chain.spin(bales="3600", yarn=YARN)
    chain.knit()
    chain.sew()
    chain.ship()
    verdict = world.verify()
    material = [f for f in verdict.findings if f.code == "MATERIAL"]
    assert [f.attestation for f in material] == [world.ids["ginning"]]
    assert verdict.codes() == {"MATERIAL", "CERT_MISSING"}  # and the mill has no gin cert
    _same_offline(world)


def test_the_same_work_under_another_process_name_passes(world: World) -> None:
    """Clean: the polysilicon plant (declaring polysilicon-production) logs "refining"."""
    steps = [
        (
            "smelter",
            "smelting",
            "NS-MG-7",
            "metallurgical grade silicon",
            "2804.69.10",
            "10000",
            "kg",
            None,
        ),
        (
            "poly",
            "refining",
            "BP-PS-7",
            "solar-grade polysilicon",
            "2804.61.0000",
            "8000",
            "kg",
            None,
        ),
        ("wafer", "wafering", "PW-W-7", "mono wafers M10", "3818.00.0010", "500000", "pcs", "4000"),
        (
            "cell",
            "cell-production",
            "PC-C-7",
            "monocrystalline PERC cells",
            "8541.42.0010",
            "490000",
            "pcs",
            "4100",
        ),
        (
            "module",
            "module-assembly",
            "OM-M-7",
            "solar panels 400W",
            "8541.43.0010",
            "7000",
            "pcs",
            "154000",
        ),
    ]
    _solar(world, steps)
    codes = world.verify().codes()  # its certificate names the process it declares
    assert "MATERIAL" not in codes and "YIELD" not in codes
