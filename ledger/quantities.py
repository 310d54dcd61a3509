"""Quantities as written: the rounding a figure allows, and a lot's mass.

A figure is taken to be correctly rounded to the last decimal place it is written to,
so it may be off by half a unit of that place (``22046.23`` lb by 0.005 lb). Mass comes
from an amount in a mass unit (converted exactly by ``units.json``) or, in any other
unit, pro rata from the lot's declared ``mass_kg``. Decimals only, never floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any


def three_places(value: Decimal) -> str:
    """A computed figure for a message: rounded to three decimal places, no trailing zeros."""
    return f"{value.quantize(Decimal('0.001')).normalize():f}"


def half_unit(figure: str | Decimal) -> Decimal:
    """Half a unit of the last decimal place ``figure`` is written to (``22046.23`` ->
    ``0.005``, ``22047`` -> ``0.5``): how far a correctly rounded figure may be off."""
    exponent = Decimal(figure).as_tuple().exponent
    assert isinstance(exponent, int)
    return Decimal(5).scaleb(exponent - 1)


@dataclass(frozen=True)
class Mass:
    """A mass in kg and how far it may be off by the rounding of the figures it comes from."""

    kg: Decimal
    slack: Decimal


def quantity_mass(
    quantity: dict[str, Any], mass_kg: str | None, to_kg: dict[str, Decimal], share: Decimal
) -> Mass | None:
    """The mass of ``share`` of a lot: from its amount in a mass unit, else from its
    ``mass_kg`` pro rata; None when it has neither."""
    amount, unit = Decimal(quantity["amount"]), quantity["unit"]
    if unit in to_kg:
        return Mass(share * to_kg[unit], half_unit(quantity["amount"]) * to_kg[unit])
    if mass_kg is None or not amount:
        return None
    ratio = share / amount
    return Mass(ratio * Decimal(mass_kg), ratio * half_unit(mass_kg))


def mass_conflict(output: dict[str, Any], to_kg: dict[str, Decimal]) -> str | None:
    """Why an output's ``mass_kg`` contradicts its amount in a mass unit, or None.

    Both figures are allowed the rounding of the precision they are written in."""
    quantity, mass_kg = output["quantity"], output.get("mass_kg")
    unit = quantity["unit"]
    if mass_kg is None or unit not in to_kg:
        return None
    converted = Decimal(quantity["amount"]) * to_kg[unit]
    slack = half_unit(quantity["amount"]) * to_kg[unit] + half_unit(mass_kg)
    if abs(converted - Decimal(mass_kg)) <= slack:
        return None
    as_kg = "" if unit == "kg" else f" ({three_places(converted)} kg)"
    return (
        f"lot {output['lot']} is declared as {quantity['amount']} {unit}{as_kg} "
        f"but with mass_kg {mass_kg}: its two masses disagree"
    )
