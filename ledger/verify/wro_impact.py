"""Which shipments a new WRO/Findings list version now catches (``screening load --impact``).

Only the orders that are new or changed since the previous version of the same list are
considered. Candidates are the shipments whose chains touch a party, facility or vessel
whose name matches such an order, or a facility in its region or country; each is then
verified with that list and kept when an order of the new ones catches it (WRO or
FINDING on its entry date).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from typing import Any

from ledger.attestation import parse_attestation
from ledger.errors import LedgerError
from ledger.log import Ledger
from ledger.orders import Order, OrderList
from ledger.screening import name_key
from ledger.storage.lookup import Lookups
from ledger.verify.impact import impacted
from ledger.verify.rules import default_rules
from ledger.verify.verdict import Verdict


def changed_orders(new: OrderList, previous: OrderList | None) -> list[Order]:
    """Orders of ``new`` that ``previous`` lacks or states otherwise."""
    if previous is None:
        return list(new.orders)
    before = {o.id: dataclasses.replace(o, row=0) for o in previous.orders}
    return [o for o in new.orders if before.get(o.id) != dataclasses.replace(o, row=0)]


def _named_subjects(ledger: Ledger, orders: list[Order]) -> set[tuple[str, str]]:
    """``(kind, id)`` of parties and facilities (or their vessels) named by ``orders``."""
    keys = {name_key(n) for o in orders if o.scope in ("entity", "vessel") for n in o.names}
    imos = {i for o in orders for i in o.imo_numbers}
    if not keys and not imos:
        return set()
    out: set[tuple[str, str]] = set()
    for kind, subject, name, attestation in Lookups(ledger.store).names():
        names, imo = [name], None
        entry = ledger.store.find(attestation)
        if entry is not None:
            with contextlib.suppress(LedgerError):
                body = parse_attestation(entry.envelope).body
                names += body.get("aliases", [])
                vessel = body.get("vessel") or {}
                names += [vessel["name"]] if vessel.get("name") else []
                imo = vessel.get("imo")
        if any(name_key(n) in keys for n in names) or (imo and str(imo) in imos):
            out.add((kind, subject))
    return out


def _candidates(ledger: Ledger, orders: list[Order]) -> dict[str, dict[str, Any]]:
    rules = default_rules()
    lookups = Lookups(ledger.store)
    facilities: set[str] = set()
    found: dict[str, dict[str, Any]] = {}

    def add(items: list[dict[str, Any]]) -> None:
        found.update({i["shipment"]: i for i in items})

    for kind, subject in _named_subjects(ledger, orders):
        add(impacted(ledger, **({"party": subject} if kind == "party" else {"facility": subject})))
    for order in orders:
        if order.scope == "region" and order.region:
            facilities |= set(lookups.facilities(regions=rules.same_region(order.region)))
        elif order.scope in ("region", "country") and order.country:
            facilities |= set(lookups.facilities(countries=[order.country]))
    for facility in sorted(facilities):
        add(impacted(ledger, facility=facility))
    return found


def impacted_by_orders(
    ledger: Ledger,
    new: OrderList,
    previous: OrderList | None,
    verify: Callable[[str], Verdict],
) -> list[dict[str, Any]]:
    """Shipments that orders new or changed in ``new`` now catch, with those findings."""
    orders = changed_orders(new, previous)
    if not orders:
        return []
    heads = tuple(f"{o.action} {o.id} " for o in orders)
    out = []
    candidates = _candidates(ledger, orders)
    for shipment_id, item in sorted(
        candidates.items(), key=lambda kv: (kv[1]["entry_number"], kv[0])
    ):
        verdict = verify(shipment_id)
        caught = [
            f.to_json()
            for f in verdict.findings
            if f.code in ("WRO", "FINDING") and f.message.startswith(heads)
        ]
        if caught:
            out.append(
                {
                    "shipment": shipment_id,
                    "entry_number": item["entry_number"],
                    "entry_date": item.get("entry_date"),
                    "status": verdict.status,
                    "findings": caught,
                }
            )
    return out
