"""Set-at-a-time SQL for the append path: bulk state reads and bulk inserts.

Building a peewee query costs far more than running it on SQLite, and an append used
to ask several single-row questions per entry. Here each question of a whole batch
is one statement per table (chunked ``IN`` lists), written once as plain SQL with the
driver's placeholder, so a batch of 500 costs about a dozen round trips.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import peewee as pw

from ledger.encoding import format_timestamp, parse_timestamp
from ledger.errors import StorageError
from ledger.state import (
    AttestationRecord,
    FacilityRecord,
    KeyRecord,
    OutputRecord,
    PartyRecord,
    StateAnswer,
    StateRequest,
)
from ledger.storage.ids import id_key, id_text, ref_key, ref_text

CHUNK = 400  # below SQLite's and PostgreSQL's limits on bound parameters
_IDENT = re.compile(r"[a-z_][a-z0-9_]*")


#: An output row with its entry's id: ``o`` is the output, ``e`` the entry creating it.
OUTPUT_COLUMNS = (
    "e.attestation_id, o.position, o.holder, o.amount, o.unit, o.mass_kg, o.material, o.lot"
)
OUTPUT_JOIN = '"output" o JOIN "entry" e ON e.idx = o.entry_idx'


def output_record(row: Sequence[Any]) -> OutputRecord:
    """An :class:`OutputRecord` from a row of :data:`OUTPUT_COLUMNS`."""
    digest, pos, holder, amount, unit, mass, material, lot = row
    att = id_text(digest)
    return OutputRecord(
        ref_text(att, pos),
        att,
        int(pos),
        holder,
        Decimal(amount),
        unit,
        None if mass is None else Decimal(mass),
        material,
        lot,
    )


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    items = sorted(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _id_keys(ids: Iterable[str]) -> set[bytes]:
    return {key for i in ids if (key := id_key(i)) is not None}


def _select(db: pw.Database, sql: str, keys: set[Any]) -> Iterator[tuple[Any, ...]]:
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
        _id_keys(request.attestations),
    ):
        att_id = id_text(att)
        answer.attestations[att_id] = AttestationRecord(att_id, int(idx), kind, issuer)
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
    wanted = {key for ref in request.outputs if (key := ref_key(ref)) is not None}
    digests = {digest for digest, _ in wanted}
    for row in _select(
        db,
        f"SELECT {OUTPUT_COLUMNS} FROM {OUTPUT_JOIN} WHERE e.attestation_id IN ({{slots}})",  # noqa: S608
        digests,
    ):
        if (bytes(row[0]), int(row[1])) in wanted:
            record = output_record(row)
            answer.outputs[record.ref] = record
    for digest, pos, amount in _select(
        db,
        'SELECT e.attestation_id, s.out_pos, s.amount FROM "spend" s '
        'JOIN "entry" e ON e.idx = s.out_idx WHERE e.attestation_id IN ({slots})',
        digests,
    ):
        if (bytes(digest), int(pos)) in wanted:
            ref = ref_text(digest, pos)
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
                "entry_idx": index,
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
        key = ref_key(s.ref)
        if key is None:  # admission resolved the ref, so it is one
            raise StorageError(f"not an output ref: {s.ref[:80]!r}")
        rows.setdefault("spend", []).append(
            {"out_idx": key[0], "out_pos": key[1], "consumer_idx": index, "amount": str(s.amount)}
        )
    for entry_number, att_id in delta.shipments:
        rows.setdefault("shipment", []).append(
            {"entry_number": entry_number, "attestation": att_id}
        )
    for step in getattr(delta, "enforcement", ()):
        rows.setdefault("enforcement_step", []).append(
            {
                "entry_idx": index,
                "shipment": step.shipment,
                "attestation": step.attestation,
                "kind": step.kind,
                "status": step.status,
                "step_on": step.on,
                "basis": step.basis,
                "detention": step.detention,
                "due": step.due,
                "late": int(step.late),
                "decide_by": step.decide_by,
            }
        )
    for row in getattr(delta, "metrics", ()):
        rows.setdefault("shipment_metric", []).append(
            {"entry_idx": index, **dataclasses.asdict(row)}
        )
    for look in getattr(delta, "lookups", ()):
        rows.setdefault("lookup", []).append(
            {"kind": look.kind, "key": look.key, "entry_idx": index}
        )


def resolve_spends(
    db: pw.Database, rows: dict[str, list[dict[str, Any]]], in_batch: dict[bytes, int]
) -> None:
    """Replace each spend row's output id digest by that entry's index (the batch's own
    entries first, then one statement per chunk for earlier ones)."""
    spends = rows.get("spend", ())
    if not spends:
        return
    index = dict(in_batch)
    for digest, idx in _select(
        db,
        'SELECT attestation_id, idx FROM "entry" WHERE attestation_id IN ({slots})',
        {row["out_idx"] for row in spends} - set(index),
    ):
        index[bytes(digest)] = int(idx)
    # Admission refuses an input naming no output (REF_MISSING), so every spend finds
    # its entry; should a bypassed admission let one through, no output exists for it to
    # consume and no row is kept (the envelope still names the ref, which verification
    # and the audit check).
    kept = []
    for row in spends:
        found = index.get(row["out_idx"])
        if found is not None:
            row["out_idx"] = found
            kept.append(row)
    rows["spend"] = kept
