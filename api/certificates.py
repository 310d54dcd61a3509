"""Certificates published by auditors: search and status (public, as certificates are).

Status is computed at the log's clock by :func:`ledger.certificates.certificate_status`,
the function the verifier applies at each event's time: ``revoked`` once a revocation
is effective, ``invalid`` when its audits do not bear it (another facility, a failed
audit, validity beginning before the first audit, no audit yet), ``expired`` after
``valid_until``, ``not_yet_valid`` before ``valid_from``, else ``valid``; ``reasons``
say why.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from api import params
from api.access import state
from api.queries import (
    ATTESTATION_ID,
    CERTIFICATE_STATUSES,
    audits_of,
    body_of,
    certificate_json,
    entries_of_type,
    revocation_of,
)
from ledger.errors import NotFoundError
from ledger.storage.base import StoredEntry

bp = Blueprint("certificates", __name__)


def _view(entry: StoredEntry) -> dict[str, Any]:
    ledger = state().ledger
    revocation = revocation_of(ledger, entry.attestation_id)
    body = body_of(entry)
    return certificate_json(
        ledger, entry, body, revocation, ledger.clock(), audits_of(ledger, body)
    )


@bp.get("/v1/certificates")
def list_certificates() -> dict[str, Any]:
    """Certificates by facility, scheme, auditor and status; ``next_cursor`` continues."""
    facility = params.text("facility", params.FACILITY)
    scheme = params.text("scheme", params.SCHEME)
    auditor = params.text("auditor", params.PARTY)
    status = params.choice("status", CERTIFICATE_STATUSES)
    limit = params.limit(int(current_app.config["LOTCHAIN_PAGE_SIZE"]))
    cursor = params.index_cursor()
    budget = int(current_app.config["LOTCHAIN_SCAN_BUDGET"])
    found: list[dict[str, Any]] = []
    last = cursor
    done = True
    for examined, entry in enumerate(
        entries_of_type(state().ledger, "certificate", after=cursor, issuer=auditor), start=1
    ):
        last = entry.index
        body = body_of(entry)
        if (facility is None or body["facility"] == facility) and (
            scheme is None or body["scheme"].casefold() == scheme.casefold()
        ):
            view = _view(entry)
            if status is None or view["status"] == status:
                found.append(view)
        if len(found) >= limit or examined >= budget:
            done = False
            break
    return {"certificates": found, "next_cursor": None if done else str(last)}


@bp.get("/v1/certificates/<path:ref>")
def get_certificate(ref: str) -> dict[str, Any]:
    """A certificate by attestation id, or by certificate number (the latest issued)."""
    params.check(ref, params.CERTIFICATE_REF, "a certificate")
    ledger = state().ledger
    if ATTESTATION_ID.fullmatch(ref):
        entry = ledger.store.find(ref)
        if entry is None or entry.type != "certificate":
            raise NotFoundError(f"no certificate {ref} in the log")
        return _view(entry)
    latest: StoredEntry | None = None
    for entry in entries_of_type(ledger, "certificate"):
        if body_of(entry)["certificate_id"] == ref:
            latest = entry
    if latest is None:
        raise NotFoundError(f"no certificate numbered {ref} in the log")
    return _view(latest)
