"""Who may read what: bearer tokens bound to parties, and the read policy.

Rules (DESIGN.md): a party with the ``cbp`` role reads everything; an importer reads the
full upstream chain of its own shipments; any other party reads what it issued and what
was transferred to it. Envelopes always need a token (401 before anything is looked
up); with one, party, key and certificate entries (and certificate revocations) are
readable by every party, as the directory and certificate routes publish them anyway.
The checkpoint, proofs, leaves, the party directory and certificates are public.

A read the caller may not make is answered exactly as a read of something that does
not exist: the same 404, the same words. Writes need no token: envelope signatures
authorise them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app, g, request

from api.queries import body_of, entries_of_type
from ledger import verify
from ledger.errors import ForbiddenError, NotFoundError, UnauthorizedError
from ledger.log import Ledger
from ledger.storage.base import StoredEntry
from ledger.tokens import TokenStore

PUBLIC_TYPES = frozenset({"party", "key", "certificate"})
MAX_AUTH_HEADER = 256


@dataclass(frozen=True)
class Principal:
    """The party a request acts for, with its current roles."""

    party: str
    roles: frozenset[str]
    token_id: str

    @property
    def is_cbp(self) -> bool:
        return "cbp" in self.roles


@dataclass
class ApiState:
    """What every request needs: the ledger, its tokens and the policy."""

    ledger: Ledger
    tokens: TokenStore
    policy: Policy


def state() -> ApiState:
    value: ApiState = current_app.extensions["lotchain"]
    return value


def principal(*, required: bool) -> Principal | None:
    """The request's principal from ``Authorization: Bearer``; 401 if needed and absent."""
    if "principal" in g:
        found: Principal | None = g.principal
    else:
        found = _authenticate(request.headers.get("Authorization"))
        g.principal = found
    if found is None and required:
        raise UnauthorizedError("this read needs a bearer token bound to a party")
    return found


def _authenticate(header: str | None) -> Principal | None:
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(header) > MAX_AUTH_HEADER:
        raise UnauthorizedError(
            "the Authorization header must be: Bearer <token>", invalid_token=True
        )
    st = state()
    info = st.tokens.authenticate(token)
    if info is None:
        raise UnauthorizedError("the bearer token is unknown or revoked", invalid_token=True)
    party = st.ledger.store.party(info.party)
    if party is None:
        raise UnauthorizedError(
            f"the token's party {info.party} is not in the ledger", invalid_token=True
        )
    return Principal(party.party_id, party.roles, info.id)


class Policy:
    """Read decisions over one ledger, with each shipment's chain cached.

    A chain is what the shipment's verdict relies on (``verify.chain_ids``); it only
    grows as evidence is appended (a revocation, a newer certificate), so a cached
    chain is trusted for a "yes" and refreshed, once per log size, before a "no".
    """

    def __init__(self, ledger: Ledger, cache_size: int = 4096) -> None:
        self.ledger = ledger
        self.cache_size = cache_size
        self._chains: OrderedDict[str, tuple[int, frozenset[str]]] = OrderedDict()
        self._lock = threading.Lock()

    def _cached(self, shipment_id: str) -> tuple[int, frozenset[str]] | None:
        with self._lock:
            found = self._chains.get(shipment_id)
            if found is not None:
                self._chains.move_to_end(shipment_id)
            return found

    def chain(self, shipment_id: str, *, fresh: bool = True) -> frozenset[str]:
        """Every attestation id a shipment's verdict relies on (and the shipment).

        ``fresh=False`` accepts a chain computed at an earlier log size.
        """
        cached = self._cached(shipment_id)
        size = self.ledger.size()
        if cached is not None and (not fresh or cached[0] >= size):
            return cached[1]
        ids = frozenset(verify.chain_ids(self.ledger, shipment_id)) | {shipment_id}
        ids |= cached[1] if cached is not None else frozenset()
        with self._lock:
            self._chains[shipment_id] = (size, ids)
            self._chains.move_to_end(shipment_id)
            while len(self._chains) > self.cache_size:
                self._chains.popitem(last=False)
        return ids

    def in_chains_of(self, importer: str, attestation_id: str) -> bool:
        """Whether an attestation is in the chain of one of an importer's shipments."""
        shipments = [
            s.attestation_id for s in entries_of_type(self.ledger, "shipment", issuer=importer)
        ]
        if any(attestation_id in self.chain(s, fresh=False) for s in shipments):
            return True
        return any(attestation_id in self.chain(s) for s in shipments)

    def is_public(self, entry: StoredEntry) -> bool:
        if entry.type in PUBLIC_TYPES:
            return True
        if entry.type == "revocation":
            target = body_of(entry)["target"]
            record = self.ledger.store.attestation(target)
            return record is not None and record.type == "certificate"
        return False

    def can_read(self, who: Principal | None, entry: StoredEntry) -> bool:
        if self.is_public(entry):
            return True
        if who is None:
            return False
        if who.is_cbp or entry.issuer == who.party:
            return True
        if entry.type == "transfer" and body_of(entry).get("to") == who.party:
            return True
        return self.in_chains_of(who.party, entry.attestation_id)

    def readable_entry(self, who: Principal, entry: StoredEntry | None, ref: str) -> StoredEntry:
        """``entry`` if ``who`` may read it; else the very 404 of an entry that does not exist."""
        if entry is None or not self.can_read(who, entry):
            raise no_entry(ref)
        return entry

    @staticmethod
    def readable_shipment(who: Principal, entry: StoredEntry | None, ref: str) -> StoredEntry:
        """Shipment views: CBP and the importer of record; to anyone else, not found.

        A non-shipment entry named by index, another importer's shipment and no entry at
        all get the same answer, so neither existence nor type can be read off it.
        """
        if entry is None or entry.type != "shipment":
            raise no_shipment(ref)
        if not (who.is_cbp or entry.issuer == who.party):
            raise no_shipment(ref)
        return entry


def no_entry(ref: str) -> NotFoundError:
    """The one answer to an entry that is missing or not the caller's to read."""
    return NotFoundError(f"no entry {ref} that this token may read")


def no_shipment(ref: str) -> NotFoundError:
    """The one answer to a shipment that is missing or not the caller's to read."""
    return NotFoundError(f"no shipment {ref} that this token may read")


def reader() -> Principal:
    """The request's principal; 401 without one (called before anything is looked up)."""
    who = principal(required=True)
    assert who is not None
    return who


def require_cbp() -> Principal:
    who = principal(required=True)
    assert who is not None
    if not who.is_cbp:
        raise ForbiddenError(f"{who.party} does not hold the cbp role")
    return who
