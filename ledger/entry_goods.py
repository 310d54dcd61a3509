"""Does an entry declare the goods its chain accounts for? (step 12, MATERIAL)

A shipment's HTS lines say what crosses the border; its inputs say which lots the
chain proves. A clean chain proves nothing about goods it does not cover: a line under
a heading no consumed lot has, or more of a heading than the lots consumed under it,
is material the chain does not account for. Amounts are compared as transfers compare
them (one unit or countable units exactly, mass units converted, each figure allowed the
rounding of its precision); where the line's unit and the lots' cannot be compared
(metres against kilograms without a mass), nothing is said: the HTSUS fixes a line's
reporting unit, so an honest entry may well differ from its lots there.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ledger.materials import Consumed, Problem, describe, heading
from ledger.quantities import quantity_mass


def _lots_words(taken: Sequence[Consumed]) -> str:
    words = [f"{describe(c.output['material'])} (lot {c.output['lot']})" for c in taken]
    return ", ".join(dict.fromkeys(words))


def _fmt(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.001')).normalize():f}"


def entry_problems(
    inputs: Sequence[Consumed],
    lines: Sequence[dict[str, Any]],
    to_kg: dict[str, Decimal],
    pieces: dict[str, Decimal],
) -> list[Problem]:
    """Why an entry's lines are goods its consumed lots do not account for."""
    heads = [heading(c.output["material"]["hs_code"]) for c in inputs]
    problems: list[Problem] = []
    lines_of: dict[str, list[dict[str, Any]]] = {}
    for number, line in enumerate(lines, start=1):
        head = heading(line["hts_code"])
        if head in heads:
            lines_of.setdefault(head, []).append(line)
            continue
        problems.append(
            Problem(
                "MATERIAL",
                f"line {number} ({line['description']}, HTS {line['hts_code']}) is "
                f"goods of heading {head}, but the shipment consumes only "
                f"{_lots_words(inputs)}: its chain accounts for no goods of that heading",
            )
        )
    for head, given in lines_of.items():
        taken = [c for c, h in zip(inputs, heads, strict=True) if h == head]
        problem = _more_entered(head, given, taken, to_kg, pieces)
        if problem is not None:
            problems.append(problem)
    return problems


def _more_entered(
    head: str,
    given: Sequence[dict[str, Any]],
    taken: Sequence[Consumed],
    to_kg: dict[str, Decimal],
    pieces: dict[str, Decimal],
) -> Problem | None:
    """The lines of one heading declare more than the lots of that heading consumed."""
    units = {line["quantity"]["unit"] for line in given}
    units |= {c.output["quantity"]["unit"] for c in taken}
    tail = (
        f"of heading {head} but the shipment consumes only {{consumed}} of "
        f"{_lots_words(taken)}: its chain does not account for the rest"
    )
    if len(units) == 1 or units <= set(pieces):
        one = len(units) == 1
        unit = next(iter(units)) if one else "pcs"
        factor = {u: Decimal(1) if one else pieces[u] for u in units}
        entered = sum(
            (
                Decimal(line["quantity"]["amount"]) * factor[line["quantity"]["unit"]]
                for line in given
            ),
            Decimal(0),
        )
        consumed = sum((c.amount * factor[c.output["quantity"]["unit"]] for c in taken), Decimal(0))
        if entered <= consumed:
            return None
        return Problem(
            "MATERIAL",
            f"its lines declare {entered.normalize():f} {unit} "
            + tail.format(consumed=f"{consumed.normalize():f} {unit}"),
        )
    entered_mass = [
        quantity_mass(line["quantity"], None, to_kg, Decimal(line["quantity"]["amount"]))
        for line in given
    ]
    consumed_mass = [
        quantity_mass(c.output["quantity"], c.output.get("mass_kg"), to_kg, c.amount) for c in taken
    ]
    known_entered = [m for m in entered_mass if m is not None]
    known_consumed = [m for m in consumed_mass if m is not None]
    if len(known_entered) < len(given) or len(known_consumed) < len(taken):
        return None  # not comparable: said nothing about (see the module's docstring)
    entered_kg = sum((m.kg for m in known_entered), Decimal(0))
    consumed_kg = sum((m.kg for m in known_consumed), Decimal(0))
    slack = sum((m.slack for m in (*known_entered, *known_consumed)), Decimal(0))
    if entered_kg - consumed_kg < slack or entered_kg <= consumed_kg:
        return None
    return Problem(
        "MATERIAL",
        f"its lines declare {_fmt(entered_kg)} kg "
        + tail.format(consumed=f"{_fmt(consumed_kg)} kg"),
    )
