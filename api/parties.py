"""The party directory: who is admitted, in which roles, with which keys (public)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from api import params
from api.access import reader, state
from api.queries import body_of, sql_store
from ledger.encoding import b64encode, format_timestamp
from ledger.errors import NotFoundError
from ledger.lots import MAX_HOLDINGS, holdings_of
from ledger.state import PartyRecord
from ledger.storage.lookup import Lookups

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


@bp.get("/v1/parties/<party_id>/lots")
def party_lots(party_id: str) -> dict[str, Any]:
    """What a party holds, lot by lot, with the amount left: to the party itself (and CBP).

    Asked by anyone else, the answer is the very 404 of a party that does not exist.
    """
    who = reader()  # 401 before anything is looked up
    params.check(party_id, params.PARTY, "a party")
    store = state().ledger.store
    if not (who.is_cbp or who.party == party_id) or store.party(party_id) is None:
        raise NotFoundError(f"no holdings of {party_id} that this token may read")
    rows = Lookups(store).holdings(party_id, MAX_HOLDINGS)
    lots = [h.to_json() for h in holdings_of(rows) if h.left > 0]
    return {"party": party_id, "lots": lots}


@bp.get("/v1/keys/<key_id>")
def get_key(key_id: str) -> dict[str, Any]:
    """One admitted key: whose it is, its public key, and since when it is valid or revoked."""
    params.check(key_id, params.KEY, "a key id")
    store = state().ledger.store
    record = store.key(key_id)
    if record is None:
        raise NotFoundError(f"key {key_id} is not admitted to the ledger")
    revoked = store.key_revoked_at(key_id)
    return {
        "key_id": record.key_id,
        "party": record.party,
        "public_key": b64encode(record.public_key),
        "valid_from": format_timestamp(record.valid_from),
        "revoked_at": None if revoked is None else format_timestamp(revoked),
        "attestation": record.attestation,
    }
