"""Step 12 (MATERIAL): material keeps its identity along the chain.

A transfer passes on the material it consumes and no more of it; a transformation
changes material only as its process can; an origin declares a raw material its
facility's processes produce. The judgement itself is :mod:`ledger.materials`, the
same the log applies at append, so an entry logged before a rule existed (or slipped
past it) is judged here all the same. An entry (shipment) declares no goods its
consumed lots do not account for (:mod:`ledger.entry_goods`): judged here only, the
log accepts such an entry for CBP to see.
"""

from __future__ import annotations

from ledger import materials
from ledger.entry_goods import entry_problems
from ledger.verify.engine import Node, Verifier, event_time
from ledger.verify.material import Input, lineage


def party_name(v: Verifier, party: str, index: int) -> str:
    """``Legal Name (party:id)``, as declared before entry ``index``."""
    found = v.party_at(party, index)
    return f"{found.body['legal_name']} ({party})" if found is not None else party


def facility_name(v: Verifier, facility: str, index: int) -> str:
    """``Facility Name (facility:id)``, as declared before entry ``index``."""
    found = v.facility_at(facility, index)
    return f"{found.body['name']} ({facility})" if found is not None else facility


def _when(node: Node) -> str:
    when = event_time(node)
    if when is None:
        return ""
    kind = "production date" if node.type == "origin" else "event date"
    return f" on {when.label()} ({kind})"


def event_label(node: Node) -> str:
    """``the ginning on 2025-03-05T10:00:00Z (event date)``: what happened, and when."""
    what = node.body.get("process") or node.type
    return f"the {what}{_when(node)}"


def check_identity(v: Verifier, node: Node, inputs: list[Input]) -> None:
    """Step 12 (MATERIAL) for one entry of the chain."""
    rules = v.rules.materials
    body = node.body
    if node.type == "origin":
        facility = v.facility_at(body["facility"], node.index)
        if facility is None:
            return  # REF_MISSING says why
        problems = materials.origin_problems(rules, body, facility.body["processes"])
        where = facility_name(v, body["facility"], node.index)
        who = party_name(v, node.att.issuer if node.att else "", node.index)
        for problem in problems:
            node.flag("MATERIAL", f"origin at {where} of {who}{_when(node)}: {problem}")
        return
    if node.type not in ("transfer", "transformation", "shipment") or not inputs:
        return
    if any(i.output is None for i in inputs):
        return  # an input did not resolve: REF_MISSING says why
    lots = lineage(v)
    consumed = [
        materials.Consumed(i.output, i.amount, lots.classes(i.ref))
        for i in inputs
        if i.output is not None
    ]
    if node.type == "shipment":
        entry = f"entry {body['entry_number']} (arrival date {body['arrival_date']})"
        for fault in entry_problems(consumed, body["hts_lines"], v.rules.to_kg, v.rules.pieces):
            node.flag(fault.code, f"{entry}: {fault.text}")
        return
    if node.type == "transfer":
        found = materials.transfer_problems(
            rules, consumed, body["outputs"], v.rules.to_kg, v.rules.pieces
        )
        seller = party_name(v, body["from"], node.index)
        buyer = party_name(v, body["to"], node.index)
        for fault in found:
            node.flag(fault.code, f"transfer from {seller} to {buyer}{_when(node)}: {fault.text}")
        return
    problems = materials.transformation_problems(rules, body["process"], consumed, body["outputs"])
    where = facility_name(v, body["facility"], node.index)
    facility = v.facility_at(body["facility"], node.index)
    if facility is not None:
        problems += materials.process_problems(
            rules, body["process"], where, facility.body["processes"], consumed, body["outputs"]
        )
    for problem in problems:
        node.flag("MATERIAL", f"{body['process']} at {where}{_when(node)}: {problem}")
