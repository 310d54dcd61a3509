"""Allegations of forced labor: parsing, the salted commitment, and the submitter's receipt.

An allegation is confidential (only CBP reads it), yet its submitter must be able to
prove later that what CBP holds is what was sent. The log therefore commits to it by
hash only: the log signs, with its own key, an ``allegation-receipt`` attestation whose
body is ``commitment = SHA-256(salt || SHA-256(canonical allegation))``, with 32 random
salt bytes, and appends it like any other entry. The leaf (public) holds hashes of that
envelope only; the envelope holds the commitment only; and without the salt, which
only the submitter and CBP keep, no guess of the content can be checked against it.

Pure: bytes in, values out; the database side is :mod:`ledger.storage.allegations`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger import merkle, schemas
from ledger.admission import check_log_signature
from ledger.attestation import Attestation, make_attestation, parse_attestation
from ledger.canonical import canonical_bytes, parse_json
from ledger.encoding import b64decode, b64encode, format_timestamp, parse_date, sha256_id
from ledger.errors import InclusionError, LedgerError, MalformedError, SchemaError, TooLargeError
from ledger.keys import Signer
from ledger.leaf import parse_leaf
from ledger.log import Receipt, verify_receipt
from ledger.trustroot import TrustRoot

RECEIPT_TYPE = "allegation-receipt"
#: The whole submission (JSON bytes as sent), uploads included.
MAX_ALLEGATION_BYTES = 1 << 20
#: One uploaded evidence file, decoded (the schema bounds its base64 text to match).
MAX_UPLOAD_BYTES = 512 << 10
SALT_BYTES = 32
#: The 11 ILO forced-labour indicators (the schema's enum, in the ILO's order).
INDICATORS = (
    "abuse-of-vulnerability",
    "deception",
    "restriction-of-movement",
    "isolation",
    "physical-and-sexual-violence",
    "intimidation-and-threats",
    "retention-of-identity-documents",
    "withholding-of-wages",
    "debt-bondage",
    "abusive-working-and-living-conditions",
    "excessive-overtime",
)
ID_PREFIX = "alg_"
_ID_HEX = 24


def new_allegation_id() -> str:
    """A random id: it names the allegation without saying anything about it."""
    return ID_PREFIX + secrets.token_hex(_ID_HEX // 2)


def is_allegation_id(value: str) -> bool:
    rest = value.removeprefix(ID_PREFIX)
    return (
        value.startswith(ID_PREFIX)
        and len(rest) == _ID_HEX
        and all(c in "0123456789abcdef" for c in rest)
    )


@dataclass(frozen=True)
class Allegation:
    """A schema-valid allegation and its RFC 8785 canonical bytes (what is stored and hashed)."""

    value: dict[str, Any]
    canonical: bytes

    @property
    def content_sha256(self) -> str:
        return sha256_id(self.canonical)


def parse_allegation(data: bytes, *, max_bytes: int = MAX_ALLEGATION_BYTES) -> Allegation:
    """Parse and check a submission: JSON, the schema, uploads against their declared hashes."""
    if len(data) > max_bytes:
        raise TooLargeError(
            f"an allegation is at most {max_bytes} bytes, uploads included; this one is "
            f"{len(data)}: leave large files out and give their sha256 and size instead",
            limit=max_bytes,
        )
    value = parse_json(data, max_bytes=max_bytes)
    if not isinstance(value, dict):
        raise MalformedError("an allegation is a JSON object (see schemas/allegation.schema.json)")
    schemas.validate("allegation", value, what="allegation")
    _check_uploads(value)
    period = value.get("period", {})
    if "from" in period and "to" in period:
        first = parse_date(period["from"], what="period.from")
        last = parse_date(period["to"], what="period.to")
        if first > last:
            raise SchemaError("period.from is after period.to; give the earlier date first")
    return Allegation(value, canonical_bytes(value))


def _check_uploads(value: dict[str, Any]) -> None:
    for i, item in enumerate(value.get("evidence", [])):
        if "content" not in item:
            continue
        content = b64decode(item["content"], what=f"evidence[{i}].content")
        if len(content) > MAX_UPLOAD_BYTES:
            raise TooLargeError(
                f"evidence[{i}] is {len(content)} bytes; an upload is at most "
                f"{MAX_UPLOAD_BYTES} bytes (give only its sha256 and size)",
                limit=MAX_UPLOAD_BYTES,
            )
        if len(content) != item["size"] or hashlib.sha256(content).hexdigest() != item["sha256"]:
            raise SchemaError(
                f"evidence[{i}].content does not match its declared sha256 and size; "
                "declare the hash and size of the very bytes uploaded",
                pointer=f"/evidence/{i}/content",
            )


def commitment(salt: bytes, content_sha256: str) -> str:
    """``sha256:`` + hex SHA-256(salt || the 32 bytes of the content hash)."""
    digest = bytes.fromhex(content_sha256.removeprefix("sha256:"))
    return sha256_id(salt + digest)


def receipt_attestation(
    commitment_id: str, trust: TrustRoot, log_signer: Signer, *, now: datetime
) -> Attestation:
    """The log's signed commitment, issued in the name of the first trust-root registrar."""
    issuer = trust.registrars[0].party
    return make_attestation(
        RECEIPT_TYPE, issuer, {"commitment": commitment_id}, [log_signer], now=now
    )


@dataclass(frozen=True)
class AllegationReceipt:
    """What the submitter keeps: enough to prove, offline, what was submitted and when."""

    allegation: str
    content_sha256: str
    salt: bytes
    received_at: datetime
    envelope: bytes
    entry: Receipt

    def to_json(self) -> dict[str, Any]:
        return {
            "allegation": self.allegation,
            "content_sha256": self.content_sha256,
            "salt": b64encode(self.salt),
            "commitment": commitment(self.salt, self.content_sha256),
            "received_at": format_timestamp(self.received_at, micro=True),
            "envelope": parse_json(self.envelope),
            **self.entry.to_json(),
        }


@dataclass(frozen=True)
class ReceiptCheck:
    """A verified receipt: the allegation it names, where the log holds it, under what."""

    allegation: str
    content_sha256: str
    index: int
    tree_size: int
    integrated_at: datetime
    allegation_checked: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "status": "pass",
            "allegation": self.allegation,
            "content_sha256": self.content_sha256,
            "index": self.index,
            "tree_size": self.tree_size,
            "integrated_at": format_timestamp(self.integrated_at, micro=True),
            "allegation_checked": self.allegation_checked,
        }


_RECEIPT_FIELDS = ("allegation", "content_sha256", "salt", "envelope")


def verify_allegation_receipt(
    obj: object, trust: TrustRoot, allegation: bytes | None = None
) -> ReceiptCheck:
    """Check a receipt against the trust root (and the allegation's bytes, when given).

    Steps: (1) the checkpoint is signed by the log key and the inclusion proof leads from
    the leaf to its root; (2) the envelope hashes to the leaf's ``envelope`` and its
    payload to the leaf's ``attestation``; (3) it is an ``allegation-receipt`` signed by
    the log key alone, for a trust-root registrar; (4) its commitment is the salted hash
    of ``content_sha256``; (5) with the allegation, its canonical bytes hash to
    ``content_sha256``. Raises the coded error of the first step that fails.
    """
    if not isinstance(obj, dict) or not all(k in obj for k in _RECEIPT_FIELDS):
        raise MalformedError(
            "an allegation receipt needs allegation, content_sha256, salt, envelope, "
            "attestation, index, leaf, checkpoint and inclusion"
        )
    # 1. checkpoint and inclusion
    proof: merkle.InclusionProof = verify_receipt(obj, trust.log_vkey)
    leaf = parse_leaf(b64decode(obj["leaf"], what="receipt leaf"))
    # 2. the envelope is the one the leaf names
    if not isinstance(obj["envelope"], dict):
        raise MalformedError("the receipt's envelope must be a DSSE envelope object")
    att = parse_attestation(obj["envelope"])
    if sha256_id(att.envelope.canonical) != leaf.envelope or att.id != leaf.attestation:
        raise InclusionError("the receipt's envelope is not the one its log entry names")
    # 3. the log's own commitment
    if att.type != RECEIPT_TYPE or not trust.is_root_registrar(att.issuer):
        raise InclusionError(f"the receipt's entry is not an {RECEIPT_TYPE} of this log")
    check_log_signature(att, trust)
    # 4. the commitment binds the content hash
    content = obj["content_sha256"]
    if not isinstance(content, str) or not _is_sha256_id(content):
        raise MalformedError("content_sha256 must be sha256:<64 hex>")
    salt = b64decode(obj["salt"], what="receipt salt", length=SALT_BYTES)
    if not hmac.compare_digest(commitment(salt, content), str(att.body["commitment"])):
        raise InclusionError("the logged commitment is not the salted hash of content_sha256")
    # 5. the allegation itself
    if allegation is not None:
        given = canonical_bytes(parse_json(allegation, max_bytes=MAX_ALLEGATION_BYTES))
        if sha256_id(given) != content:
            raise InclusionError(
                "the allegation given is not the one submitted: its canonical bytes hash to "
                f"{sha256_id(given)}, the receipt says {content}"
            )
    return ReceiptCheck(
        str(obj["allegation"]),
        content,
        proof.index,
        proof.tree_size,
        leaf.integrated_at,
        allegation is not None,
    )


def _is_sha256_id(value: str) -> bool:
    rest = value.removeprefix("sha256:")
    return (
        value.startswith("sha256:")
        and len(rest) == 64
        and all(c in "0123456789abcdef" for c in rest)
    )


def check_stored(canonical: bytes, salt: bytes, envelope: bytes) -> bool:
    """Whether a stored allegation still matches the commitment its logged envelope signed."""
    try:
        att = parse_attestation(envelope)
    except LedgerError:
        return False
    expected = commitment(salt, sha256_id(canonical))
    return att.type == RECEIPT_TYPE and hmac.compare_digest(
        expected, str(att.body.get("commitment", ""))
    )
