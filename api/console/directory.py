"""Parties (with keys and rotations), facilities and certificates (with status and history).

Parties, keys and certificates are public, as in the API. Facility entries are read
under the API's policy (:meth:`api.access.Policy.can_read`): CBP sees every one, a party
the ones it may read; a facility it may not read is "not found", like a missing one.
"""

from __future__ import annotations

from typing import Any

from flask import render_template

from api import params
from api.access import reader, state
from api.console.base import bp
from api.queries import (
    ATTESTATION_ID,
    audits_of,
    body_of,
    certificate_json,
    entries_of_type,
    revocation_of,
    sql_store,
)
from ledger.encoding import format_timestamp
from ledger.errors import NotFoundError
from ledger.storage.base import StoredEntry

MAX_ROWS = 1000
STATUS_WORDS = {
    "valid": "Valid",
    "expired": "Expired",
    "revoked": "Revoked",
    "not_yet_valid": "Not yet valid",
    "invalid": "Invalid",
}


def _certificate(entry: StoredEntry) -> dict[str, Any]:
    ledger = state().ledger
    body = body_of(entry)
    return certificate_json(
        ledger, entry, body, revocation_of(ledger, entry.attestation_id), ledger.clock(),
        audits_of(ledger, body),
    )


def _certificates(**match: str) -> list[dict[str, Any]]:
    out = []
    for entry in entries_of_type(state().ledger, "certificate"):
        body = body_of(entry)
        if all(body.get(k) == v for k, v in match.items()):
            out.append(_certificate(entry))
        if len(out) >= MAX_ROWS:
            break
    return out


@bp.get("/parties")
def parties() -> str:
    records = sql_store(state().ledger).parties()[:MAX_ROWS]
    return render_template("parties.html", parties=records)


@bp.get("/parties/<party_id>")
def party(party_id: str) -> str:
    params.check(party_id, params.PARTY, "a party")
    ledger = state().ledger
    record = ledger.store.party(party_id)
    if record is None:
        raise NotFoundError(f"party {party_id} is not admitted to the ledger")
    entry = ledger.store.find(record.attestation)
    assert entry is not None
    body = body_of(entry)
    keys = []
    for key in body["keys"]:
        revoked = ledger.store.key_revoked_at(key["key_id"])
        keys.append({**key, "revoked_at": None if revoked is None else format_timestamp(revoked)})
    changes = []
    for key_entry in entries_of_type(ledger, "key"):
        key_body = body_of(key_entry)
        if key_body.get("party") == party_id:
            changes.append({"index": key_entry.index, "issuer": key_entry.issuer, **key_body})
    audited = _certificates() if "auditor" in record.roles else []
    issued = [c for c in audited if c["auditor"] == party_id]
    return render_template(
        "party.html", party=record, body=body, keys=keys, changes=changes[-MAX_ROWS:],
        issued=issued, statuses=STATUS_WORDS,
    )


@bp.get("/facilities")
def facilities() -> str:
    who = reader()
    st = state()
    rows: list[dict[str, Any]] = []
    for entry in entries_of_type(st.ledger, "facility"):
        if st.policy.can_read(who, entry):
            rows.append({"entry": entry, "body": body_of(entry)})
        if len(rows) >= MAX_ROWS:
            break
    latest = {str(r["body"]["facility_id"]): r for r in rows}  # the latest declaration of each
    return render_template("facilities.html", facilities=[latest[k] for k in sorted(latest)])


@bp.get("/facilities/<facility_id>")
def facility(facility_id: str) -> str:
    who = reader()
    params.check(facility_id, params.FACILITY, "a facility")
    st = state()
    found = [
        e for e in entries_of_type(st.ledger, "facility")
        if body_of(e)["facility_id"] == facility_id and st.policy.can_read(who, e)
    ]
    if not found:
        raise NotFoundError(f"no facility {facility_id} that you may read")
    return render_template(
        "facility.html", entry=found[-1], body=body_of(found[-1]), history=found,
        certificates=_certificates(facility=facility_id), statuses=STATUS_WORDS,
    )


@bp.get("/certificates")
def certificates() -> str:
    return render_template(
        "certificates.html", certificates=_certificates(), statuses=STATUS_WORDS
    )


@bp.get("/certificates/<path:ref>")
def certificate(ref: str) -> str:
    params.check(ref, params.CERTIFICATE_REF, "a certificate")
    ledger = state().ledger
    history = []
    for entry in entries_of_type(ledger, "certificate"):
        body = body_of(entry)
        if entry.attestation_id == ref or body["certificate_id"] == ref:
            history.append(entry)
    if ATTESTATION_ID.fullmatch(ref) and history:
        number = body_of(history[0])["certificate_id"]
        history = [e for e in entries_of_type(ledger, "certificate")
                   if body_of(e)["certificate_id"] == number]
    if not history:
        raise NotFoundError(f"no certificate {ref} in the log")
    views = [_certificate(e) for e in history]
    current = next((v for v in views if v["attestation"] == ref), views[-1])
    return render_template(
        "certificate.html", cert=current, history=views, statuses=STATUS_WORDS
    )
