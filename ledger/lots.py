"""Lots by label: what a party holds, and inputs named by lot label resolved to references.

A body written by hand may name an input by the label printed on the goods
(``{"lot": "LGC-24-0931", "amount": "12"}``); before signing it is resolved against the
issuer's holdings to the ``<attestation id>#<index>`` reference the ledger chains by, so
the signed payload holds only hash references. Pure: holdings come in as values.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledger.errors import RefMissingError, UsageError
from ledger.state import OutputRecord

#: Types whose body consumes lots through ``inputs``.
CONSUMING_TYPES = frozenset({"transformation", "transfer", "shipment"})
MAX_HOLDINGS = 100_000


@dataclass(frozen=True)
class Holding:
    """One output a party holds, with how much of it is not yet consumed."""

    ref: str
    lot: str
    material: str
    amount: Decimal
    left: Decimal
    unit: str
    mass_kg: Decimal | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "lot": self.lot,
            "material": self.material,
            "amount": str(self.amount),
            "left": str(self.left),
            "unit": self.unit,
            "mass_kg": None if self.mass_kg is None else str(self.mass_kg),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Holding:
        mass = value.get("mass_kg")
        return cls(
            ref=str(value["ref"]),
            lot=str(value["lot"]),
            material=str(value["material"]),
            amount=Decimal(str(value["amount"])),
            left=Decimal(str(value["left"])),
            unit=str(value["unit"]),
            mass_kg=None if mass is None else Decimal(str(mass)),
        )


def _resolve_one(i: int, item: dict[str, Any], party: str, holdings: Sequence[Holding]) -> str:
    label = item["lot"]
    if not isinstance(label, str) or not label:
        raise UsageError(f"inputs[{i}].lot must be a lot label (text)")
    named = [h for h in holdings if h.lot == label]
    open_ = [h for h in named if h.left > 0]
    if len(open_) == 1:
        return open_[0].ref
    if len(open_) > 1:
        refs = ", ".join(f"{h.ref} ({h.left} {h.unit} of {h.material} left)" for h in open_)
        raise UsageError(
            f"inputs[{i}]: {party} holds {len(open_)} lots labelled {label!r}: {refs}; "
            'name the one meant by its reference ("ref": "<attestation id>#<n>")'
        )
    if named:
        raise RefMissingError(
            f"inputs[{i}]: lot {label!r} held by {party} is used up (nothing left of it)"
        )
    raise RefMissingError(
        f"inputs[{i}]: {party} holds no lot labelled {label!r} "
        f"(see what it holds: lotchain lots --party {party})"
    )


def has_lot_labels(body: dict[str, Any]) -> bool:
    inputs = body.get("inputs")
    return isinstance(inputs, list) and any(
        isinstance(item, dict) and "lot" in item and "ref" not in item for item in inputs
    )


def resolve_lot_labels(
    body: dict[str, Any], party: str, holdings: Sequence[Holding]
) -> dict[str, Any]:
    """``body`` with every input named by lot label replaced by its output reference.

    Refuses a label the party does not hold, holds only used up, or holds more than one
    open lot of; inputs given by ``ref`` are left as written.
    """
    if not has_lot_labels(body):
        return body
    out = copy.deepcopy(body)
    for i, item in enumerate(out["inputs"]):
        if not (isinstance(item, dict) and "lot" in item and "ref" not in item):
            continue
        extra = set(item) - {"lot", "amount"}
        if extra:
            raise UsageError(
                f"inputs[{i}] names a lot by label; it holds only lot and amount, "
                f"not {', '.join(sorted(extra))}"
            )
        out["inputs"][i] = {
            "ref": _resolve_one(i, item, party, holdings),
            **({"amount": item["amount"]} if "amount" in item else {}),
        }
    return out


def holdings_of(rows: Sequence[tuple[OutputRecord, Decimal]]) -> list[Holding]:
    """Holdings from the store's outputs and the amounts consumed from each."""
    return [
        Holding(
            r.ref, r.lot, r.material, r.amount, max(r.amount - used, Decimal(0)), r.unit, r.mass_kg
        )
        for r, used in rows
    ]


def _holder(type_: str, issuer: str, body: dict[str, Any]) -> str | None:
    if type_ in ("origin", "transformation"):
        return issuer
    if type_ == "transfer":
        to = body.get("to")
        return to if isinstance(to, str) else None
    return None


def after_pending(
    holdings: Sequence[Holding],
    type_: str,
    issuer: str,
    body: dict[str, Any],
    attestation: str,
) -> list[Holding]:
    """``issuer``'s holdings once the (resolved) ``body`` signed as ``attestation`` is in.

    Several bodies signed in one call chain: a later one may name by label a lot an
    earlier one made. Inputs consume what they name (all of it when no amount is given);
    outputs of an origin or transformation, or of a transfer to the issuer, are added.
    """
    out = list(holdings)
    inputs = body.get("inputs")
    for item in inputs if isinstance(inputs, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("ref"), str):
            continue
        for i, h in enumerate(out):
            if h.ref != item["ref"]:
                continue
            try:
                used = Decimal(str(item["amount"])) if "amount" in item else h.left
            except ArithmeticError:
                used = h.left
            out[i] = Holding(
                h.ref,
                h.lot,
                h.material,
                h.amount,
                max(h.left - used, Decimal(0)),
                h.unit,
                h.mass_kg,
            )
    outputs = body.get("outputs")
    if _holder(type_, issuer, body) != issuer or not isinstance(outputs, list):
        return out
    for n, item in enumerate(outputs):
        try:
            amount = Decimal(str(item["quantity"]["amount"]))
            mass = item.get("mass_kg")
            out.append(
                Holding(
                    f"{attestation}#{n}",
                    str(item["lot"]),
                    str(item["material"]["name"]),
                    amount,
                    amount,
                    str(item["quantity"]["unit"]),
                    None if mass is None else Decimal(str(mass)),
                )
            )
        except (KeyError, TypeError, ArithmeticError):
            continue  # the schema check before signing has refused such a body already
    return out
