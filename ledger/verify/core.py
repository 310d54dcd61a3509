"""One verification from end to end: the steps in order, then the verdict and summary.

:func:`verify_source` is pure over a :class:`~ledger.verify.source.ChainSource`, so
the online verifier (a database) and the offline one (an evidence bundle) are the
same code and reach the same verdict from the same evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ledger.errors import TooLargeError, UsageError
from ledger.orders import OrderList
from ledger.screening import ScreeningList
from ledger.trustroot import TrustRoot
from ledger.verify.compliance import check_compliance
from ledger.verify.engine import Node, Verifier, event_time
from ledger.verify.identity import check_identity
from ledger.verify.list_age import check_lists_current
from ledger.verify.listing import check_entity_lists
from ledger.verify.material import check_material
from ledger.verify.rules import Rules
from ledger.verify.source import BundleSource, ChainSource
from ledger.verify.verdict import STEPS, Finding, Verdict, status_of
from ledger.verify.wro import check_orders


def run(
    source: ChainSource,
    trust: TrustRoot,
    shipment_id: str,
    *,
    now: datetime,
    lists: Sequence[ScreeningList | OrderList] = (),
    rules: Rules | None = None,
    carried: BundleSource | None = None,
) -> tuple[Verdict, Verifier]:
    """Verify a shipment; also return the verifier (what it relied on, for bundles).

    With ``carried`` (offline), every entry and leaf of the bundle is checked too.
    """
    try:
        return _run(source, trust, shipment_id, now=now, lists=lists, rules=rules, carried=carried)
    except RecursionError as e:  # a crafted log or bundle: registrars admitting registrars...
        raise TooLargeError("the entries this shipment relies on nest too deeply") from e


def _run(
    source: ChainSource,
    trust: TrustRoot,
    shipment_id: str,
    *,
    now: datetime,
    lists: Sequence[ScreeningList | OrderList],
    rules: Rules | None,
    carried: BundleSource | None,
) -> tuple[Verdict, Verifier]:
    parsed = carried.parsed if carried is not None else None
    v = Verifier(source, trust, now=now, lists=lists, rules=rules, parsed=parsed)
    certificates: dict[str, list[dict[str, Any]]] = {}
    # 1. the checkpoint: nothing else can be trusted without it
    if v.open_checkpoint():
        # 2-7. each entry as it is loaded and relied on (see engine.Verifier.use)
        shipment = v.use(shipment_id)
        if shipment is None:
            v.findings.append(
                Finding.of("LOG_INCLUSION", shipment_id, "the shipment is not in the log")
            )
        elif shipment.att is not None:
            if shipment.type != "shipment":
                raise UsageError(f"{shipment_id} is a {shipment.type} attestation, not a shipment")
            v.walk(shipment)
            # 8-14. references, custody, amounts, units, yields and time order
            inputs_of = check_material(v)
            # 12. material identity (after 11 and 13, so one fault is reported once)
            for node_id, inputs in inputs_of.items():
                check_identity(v, v.chain[node_id], inputs)
            # 15-19. certificates, screening lists and high-risk regions
            certificates = check_compliance(v)
            # 16. screening lists applied and current
            check_lists_current(v)
            # 17. entity lists, on the shipment's entry date
            check_entity_lists(v)
            # 18. WROs and Findings in force on the shipment's entry date
            check_orders(v)
        if carried is not None:
            v.check_carried(carried.carried_ids, carried.carried_leaves, carried.problems)
    summary = build_summary(v, certificates)
    findings = tuple(v.all_findings())
    summary["counts"].update(
        errors=sum(f.severity == "error" for f in findings),
        warnings=sum(f.severity == "warning" for f in findings),
    )
    note = source.checkpoint_note().decode("utf-8", errors="replace")
    verdict = Verdict(shipment_id, status_of(findings), note, findings, summary)
    return verdict, v


def _outputs(node: Node) -> list[dict[str, Any]]:
    return [
        {
            "lot": o["lot"],
            "material": o["material"]["name"],
            "hs_code": o["material"].get("hs_code"),
            "amount": o["quantity"]["amount"],
            "unit": o["quantity"]["unit"],
            "mass_kg": o.get("mass_kg"),
        }
        for o in node.body.get("outputs", [])
    ]


def signed_by(v: Verifier, node: Node) -> list[dict[str, Any]]:
    """Who signed an entry, signature by signature: key id, party and its legal name then."""
    out: list[dict[str, Any]] = []
    for sig in node.att.envelope.signatures if node.att else ():
        key = v.key_at(sig.keyid, node.index)
        party = v.party_at(key.party, node.index) if key is not None else None
        out.append(
            {
                "key_id": sig.keyid,
                "party": key.party if key is not None else None,
                "legal_name": party.body["legal_name"] if party is not None else None,
            }
        )
    return out


def tier_row(v: Verifier, node: Node, certificates: list[dict[str, Any]]) -> dict[str, Any]:
    """One step of the chain as a report shows it."""
    row: dict[str, Any] = {
        "tier": v.tiers.get(node.id, 0),
        "attestation": node.id,
        "index": node.index,
        "type": node.type or None,
    }
    if node.att is None:
        return row
    body = node.body
    party = v.party_at(node.att.issuer, node.index)
    site = body.get("facility") or body.get("ship_from")
    facility = v.facility_at(site, node.index) if site else None
    when = event_time(node)
    row.update(
        party=node.att.issuer,
        party_name=party.body["legal_name"] if party else None,
        country=next((n.body["country"] for n in (facility, party) if n is not None), None),
        facility=site,
        facility_name=facility.body["name"] if facility else None,
        region=facility.body.get("region") if facility else None,
        process=body.get("process", node.type),
        event=when.label() if when else None,
        outputs=_outputs(node),
        inputs=[{"ref": i["ref"], "amount": i["amount"]} for i in body.get("inputs", [])],
        certificates=certificates,
        signed_by=signed_by(v, node),
    )
    if node.type == "transfer":
        row["to"] = body["to"]
        row["documents"] = [f"{d['kind']} {d['number']}" for d in body["documents"]]
    if node.type == "shipment":
        row["entry_number"] = body["entry_number"]
    return row


def build_summary(v: Verifier, certificates: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The chain tier by tier, counts, lists and rules applied (informative, not contract)."""
    nodes = sorted(v.chain.values(), key=lambda n: (v.tiers[n.id], n.index))
    tiers = [tier_row(v, n, certificates.get(n.id, [])) for n in nodes]
    shipment = next((n for n in nodes if n.type == "shipment"), None)
    origins = [t for t in tiers if t.get("type") == "origin"]
    summary: dict[str, Any] = {
        "checkpoint_size": v.checkpoint.size if v.checkpoint else None,
        "tiers": tiers,
        "origins": [
            {k: t.get(k) for k in ("attestation", "facility", "country", "region")} for t in origins
        ],
        "countries": sorted({t["country"] for t in tiers if t.get("country")}),
        "regions": sorted({t["region"] for t in tiers if t.get("region")}),
        "counts": {
            "chain": len(v.chain),
            "relied_on": len(v.used),
            "origins": len(origins),
            "parties": len({t["party"] for t in tiers if t.get("party")}),
            "facilities": len({t["facility"] for t in tiers if t.get("facility")}),
        },
        "screening_lists": [s.summary() for s in v.lists] + [s.summary() for s in v.order_lists],
        "rules_version": v.rules.version,
        "max_list_age_days": v.rules.orders.max_list_age_days,
        "steps": [{"step": n, "title": t, "codes": list(c)} for n, t, c in STEPS],
    }
    if shipment is not None:
        body = shipment.body
        summary["entry"] = {
            "entry_number": body["entry_number"],
            "importer": shipment.att.issuer if shipment.att else None,
            "exporter": body["exporter"],
            "manufacturer": body["manufacturer"],
            "country_of_origin": body["country_of_origin"],
            "arrival_date": body["arrival_date"],
            "hts": [line["hts_code"] for line in body["hts_lines"]],
        }
    return summary
