"""Log leaves (contract): JCS bytes of the entry's hashes, chained by ``prev``.

Leaves hold hashes only, so the log can be mirrored and witnessed without disclosing
any supply chain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ledger.canonical import canonical_bytes, parse_canonical
from ledger.encoding import format_timestamp, parse_timestamp
from ledger.errors import MalformedError

ZERO_HASH = "0" * 64
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SHA_ID = re.compile(r"sha256:[0-9a-f]{64}")
MAX_LEAF_BYTES = 1024


@dataclass(frozen=True)
class Leaf:
    index: int
    integrated_at: datetime
    issuer: str
    attestation: str
    envelope: str
    prev: str

    def to_bytes(self) -> bytes:
        return canonical_bytes(
            {
                "v": 1,
                "index": self.index,
                "integrated_at": format_timestamp(self.integrated_at, micro=True),
                "issuer": self.issuer,
                "attestation": self.attestation,
                "envelope": self.envelope,
                "prev": self.prev,
            }
        )


def parse_leaf(data: bytes) -> Leaf:
    """Parse stored or received leaf bytes, which must be canonical."""
    value = parse_canonical(data, what="leaf", max_bytes=MAX_LEAF_BYTES)
    expected = {"v", "index", "integrated_at", "issuer", "attestation", "envelope", "prev"}
    if not isinstance(value, dict) or set(value) != expected or value["v"] != 1:
        raise MalformedError(
            "leaf must have exactly v=1, index, integrated_at, issuer, "
            "attestation, envelope and prev"
        )
    index = value["index"]
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise MalformedError("leaf index must be a non-negative integer")
    if not isinstance(value["issuer"], str):
        raise MalformedError("leaf issuer must be a string")
    for field in ("attestation", "envelope"):
        if not isinstance(value[field], str) or not _SHA_ID.fullmatch(value[field]):
            raise MalformedError(f"leaf {field} must be sha256:<64 hex>")
    if not isinstance(value["prev"], str) or not _HEX64.fullmatch(value["prev"]):
        raise MalformedError("leaf prev must be 64 lowercase hex digits")
    return Leaf(
        index=index,
        integrated_at=parse_timestamp(value["integrated_at"], what="leaf integrated_at"),
        issuer=value["issuer"],
        attestation=value["attestation"],
        envelope=value["envelope"],
        prev=value["prev"],
    )
