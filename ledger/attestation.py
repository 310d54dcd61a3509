"""Attestations: the signed payload inside a DSSE envelope.

The payload is RFC 8785 canonical JSON of ``{v, type, issuer, issued_at, nonce, body}``;
its SHA-256 is the attestation id. Payload bytes are hashed and parsed exactly as
received, never rebuilt from the parsed value.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger import schemas
from ledger.canonical import canonical_bytes, parse_canonical
from ledger.dsse import Envelope, parse_envelope, sign_envelope
from ledger.encoding import format_timestamp, parse_timestamp, sha256_id
from ledger.errors import MalformedError
from ledger.keys import Signer


@dataclass(frozen=True)
class Attestation:
    """A parsed, schema-valid attestation (signatures are checked by the ledger state)."""

    id: str
    type: str
    issuer: str
    issued_at: datetime
    nonce: str
    body: dict[str, Any]
    envelope: Envelope

    @property
    def payload(self) -> bytes:
        return self.envelope.payload


def attestation_id(payload: bytes) -> str:
    return sha256_id(payload)


def build_payload(
    type_: str,
    issuer: str,
    body: dict[str, Any],
    *,
    now: datetime,
    nonce: str | None = None,
) -> bytes:
    """Return the canonical payload bytes of a new attestation (validated)."""
    payload = {
        "v": 1,
        "type": type_,
        "issuer": issuer,
        "issued_at": format_timestamp(now),
        "nonce": nonce if nonce is not None else secrets.token_hex(16),
        "body": body,
    }
    schemas.validate("payload", payload, what="attestation payload")
    schemas.validate(type_, body, what=f"{type_} body")
    return canonical_bytes(payload)


def make_attestation(
    type_: str,
    issuer: str,
    body: dict[str, Any],
    signers: Sequence[Signer],
    *,
    now: datetime,
    nonce: str | None = None,
) -> Attestation:
    """Build, sign and parse a new attestation."""
    payload = build_payload(type_, issuer, body, now=now, nonce=nonce)
    return parse_attestation(sign_envelope(payload, signers))


def parse_attestation(envelope: Envelope | bytes | dict[str, Any]) -> Attestation:
    """Parse and schema-check the payload of an envelope from outside."""
    env = envelope if isinstance(envelope, Envelope) else parse_envelope(envelope)
    value = parse_canonical(env.payload, what="attestation payload")
    if not isinstance(value, dict):
        raise MalformedError("attestation payload must be a JSON object")
    schemas.validate("payload", value, what="attestation payload")
    type_ = value["type"]
    schemas.validate(type_, value["body"], what=f"{type_} body")
    return Attestation(
        id=attestation_id(env.payload),
        type=type_,
        issuer=value["issuer"],
        issued_at=parse_timestamp(value["issued_at"], what="issued_at"),
        nonce=value["nonce"],
        body=value["body"],
        envelope=env,
    )
