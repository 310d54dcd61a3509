"""What one verification has parsed: each distinct leaf and payload is parsed once.

A verdict relies on the same entries from many steps (a key's admission authorises
every entry signed with it; a leaf is both an entry and the ``prev`` of the next), and
an evidence bundle's source reads every entry before the verifier does. Parsing is a
pure function of the bytes, so the first answer, value or error, is every answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.attestation import Attestation, parse_attestation
from ledger.dsse import Envelope
from ledger.errors import LedgerError
from ledger.leaf import Leaf, parse_leaf


@dataclass
class Parsed:
    """Parse results by the bytes parsed, for the length of one verification."""

    leaves: dict[bytes, Leaf | LedgerError]
    payloads: dict[bytes, Attestation | LedgerError]

    @classmethod
    def empty(cls) -> Parsed:
        return cls({}, {})

    def leaf(self, data: bytes) -> Leaf:
        """:func:`ledger.leaf.parse_leaf` of ``data``, parsed at most once."""
        found = self.leaves.get(data)
        if found is None:
            try:
                found = parse_leaf(data)
            except LedgerError as e:
                found = e
            self.leaves[data] = found
        if isinstance(found, LedgerError):
            raise found
        return found

    def attestation(self, env: Envelope) -> Attestation:
        """:func:`ledger.attestation.parse_attestation` of ``env``: its payload is parsed
        and schema-checked at most once (the result depends on the payload alone)."""
        found = self.payloads.get(env.payload)
        if found is None:
            try:
                found = parse_attestation(env)
            except LedgerError as e:
                found = e
            self.payloads[env.payload] = found
        if isinstance(found, LedgerError):
            raise found
        if found.envelope is env:
            return found
        return Attestation(
            found.id, found.type, found.issuer, found.issued_at, found.nonce, found.body, env
        )
