"""Does an entry declare the goods its chain accounts for? (step 12, MATERIAL)

A shipment's HTS lines say what crosses the border; its inputs say which lots the chain
proves. A clean chain proves nothing about goods it does not cover: a line of goods in
an HS chapter no consumed lot is in, or more goods of a chapter than the lots of that
chapter consumed, is material the chain does not account for.

The judgement leans to the honest importer wherever the two sides may differ in good
faith. Lines and lots are matched by chapter, not heading (a supplier's heading and
CBP's classification of the same goods may differ: 6109 against 6110). Chapters 98 and
99 are provisions and additional duties, not goods. Each figure is allowed half a unit
of the precision it is written in. Pieces and dozens are counted together, pairs only
as pairs, other units only as themselves; mass lines are weighed against lots in mass
units or with a ``mass_kg``, a partly consumed lot weighing at most its whole mass (its
pieces need not weigh the same). Lines in a unit that cannot be compared with the lots
(metres against kilograms without a mass) are not judged: the HTSUS fixes a line's unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ledger.materials import Consumed, Problem, hs_digits
from ledger.quantities import Mass, half_unit, three_places

NOT_GOODS = ("98", "99")
COUNTED = frozenset({"pcs", "dozen"})
MAX_LOTS_NAMED = 3


def _chapter(code: str) -> str:
    return hs_digits(code)[:2]


def _lots_words(taken: Sequence[Consumed]) -> str:
    words = list(
        dict.fromkeys(
            f"{c.output['material']['name']} (HS {c.output['material']['hs_code']}, "
            f"lot {c.output['lot']})"
            for c in taken
        )
    )
    if len(words) > MAX_LOTS_NAMED:
        rest = len(words) - MAX_LOTS_NAMED
        words = [*words[:MAX_LOTS_NAMED], f"{rest} more lot{'s' if rest > 1 else ''}"]
    return ", ".join(words)


def entry_problems(
    inputs: Sequence[Consumed],
    lines: Sequence[dict[str, Any]],
    to_kg: dict[str, Decimal],
    pieces: dict[str, Decimal],
) -> list[Problem]:
    """Why an entry's lines are goods its consumed lots do not account for."""
    chapters = [_chapter(c.output["material"]["hs_code"]) for c in inputs]
    problems: list[Problem] = []
    lines_of: dict[str, list[dict[str, Any]]] = {}
    for number, line in enumerate(lines, start=1):
        chapter = _chapter(line["hts_code"])
        if chapter in NOT_GOODS:
            continue
        if chapter in chapters:
            lines_of.setdefault(chapter, []).append(line)
            continue
        problems.append(
            Problem(
                "MATERIAL",
                f"line {number} ({line['description']}, HTS {line['hts_code']}) is goods "
                f"of HS chapter {chapter}, but no lot the shipment consumes is: it consumes "
                f"only {_lots_words(inputs)}",
            )
        )
    for chapter, given in lines_of.items():
        taken = [c for c, ch in zip(inputs, chapters, strict=True) if ch == chapter]
        problem = _counted_excess(given, taken, to_kg, pieces) or _mass_excess(given, taken, to_kg)
        if problem is not None:
            problems.append(
                Problem(
                    "MATERIAL",
                    f"its lines declare {problem[0]} of HS chapter {chapter}, more than "
                    f"the {problem[1]} of the lots of that chapter it consumes "
                    f"({_lots_words(taken)}): its chain does not account for the rest",
                )
            )
    return problems


def _counted_excess(
    given: Sequence[dict[str, Any]],
    taken: Sequence[Consumed],
    to_kg: dict[str, Decimal],
    pieces: dict[str, Decimal],
) -> tuple[str, str] | None:
    """Lines counted in the lots' (non-mass) unit that exceed them: words of both sides."""
    lot_units = {c.output["quantity"]["unit"] for c in taken}
    if lot_units <= COUNTED:
        factor = {u: pieces[u] for u in COUNTED}
        unit = "pcs"
    elif len(lot_units) == 1 and not lot_units & set(to_kg):
        unit = next(iter(lot_units))
        factor = {unit: Decimal(1)}
    else:
        return None
    counted = [line["quantity"] for line in given if line["quantity"]["unit"] in factor]
    if not counted:
        return None
    entered = sum((Decimal(q["amount"]) * factor[q["unit"]] for q in counted), Decimal(0))
    slack = sum((half_unit(q["amount"]) * factor[q["unit"]] for q in counted), Decimal(0))
    consumed = sum((c.amount * factor[c.output["quantity"]["unit"]] for c in taken), Decimal(0))
    if entered - slack <= consumed:
        return None
    words = f"{entered.normalize():f} {unit}"
    if any(q["unit"] != unit for q in counted):
        words += " (" + " + ".join(f"{q['amount']} {q['unit']}" for q in counted) + ")"
    return words, f"{consumed.normalize():f} {unit}"


def _mass_excess(
    given: Sequence[dict[str, Any]], taken: Sequence[Consumed], to_kg: dict[str, Decimal]
) -> tuple[str, str] | None:
    """Lines in mass units that weigh more than the lots consumed can: words of both."""
    weighed = [line["quantity"] for line in given if line["quantity"]["unit"] in to_kg]
    masses = [_most_mass(c, to_kg) for c in taken]
    known = [m for m in masses if m is not None]
    if not weighed or len(known) < len(masses):
        return None
    entered = sum((Decimal(q["amount"]) * to_kg[q["unit"]] for q in weighed), Decimal(0))
    slack = sum((half_unit(q["amount"]) * to_kg[q["unit"]] for q in weighed), Decimal(0))
    consumed = sum((m.kg for m in known), Decimal(0))
    slack += sum((m.slack for m in known), Decimal(0))
    if entered - slack <= consumed:
        return None
    return f"{three_places(entered)} kg", f"{three_places(consumed)} kg"


def _most_mass(c: Consumed, to_kg: dict[str, Decimal]) -> Mass | None:
    """The most the part of a lot consumed can weigh: its share of a mass amount, or
    (counted in other units) the lot's whole ``mass_kg``, none when it has neither."""
    quantity, mass_kg = c.output["quantity"], c.output.get("mass_kg")
    if quantity["unit"] in to_kg:
        k = to_kg[quantity["unit"]]
        return Mass(c.amount * k, half_unit(quantity["amount"]) * k)
    if mass_kg is None:
        return None
    whole = Decimal(quantity["amount"])
    share = c.amount / whole if whole and c.amount > whole else Decimal(1)
    return Mass(Decimal(mass_kg) * share, half_unit(mass_kg) * share)
