"""Set-at-a-time SQL for the append path: bulk state reads and bulk inserts.

Building a peewee query costs far more than running it on SQLite, and an append used
to ask several single-row questions per entry. Here each question of a whole batch
is one statement per table (chunked ``IN`` lists), written once as plain SQL with the
driver's placeholder, so a batch of 500 costs about a dozen round trips.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import peewee as pw

from ledger.encoding import format_timestamp, parse_timestamp
from ledger.state import (
    AttestationRecord,
    FacilityRecord,
    KeyRecord,
    OutputRecord,
    PartyRecord,
    StateAnswer,
    StateRequest,
)

CHUNK = 400  # below SQLite's and PostgreSQL's limits on bound parameters
_IDENT = re.compile(r"[a-z_][a-z0-9_]*")


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    items = sorted(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _select(db: pw.Database, sql: str, keys: set[str]) -> Iterator[tuple[Any, ...]]:
    """Rows of ``sql`` (with one ``{in}`` slot) for every chunk of ``keys``."""
    for chunk in _chunks(keys):
        slots = ", ".join([db.param] * len(chunk))
        yield from db.execute_sql(sql.format(slots=slots), chunk).fetchall()


def bulk_state(db: pw.Database, request: StateRequest) -> StateAnswer:
    """Answer every question of ``request`` with one statement per table."""
    answer = StateAnswer()
    for att, idx, kind, issuer in _select(
        db,
        'SELECT attestation_id, idx, type, issuer FROM "entry" WHERE attestation_id IN ({slots})',
        request.attestations,
    ):
        answer.attestations[att] = AttestationRecord(att, int(idx), kind, issuer)
    latest: dict[str, int] = {}
    for pid, name, country, roles, aliases, att, idx, codes in _select(
        db,
        "SELECT party_id, legal_name, country, roles, aliases, attestation, entry_idx, "
        'filer_codes FROM "party_version" WHERE party_id IN ({slots})',
        request.parties,
    ):
        if idx >= latest.get(pid, -1):
            latest[pid] = idx
            answer.parties[pid] = PartyRecord(
                pid,
                name,
                country,
                frozenset(json.loads(roles)),
                tuple(json.loads(aliases)),
                att,
                tuple(json.loads(codes)),
            )
    for kid, party, public, valid_from, att in _select(
        db,
        'SELECT key_id, party, public_key, valid_from, attestation FROM "key" '
        "WHERE key_id IN ({slots})",
        request.keys,
    ):
        answer.keys[kid] = KeyRecord(kid, party, bytes(public), parse_timestamp(valid_from), att)
    for kid, effective in _select(
        db,
        'SELECT key_id, MIN(effective_at) FROM "key_revocation" '
        "WHERE key_id IN ({slots}) GROUP BY key_id",
        request.keys,
    ):
        answer.revoked[kid] = parse_timestamp(effective)
    latest.clear()
    for fid, name, operator, country, region, att, idx in _select(
        db,
        "SELECT facility_id, name, operator, country, region, attestation, entry_idx "
        'FROM "facility_version" WHERE facility_id IN ({slots})',
        request.facilities,
    ):
        if idx >= latest.get(fid, -1):
            latest[fid] = idx
            answer.facilities[fid] = FacilityRecord(fid, name, operator, country, region, att)
    for ref, att, pos, holder, amount, unit, mass, material, lot in _select(
        db,
        "SELECT ref, attestation, position, holder, amount, unit, mass_kg, material, lot "
        'FROM "output" WHERE ref IN ({slots})',
        request.outputs,
    ):
        answer.outputs[ref] = OutputRecord(
            ref,
            att,
            int(pos),
            holder,
            Decimal(amount),
            unit,
            None if mass is None else Decimal(mass),
            material,
            lot,
        )
    for ref, amount in _select(
        db,
        'SELECT ref, amount FROM "spend" WHERE ref IN ({slots})',
        request.outputs,
    ):
        answer.consumed[ref] = answer.consumed.get(ref, Decimal(0)) + Decimal(amount)
    for number, att in _select(
        db,
        'SELECT entry_number, attestation FROM "shipment" WHERE entry_number IN ({slots})',
        request.shipments,
    ):
        answer.shipments[number] = att
    return answer


def insert_rows(db: pw.Database, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Insert dict rows (all with the same keys) with one prepared statement."""
    if not rows:
        return
    columns = list(rows[0])
    if not all(_IDENT.fullmatch(name) for name in (table, *columns)):
        raise ValueError(f"not an SQL identifier among {table!r}, {columns!r}")
    # Identifiers come from the code (checked above); every value is a bound parameter.
    sql = 'INSERT INTO "{}" ({}) VALUES ({})'.format(  # noqa: S608
        table, ", ".join(f'"{c}"' for c in columns), ", ".join([db.param] * len(columns))
    )
    cursor = db.cursor()
    cursor.executemany(sql, [tuple(row[c] for c in columns) for row in rows])


def delta_rows(index: int, delta: Any, rows: dict[str, list[dict[str, Any]]]) -> None:
    for p in delta.parties:
        rows.setdefault("party_version", []).append(
            {
                "entry_idx": index,
                "party_id": p.party_id,
                "legal_name": p.legal_name,
                "country": p.country,
                "roles": json.dumps(sorted(p.roles)),
                "aliases": json.dumps(list(p.aliases)),
                "attestation": p.attestation,
                "filer_codes": json.dumps(list(p.filer_codes)),
            }
        )
    for k in delta.keys:
        rows.setdefault("key", []).append(
            {
                "key_id": k.key_id,
                "party": k.party,
                "public_key": k.public_key,
                "valid_from": format_timestamp(k.valid_from, micro=True),
                "attestation": k.attestation,
            }
        )
    for r in delta.key_revocations:
        rows.setdefault("key_revocation", []).append(
            {
                "key_id": r.key_id,
                "effective_at": format_timestamp(r.effective_at, micro=True),
                "attestation": r.attestation,
            }
        )
    for f in delta.facilities:
        rows.setdefault("facility_version", []).append(
            {
                "entry_idx": index,
                "facility_id": f.facility_id,
                "name": f.name,
                "operator": f.operator,
                "country": f.country,
                "region": f.region,
                "attestation": f.attestation,
            }
        )
    for o in delta.outputs:
        rows.setdefault("output", []).append(
            {
                "ref": o.ref,
                "attestation": o.attestation,
                "position": o.position,
                "holder": o.holder,
                "amount": str(o.amount),
                "unit": o.unit,
                "mass_kg": None if o.mass_kg is None else str(o.mass_kg),
                "material": o.material,
                "lot": o.lot,
            }
        )
    for s in delta.spends:
        rows.setdefault("spend", []).append(
            {"ref": s.ref, "consumer": s.consumer, "amount": str(s.amount)}
        )
    for entry_number, att_id in delta.shipments:
        rows.setdefault("shipment", []).append(
            {"entry_number": entry_number, "attestation": att_id}
        )
    for look in getattr(delta, "lookups", ()):
        rows.setdefault("lookup", []).append(
            {
                "kind": look.kind,
                "key": look.key,
                "attestation": look.attestation,
                "entry_idx": index,
            }
        )
