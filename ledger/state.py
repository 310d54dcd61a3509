"""Ledger state derived from the log: parties, keys, facilities, outputs and spends.

State is insert-only, like the log it derives from: a revocation is a new row, a
consumption is a new row, and an output never changes holder (a transfer consumes it
and creates a new output held by the buyer). ``StateView`` is the read side the
admission rules need; storage implements it, and :class:`Overlay` layers a pending
batch on top so a batch is judged entry by entry exactly as single appends would be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class PartyRecord:
    party_id: str
    legal_name: str
    country: str
    roles: frozenset[str]
    aliases: tuple[str, ...]
    attestation: str
    filer_codes: tuple[str, ...] = ()  # CBP entry filer codes an importer files under


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    party: str
    public_key: bytes
    valid_from: datetime
    attestation: str


@dataclass(frozen=True)
class KeyRevocation:
    key_id: str
    effective_at: datetime
    attestation: str


@dataclass(frozen=True)
class FacilityRecord:
    facility_id: str
    name: str
    operator: str
    country: str
    region: str | None
    attestation: str


@dataclass(frozen=True)
class OutputRecord:
    ref: str
    attestation: str
    position: int
    holder: str
    amount: Decimal
    unit: str
    mass_kg: Decimal | None
    material: str
    lot: str


@dataclass(frozen=True)
class Spend:
    ref: str
    consumer: str
    amount: Decimal


@dataclass(frozen=True)
class AttestationRecord:
    """What the log index says of an attestation: enough for admission rules."""

    id: str
    index: int
    type: str
    issuer: str


@dataclass(frozen=True)
class Lookup:
    """An index row: an attestation found by ``(kind, key)``, e.g. certificates by facility.

    Verification reads only what a chain relies on; these rows find a facility's
    certificates and events, or an attestation's revocations, without scanning the log.
    """

    kind: str
    key: str
    attestation: str


@dataclass
class StateDelta:
    """Rows one accepted attestation adds to the state."""

    parties: list[PartyRecord] = field(default_factory=list)
    keys: list[KeyRecord] = field(default_factory=list)
    key_revocations: list[KeyRevocation] = field(default_factory=list)
    facilities: list[FacilityRecord] = field(default_factory=list)
    outputs: list[OutputRecord] = field(default_factory=list)
    spends: list[Spend] = field(default_factory=list)
    shipments: list[tuple[str, str]] = field(default_factory=list)  # (entry number, id)
    lookups: list[Lookup] = field(default_factory=list)


class StateView(Protocol):
    """Read-only questions the admission rules ask of the current state."""

    def attestation(self, attestation_id: str) -> AttestationRecord | None: ...

    def party(self, party_id: str) -> PartyRecord | None: ...

    def key(self, key_id: str) -> KeyRecord | None: ...

    def key_revoked_at(self, key_id: str) -> datetime | None: ...

    def facility(self, facility_id: str) -> FacilityRecord | None: ...

    def output(self, ref: str) -> OutputRecord | None: ...

    def consumed(self, ref: str) -> Decimal: ...

    def shipment_by_entry(self, entry_number: str) -> str | None: ...


@dataclass
class StateRequest:
    """Everything a batch of admissions will ask about, so storage can answer at once."""

    attestations: set[str] = field(default_factory=set)
    parties: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    facilities: set[str] = field(default_factory=set)
    outputs: set[str] = field(default_factory=set)
    shipments: set[str] = field(default_factory=set)


@dataclass
class StateAnswer:
    """Storage's answers to a :class:`StateRequest`; what is absent does not exist."""

    attestations: dict[str, AttestationRecord] = field(default_factory=dict)
    parties: dict[str, PartyRecord] = field(default_factory=dict)
    keys: dict[str, KeyRecord] = field(default_factory=dict)
    revoked: dict[str, datetime] = field(default_factory=dict)
    facilities: dict[str, FacilityRecord] = field(default_factory=dict)
    outputs: dict[str, OutputRecord] = field(default_factory=dict)
    consumed: dict[str, Decimal] = field(default_factory=dict)
    shipments: dict[str, str] = field(default_factory=dict)


class BulkStateView(StateView, Protocol):
    """A view that answers many questions in a few queries (the SQL store)."""

    def bulk(self, request: StateRequest) -> StateAnswer: ...


class Overlay:
    """A ``StateView`` of a base view plus the deltas of a batch not yet committed.

    After :meth:`prefetch`, questions the batch was known to ask are answered from
    memory: a batch of any size costs a handful of queries, not several per entry.
    """

    def __init__(self, base: StateView) -> None:
        self.base = base
        self._known: StateRequest | None = None
        self._answer = StateAnswer()
        self._attestations: dict[str, AttestationRecord] = {}
        self._parties: dict[str, PartyRecord] = {}
        self._keys: dict[str, KeyRecord] = {}
        self._revoked: dict[str, datetime] = {}
        self._facilities: dict[str, FacilityRecord] = {}
        self._outputs: dict[str, OutputRecord] = {}
        self._consumed: dict[str, Decimal] = {}
        self._shipments: dict[str, str] = {}

    def prefetch(self, request: StateRequest) -> None:
        """Ask the base everything in ``request`` now, if it can answer in bulk."""
        bulk = getattr(self.base, "bulk", None)
        if bulk is None:
            return
        self._answer = bulk(request)
        self._known = request

    def _cached(self, kind: str, key: str) -> tuple[bool, Any]:
        """(True, answer) when the prefetch covered ``key``; (False, None) otherwise."""
        if self._known is None or key not in getattr(self._known, kind):
            return False, None
        return True, getattr(self._answer, kind).get(key)

    def add(self, record: AttestationRecord, delta: StateDelta) -> None:
        self._attestations[record.id] = record
        for p in delta.parties:
            self._parties[p.party_id] = p
        for k in delta.keys:
            self._keys[k.key_id] = k
        for r in delta.key_revocations:
            current = self.key_revoked_at(r.key_id)
            self._revoked[r.key_id] = (
                r.effective_at if current is None else min(current, r.effective_at)
            )
        for f in delta.facilities:
            self._facilities[f.facility_id] = f
        for o in delta.outputs:
            self._outputs[o.ref] = o
        for s in delta.spends:
            self._consumed[s.ref] = self.consumed(s.ref) + s.amount
        for entry_number, att_id in delta.shipments:
            self._shipments[entry_number] = att_id

    def attestation(self, attestation_id: str) -> AttestationRecord | None:
        found = self._attestations.get(attestation_id)
        if found is not None:
            return found
        hit, value = self._cached("attestations", attestation_id)
        return value if hit else self.base.attestation(attestation_id)

    def party(self, party_id: str) -> PartyRecord | None:
        found = self._parties.get(party_id)
        if found is not None:
            return found
        hit, value = self._cached("parties", party_id)
        return value if hit else self.base.party(party_id)

    def key(self, key_id: str) -> KeyRecord | None:
        found = self._keys.get(key_id)
        if found is not None:
            return found
        hit, value = self._cached("keys", key_id)
        return value if hit else self.base.key(key_id)

    def key_revoked_at(self, key_id: str) -> datetime | None:
        found = self._revoked.get(key_id)
        if found is not None:
            return found
        if self._known is not None and key_id in self._known.keys:
            return self._answer.revoked.get(key_id)
        return self.base.key_revoked_at(key_id)

    def facility(self, facility_id: str) -> FacilityRecord | None:
        found = self._facilities.get(facility_id)
        if found is not None:
            return found
        hit, value = self._cached("facilities", facility_id)
        return value if hit else self.base.facility(facility_id)

    def output(self, ref: str) -> OutputRecord | None:
        found = self._outputs.get(ref)
        if found is not None:
            return found
        hit, value = self._cached("outputs", ref)
        return value if hit else self.base.output(ref)

    def consumed(self, ref: str) -> Decimal:
        found = self._consumed.get(ref)
        if found is not None:
            return found
        if self._known is not None and ref in self._known.outputs:
            return self._answer.consumed.get(ref, Decimal(0))
        return self.base.consumed(ref)

    def shipment_by_entry(self, entry_number: str) -> str | None:
        found = self._shipments.get(entry_number)
        if found is not None:
            return found
        hit, value = self._cached("shipments", entry_number)
        return value if hit else self.base.shipment_by_entry(entry_number)
