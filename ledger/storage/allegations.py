"""Allegations in the ledger's database: stored confidentially, committed to the log.

Two insert-only tables beside the log: ``allegation`` (the canonical bytes as received,
the salt, and the log entry that commits to them) and ``allegation_link`` (CBP tying an
allegation to a party, facility or region). Neither is ever served except to CBP. A
submission is one transaction: the receipt entry (with its checkpoint) and the stored
allegation are written together, or neither is.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee as pw

from ledger.allegation import (
    SALT_BYTES,
    Allegation,
    AllegationReceipt,
    check_stored,
    commitment,
    new_allegation_id,
    receipt_attestation,
)
from ledger.canonical import parse_json
from ledger.encoding import format_timestamp, parse_timestamp
from ledger.errors import ConfigError, LedgerError, MalformedError, NotFoundError, StorageError
from ledger.leaf import parse_leaf
from ledger.log import Ledger, Receipt
from ledger.storage.sql import SqlStore

LINK_KINDS = ("party", "facility", "region")
_LINK_SHAPES = {
    "party": re.compile(r"party:[a-z0-9][a-z0-9._:-]{1,126}"),
    "facility": re.compile(r"facility:[a-z0-9][a-z0-9._:-]{1,126}"),
    "region": re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}"),
}
MAX_PAGE = 1000


def create_tables(store: SqlStore) -> None:
    """Migration: the allegation tables, insert-only like every lotchain table."""
    models = _models(store.db)
    store.db.create_tables(models, safe=True)
    for model in models:
        store._protect(model._meta.table_name)


def _models(db: pw.Database) -> tuple[Any, Any]:
    class Base(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Allegation(Base):
        id = pw.TextField(primary_key=True)
        received_at = pw.TextField()
        content = pw.BlobField()  # RFC 8785 canonical bytes, uploads included
        content_sha256 = pw.TextField()
        salt = pw.BlobField()
        attestation = pw.TextField(unique=True)  # the allegation-receipt entry
        entry_idx = pw.BigIntegerField(unique=True)

    class AllegationLink(Base):
        allegation = pw.TextField(index=True)
        kind = pw.TextField()
        value = pw.TextField()
        linked_by = pw.TextField(null=True)
        linked_at = pw.TextField()

    return Allegation, AllegationLink


@dataclass(frozen=True)
class Link:
    kind: str
    value: str
    linked_by: str | None
    linked_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.value,
            "linked_by": self.linked_by,
            "linked_at": format_timestamp(self.linked_at),
        }


@dataclass(frozen=True)
class StoredAllegation:
    id: str
    received_at: datetime
    content: bytes
    content_sha256: str
    attestation: str
    index: int
    intact: bool
    links: tuple[Link, ...]

    def summary(self) -> dict[str, Any]:
        """What a listing shows: who and what is alleged, never the reporter's contact."""
        value = parse_json(self.content, max_bytes=len(self.content) + 1)
        return {
            "id": self.id,
            "received_at": format_timestamp(self.received_at),
            "alleged": [a["name"] for a in value["alleged"]],
            "merchandise": value["merchandise"]["description"][:200],
            "country": value.get("production", {}).get("country"),
            "region": value.get("production", {}).get("region"),
            "indicators": value.get("indicators", []),
            "evidence": len(value.get("evidence", [])),
            "anonymous": "contact" not in value,
            "links": [link.to_json() for link in self.links],
        }

    def to_json(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "allegation": parse_json(self.content, max_bytes=len(self.content) + 1),
            "content_sha256": self.content_sha256,
            "receipt_entry": {"attestation": self.attestation, "index": self.index},
            "intact": self.intact,
        }


class AllegationStore:
    """Submit, read and link allegations in the database of one ledger."""

    def __init__(self, ledger: Ledger) -> None:
        if not isinstance(ledger.store, SqlStore):
            raise ConfigError("allegations need a SQL store (SQLite or PostgreSQL)")
        self.ledger = ledger
        self.store: SqlStore = ledger.store
        self.allegation, self.link_model = _models(ledger.store.db)

    # -- writing -----------------------------------------------------------------------

    def submit(self, allegation: Allegation) -> AllegationReceipt:
        """Store the allegation and commit its salted hash to the log, in one transaction."""
        signer = self.ledger.log_signer
        if signer is None:
            raise ConfigError("this ledger was opened read-only (no log key): cannot take it")
        salt = secrets.token_bytes(SALT_BYTES)
        now = self.ledger.clock()
        att = receipt_attestation(
            commitment(salt, allegation.content_sha256), self.ledger.trust, signer, now=now
        )
        ident = new_allegation_id()
        with self.store.writer():
            (result,) = self.ledger.append_batch([att.envelope])
            if isinstance(result, LedgerError):
                raise result
            received = parse_leaf(result.leaf).integrated_at  # the log's time, not ours
            try:
                self.allegation.create(
                    id=ident,
                    received_at=format_timestamp(received, micro=True),
                    content=allegation.canonical,
                    content_sha256=allegation.content_sha256,
                    salt=salt,
                    attestation=result.attestation,
                    entry_idx=result.index,
                )
            except pw.PeeweeException as e:
                raise StorageError(f"cannot store the allegation: {e}") from e
        entry: Receipt = result
        return AllegationReceipt(
            ident, allegation.content_sha256, salt, received, att.envelope.canonical, entry
        )

    def link(self, ident: str, kind: str, value: str, *, by: str | None, now: datetime) -> Link:
        """Tie an allegation to a party, facility or region (a second time: the first link)."""
        self._row(ident)
        if kind not in LINK_KINDS:
            raise MalformedError(f"a link is to one of {', '.join(LINK_KINDS)}, not {kind!r}")
        if not _LINK_SHAPES[kind].fullmatch(value):
            raise MalformedError(f"{value[:80]!r} is not a {kind} id")
        if kind == "party" and self.store.party(value) is None:
            raise NotFoundError(f"party {value} is not admitted to the ledger")
        if kind == "facility" and self.store.facility(value) is None:
            raise NotFoundError(f"facility {value} is not declared in the ledger")
        existing = next((k for k in self.links(ident) if (k.kind, k.value) == (kind, value)), None)
        if existing is not None:
            return existing
        when = format_timestamp(now, micro=True)
        try:
            with self.store.db.atomic():
                self.link_model.create(
                    allegation=ident, kind=kind, value=value, linked_by=by, linked_at=when
                )
        except pw.PeeweeException as e:
            raise StorageError(f"cannot store the link: {e}") from e
        return Link(kind, value, by, parse_timestamp(when))

    # -- reading -----------------------------------------------------------------------

    def _row(self, ident: str) -> Any:
        row = self.allegation.get_or_none(self.allegation.id == ident)
        if row is None:
            raise NotFoundError(f"no allegation {ident[:40]}")
        return row

    def links(self, ident: str) -> list[Link]:
        m = self.link_model
        rows = m.select().where(m.allegation == ident).order_by(m.linked_at, m.id)
        return [Link(r.kind, r.value, r.linked_by, parse_timestamp(r.linked_at)) for r in rows]

    def _stored(self, row: Any) -> StoredAllegation:
        entry = self.store.find(row.attestation)
        content, salt = bytes(row.content), bytes(row.salt)
        intact = entry is not None and check_stored(content, salt, entry.envelope)
        return StoredAllegation(
            row.id,
            parse_timestamp(row.received_at),
            content,
            row.content_sha256,
            row.attestation,
            int(row.entry_idx),
            intact,
            tuple(self.links(row.id)),
        )

    def get(self, ident: str) -> StoredAllegation:
        return self._stored(self._row(ident))

    def page(self, *, after: int = -1, limit: int = 100) -> tuple[list[StoredAllegation], int]:
        """Allegations received after the log index ``after`` (a cursor), oldest first;
        and the cursor for the next page (-1 when this was the last)."""
        m = self.allegation
        size = max(1, min(limit, MAX_PAGE))
        rows = list(m.select().where(m.entry_idx > after).order_by(m.entry_idx).limit(size + 1))
        more = len(rows) > size
        rows = rows[:size]
        items = [self._stored(r) for r in rows]
        return items, (int(rows[-1].entry_idx) if more and rows else -1)

    def impact(self, ident: str) -> list[dict[str, Any]]:
        """Shipments whose chains touch anything the allegation is linked to."""
        from ledger.verify import impact

        links = self.links(self._row(ident).id)
        found: dict[str, dict[str, Any]] = {}
        for link in links:
            for item in impact(self.ledger, **{link.kind: link.value}):
                found.setdefault(item["shipment"], item)
        return sorted(found.values(), key=lambda s: (s["entry_number"], s["shipment"]))
