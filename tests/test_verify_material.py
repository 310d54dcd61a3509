"""MATERIAL (step 12): material keeps its identity on realistic cotton and polysilicon chains.

Each laundering path is refused by the log at append and, slipped past it (as an entry
logged before the rule existed would be), caught by the verifier alone, with exactly
its code; the offline bundle reaches the same verdict.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from verify_solar import SOLAR_STEPS, SolarChain

from ledger.errors import MaterialError
from ledger.materials import default_material_rules
from ledger.scenario import output
from ledger.verify import build_bundle, verify_bundle
from verify_bypass import bypass
from verify_fixtures import (
    CottonChain,
    World,
    any_world_fixture,  # noqa: F401 - the `any_world` fixture
    day,
    only,
    world_fixture,  # noqa: F401 - the `world` fixture
)


def _same_offline(w: World) -> None:
    online = w.verify(now=w.clock.now)
    bundle = build_bundle(w.ledger, w.ids["shipment"], now=w.clock.now)
    offline = verify_bundle(json.dumps(bundle).encode(), w.ledger.trust, now=w.clock.now)
    assert offline.to_json() == online.to_json()


YARN = output("CSL-IN-25-0042", "combed cotton yarn 30s", "5205.26", "20", "bales", "3600")


def _cotton_up_to_gin(w: World) -> CottonChain:
    chain = CottonChain(w)
    chain.actors()
    chain.certify()
    chain.farm()
    return chain


def _rest(chain: CottonChain) -> None:
    chain.spin()
    chain.knit()
    chain.sew()
    chain.ship()


# -- transfers ----------------------------------------------------------------------------


def test_a_trader_cannot_turn_lint_into_yarn_in_a_transfer(world: World) -> None:
    chain = _cotton_up_to_gin(world)
    with pytest.raises(MaterialError) as refused:
        chain.gin(sold=[YARN])
    assert "cannot change them" in refused.value.message
    assert refused.value.code == "MATERIAL"


def test_material_is_refused_at_append_on_both_backends(any_world: World) -> None:
    """The log reads what a transfer consumes from its own store, SQLite or PostgreSQL."""
    chain = _cotton_up_to_gin(any_world)
    with pytest.raises(MaterialError):
        chain.gin(sold=[YARN])
    _resell_lint(chain)
    _rest(chain)
    assert any_world.verify().findings == ()


def _resell_lint(chain: CottonChain) -> None:
    w = chain.w
    lint = [output("CSL-IN-25-0042", "cotton lint", "5201.00", "20", "bales", "3600")]
    w.log(
        "t:gin-spinner",
        w.s.transfer(
            chain.party("gin"),
            chain.party("spinner"),
            [(w.ids["ginning"] + "#0", "20")],
            lint,
            w.clock.now,
            w.clock.now,
        ),
    )


def test_lint_sold_as_yarn_is_caught_by_the_verifier(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = _cotton_up_to_gin(world)
    with bypass(monkeypatch):
        chain.gin(sold=[YARN])
    _rest(chain)
    found = only(world, "MATERIAL")
    assert [f["attestation"] for f in found] == [world.ids["t:gin-spinner"]]
    message = found[0]["message"]
    assert "Shree Ginning and Pressing Pvt. Ltd. (party:shree-ginning)" in message
    assert "Coimbatore Spinners Limited" in message
    assert "lot CSL-IN-25-0042" in message and "combed cotton yarn 30s (HS 5205.26)" in message
    assert "cotton lint (HS 5201.00) (lot SG-B-0881..0900)" in message
    assert "2025-03-08T10:00:00Z (event date)" in message
    _same_offline(world)


def test_seed_cotton_sold_as_lint_skips_the_gin(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seed cotton and lint share HS 5201: the material name tells them apart."""
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    now = world.at(day("2025-03-02"))
    seed = [output("SC-2025-017", "seed cotton", "5201.00", "10000")]
    origin = world.log(
        "origin",
        world.s.origin(
            chain.party("farm"),
            chain.facility("farm"),
            "seed cotton",
            "5201.00",
            seed,
            "2025-03-01",
            now,
        ),
    )
    lint = [output("CSL-IN-25-0042", "cotton lint", "5201.00", "20", "bales", "3600")]
    sell = (chain.party("farm"), chain.party("spinner"), [(origin + "#0", "3600")])
    with pytest.raises(MaterialError):
        world.s.transfer(*sell, lint, world.at(day("2025-03-08")), world.clock.now)
    with bypass(monkeypatch):
        world.log("t:gin-spinner", world.s.transfer(*sell, lint, world.clock.now, world.clock.now))
    _rest(chain)
    found = only(world, "MATERIAL")
    assert [f["attestation"] for f in found] == [world.ids["t:gin-spinner"]]
    assert "seed cotton (HS 5201.00)" in found[0]["message"]


def test_a_transfer_passes_on_no_more_of_one_material_than_it_consumes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lint and cottonseed together weigh less than consumed, but lint grows: MATERIAL."""
    chain = _cotton_up_to_gin(world)
    sold = [
        output("CSL-IN-25-0042", "cotton lint", "5201.00", "21", "bales", "3600"),
        output("CSL-CS-25-0042", "cotton seed", "1207.21", "5000"),
    ]
    with pytest.raises(MaterialError):
        chain.gin(sold=sold, sold_inputs=[(0, "20"), (1, "6000")])
    with bypass(monkeypatch):
        world.log(
            "t:gin-spinner",
            world.s.transfer(
                chain.party("gin"),
                chain.party("spinner"),
                [(world.ids["ginning"] + "#0", "20"), (world.ids["ginning"] + "#1", "6000")],
                sold,
                world.at(day("2025-03-08")),
                world.clock.now,
            ),
        )
    _rest(chain)
    found = only(world, "MATERIAL")
    assert [f["attestation"] for f in found] == [world.ids["t:gin-spinner"]]
    assert (
        "passes on 21 bales of cotton lint (HS 5201.00) but consumes only 20"
        in (found[0]["message"])
    )
    _same_offline(world)


@pytest.mark.parametrize("amount,unit", [("10", "t"), ("22046.2", "lb")])
def test_mass_units_convert_exactly_in_a_transfer(world: World, amount: str, unit: str) -> None:
    """10 t of seed cotton sold as 10 t, or as 22046.2 lb (9999.99 kg): clean."""
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    now = world.at(day("2025-03-02"))
    seed = [output("SC-2025-017", "seed cotton", "5201.00", "10000")]
    origin = world.s.origin(
        chain.party("farm"),
        chain.facility("farm"),
        "seed cotton",
        "5201.00",
        seed,
        "2025-03-01",
        now,
    )
    now = world.at(day("2025-03-03"))
    world.log(
        "t:farm-gin",
        world.s.transfer(
            chain.party("farm"),
            chain.party("gin"),
            [(origin.attestation + "#0", "10000")],
            [output("SG-IN-017", "seed cotton", "5201.00", amount, unit)],
            now,
            now,
        ),
    )
    world.ids["t:farm-gin-amount"] = amount
    w, s = world, world.s
    now = w.at(day("2025-03-05"))
    w.log(
        "ginning",
        s.transform(
            chain.party("gin"),
            chain.facility("gin"),
            "ginning",
            [(w.ids["t:farm-gin"] + "#0", amount)],
            [
                output("SG-B-0881..0900", "cotton lint", "5201.00", "20", "bales", "3600"),
                output("SG-CS-0881", "cotton seed", "1207.21", "6000"),
            ],
            now,
            now,
        ),
    )
    w.log(
        "t:gin-spinner",
        s.transfer(
            chain.party("gin"),
            chain.party("spinner"),
            [(w.ids["ginning"] + "#0", "20")],
            [output("CSL-IN-25-0042", "cotton lint", "5201.00", "20", "bales", "3600")],
            w.at(day("2025-03-08")),
            w.clock.now,
        ),
    )
    _rest(chain)
    assert world.verify().findings == ()


# -- origins ------------------------------------------------------------------------------


def _spinner_origin(w: World, chain: CottonChain) -> Any:
    now = w.at(day("2025-03-12"))
    yarn = [output("CSL-Y-30S-0042", "combed cotton yarn 30s", "5205.26", "3200")]
    return w.s.origin(
        chain.party("spinner"),
        chain.facility("spinner"),
        "combed cotton yarn 30s",
        "5205.26",
        yarn,
        "2025-03-12",
        now,
    )


def test_a_spinner_cannot_declare_its_yarn_an_origin(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    with pytest.raises(MaterialError) as refused:
        _spinner_origin(world, chain)
    assert "no origin process" in refused.value.message
    with bypass(monkeypatch):
        world.log("spinning", _spinner_origin(world, chain))
    now = world.at(day("2025-03-15"))
    world.log(
        "t:spinner-knitter",
        world.s.transfer(
            chain.party("spinner"),
            chain.party("knitter"),
            [(world.ids["spinning"] + "#0", "3200")],
            [output("GKF-IN-0042", "combed cotton yarn 30s", "5205.26", "3200")],
            now,
            now,
        ),
    )
    chain.knit()
    chain.sew()
    chain.ship()
    found = only(world, "MATERIAL")
    assert [f["attestation"] for f in found] == [world.ids["spinning"]]
    message = found[0]["message"]
    assert "origin at Coimbatore Mill No. 2 (facility:coimbatore-mill-2)" in message
    assert "of Coimbatore Spinners Limited (party:coimbatore-spinners)" in message
    assert "on 2025-03-12 (production date)" in message
    assert "combed cotton yarn 30s (HS 5205.26)" in message
    _same_offline(world)


def test_a_farm_declares_seed_cotton_not_lint(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lint comes out of a gin: a farm's origin of lint cuts the gin out of the chain."""
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    now = world.at(day("2025-03-02"))
    lint = [output("SC-2025-017", "cotton lint", "5201.00", "10000")]
    args = (chain.party("farm"), chain.facility("farm"), "cotton lint", "5201.00", lint)
    with pytest.raises(MaterialError) as refused:
        world.s.origin(*args, "2025-03-01", now)
    assert "processed good" in refused.value.message


def test_a_wafer_plant_cannot_declare_polysilicon_an_origin(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-origination in the solar chain: the upstream smelter and refinery vanish."""
    SolarChain(world).build()
    now = world.at(day("2025-05-10"))
    poly = [output("PW-PS-9", "polysilicon", "2804.61", "8000")]
    args = ("party:penang-wafer", "facility:penang-wafer", "polysilicon", "2804.61", poly)
    with pytest.raises(MaterialError) as refused:
        world.s.origin(*args, "2025-05-09", now)
    assert "no origin process" in refused.value.message
    assert "ingot-casting, wafering" in refused.value.message


# -- transformations ----------------------------------------------------------------------


def test_a_smelter_cannot_make_polysilicon_from_quartz(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = list(SOLAR_STEPS)
    steps[0] = ("smelter", "smelting", "NS-MG-7", "polysilicon", "2804.61", "10000", "kg", None)
    with pytest.raises(MaterialError):
        SolarChain(world).build(steps=steps)


def test_polysilicon_from_a_smelter_is_caught_by_the_verifier(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = list(SOLAR_STEPS)
    steps[0] = ("smelter", "smelting", "NS-MG-7", "polysilicon", "2804.61", "10000", "kg", None)
    with bypass(monkeypatch):
        SolarChain(world).build(steps=steps)
    found = only(world, "MATERIAL")
    assert [f["attestation"] for f in found] == [world.ids["smelter"]]
    message = found[0]["message"]
    assert "smelting at Nordic Silicon Smelter (facility:nordic-smelter)" in message
    assert "polysilicon (HS 2804.61)" in message and "high-purity quartz (HS 2506.10)" in message
    _same_offline(world)


def test_spinning_cannot_make_garments(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    chain = _cotton_up_to_gin(world)
    chain.gin()
    shirts = output("CSL-Y-30S-0042", "men's cotton T-shirts", "6109.10", "3200")
    with pytest.raises(MaterialError):
        chain.spin(yarn=shirts, transfer=False)


def test_clean_polysilicon_chain_has_no_material_findings(world: World) -> None:
    SolarChain(world).build()
    assert world.verify().findings == ()


# -- the rules data -----------------------------------------------------------------------


def test_hs_headings_classify_as_the_nomenclature_says() -> None:
    rules = default_material_rules()

    def classes(name: str, hs: str) -> set[str]:
        return set(rules.classify({"name": name, "hs_code": hs}))

    assert classes("seed cotton", "5201.00") == {"seed-cotton"}
    assert classes("cotton lint", "520100") == {"cotton-lint"}
    assert classes("raw cotton", "5201") == {"seed-cotton", "cotton-lint"}  # either may be meant
    assert classes("cotton seed", "1207.29") == {"cottonseed"}
    assert classes("metallurgical-grade silicon", "2804.69.10") == {"metallurgical-silicon"}
    assert classes("polysilicon", "2804.61.00") == {"polysilicon"}
    assert classes("quartz sand", "2505.10") == {"quartz"}
    assert classes("fresh tomatoes", "0702.00") == {"fresh-produce"}
    assert classes("tomato paste", "2002.90") == {"processed-produce"}
    assert classes("unknown", "9999.99") == set()
    assert classes("silicon metal", "2804") == {"metallurgical-silicon"}  # a heading only
    assert classes("polysilicon", "2804") == {"polysilicon"}
    assert classes("silicon", "2804") == {
        "metallurgical-silicon",
        "polysilicon",
        "undoped-wafers",
    }  # the route that made a lot settles which (ledger.lineage.Lineage)
    assert classes("as-cut wafers", "2804.61") == {"undoped-wafers"}
    assert classes("polycrystalline wafers", "2804.61") == {"polysilicon", "undoped-wafers"}
    assert classes("PV cells", "8541.40") == {"solar-cells"}  # HS 2017
    assert classes("PV modules", "8541.40") == {"solar-modules"}
    assert rules.can_make("ginning", [frozenset({"seed-cotton"})], frozenset({"cottonseed"}))
    assert not rules.can_make("spinning", [frozenset({"seed-cotton"})], frozenset({"yarn"}))
    assert rules.originable(["harvesting"]) == rules.originable(["farming"])
