"""EPCIS 2.0 in: GS1 events (JSON-LD) turned into lotchain attestation bodies.

ObjectEvent ADD with bizStep ``commissioning`` becomes an ``origin``; a
TransformationEvent a ``transformation``; an ObjectEvent with bizStep ``shipping`` (or
``receiving``) whose sourceList and destinationList name the ``owning_party`` a
``transfer``. Quantities come from quantityList (UN/CEFACT units, rules/uncefact_units.json)
and from EPC lists (instances counted as pieces); locations, parties and products become
ledger ids through a mapping file (:class:`EpcisMap`). Inputs are resolved from earlier
events of the same document, then from the issuer's holdings by lot label.

Pure: the caller gives the holdings lookup and the signing function (which returns the
attestation id, so later events can refer to earlier ones).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from ledger.canonical import canonical_bytes
from ledger.encoding import format_timestamp
from ledger.epcis_document import (
    MAX_PROBLEMS,
    event_time,
    events_of,
    is_number,
    local_date,
    validate_with_schema,
)
from ledger.epcis_map import EpcisMap, Location, MapLookupError, Product
from ledger.errors import EpcisError, LedgerError
from ledger.gs1 import cbv_name, parse_item

MASS_TO_KG = {
    "kg": Decimal(1),
    "t": Decimal(1000),
    "g": Decimal("0.001"),
    "lb": Decimal("0.45359237"),
}
#: Units of one instance each: a count of EPC instances is a count of these.
COUNT_UNITS = frozenset({"pcs", "bales"})


@cache
def unit_codes() -> tuple[dict[str, str], str]:
    """UN/CEFACT Rec. 20 codes -> ledger units, and the unit of a bare count."""
    data = json.loads(resources.files("ledger.rules").joinpath("uncefact_units.json").read_bytes())
    return dict(data["units"]), str(data["count_unit"])


@dataclass(frozen=True)
class Holding:
    """An output the issuer holds, with the amount not yet consumed."""

    ref: str
    lot: str
    left: Decimal
    unit: str


HoldingsLookup = Callable[[str], list[Holding]]
SignFunction = Callable[[str, dict[str, Any]], str]


@dataclass(frozen=True)
class Planned:
    """What became of one event: an attestation (type, body, id) or a reason it was skipped."""

    position: int
    event_id: str | None
    event_type: str
    attestation_type: str | None
    body: dict[str, Any] | None
    attestation: str | None
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.position,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "attestation_type": self.attestation_type,
            "attestation": self.attestation,
            "note": self.note,
            "body": self.body,
        }


def decimal_text(value: Decimal, what: str) -> str:
    """A ledger decimal string: positive, no exponent, at most 6 fraction digits."""
    if not value.is_finite() or value <= 0:
        raise MapLookupError("EPCIS_QUANTITY", f"{what} must be a positive number, not {value}")
    if value != value.quantize(Decimal("0.000001")):
        raise MapLookupError("EPCIS_QUANTITY", f"{what} {value} has more than 6 decimal places")
    if value >= Decimal(10) ** 15:
        raise MapLookupError("EPCIS_QUANTITY", f"{what} {value} is too large")
    text = format(value.normalize(), "f")
    return text


# -- quantities of one side of an event ----------------------------------------------------


@dataclass
class LotQuantity:
    lot: str
    product: Product
    amount: Decimal
    unit: str
    counted: bool = False  # a count of instances (no uom, or EPCs): one unit per instance

    def output(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "lot": self.lot,
            "material": self.product.material_json(),
            "quantity": {"amount": decimal_text(self.amount, f"lot {self.lot}"), "unit": self.unit},
        }
        if self.unit not in MASS_TO_KG and self.product.mass_kg_per_unit is not None:
            mass = self.amount * self.product.mass_kg_per_unit
            item["mass_kg"] = decimal_text(mass.quantize(Decimal("0.000001")), "mass_kg")
        return item


def _quantity(value: object, where: str) -> Decimal:
    if not is_number(value):
        raise MapLookupError("EPCIS_QUANTITY", f"{where}: quantity must be a number")
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(int(str(value)))
    except (InvalidOperation, ValueError) as e:
        raise MapLookupError(
            "EPCIS_QUANTITY", f"{where}: quantity {value!r} is not a number"
        ) from e


def _unit(uom: object, where: str) -> str:
    units, count_unit = unit_codes()
    if uom is None:
        return count_unit
    if not isinstance(uom, str) or uom not in units:
        raise MapLookupError(
            "EPCIS_UNIT",
            f"{where}: unit {uom!r} is not one the ledger maps; use a UN/CEFACT code among "
            + ", ".join(sorted(units)),
        )
    return units[uom]


def side_lots(
    event: dict[str, Any], epc_field: str, quantity_field: str, mapping: EpcisMap
) -> list[LotQuantity]:
    """The lots one side of an event names: quantity elements, then EPC instances counted."""
    lots: dict[tuple[str, str, str], LotQuantity] = {}

    def add(lot: str, product: Product, amount: Decimal, unit: str, counted: bool) -> None:
        key = (lot, product.hs_code, unit)
        if key in lots:
            lots[key].amount += amount
        else:
            lots[key] = LotQuantity(lot, product, amount, unit, counted)

    for j, element in enumerate(event.get(quantity_field, [])):
        where = f"{quantity_field}[{j}]"
        item = parse_item(element["epcClass"])
        product = mapping.product(item, where)
        if "quantity" not in element:
            raise MapLookupError("EPCIS_QUANTITY", f"{where}: {item.uri} has no quantity")
        amount = _quantity(element["quantity"], where)
        uom = element.get("uom")
        lot = mapping.lot_label(item, product, where)
        add(lot, product, amount, _unit(uom, where), uom is None)
    for epc in event.get(epc_field, []):
        item = parse_item(epc)
        product = mapping.product(item, epc_field)
        lot = mapping.lot_label(item, product, epc_field)
        add(lot, product, Decimal(1), unit_codes()[1], True)
    return list(lots.values())


# -- the importer ------------------------------------------------------------------------------


@dataclass
class Importer:
    """Maps events in document order, keeping what earlier events created and consumed."""

    mapping: EpcisMap
    issuer: str
    holdings: HoldingsLookup
    sign: SignFunction
    made: dict[str, list[Holding]] = field(default_factory=dict)  # lot -> issuer's new outputs
    spent: dict[str, Decimal] = field(default_factory=dict)  # ref -> consumed in this document
    shipped: set[tuple[str, str, frozenset[str]]] = field(default_factory=set)

    def run(self, events: list[dict[str, Any]]) -> list[Planned]:
        planned: list[Planned] = []
        problems: list[dict[str, Any]] = []
        for position, event in enumerate(events):
            event_id = event.get("eventID") if isinstance(event.get("eventID"), str) else None
            try:
                planned.append(self._one(position, event_id, event))
            except MapLookupError as e:
                problems.append(
                    {"event": position, "event_id": event_id, "code": e.code, "message": e.message}
                )
            if len(problems) >= MAX_PROBLEMS:
                break
        if problems:
            lines = [f"event {p['event']} [{p['code']}]: {p['message']}" for p in problems]
            raise EpcisError(
                f"{len(problems)} event(s) cannot be imported: " + "; ".join(lines[:20]),
                problems=problems,
            )
        return planned

    def _one(self, position: int, event_id: str | None, event: dict[str, Any]) -> Planned:
        kind = str(event.get("type"))
        step = cbv_name(event.get("bizStep"))

        def skip(note: str) -> Planned:
            return Planned(position, event_id, kind, None, None, None, note)

        if "errorDeclaration" in event:
            return skip("declared in error (errorDeclaration): not imported")
        if kind == "TransformationEvent":
            type_, body = "transformation", self._transformation(event)
        elif kind == "ObjectEvent" and step == "commissioning" and event.get("action") == "ADD":
            type_, body = "origin", self._origin(event)
        elif kind == "ObjectEvent" and step in ("shipping", "receiving"):
            found = self._transfer(event, step)
            if isinstance(found, str):
                return skip(found)
            type_, body = "transfer", found
        else:
            return skip(
                f"{kind} with bizStep {step or 'none'} and action {event.get('action')} records "
                "no origin, transformation or change of owner: not imported"
            )
        body["extensions"] = {"epcis": _provenance(event, step)}
        try:
            attestation = self.sign(type_, body)
        except LedgerError as e:
            raise MapLookupError(
                f"EPCIS_{e.code}", f"the {type_} built from it is refused: {e.message}"
            ) from e
        self._record(attestation, type_, body)
        return Planned(position, event_id, kind, type_, body, attestation, f"{type_} ({step})")

    # -- per event type --------------------------------------------------------------------

    def _location(self, event: dict[str, Any]) -> Location:
        for name in ("bizLocation", "readPoint"):
            value = event.get(name)
            if isinstance(value, dict) and isinstance(value.get("id"), str):
                return self.mapping.location(value["id"], name)
        raise MapLookupError(
            "EPCIS_UNMAPPED", "the event names no bizLocation or readPoint: a facility is needed"
        )

    def _origin(self, event: dict[str, Any]) -> dict[str, Any]:
        lots = side_lots(event, "epcList", "quantityList", self.mapping)
        if not lots:
            raise MapLookupError(
                "EPCIS_QUANTITY",
                "a commissioning event must name what it creates (epcList or quantityList)",
            )
        materials = {lot.product.hs_code for lot in lots}
        if len(materials) > 1:
            raise MapLookupError(
                "EPCIS_UNMAPPED",
                f"an origin declares one raw material; this event commissions {len(materials)} "
                f"({', '.join(sorted(materials))}): split it into one event per material",
            )
        return {
            "facility": self._location(event).facility,
            "material": lots[0].product.material_json(),
            "produced_on": local_date(event).isoformat(),
            "outputs": [lot.output() for lot in lots],
        }

    def _transformation(self, event: dict[str, Any]) -> dict[str, Any]:
        location = self._location(event)
        if location.process is None:
            raise MapLookupError(
                "EPCIS_UNMAPPED",
                f'location {location.uri} has no process in the map: add "process" '
                '(e.g. "ginning") to its entry',
            )
        inputs = side_lots(event, "inputEPCList", "inputQuantityList", self.mapping)
        outputs = side_lots(event, "outputEPCList", "outputQuantityList", self.mapping)
        if not inputs or not outputs:
            raise MapLookupError(
                "EPCIS_QUANTITY",
                "a transformation needs inputs and outputs (EPC or quantity lists)",
            )
        return {
            "facility": location.facility,
            "process": location.process,
            "event_time": format_timestamp(event_time(event)),
            "inputs": [self._input(lot) for lot in inputs],
            "outputs": [lot.output() for lot in outputs],
        }

    def _transfer(self, event: dict[str, Any], step: str | None) -> dict[str, Any] | str:
        """A transfer body, or why the event adds none (a receiving the seller records)."""
        seller = self._party(event, "sourceList", "source")
        buyer = self._party(event, "destinationList", "destination")
        lots = side_lots(event, "epcList", "quantityList", self.mapping)
        if not lots:
            raise MapLookupError(
                "EPCIS_QUANTITY", f"a {step} event must name the goods (epcList or quantityList)"
            )
        key = (seller, buyer, frozenset(lot.lot for lot in lots))
        if step == "receiving" and key in self.shipped:
            return "receiving of goods whose shipping this document already imported"
        if step == "receiving" and buyer == self.issuer and seller != self.issuer:
            return (
                f"receiving from {seller}: the seller's transfer records it (the buyer may "
                "co-sign that transfer with lotchain sign)"
            )
        if seller != self.issuer:
            raise MapLookupError(
                "EPCIS_ISSUER",
                f"a transfer is issued by the seller ({seller}), not {self.issuer}: the seller "
                "imports this event, and the buyer co-signs",
            )
        self.shipped.add(key)
        body: dict[str, Any] = {
            "from": seller,
            "to": buyer,
            "event_time": format_timestamp(event_time(event)),
            "inputs": [self._input(lot) for lot in lots],
            "outputs": [lot.output() for lot in lots],
            "documents": self._documents(event, step),
        }
        for list_name, item_name, target in (
            ("sourceList", "source", "ship_from"),
            ("destinationList", "destination", "ship_to"),
        ):
            for entry in _typed(event, list_name, "location"):
                found = self.mapping.find_location(str(entry.get(item_name)))
                if found is not None:
                    body[target] = found.facility
        return body

    def _party(self, event: dict[str, Any], list_name: str, item_name: str) -> str:
        owners = [e.get(item_name) for e in _typed(event, list_name, "owning_party")]
        if len(owners) != 1 or not isinstance(owners[0], str):
            raise MapLookupError(
                "EPCIS_UNMAPPED",
                f"a shipping or receiving event needs exactly one {list_name} entry of type "
                f"owning_party to become a transfer (found {len(owners)})",
            )
        return self.mapping.party(owners[0], list_name)

    def _documents(self, event: dict[str, Any], step: str | None) -> list[dict[str, Any]]:
        documents = []
        for entry in event.get("bizTransactionList", []) or []:
            if isinstance(entry, dict):
                found = self.mapping.document(str(entry.get("bizTransaction")), entry.get("type"))
                if found is not None:
                    documents.append(found)
        number = str(event.get("eventID") or f"EPCIS {step} event at {event.get('eventTime')}")
        documents.append(
            {
                "kind": "other",
                "number": number[:128],
                "sha256": hashlib.sha256(canonical_bytes(event)).hexdigest(),
                "description": f"the EPCIS ObjectEvent ({step}) this transfer was imported from",
            }
        )
        return documents

    # -- inputs and holdings ---------------------------------------------------------------

    def _input(self, lot: LotQuantity) -> dict[str, str]:
        known = {h.ref for h in self.made.get(lot.lot, [])}
        candidates = list(self.made.get(lot.lot, []))
        candidates += [h for h in self.holdings(lot.lot) if h.ref not in known]
        live = [h for h in candidates if h.left - self.spent.get(h.ref, Decimal(0)) > 0]
        if not live:
            raise MapLookupError(
                "EPCIS_UNRESOLVED",
                f"no lot {lot.lot!r} held by {self.issuer} with material left: import or attest "
                "the event that made or delivered it first, or map the EPC to its lot label",
            )
        if len(live) > 1:
            raise MapLookupError(
                "EPCIS_UNRESOLVED",
                f"lot label {lot.lot!r} names {len(live)} lots held by {self.issuer} "
                f"({', '.join(h.ref for h in live)}): give the lots distinct labels",
            )
        holding = live[0]
        if lot.counted and holding.unit in COUNT_UNITS:
            amount = lot.amount  # each instance counted is one piece, or one bale, of the lot
        else:
            amount = _convert(lot.amount, lot.unit, holding.unit, lot.lot)
        left = holding.left - self.spent.get(holding.ref, Decimal(0))
        if amount > left:
            raise MapLookupError(
                "EPCIS_UNRESOLVED",
                f"lot {lot.lot!r} has {left} {holding.unit} left, less than the "
                f"{amount} {holding.unit} this event uses",
            )
        self.spent[holding.ref] = self.spent.get(holding.ref, Decimal(0)) + amount
        return {"ref": holding.ref, "amount": decimal_text(amount, f"input lot {lot.lot}")}

    def _record(self, attestation: str, type_: str, body: dict[str, Any]) -> None:
        if type_ == "transfer" and body["to"] != self.issuer:
            return
        for i, output in enumerate(body["outputs"]):
            holding = Holding(
                f"{attestation}#{i}",
                output["lot"],
                Decimal(output["quantity"]["amount"]),
                output["quantity"]["unit"],
            )
            self.made.setdefault(output["lot"], []).append(holding)


def _convert(amount: Decimal, unit: str, target: str, lot: str) -> Decimal:
    if unit == target:
        return amount
    if unit in MASS_TO_KG and target in MASS_TO_KG:
        return (amount * MASS_TO_KG[unit] / MASS_TO_KG[target]).quantize(Decimal("0.000001"))
    raise MapLookupError(
        "EPCIS_UNIT",
        f"lot {lot!r} is held in {target}; the event counts it in {unit}, which does not convert",
    )


def _typed(event: dict[str, Any], list_name: str, wanted: str) -> Iterator[dict[str, Any]]:
    for entry in event.get(list_name, []) or []:
        if isinstance(entry, dict) and cbv_name(entry.get("type")) == wanted:
            yield entry


def _provenance(event: dict[str, Any], step: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "event_type": event.get("type"),
        "event_sha256": hashlib.sha256(canonical_bytes(event)).hexdigest(),
    }
    if isinstance(event.get("eventID"), str):
        out["event_id"] = event["eventID"][:256]
    if step:
        out["biz_step"] = step[:64]
    for name in ("readPoint", "bizLocation"):
        value = event.get(name)
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            out[name.lower()] = value["id"][:256]
    return out


def import_events(
    events: list[dict[str, Any]],
    mapping: EpcisMap,
    *,
    issuer: str,
    holdings: HoldingsLookup,
    sign: SignFunction,
) -> list[Planned]:
    """Map every event in order; raise one :class:`EpcisError` listing every problem."""
    return Importer(mapping, issuer, holdings, sign).run(events)


__all__ = [
    "Holding",
    "Planned",
    "event_time",
    "events_of",
    "import_events",
    "local_date",
    "validate_with_schema",
]
