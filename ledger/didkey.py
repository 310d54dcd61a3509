"""did:key identifiers of Ed25519 keys, and base58btc multibase.

A ``did:key`` names a public key by itself: ``did:key:z`` + base58btc of the multicodec
prefix 0xed 0x01 (Ed25519 public key) followed by the 32 raw bytes. Its one verification
method is ``<did>#<multibase>``, so a verifier needs nothing but the string to get the
key. Base58 is the ``base58`` library's (Bitcoin alphabet, as multibase ``z`` requires).
"""

from __future__ import annotations

import base58

from ledger.errors import MalformedError

ED25519_PUB_PREFIX = b"\xed\x01"  # multicodec ed25519-pub, as an unsigned varint
MULTIBASE_BASE58BTC = "z"
DID_KEY = "did:key:"
MAX_MULTIBASE_CHARS = 256


def multibase_encode(data: bytes) -> str:
    """``z`` + base58btc of ``data``."""
    return MULTIBASE_BASE58BTC + base58.b58encode(data).decode("ascii")


def multibase_decode(text: object, *, what: str = "value") -> bytes:
    """Bytes of a base58btc multibase string; a coded error for anything else."""
    if not isinstance(text, str) or not text.startswith(MULTIBASE_BASE58BTC):
        raise MalformedError(f"{what} must be a base58btc multibase string starting with 'z'")
    if len(text) > MAX_MULTIBASE_CHARS:
        raise MalformedError(f"{what} is longer than {MAX_MULTIBASE_CHARS} characters")
    try:
        data = base58.b58decode(text[1:].encode("ascii"))
    except (ValueError, UnicodeEncodeError) as e:
        raise MalformedError(f"{what} is not valid base58btc") from e
    if multibase_encode(data) != text:
        raise MalformedError(f"{what} is not canonical base58btc")
    return data


def public_key_multibase(public_key: bytes) -> str:
    """The multibase form of an Ed25519 public key (``z6Mk...``)."""
    if len(public_key) != 32:
        raise MalformedError("an Ed25519 public key is 32 bytes")
    return multibase_encode(ED25519_PUB_PREFIX + public_key)


def did_key(public_key: bytes) -> str:
    """``did:key:z6Mk...`` of an Ed25519 public key."""
    return DID_KEY + public_key_multibase(public_key)


def verification_method(public_key: bytes) -> str:
    """The did:key's verification method: ``<did>#<multibase>``."""
    return did_key(public_key) + "#" + public_key_multibase(public_key)


def public_key_of_did(did: object) -> bytes:
    """The raw Ed25519 key a ``did:key`` (with or without its fragment) names."""
    if not isinstance(did, str) or not did.startswith(DID_KEY):
        raise MalformedError(f"{did!r} is not a did:key")
    identifier, _, fragment = did[len(DID_KEY) :].partition("#")
    raw = multibase_decode(identifier, what="the did:key")
    if raw[:2] != ED25519_PUB_PREFIX or len(raw) != 34:
        raise MalformedError("the did:key does not name an Ed25519 public key (multicodec 0xed01)")
    if fragment and fragment != identifier:
        raise MalformedError(
            "the did:key verification method's fragment must repeat its key (did:key:z...#z...)"
        )
    return raw[2:]
