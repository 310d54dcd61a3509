"""Attestation ids and output refs as stored: 32-byte digests, integer keys.

The contract's ids are ``sha256:<64 lowercase hex>`` strings and output refs are
``<attestation id>#<position>``. Storage keeps the digest as 32 bytes (half the size,
and a binary index key) and refers to an output by its entry's index and position;
every id and ref leaves storage in the contract's text form, unchanged.
"""

from __future__ import annotations

import re

from ledger.errors import StorageError

PREFIX = "sha256:"
_ID = re.compile(r"sha256:[0-9a-f]{64}")
_REF = re.compile(r"(sha256:[0-9a-f]{64})#(0|[1-9][0-9]{0,8})")


def id_key(attestation_id: str) -> bytes | None:
    """The stored form of an attestation id, or None when ``attestation_id`` is not one
    (then nothing stored can match it)."""
    if not _ID.fullmatch(attestation_id):
        return None
    return bytes.fromhex(attestation_id[len(PREFIX) :])


def id_key_strict(attestation_id: str) -> bytes:
    """The stored form of an id the log itself computed; anything else is refused."""
    key = id_key(attestation_id)
    if key is None:
        raise StorageError(f"not an attestation id: {attestation_id[:80]!r}")
    return key


def id_text(value: object) -> str:
    """The contract's text form of a stored id (a row written as text is read as it is,
    so a hand-edited database is reported as it stands, never masked)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        return PREFIX + raw.hex() if len(raw) == 32 else PREFIX + "?" + raw.hex()
    raise StorageError(f"a stored attestation id has the type {type(value).__name__}")


def ref_key(ref: str) -> tuple[bytes, int] | None:
    """``(id digest, position)`` of an output ref, or None when ``ref`` is not one."""
    match = _REF.fullmatch(ref)
    if match is None:
        return None
    return bytes.fromhex(match.group(1)[len(PREFIX) :]), int(match.group(2))


def ref_text(digest: object, position: int) -> str:
    return f"{id_text(digest)}#{int(position)}"


#: Merkle node keys: ``level << LEVEL_SHIFT | index``, one integer per node, so each
#: level is one contiguous run of the table's key order.
LEVEL_SHIFT = 56


def node_key(level: int, index: int) -> int:
    if not 0 <= index < 1 << LEVEL_SHIFT or not 0 <= level < 64:
        raise StorageError(f"Merkle node ({level}, {index}) is beyond what storage keys hold")
    return level << LEVEL_SHIFT | index


def node_of(key: int) -> tuple[int, int]:
    return key >> LEVEL_SHIFT, key & ((1 << LEVEL_SHIFT) - 1)
