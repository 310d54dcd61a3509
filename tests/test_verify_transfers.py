"""A transfer passes on no more than it consumes (MATERIAL), in any unit it can be compared in.

Amounts in one unit compare exactly; across units, by mass, each figure allowed half a
unit of the last decimal place it is written to. A transfer that passes on more is
MATERIAL (refused at append, and caught by the verifier when slipped past); UNIT only
when the amounts cannot be compared at all.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ledger.errors import MaterialError
from ledger.materials import (
    Consumed,
    default_mass_units,
    default_material_rules,
    default_piece_units,
    transfer_problems,
)
from ledger.scenario import output
from ledger.verify import build_bundle, verify_bundle
from verify_bypass import bypass
from verify_fixtures import (
    CottonChain,
    World,
    day,
    only,
    world_fixture,  # noqa: F401 - the `world` fixture
)


def _same_offline(w: World) -> None:
    online = w.verify(now=w.clock.now)
    bundle = build_bundle(w.ledger, w.ids["shipment"], now=w.clock.now)
    offline = verify_bundle(json.dumps(bundle).encode(), w.ledger.trust, now=w.clock.now)
    assert offline.to_json() == online.to_json()


def _seed_cotton_sold_as(w: World, amount: str, unit: str) -> None:
    """A farm's 10000 kg of seed cotton sold to the gin as ``amount unit``, then ginned
    (the gin consumes the whole lot in its own unit) and carried on to the shipment."""
    chain = CottonChain(w)
    chain.actors()
    chain.certify()
    farm, gin = chain.party("farm"), chain.party("gin")
    now = w.at(day("2025-03-02"))
    seed = [output("SC-2025-017", "seed cotton", "5201.00", "10000")]
    origin = w.log(
        "origin",
        w.s.origin(farm, chain.facility("farm"), "seed cotton", "5201.00", seed, "2025-03-01", now),
    )
    now = w.at(day("2025-03-03"))
    sold = [output("SG-IN-017", "seed cotton", "5201.00", amount, unit)]
    w.log("t:farm-gin", w.s.transfer(farm, gin, [(origin + "#0", "10000")], sold, now, now))
    now = w.at(day("2025-03-05"))
    ginned = [
        output("SG-B-0881..0900", "cotton lint", "5201.00", "20", "bales", "3600"),
        output("SG-CS-0881", "cotton seed", "1207.21", "6000"),
    ]
    w.log(
        "ginning",
        w.s.transform(
            gin,
            chain.facility("gin"),
            "ginning",
            [(w.ids["t:farm-gin"] + "#0", amount)],
            ginned,
            now,
            now,
        ),
    )
    now = w.at(day("2025-03-08"))
    lint = [output("CSL-IN-25-0042", "cotton lint", "5201.00", "20", "bales", "3600")]
    w.log(
        "t:gin-spinner",
        w.s.transfer(
            gin, chain.party("spinner"), [(w.ids["ginning"] + "#0", "20")], lint, now, now
        ),
    )
    chain.spin()
    chain.knit()
    chain.sew()
    chain.ship()


@pytest.mark.parametrize(
    "amount,unit",
    [
        ("22046", "lb"),  # whole pounds, rounded down
        ("22046.23", "lb"),  # 22046.226 lb rounded to the cent
        ("22047", "lb"),  # whole pounds, rounded up: within the rounding of both figures
        ("22046.2", "lb"),
        ("10", "t"),
        ("10.0004", "t"),
        ("10000000", "g"),
    ],
)
def test_mass_rounded_to_the_precision_it_is_written_in_passes(
    world: World, amount: str, unit: str
) -> None:
    _seed_cotton_sold_as(world, amount, unit)
    assert world.verify().findings == ()
    _same_offline(world)


@pytest.mark.parametrize(
    "amount,unit,passed,consumed",
    [("10.001", "t", "10001", "10000"), ("22100", "lb", "10024.391", "10000")],
)
def test_more_mass_in_another_unit_is_refused_and_caught(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    amount: str,
    unit: str,
    passed: str,
    consumed: str,
) -> None:
    """10.001 t from 10000 kg: 1 kg more than both figures' rounding (0.5 kg each) allows."""
    with pytest.raises(MaterialError) as refused:
        _seed_cotton_sold_as(world, amount, unit)
    assert f"passes on {passed} kg of seed cotton" in refused.value.message
    with bypass(monkeypatch):
        world.log("t:farm-gin", world.s.transfer(*_last_transfer_args(world, amount, unit)))
    _finish_after_farm_gin(world, amount)
    found = only(world, "MATERIAL")
    assert [f["attestation"] for f in found] == [world.ids["t:farm-gin"]]
    assert (
        f"passes on {passed} kg of seed cotton (HS 5201.00) but consumes only {consumed} kg"
        in (found[0]["message"])
    )
    _same_offline(world)


def _last_transfer_args(w: World, amount: str, unit: str) -> tuple[object, ...]:
    chain = CottonChain(w)
    sold = [output("SG-IN-017", "seed cotton", "5201.00", amount, unit)]
    now = w.at(day("2025-03-03"))
    origin = w.ids["origin"]
    return (chain.party("farm"), chain.party("gin"), [(origin + "#0", "10000")], sold, now, now)


def _finish_after_farm_gin(w: World, amount: str) -> None:
    chain = CottonChain(w)
    gin = chain.party("gin")
    now = w.at(day("2025-03-05"))
    ginned = [
        output("SG-B-0881..0900", "cotton lint", "5201.00", "20", "bales", "3600"),
        output("SG-CS-0881", "cotton seed", "1207.21", "6000"),
    ]
    w.log(
        "ginning",
        w.s.transform(
            gin,
            chain.facility("gin"),
            "ginning",
            [(w.ids["t:farm-gin"] + "#0", amount)],
            ginned,
            now,
            now,
        ),
    )
    now = w.at(day("2025-03-08"))
    lint = [output("CSL-IN-25-0042", "cotton lint", "5201.00", "20", "bales", "3600")]
    w.log(
        "t:gin-spinner",
        w.s.transfer(
            gin, chain.party("spinner"), [(w.ids["ginning"] + "#0", "20")], lint, now, now
        ),
    )
    chain.spin()
    chain.knit()
    chain.sew()
    chain.ship()


def _gin_lint_in_pounds(w: World) -> CottonChain:
    """The gin reports its lint as 7900 lb (3583.38 kg)."""
    chain = CottonChain(w)
    chain.actors()
    chain.certify()
    chain.farm()
    now = w.at(day("2025-03-05"))
    ginned = [
        output("SG-B", "cotton lint", "5201.00", "7900", "lb"),
        output("SG-CS", "cotton seed", "1207.21", "6000"),
    ]
    w.log(
        "ginning",
        w.s.transform(
            chain.party("gin"),
            chain.facility("gin"),
            "ginning",
            [(w.ids["t:farm-gin"] + "#0", "10000")],
            ginned,
            now,
            now,
        ),
    )
    return chain


def test_pounds_relabelled_as_kilograms_in_a_transfer(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = _gin_lint_in_pounds(world)
    args = (
        chain.party("gin"),
        chain.party("spinner"),
        [(world.ids["ginning"] + "#0", "7900")],
        [output("CSL-IN", "cotton lint", "5201.00", "7900", "kg")],
        world.at(day("2025-03-08")),
        world.clock.now,
    )
    with pytest.raises(MaterialError):
        world.s.transfer(*args)
    with bypass(monkeypatch):
        world.log("t:gin-spinner", world.s.transfer(*args))
    chain.spin(bales="7900", yarn=output("CSL-Y", "combed cotton yarn 30s", "5205.26", "3200"))
    chain.knit()
    chain.sew()
    chain.ship()
    found = only(world, "MATERIAL")
    assert [f["attestation"] for f in found] == [world.ids["t:gin-spinner"]]
    assert (
        "passes on 7900 kg of cotton lint (HS 5201.00) but consumes only 3583.38 kg"
        in (found[0]["message"])
    )
    _same_offline(world)


def test_pounds_sold_on_in_kilograms_passes(world: World) -> None:
    chain = _gin_lint_in_pounds(world)
    world.log(
        "t:gin-spinner",
        world.s.transfer(
            chain.party("gin"),
            chain.party("spinner"),
            [(world.ids["ginning"] + "#0", "7900")],
            [output("CSL-IN", "cotton lint", "5201.00", "3583.4", "kg")],
            world.at(day("2025-03-08")),
            world.clock.now,
        ),
    )
    chain.spin(bales="3583.4", yarn=output("CSL-Y", "combed cotton yarn 30s", "5205.26", "3200"))
    chain.knit()
    chain.sew()
    chain.ship()
    assert world.verify().findings == ()


def test_more_bales_than_consumed_is_material(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    chain.farm()
    more = [output("CSL-IN-25-0042", "cotton lint", "5201.00", "30", "bales", "5400")]
    with pytest.raises(MaterialError):
        chain.gin(sold=more)
    with bypass(monkeypatch):
        world.log(
            "t:gin-spinner",
            world.s.transfer(
                chain.party("gin"),
                chain.party("spinner"),
                [(world.ids["ginning"] + "#0", "20")],
                more,
                world.at(day("2025-03-08")),
                world.clock.now,
            ),
        )
    chain.spin(bales="30")
    chain.knit()
    chain.sew()
    chain.ship()
    found = only(world, "MATERIAL")
    assert (
        "passes on 30 bales of cotton lint (HS 5201.00) but consumes only 20 bales"
        in (found[0]["message"])
    )
    _same_offline(world)


def test_bales_with_mass_sold_in_kilograms_passes(world: World) -> None:
    """20 bales declared at 3600 kg, invoiced as 3600 kg: comparable by their mass_kg."""
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    chain.farm()
    chain.gin(sold=[output("CSL-IN-25-0042", "cotton lint", "5201.00", "3600")])
    chain.spin(bales="3600")
    chain.knit()
    chain.sew()
    chain.ship()
    assert world.verify().findings == ()


def test_amounts_that_cannot_be_compared_are_unit(world: World) -> None:
    """Bales with a mass sold as pieces with none: no mass, no count in common."""
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    chain.farm()
    chain.gin(sold=[output("CSL-IN-25-0042", "cotton lint", "5201.00", "20", "pcs")])
    chain.spin(bales="20")
    chain.knit()
    chain.sew()
    chain.ship()
    codes = world.verify().codes()
    assert "UNIT" in codes and "MATERIAL" not in codes
    found = [f for f in world.verify().findings if f.code == "UNIT"]
    assert any(
        "in bales and pcs, which cannot be compared" in f.message
        and "mass units (g, kg, lb, t) or countable units (dozen, pairs, pcs)" in f.message
        for f in found
    )


def test_pieces_sold_by_the_dozen_are_counted_exactly() -> None:
    """12000 T-shirts invoiced as 1000 dozen pass; as 1001 dozen, one dozen too many."""
    rules = default_material_rules()
    shirts = output("DAL-TS-0042", "men's cotton T-shirts", "6109.10", "12000", "pcs")
    consumed = [Consumed(shirts, Decimal("12000"))]

    def problems(amount: str) -> list[str]:
        sold = [output("ACME-PO-1", "men's cotton T-shirts", "6109.10", amount, "dozen")]
        found = transfer_problems(
            rules, consumed, sold, default_mass_units(), default_piece_units()
        )
        return [f"{p.code}: {p.text}" for p in found]

    assert problems("1000") == []
    assert problems("1001") == [
        "MATERIAL: the transfer passes on 12012 pcs of men's cotton T-shirts (HS 6109.10) but "
        "consumes only 12000 pcs of it"
    ]
