"""Steps 15-19: certificates, screening lists and high-risk regions, at event time.

A certificate counts for an event when :func:`ledger.certificates.certificate_status`
says so at the event's time: its dates cover the day, it was not revoked effective by
then (a certificate revoked *after* an event still covers that event), and it rests on
an audit of that facility, not revoked, dated on or before the event, whose result (the
latest such audit's) was not a failure.
Entity lists (step 17) are judged on the entry date in :mod:`ledger.verify.listing`.
Locations (step 19) are :mod:`ledger.verify.locations`.
"""

from __future__ import annotations

from typing import Any

from ledger.certificates import AuditRecord, CertificateStatus, Revoked, certificate_status
from ledger.verify.engine import Node, Verifier, When, event_time
from ledger.verify.locations import check_locations
from ledger.verify.words import facility_label, party_label, when_words


def _covers(v: Verifier, cert: Node, process: str, facility: str) -> bool:
    if cert.type != "certificate" or cert.body["facility"] != facility:
        return False
    scope = set(cert.body["scope"]["processes"])
    return process in scope or bool(scope & v.rules.generic_scopes)


def _revoked(v: Verifier, target: Node) -> Revoked | None:
    """The earliest revocation of ``target`` by its issuer or a registrar, if any, naming
    the party that revoked."""
    for effective, rev in v.revocations(target):
        by = party_label(v, rev.att.issuer, rev.index) if rev.att else rev.id
        return Revoked(effective, by)
    return None


def status_at(v: Verifier, cert: Node, when: When) -> CertificateStatus:
    """The certificate's status at ``when`` (:func:`ledger.certificates.certificate_status`)."""
    audits = []
    for audit_id in cert.body["audits"]:
        audit = v.use(audit_id)
        if audit is None or audit.att is None or audit.type != "audit":
            audits.append(AuditRecord(audit_id, None))
        else:
            audits.append(AuditRecord(audit_id, audit.body, _revoked(v, audit)))
    return certificate_status(
        cert.body,
        when.at,
        audits=audits,
        revoked=_revoked(v, cert),
        day_only=when.is_date,
        failing_results=v.rules.failing_audit_results,
    )


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
        status = status_at(v, cert, when)
        valid = valid or status.valid
        label = (
            f"certificate {cert.body['certificate_id']} ({cert.body['scheme']}, "
            f"valid {cert.body['valid_from']} to {cert.body['valid_until']}, {cert.id})"
        )
        if not status.valid:
            reasons.append(
                f"{label} is {status.status.replace('_', ' ')}: {'; '.join(status.reasons)}"
            )
        seen.append(
            {
                "certificate_id": cert.body["certificate_id"],
                "scheme": cert.body["scheme"],
                "attestation": cert.id,
                "valid_from": cert.body["valid_from"],
                "valid_until": cert.body["valid_until"],
                "status": "valid"
                if status.valid
                else f"{status.status}: " + "; ".join(status.reasons),
            }
        )
    if process not in v.rules.certificate_required or valid:
        return seen
    where = facility_label(v, facility, node.index)
    if candidates:
        node.flag(
            "CERT_INVALID",
            f"{process} at {where}, {when_words(node)}, had no valid certificate: "
            + " | ".join(reasons),
        )
    else:
        node.flag(
            "CERT_MISSING",
            f"{process} at {where}, {when_words(node)}, had no certificate covering it",
        )
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


def check_compliance(v: Verifier) -> dict[str, list[dict[str, Any]]]:
    """Steps 15 and 19 over the chain (17 is :mod:`ledger.verify.listing`); returns the
    certificates seen per entry."""
    certificates: dict[str, list[dict[str, Any]]] = {}
    for node in v.chain.values():
        if node.att is None:
            continue
        certificates[node.id] = check_certificates(v, node)
    check_locations(v)
    return certificates
