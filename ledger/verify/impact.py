"""Graphs and impact queries: what a shipment is made of, and what a party touches.

Impact runs *downstream* from the entries that involve a party, facility, region or
lot, following spends to the shipments they end in; each step is a few indexed
queries per generation of the walk, never a scan of the log. A party also reaches the
shipments that declare it as their exporter or manufacturer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

from ledger.attestation import parse_attestation
from ledger.errors import CheckpointError, LedgerError, UsageError
from ledger.log import Ledger
from ledger.screening import ScreeningList
from ledger.storage.lookup import Lookups
from ledger.verify.core import tier_row
from ledger.verify.engine import Verifier
from ledger.verify.rules import default_rules
from ledger.verify.source import LedgerSource

MATERIAL = ("origin", "transformation", "transfer", "shipment")


def graph_of(v: Verifier, shipment_id: str) -> dict[str, Any]:
    """Nodes (attestations with party, facility, place and lots) and input edges."""
    nodes = sorted(v.chain.values(), key=lambda n: (v.tiers[n.id], n.index))
    edges = []
    for node in nodes:
        for item in node.body.get("inputs", []):
            producer_id, _, position = str(item["ref"]).partition("#")
            producer = v.chain.get(producer_id)
            outputs = producer.body.get("outputs", []) if producer else []
            output = outputs[int(position)] if int(position) < len(outputs) else None
            edges.append(
                {
                    "from": producer_id,
                    "to": node.id,
                    "ref": item["ref"],
                    "amount": item["amount"],
                    "unit": output["quantity"]["unit"] if output else None,
                    "lot": output["lot"] if output else None,
                }
            )
    return {
        "shipment": shipment_id,
        "nodes": [tier_row(v, n, []) for n in nodes],
        "edges": edges,
    }


def _downstream(lookups: Lookups, attestations: Iterable[str], refs: Iterable[str]) -> set[str]:
    """Every entry reached from ``attestations`` and output ``refs`` by following spends."""
    seen = set(attestations)
    frontier_refs = set(refs) | set(lookups.refs_of(seen))
    while frontier_refs:
        consumers = set(lookups.consumers_of(frontier_refs)) - seen
        seen |= consumers
        frontier_refs = set(lookups.refs_of(consumers))
    return seen


def impacted(
    ledger: Ledger,
    *,
    party: str | None = None,
    facility: str | None = None,
    region: str | None = None,
    lot: str | None = None,
) -> list[dict[str, Any]]:
    """Shipments whose chains touch the given party, facility, region or lot."""
    if not any((party, facility, region, lot)):
        raise UsageError("impact needs a party, a facility, a region or a lot")
    lookups = Lookups(ledger.store)
    seeds: set[str] = set()
    refs: set[str] = set()
    facilities: set[str] = set()
    if party:
        seeds |= set(lookups.issued_by(party, MATERIAL)) | set(lookups.held_by(party))
        seeds |= set(lookups.related("declared", party))
        facilities |= set(lookups.facilities(operator=party))
    if facility:
        facilities.add(facility)
    if region:
        facilities |= set(lookups.facilities(regions=default_rules().same_region(region)))
    for site in facilities:
        seeds |= set(lookups.related("event", site))
    if lot:
        refs |= set(lookups.refs_with_lot(lot))
    reached = _downstream(lookups, seeds, refs)
    shipments = lookups.shipments_among(reached)
    return [
        {"shipment": att_id, "entry_number": number, "entry_date": entry_date(ledger, att_id)}
        for att_id, number in sorted(shipments.items(), key=lambda kv: (kv[1], kv[0]))
    ]


def entry_date(ledger: Ledger, shipment_id: str) -> str | None:
    """The shipment's arrival date: the date lists are judged on (``None`` if unreadable)."""
    entry = ledger.store.find(shipment_id)
    if entry is None:
        return None
    try:
        return str(parse_attestation(entry.envelope).body["arrival_date"])
    except (LedgerError, KeyError):
        return None


def listed_subjects(ledger: Ledger, screening: ScreeningList) -> list[tuple[str, str, str]]:
    """``(kind, id, name)`` of parties and facilities whose names match ``screening``
    at any date (the verdicts then judge the dates)."""
    lookups = Lookups(ledger.store)
    out: dict[tuple[str, str], str] = {}
    for kind, subject, name, attestation in lookups.names():
        names = [name]
        entry = ledger.store.find(attestation)
        if entry is not None:
            with contextlib.suppress(LedgerError):
                names += parse_attestation(entry.envelope).body.get("aliases", [])
        for match in screening.matches(names):
            out.setdefault((kind, subject), match.name)
    return [(k, s, n) for (k, s), n in sorted(out.items())]


def chain_verifier(ledger: Ledger, shipment_id: str) -> Verifier:
    """A verifier that has walked (not judged) a shipment's chain, for graphs."""
    v = Verifier(LedgerSource(ledger), ledger.trust, now=ledger.clock())
    if not v.open_checkpoint():
        raise CheckpointError("the log's checkpoint does not verify against its trust root")
    shipment = v.use(shipment_id)
    if shipment is None or shipment.att is None or shipment.type != "shipment":
        raise UsageError(f"{shipment_id} is not a readable shipment in the log")
    v.walk(shipment)
    return v
