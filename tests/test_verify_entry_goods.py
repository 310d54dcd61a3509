"""Step 12 (MATERIAL) on the entry itself: its HTS lines are goods its chain accounts for.

A clean chain of 12,000 T-shirts (2,400 kg) proves nothing about a second heading on
the same entry, or about 30,000 T-shirts entered against it.
"""

from __future__ import annotations

from typing import Any

import pytest

from verify_fixtures import (
    ENTRY_NUMBER,
    CottonChain,
    World,
    only,
    world_fixture,  # noqa: F401 - the `world` fixture
)


def line(hts: str, amount: str, unit: str, description: str = "Men's cotton knit T-shirts") -> Any:
    return {
        "hts_code": hts,
        "description": description,
        "quantity": {"amount": amount, "unit": unit},
    }


def ship(w: World, lines: list[dict[str, Any]], consumed: str = "12000", **sew: str) -> str:
    chain = CottonChain(w)
    chain.actors()
    chain.certify()
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit):
        stage()
    chain.sew(**sew)
    return chain.ship(pieces=consumed, lines=lines)


TSHIRTS = "6109.10.0012"


@pytest.mark.parametrize(
    ("lines", "consumed", "sew"),
    [
        ([line(TSHIRTS, "12000", "pcs")], "12000", {}),
        ([line(TSHIRTS, "1000", "dozen")], "12000", {}),  # 12,000 pieces
        ([line(TSHIRTS, "7000", "pcs"), line("6109.10.0040", "5000", "pcs")], "12000", {}),
        ([line(TSHIRTS, "2400", "kg")], "12000", {}),  # the lot's mass_kg
        ([line(TSHIRTS, "5291", "lb")], "12000", {}),  # 2,400 kg is 5,291.09 lb
        ([line(TSHIRTS, "2.4", "t")], "12000", {}),
        ([line(TSHIRTS, "900", "pcs")], "12000", {}),  # less than consumed: no claim
        ([line(TSHIRTS, "5000", "m2")], "12000", {}),  # not comparable: nothing said
        # honest rounding: whole dozens and whole kilograms on the entry
        ([line(TSHIRTS, "1001", "dozen")], "12006", {"pieces": "12006"}),
        ([line(TSHIRTS, "2400", "kg")], "12000", {"mass_kg": "2399.6"}),
        # half a lot of mixed sizes may weigh more than half its mass: at most all of it
        ([line(TSHIRTS, "1300", "kg")], "6000", {}),
        # another heading of the same chapter (the importer's classification) counts
        ([line("6110.20.2079", "12000", "pcs", "Cotton knit tops")], "12000", {}),
        # chapter 99 numbers (additional duties) are not goods
        ([line(TSHIRTS, "12000", "pcs"), line("9903.01.25", "12000", "pcs")], "12000", {}),
    ],
)
def test_entries_the_chain_accounts_for_pass(
    world: World, lines: list[dict[str, Any]], consumed: str, sew: dict[str, str]
) -> None:
    ship(world, lines, consumed, **sew)
    verdict = world.verify()
    assert "MATERIAL" not in verdict.codes(), [f.to_json() for f in verdict.findings]
    assert verdict.status == "pass", [f.to_json() for f in verdict.findings]


def test_a_line_of_a_chapter_no_lot_is_in_fails(world: World) -> None:
    lines = [
        line(TSHIRTS, "12000", "pcs"),
        line("8541.43.0010", "3000", "pcs", "Photovoltaic modules"),
    ]
    shipment = ship(world, lines)
    (finding,) = only(world, "MATERIAL")
    assert finding["attestation"] == shipment
    message = finding["message"]
    assert "line 2 (Photovoltaic modules, HTS 8541.43.0010)" in message
    assert "HS chapter 85" in message
    assert "men's cotton T-shirts (HS 6109.10, lot ACME-PO-7781)" in message
    assert message.startswith(f"entry {ENTRY_NUMBER} (arrival date 2025-04-18): ")


@pytest.mark.parametrize(
    ("lines", "consumed", "words"),
    [
        ([line(TSHIRTS, "30000", "pcs")], "12000", "declare 30000 pcs"),
        ([line(TSHIRTS, "12000", "pcs")], "6000", "than the 6000 pcs"),
        ([line(TSHIRTS, "1002", "dozen")], "12000", "declare 12024 pcs (1002 dozen)"),
        (
            [line(TSHIRTS, "8000", "pcs"), line("6109.10.0040", "8000", "pcs")],
            "12000",
            "declare 16000 pcs",
        ),
        (
            [line(TSHIRTS, "12000", "pcs"), line("6110.20.2079", "3000", "pcs", "Tops")],
            "12000",
            "declare 15000 pcs",
        ),
        # a line in another unit does not hide the lines that can be counted
        ([line(TSHIRTS, "30000", "pcs"), line(TSHIRTS, "1", "kg")], "12000", "declare 30000"),
        ([line(TSHIRTS, "2500", "kg")], "12000", "declare 2500 kg"),
        ([line(TSHIRTS, "2500", "kg")], "6000", "than the 2400 kg"),
        ([line(TSHIRTS, "5300", "lb")], "12000", "declare 2404.04 kg"),
    ],
)
def test_more_entered_than_the_chain_covers_fails(
    world: World, lines: list[dict[str, Any]], consumed: str, words: str
) -> None:
    shipment = ship(world, lines, consumed)
    (finding,) = only(world, "MATERIAL")
    assert finding["attestation"] == shipment
    assert words in finding["message"], finding["message"]
    assert "of HS chapter 61" in finding["message"]
    assert "does not account for the rest" in finding["message"]
