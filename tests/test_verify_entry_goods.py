"""Step 12 (MATERIAL) on the entry itself: its HTS lines are goods its chain accounts for.

A clean chain of 12,000 T-shirts (2,400 kg) proves nothing about a second heading on
the same entry, or about 30,000 T-shirts entered against it.
"""

from __future__ import annotations

from typing import Any

import pytest

from verify_fixtures import (
    ENTRY_NUMBER,
    IMPORTER,
    CottonChain,
    World,
    day,
    only,
    world_fixture,  # noqa: F401 - the `world` fixture
)


def line(hts: str, amount: str, unit: str, description: str = "Men's cotton knit T-shirts") -> Any:
    return {
        "hts_code": hts,
        "description": description,
        "quantity": {"amount": amount, "unit": unit},
    }


def ship(w: World, lines: list[dict[str, Any]], consumed: str = "12000") -> str:
    chain = CottonChain(w)
    chain.actors()
    chain.certify()
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew):
        stage()
    now = w.at(day("2025-04-10"))
    garment = chain.party("garment")
    return w.log(
        "shipment",
        w.s.shipment(
            IMPORTER,
            ENTRY_NUMBER,
            [(w.ids["t:garment-importer"] + "#0", consumed)],
            garment,
            garment,
            "BD",
            "2025-04-18",
            now,
            lines=lines,
        ),
    )


@pytest.mark.parametrize(
    ("lines", "consumed"),
    [
        ([line("6109.10.0012", "12000", "pcs")], "12000"),
        ([line("6109.10.0012", "1000", "dozen")], "12000"),  # 12,000 pieces
        ([line("6109.10.0012", "7000", "pcs"), line("6109.10.0040", "5000", "pcs")], "12000"),
        ([line("6109.10.0012", "2400", "kg")], "12000"),  # the lot's mass_kg
        ([line("6109.10.0012", "5291", "lb")], "12000"),  # 2,400 kg is 5,291.09 lb
        ([line("6109.10.0012", "2.4", "t")], "12000"),
        ([line("6109.10.0012", "1200", "kg")], "6000"),  # half the lot, half its mass
        ([line("6109.10.0012", "900", "pcs")], "12000"),  # less than consumed: no claim
        ([line("6109.10.0012", "5000", "m2")], "12000"),  # not comparable: nothing said
    ],
)
def test_entries_the_chain_accounts_for_pass(
    world: World, lines: list[dict[str, Any]], consumed: str
) -> None:
    ship(world, lines, consumed)
    verdict = world.verify()
    assert "MATERIAL" not in verdict.codes(), [f.to_json() for f in verdict.findings]
    assert verdict.status == "pass", [f.to_json() for f in verdict.findings]


def test_a_line_under_a_heading_no_lot_has_fails(world: World) -> None:
    lines = [
        line("6109.10.0012", "12000", "pcs"),
        line("6110.20.2079", "3000", "pcs", "Cotton pullovers"),
    ]
    shipment = ship(world, lines)
    (finding,) = only(world, "MATERIAL")
    assert finding["attestation"] == shipment
    assert "line 2 (Cotton pullovers, HTS 6110.20.2079)" in finding["message"]
    assert "heading 6110" in finding["message"]
    assert "men's cotton T-shirts (HS 6109.10) (lot ACME-PO-7781)" in finding["message"]
    assert f"entry {ENTRY_NUMBER} (arrival date 2025-04-18)" in finding["message"]


@pytest.mark.parametrize(
    ("lines", "consumed", "words"),
    [
        ([line("6109.10.0012", "30000", "pcs")], "12000", "declare 30000 pcs"),
        ([line("6109.10.0012", "12000", "pcs")], "6000", "consumes only 6000 pcs"),
        ([line("6109.10.0012", "1001", "dozen")], "12000", "declare 12012 pcs"),
        (
            [line("6109.10.0012", "8000", "pcs"), line("6109.10.0040", "8000", "pcs")],
            "12000",
            "declare 16000 pcs",
        ),
        ([line("6109.10.0012", "2500", "kg")], "12000", "declare 2500 kg"),
        ([line("6109.10.0012", "2400", "kg")], "6000", "consumes only 1200 kg"),
        ([line("6109.10.0012", "5300", "lb")], "12000", "declare 2404.04 kg"),
    ],
)
def test_more_entered_than_the_chain_covers_fails(
    world: World, lines: list[dict[str, Any]], consumed: str, words: str
) -> None:
    shipment = ship(world, lines, consumed)
    (finding,) = only(world, "MATERIAL")
    assert finding["attestation"] == shipment
    assert words in finding["message"], finding["message"]
    assert "of heading 6109" in finding["message"]
    assert "does not account for the rest" in finding["message"]
