"""The party directory: who is admitted, in which roles, with which keys (public)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from api import params
from api.access import state
from api.queries import body_of, sql_store
from ledger.encoding import format_timestamp
from ledger.errors import NotFoundError
from ledger.state import PartyRecord

bp = Blueprint("parties", __name__)


def party_json(record: PartyRecord) -> dict[str, Any]:
    return {
        "party_id": record.party_id,
        "legal_name": record.legal_name,
        "country": record.country,
        "roles": sorted(record.roles),
        "aliases": list(record.aliases),
        "filer_codes": list(record.filer_codes),
        "attestation": record.attestation,
    }


@bp.get("/v1/parties")
def list_parties() -> dict[str, Any]:
    """Admitted parties in id order, optionally by role and country."""
    role = params.choice("role", params.ROLES)
    country = params.text("country", params.COUNTRY)
    limit = params.limit(int(current_app.config["LOTCHAIN_PAGE_SIZE"]))
    cursor = params.text("cursor", params.PARTY)
    found: list[dict[str, Any]] = []
    more = False
    for record in sql_store(state().ledger).parties():
        if cursor is not None and record.party_id <= cursor:
            continue
        if (role is not None and role not in record.roles) or (
            country is not None and record.country != country
        ):
            continue
        if len(found) == limit:
            more = True
            break
        found.append(party_json(record))
    next_cursor = found[-1]["party_id"] if more and found else None
    return {"parties": found, "next_cursor": next_cursor}


@bp.get("/v1/parties/<party_id>")
def get_party(party_id: str) -> dict[str, Any]:
    """One party, with the address and keys of its latest party attestation."""
    params.check(party_id, params.PARTY, "a party")
    store = state().ledger.store
    record = store.party(party_id)
    if record is None:
        raise NotFoundError(f"party {party_id} is not admitted to the ledger")
    entry = store.find(record.attestation)
    assert entry is not None  # the state row was written with its entry
    body = body_of(entry)
    keys = []
    for key in body["keys"]:
        revoked = store.key_revoked_at(key["key_id"])
        keys.append({**key, "revoked_at": None if revoked is None else format_timestamp(revoked)})
    return {
        **party_json(record),
        "index": entry.index,
        "address": body.get("address"),
        "keys": keys,
    }
