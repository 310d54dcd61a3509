"""Read-side helpers of the API: resolving references and shaping entries as JSON.

Stored envelopes were verified when they were appended, so reading them back only
decodes them. Shipments and certificates are listed through the store's indexed
``type``/``issuer`` columns (``SqlStore.entries_of_type``), never by reading the log.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ledger import entrynumber
from ledger.certificates import STATUSES, AuditRecord, Revoked, certificate_status
from ledger.encoding import b64encode, format_timestamp, parse_timestamp
from ledger.errors import ConfigError, MalformedError, NotFoundError
from ledger.log import Ledger
from ledger.storage.base import StoredEntry
from ledger.storage.lookup import Lookups
from ledger.storage.sql import SqlStore

ATTESTATION_ID = re.compile(r"sha256:[0-9a-f]{64}")
INDEX = re.compile(r"0|[1-9][0-9]{0,17}")


def sql_store(ledger: Ledger) -> SqlStore:
    store = ledger.store
    if not isinstance(store, SqlStore):
        raise ConfigError("the HTTP API needs a SQL store")
    return store


def envelope_json(entry: StoredEntry) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(entry.envelope)
    return value


def decode_payload(entry: StoredEntry) -> dict[str, Any]:
    """The attestation payload ({v, type, issuer, issued_at, nonce, body}) of an entry."""
    value: dict[str, Any] = json.loads(base64.b64decode(envelope_json(entry)["payload"]))
    return value


def body_of(entry: StoredEntry) -> dict[str, Any]:
    body: dict[str, Any] = decode_payload(entry)["body"]
    return body


def find_entry(ledger: Ledger, ref: str) -> StoredEntry:
    """An entry by attestation id or by index."""
    if ATTESTATION_ID.fullmatch(ref):
        found = ledger.store.find(ref)
        if found is None:
            raise NotFoundError(f"no attestation {ref} in the log")
        return found
    if INDEX.fullmatch(ref):
        return ledger.store.get(int(ref))
    raise MalformedError("an entry is named by its attestation id (sha256:<hex>) or index")


def lookup_entry(ledger: Ledger, ref: str) -> StoredEntry | None:
    """An entry by attestation id or index, or None: the caller decides what "none" says."""
    try:
        return find_entry(ledger, ref)
    except NotFoundError:
        return None


def lookup_shipment(ledger: Ledger, ref: str) -> StoredEntry | None:
    """The entry a shipment reference names, of whatever type, or None.

    An attestation id names an entry; anything of an entry number's shape (dashes
    optional, eleven digits included) is only ever an entry number, never read as a log
    index as well; a shorter or longer number is a log index.
    """
    store = ledger.store
    normal = entrynumber.parse(ref)
    if ATTESTATION_ID.fullmatch(ref):
        return store.find(ref)
    if normal is not None:
        for spelling in entrynumber.spellings(normal):
            found = store.shipment_by_entry(spelling)
            if found is not None:
                return store.find(found)
        return None
    if INDEX.fullmatch(ref):
        return lookup_entry(ledger, ref)
    raise MalformedError("a shipment is named by attestation id, entry number or log index")


def entries_of_type(
    ledger: Ledger, type_: str, *, after: int = -1, issuer: str | None = None, page: int = 500
) -> Iterator[StoredEntry]:
    """Every entry of a type after an index, read page by page."""
    store = sql_store(ledger)
    while True:
        batch = store.entries_of_type(type_, after=after, limit=page, issuer=issuer)
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1].index


def entry_json(ledger: Ledger, entry: StoredEntry) -> dict[str, Any]:
    """An entry with its envelope, and its inclusion proof under the latest checkpoint."""
    head = ledger.store.head()
    assert head is not None  # an entry exists, so a checkpoint was signed with it
    proof = ledger.inclusion_proof(entry.index, head.size)
    return {
        "index": entry.index,
        "attestation": entry.attestation_id,
        "type": entry.type,
        "issuer": entry.issuer,
        "integrated_at": format_timestamp(entry.integrated_at, micro=True),
        "leaf": b64encode(entry.leaf),
        "envelope": envelope_json(entry),
        "checkpoint": head.note.decode("utf-8"),
        "inclusion": proof.to_json(),
    }


# -- shipments -------------------------------------------------------------------------


def shipment_summary(entry: StoredEntry, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "attestation": entry.attestation_id,
        "index": entry.index,
        "entry_number": body["entry_number"],
        "importer": entry.issuer,
        "exporter": body["exporter"],
        "manufacturer": body["manufacturer"],
        "country_of_origin": body["country_of_origin"],
        "arrival_date": body["arrival_date"],
        "hts_codes": [line["hts_code"] for line in body["hts_lines"]],
        "integrated_at": format_timestamp(entry.integrated_at, micro=True),
    }


def chain_countries(ledger: Ledger, chain: frozenset[str]) -> set[str]:
    """Countries of the facilities where a chain's events happened."""
    countries: set[str] = set()
    for attestation_id in chain:
        entry = ledger.store.find(attestation_id)
        if entry is None or entry.type not in ("origin", "transformation"):
            continue
        record = ledger.store.facility(body_of(entry)["facility"])
        if record is not None:
            countries.add(record.country)
    return countries


# -- certificates ----------------------------------------------------------------------

CERTIFICATE_STATUSES = STATUSES


def revocation_of(ledger: Ledger, target: str) -> dict[str, Any] | None:
    """The earliest-effective revocation of ``target`` (the store's index by target)."""
    found: dict[str, Any] | None = None
    for attestation_id in Lookups(ledger.store).related("revocation", target):
        entry = ledger.store.find(attestation_id)
        if entry is None:
            continue
        body = body_of(entry)
        item = {
            "attestation": entry.attestation_id,
            "issuer": entry.issuer,
            "reason": body["reason"],
            "effective_at": body["effective_at"],
        }
        if found is None or parse_timestamp(item["effective_at"]) < parse_timestamp(
            found["effective_at"]
        ):
            found = item
    return found


def party_label(ledger: Ledger, party: str, before: int) -> str:
    """``Legal Name (party:id)`` as declared before log index ``before`` (as the verifier
    names a party, :func:`ledger.verify.words.party_label`)."""
    name = None
    for attestation_id in Lookups(ledger.store).related("party", party):
        entry = ledger.store.find(attestation_id)
        if entry is not None and entry.type == "party" and entry.index < before:
            name = body_of(entry).get("legal_name")
    return f"{name} ({party})" if name else party


def _revoked(ledger: Ledger, revocation: dict[str, Any] | None) -> Revoked | None:
    if revocation is None:
        return None
    entry = ledger.store.find(revocation["attestation"])
    by = party_label(ledger, revocation["issuer"], entry.index if entry else 2**62)
    return Revoked(parse_timestamp(revocation["effective_at"]), by)


def audits_of(ledger: Ledger, body: dict[str, Any]) -> list[AuditRecord]:
    """The audits a certificate names, as the log has them, with their revocations."""
    out = []
    for audit_id in body["audits"]:
        entry = ledger.store.find(audit_id)
        if entry is None or entry.type != "audit":
            out.append(AuditRecord(audit_id, None))
        else:
            revoked = _revoked(ledger, revocation_of(ledger, audit_id))
            out.append(AuditRecord(audit_id, body_of(entry), revoked))
    return out


def certificate_json(
    ledger: Ledger,
    entry: StoredEntry,
    body: dict[str, Any],
    revocation: dict[str, Any] | None,
    now: datetime,
    audits: list[AuditRecord],
) -> dict[str, Any]:
    """A certificate with its status at ``now`` (the verifier's own judgement of it)."""
    status = certificate_status(body, now, audits=audits, revoked=_revoked(ledger, revocation))
    facility = ledger.store.facility(body["facility"])
    return {
        "attestation": entry.attestation_id,
        "index": entry.index,
        "certificate_id": body["certificate_id"],
        "auditor": entry.issuer,
        "facility": body["facility"],
        "facility_name": None if facility is None else facility.name,
        "operator": None if facility is None else facility.operator,
        "scheme": body["scheme"],
        "scope": body["scope"],
        "valid_from": body["valid_from"],
        "valid_until": body["valid_until"],
        "audits": body["audits"],
        "status": status.status,
        "reasons": list(status.reasons),
        "revocation": revocation,
        "integrated_at": format_timestamp(entry.integrated_at, micro=True),
    }
