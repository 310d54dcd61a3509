"""Steps 15-19: certificates, screening lists and high-risk regions, at event time.

A certificate counts for an event when its dates cover the event's day, it was not
revoked effective before the event, and no audit it rests on failed or was revoked
before the event: a certificate revoked *after* an event still covers that event.
Entity lists (step 17) are judged on the entry date in :mod:`ledger.verify.listing`.
Regions are judged on every declaration of a facility, so a facility cannot leave
Xinjiang by re-declaring its address.
"""

from __future__ import annotations

from typing import Any

from ledger.encoding import format_timestamp as ts
from ledger.encoding import parse_date
from ledger.errors import LedgerError
from ledger.verify.engine import Node, Verifier, When, event_time, is_before


def _covers(v: Verifier, cert: Node, process: str, facility: str) -> bool:
    if cert.type != "certificate" or cert.body["facility"] != facility:
        return False
    scope = set(cert.body["scope"]["processes"])
    return process in scope or bool(scope & v.rules.generic_scopes)


def _revoked_by(v: Verifier, target: Node, when: When) -> str | None:
    """Why ``target`` was revoked at ``when``, if a revocation took effect by then."""
    for effective, rev in v.revocations(target):
        if not is_before(when, When(effective, False)):
            return f"revoked effective {ts(effective)} by {rev.id}"
    return None


def certificate_problems(v: Verifier, cert: Node, when: When, facility: str) -> list[str]:
    """Why ``cert`` did not hold at ``when`` (empty when it did)."""
    body, day = cert.body, when.at.date()
    problems = []
    try:
        valid_from, valid_until = (
            parse_date(body[k]).date() for k in ("valid_from", "valid_until")
        )
    except LedgerError:
        return ["its validity dates are not real dates"]
    if day < valid_from:
        problems.append(f"not valid before {body['valid_from']}")
    if day > valid_until:
        problems.append(f"expired on {body['valid_until']}")
    revoked = _revoked_by(v, cert, when)
    if revoked:
        problems.append(revoked)
    for audit_id in body["audits"]:
        audit = v.use(audit_id)
        if audit is None or audit.att is None:
            problems.append(f"rests on audit {audit_id}, which is not in the log")
        elif audit.type != "audit" or audit.body["facility"] != facility:
            problems.append(f"rests on {audit_id}, which is not an audit of {facility}")
        elif audit.body["result"] in v.rules.failing_audit_results:
            problems.append(
                f"rests on audit {audit_id} of {audit.body['audit_date']}, "
                f"which found {audit.body['result']}"
            )
        elif revoked_audit := _revoked_by(v, audit, when):
            problems.append(f"rests on audit {audit_id}, {revoked_audit}")
    return problems


def check_certificates(v: Verifier, node: Node) -> list[dict[str, Any]]:
    """Step 15 (CERT_MISSING, CERT_INVALID); returns the certificates seen, for the summary."""
    process = node.body.get("process")
    when = event_time(node)
    if node.type != "transformation" or when is None:
        return []
    facility = node.body["facility"]
    candidates = []
    for cert in v.related_nodes("certificate", facility, rely=False):
        if _covers(v, cert, str(process), facility):
            v.use(cert.id)  # only certificates in scope are relied on (and bundled)
            candidates.append(cert)
    seen, valid, reasons = [], False, []
    for cert in candidates:
        problems = certificate_problems(v, cert, when, facility)
        valid = valid or not problems
        label = f"{cert.body['certificate_id']} ({cert.body['scheme']}, {cert.id})"
        if problems:
            reasons.append(f"{label}: {'; '.join(problems)}")
        seen.append(
            {
                "certificate_id": cert.body["certificate_id"],
                "scheme": cert.body["scheme"],
                "attestation": cert.id,
                "valid_from": cert.body["valid_from"],
                "valid_until": cert.body["valid_until"],
                "status": "valid" if not problems else "invalid: " + "; ".join(problems),
            }
        )
    if process not in v.rules.certificate_required or valid:
        return seen
    if candidates:
        node.flag(
            "CERT_INVALID",
            f"{facility} had no valid certificate for {process} on "
            f"{when.label()}: " + " | ".join(reasons),
        )
    else:
        node.flag("CERT_MISSING", f"{facility} had no certificate for {process} on {when.label()}")
    return seen


def subjects(v: Verifier, node: Node) -> tuple[list[str], list[str]]:
    """The parties and facilities an event involves."""
    body = node.body
    parties = [node.att.issuer] if node.att else []
    parties += [body[k] for k in ("from", "to", "exporter", "manufacturer") if k in body]
    facilities = [body[k] for k in ("facility", "ship_from", "ship_to") if k in body]
    for facility in facilities:
        declared = v.facility_at(facility, node.index)
        if declared is not None:
            parties.append(declared.body["operator"])
    return list(dict.fromkeys(parties)), list(dict.fromkeys(facilities))


def names_of(v: Verifier, kind: str, subject: str) -> list[str]:
    """Every name and alias ``subject`` was ever declared with (all versions)."""
    field = "legal_name" if kind == "party" else "name"
    names: list[str] = []
    for version in v.related_nodes(kind, subject):
        if version.type == kind:
            names += [version.body[field], *version.body.get("aliases", [])]
    return list(dict.fromkeys(names))


def check_regions(v: Verifier, node: Node) -> None:
    """Step 19 (REGION_HIGH_RISK) for every facility the event involves."""
    for facility in subjects(v, node)[1]:
        versions = [n for n in v.related_nodes("facility", facility) if n.type == "facility"]
        regions = {n.body["region"] for n in versions if "region" in n.body}
        risky = sorted(regions & set(v.rules.high_risk_regions))
        for region in risky:
            node.flag(
                "REGION_HIGH_RISK",
                f"facility {facility} is in {region}: {v.rules.high_risk_regions[region]}",
            )
        countries = {n.body["country"] for n in versions} & v.rules.region_required
        if not regions and countries:
            node.flag(
                "REGION_HIGH_RISK",
                f"facility {facility} in {', '.join(sorted(countries))} "
                "declares no region, so a high-risk region cannot be ruled out",
                severity="warning",
            )


def check_compliance(v: Verifier) -> dict[str, list[dict[str, Any]]]:
    """Steps 15 and 19 over the chain (17 is :mod:`ledger.verify.listing`); returns the
    certificates seen per entry."""
    certificates: dict[str, list[dict[str, Any]]] = {}
    for node in v.chain.values():
        if node.att is None:
            continue
        certificates[node.id] = check_certificates(v, node)
        check_regions(v, node)
    return certificates
