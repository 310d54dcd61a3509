"""DSSE envelopes: the one place that defines which bytes are signed.

A signature covers ``PAE(payloadType, payload)`` exactly as the DSSE protocol defines.
The envelope's identity is the SHA-256 of its RFC 8785 bytes; the payload bytes inside
are kept exactly as received and never re-serialised.
"""

from __future__ import annotations

import binascii
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger.canonical import canonical_bytes, parse_json
from ledger.encoding import b64decode, b64encode, sha256_id
from ledger.errors import MalformedError, TooLargeError
from ledger.keys import Signer

PAYLOAD_TYPE = "application/vnd.lotchain.attestation.v1+json"
MAX_ENVELOPE_BYTES = 1 << 20
MAX_PAYLOAD_BYTES = 768 * 1024
MAX_SIGNATURES = 8
_KEY_ID = re.compile(r"ed25519:[0-9a-f]{64}")
_SIG = rb'\{"keyid":"(ed25519:[0-9a-f]{64})","sig":"([A-Za-z0-9+/]{86}==)"\}'
#: The RFC 8785 form of a lotchain envelope, the form the log stores and signers send:
#: the three fields in order, base64 (which needs no JSON escapes) and hex key ids. Bytes
#: of this exact shape cannot hold duplicate keys, other fields or escapes, so their
#: fields are read by position; anything else takes the general JSON path.
_HEAD = b'{"payload":"'
_MIDDLE = b'","payloadType":"' + PAYLOAD_TYPE.encode("ascii") + b'","signatures":['
_TAIL = b"]}"
_SIG_LIST = re.compile(_SIG + rb"(?:," + _SIG + rb")*")
_SIGS = re.compile(_SIG)


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


@dataclass(frozen=True)
class Signature:
    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    """A parsed DSSE envelope; ``canonical`` is what the log stores and hashes."""

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    @functools.cached_property
    def canonical(self) -> bytes:
        """The RFC 8785 bytes of the envelope, built once and only when needed."""
        return canonical_bytes(_envelope_json(self.payload_type, self.payload, self.signatures))

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of the canonical envelope bytes (the leaf's ``envelope``)."""
        return sha256_id(self.canonical)

    def signed_bytes(self) -> bytes:
        return pae(self.payload_type, self.payload)

    def to_json(self) -> dict[str, Any]:
        return _envelope_json(self.payload_type, self.payload, self.signatures)


def _envelope_json(
    payload_type: str, payload: bytes, signatures: Sequence[Signature]
) -> dict[str, Any]:
    return {
        "payloadType": payload_type,
        "payload": b64encode(payload),
        "signatures": [{"keyid": s.keyid, "sig": b64encode(s.sig)} for s in signatures],
    }


def sign_envelope(payload: bytes, signers: Sequence[Signer]) -> Envelope:
    """Sign ``payload`` with every signer (co-signing) and return the envelope."""
    if not signers:
        raise MalformedError("an envelope needs at least one signer")
    message = pae(PAYLOAD_TYPE, payload)
    sigs = tuple(Signature(s.key_id, s.sign(message)) for s in signers)
    return Envelope(PAYLOAD_TYPE, payload, sigs)


def cosign(envelope: Envelope, signer: Signer) -> Envelope:
    """Add one more signature (a buyer co-signing a transfer, say)."""
    if any(s.keyid == signer.key_id for s in envelope.signatures):
        raise MalformedError(f"the envelope is already signed by {signer.key_id}")
    sigs = (*envelope.signatures, Signature(signer.key_id, signer.sign(envelope.signed_bytes())))
    return Envelope(envelope.payload_type, envelope.payload, sigs)


def parse_envelope(data: bytes | dict[str, Any]) -> Envelope:
    """Parse an envelope from untrusted JSON bytes (or an already parsed object)."""
    if isinstance(data, (bytes, bytearray)):
        if len(data) > MAX_ENVELOPE_BYTES:
            raise TooLargeError(f"envelope is {len(data)} bytes; the limit is {MAX_ENVELOPE_BYTES}")
        fast = _parse_canonical(bytes(data))
        if fast is not None:
            return fast
        obj = parse_json(bytes(data), max_bytes=MAX_ENVELOPE_BYTES)
    else:
        obj = data
    if not isinstance(obj, dict):
        raise MalformedError("an envelope must be a JSON object")
    extra = set(obj) - {"payloadType", "payload", "signatures"}
    if extra:
        raise MalformedError(f"unknown envelope fields: {', '.join(sorted(extra))}")
    payload_type = obj.get("payloadType")
    if payload_type != PAYLOAD_TYPE:
        raise MalformedError(f"payloadType must be {PAYLOAD_TYPE!r}")
    payload = b64decode(obj.get("payload"), what="payload")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise TooLargeError(f"payload is {len(payload)} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    raw_sigs = obj.get("signatures")
    if not isinstance(raw_sigs, list) or not raw_sigs:
        raise MalformedError("signatures must be a non-empty list")
    if len(raw_sigs) > MAX_SIGNATURES:
        raise TooLargeError(f"at most {MAX_SIGNATURES} signatures are allowed")
    sigs: list[Signature] = []
    for i, raw in enumerate(raw_sigs):
        if not isinstance(raw, dict) or set(raw) != {"keyid", "sig"}:
            raise MalformedError(f"signatures[{i}] must be an object with keyid and sig only")
        keyid = raw["keyid"]
        if not isinstance(keyid, str) or not _KEY_ID.fullmatch(keyid):
            raise MalformedError(f"signatures[{i}].keyid must be ed25519:<64 hex>")
        sigs.append(Signature(keyid, b64decode(raw["sig"], what=f"signatures[{i}].sig", length=64)))
    if len({s.keyid for s in sigs}) != len(sigs):
        raise MalformedError("an envelope may carry one signature per key")
    return Envelope(PAYLOAD_TYPE, payload, tuple(sigs))


def _b64_canonical(text: bytes) -> bytes | None:
    """The bytes of ``text`` if it is canonical standard base64 (as
    :func:`ledger.encoding.b64decode` accepts), else None. All in C: no pattern scan."""
    if len(text) % 4:
        return None
    pad = text.find(b"=")
    if pad != -1 and pad < len(text) - 2:
        return None
    try:  # strict: the alphabet only, padding only at the end
        data = binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error:
        return None
    rest = len(data) % 3  # the last group's unused low bits must be zero
    if rest and binascii.b2a_base64(data[-rest:], newline=False) != text[-4:]:
        return None
    return data


def _parse_canonical(data: bytes) -> Envelope | None:
    """The envelope if ``data`` is one in canonical form that the general path accepts;
    None for anything else (the general path then parses it, or says what is wrong)."""
    if not data.startswith(_HEAD) or not data.endswith(_TAIL):
        return None
    end = data.find(b'"', len(_HEAD))
    if end == -1 or not data.startswith(_MIDDLE, end):
        return None
    sig_text = data[end + len(_MIDDLE) : -len(_TAIL)]
    if _SIG_LIST.fullmatch(sig_text) is None:
        return None
    payload = _b64_canonical(data[len(_HEAD) : end])
    raw_sigs = [(k.decode("ascii"), _b64_canonical(s)) for k, s in _SIGS.findall(sig_text)]
    sigs = tuple(Signature(k, s) for k, s in raw_sigs if s is not None)
    if (
        payload is None
        or len(sigs) != len(raw_sigs)
        or len(payload) > MAX_PAYLOAD_BYTES
        or len(sigs) > MAX_SIGNATURES
        or len({s.keyid for s in sigs}) != len(sigs)
    ):
        return None
    env = Envelope(PAYLOAD_TYPE, payload, sigs)
    env.__dict__["canonical"] = data  # these bytes are its RFC 8785 form (see _HEAD)
    return env
