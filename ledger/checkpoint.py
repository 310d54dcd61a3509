"""C2SP signed notes and tlog-checkpoints, Ed25519 only.

A checkpoint is kept as the exact note bytes that were signed or received, so what a witness
or auditor checks is byte for byte what the log signed; parsing never re-serialises.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing

from ledger.errors import CheckpointError, MalformedError, TooLargeError

ALG_ED25519 = 0x01
SIG_PREFIX = "\u2014 "
MAX_SIGNATURES = 100
MAX_TREE_SIZE = 2**63 - 1
ROOT_SIZE = 32


@dataclass(frozen=True)
class NoteVerifier:
    """An Ed25519 note verifier parsed from a ``name+hash+key`` string."""

    name: str
    key_hash: bytes
    public_key: bytes


@dataclass(frozen=True)
class Checkpoint:
    """A verified (or merely parsed) checkpoint and the note bytes it came from."""

    origin: str
    size: int
    root: bytes
    note: bytes


# -- names, keys and text --------------------------------------------------------------


def _valid_name(name: str) -> bool:
    """Key names are non-empty, with no whitespace and no '+' (the vkey separator)."""
    return (
        bool(name)
        and "+" not in name
        and not any(c.isspace() for c in name)
        and all(ord(c) >= 0x20 and c != "\x7f" for c in name)
    )


def _key_hash(name: str, public_key: bytes) -> bytes:
    """First four bytes of SHA-256(name || "\\n" || 0x01 || key), per signed-note."""
    data = name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key
    return hashlib.sha256(data).digest()[:4]


def _b64decode(text: str) -> bytes:
    """Strict standard base64; raises binascii.Error or ValueError on anything else."""
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("non-canonical base64")
    return raw


def _check_text(text: str, error: type[CheckpointError | MalformedError]) -> bytes:
    """Note text ends in a newline and holds no control characters besides newline."""
    if not text.endswith("\n"):
        raise error("note text must end with a newline")
    if any((ord(c) < 0x20 and c != "\n") or c == "\x7f" for c in text):
        raise error("note text must not contain control characters other than newline")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise error("note text is not valid UTF-8") from e


def vkey_for(name: str, public_key: bytes) -> str:
    """The verifier key string others configure to check our notes."""
    if not _valid_name(name):
        raise MalformedError(f"invalid key name {name!r}")
    if len(public_key) != 32:
        raise MalformedError("an Ed25519 public key is 32 bytes")
    key = base64.b64encode(bytes([ALG_ED25519]) + public_key).decode("ascii")
    return f"{name}+{_key_hash(name, public_key).hex()}+{key}"


def parse_vkey(vkey: str) -> NoteVerifier:
    """Parse and check a ``<name>+<hex hash>+<base64 key>`` verifier key."""
    if not isinstance(vkey, str):
        raise MalformedError("verifier key must be a string")
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise MalformedError("verifier key must be <name>+<hash>+<key>")
    name, hash_hex, key_b64 = parts
    if not _valid_name(name):
        raise MalformedError(f"invalid key name {name!r} in verifier key")
    if len(hash_hex) != 8 or any(c not in "0123456789abcdefABCDEF" for c in hash_hex):
        raise MalformedError("verifier key hash must be 8 hex digits")
    try:
        key = _b64decode(key_b64)
    except (binascii.Error, ValueError) as e:
        raise MalformedError("verifier key is not valid base64") from e
    if len(key) != 33 or key[0] != ALG_ED25519:
        raise MalformedError("verifier key is not an Ed25519 key")
    public_key = key[1:]
    key_hash = bytes.fromhex(hash_hex)
    if _key_hash(name, public_key) != key_hash:
        raise CheckpointError("verifier key hash does not match its name and key")
    return NoteVerifier(name=name, key_hash=key_hash, public_key=public_key)


# -- signed notes ----------------------------------------------------------------------


def sign_note(text: str, name: str, signing_key: nacl.signing.SigningKey) -> bytes:
    """Sign ``text`` as a one-signature note under key ``name``."""
    data = _check_text(text, MalformedError)
    if not _valid_name(name):
        raise MalformedError(f"invalid key name {name!r}")
    public_key = bytes(signing_key.verify_key)
    signature = bytes(signing_key.sign(data).signature)
    sig = base64.b64encode(_key_hash(name, public_key) + signature).decode("ascii")
    return data + f"\n{SIG_PREFIX}{name} {sig}\n".encode()


def _split_note(note: bytes, max_bytes: int) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """Split a note into its text and (name, key hash, signature) lines, checking the form."""
    if not isinstance(note, bytes):
        raise CheckpointError("note must be bytes")
    if len(note) > max_bytes:
        raise TooLargeError(f"note is larger than {max_bytes} bytes")
    try:
        whole = note.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CheckpointError("note is not valid UTF-8") from e
    if any((ord(c) < 0x20 and c != "\n") or c == "\x7f" for c in whole):
        raise CheckpointError("note contains control characters other than newline")
    split = whole.rfind("\n\n")
    if split < 0:
        raise CheckpointError("note has no blank line before its signatures")
    text, block = whole[: split + 1], whole[split + 2 :]
    if not block.endswith("\n"):
        raise CheckpointError("note signature block must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"note has more than {MAX_SIGNATURES} signatures")
    sigs: list[tuple[str, bytes, bytes]] = []
    for line in lines:
        if not line.startswith(SIG_PREFIX):
            raise CheckpointError("note signature line does not start with an em dash")
        name, _, sig_b64 = line[len(SIG_PREFIX) :].partition(" ")
        if not _valid_name(name) or not sig_b64:
            raise CheckpointError("malformed note signature line")
        try:
            raw = _b64decode(sig_b64)
        except (binascii.Error, ValueError) as e:
            raise CheckpointError("note signature is not valid base64") from e
        if len(raw) < 5:
            raise CheckpointError("note signature is too short")
        sigs.append((name, raw[:4], raw[4:]))
    return text, sigs


def open_note(note: bytes, verifier: NoteVerifier, *, max_bytes: int = 1 << 16) -> str:
    """Return the note text if a signature by ``verifier`` verifies; other keys are ignored."""
    text, sigs = _split_note(note, max_bytes)
    data = text.encode("utf-8")
    verify_key = nacl.signing.VerifyKey(verifier.public_key)
    verified = False
    for name, key_hash, signature in sigs:
        if name != verifier.name or key_hash != verifier.key_hash:
            continue
        if len(signature) != 64:
            raise CheckpointError(f"signature by {name} is not 64 bytes")
        try:
            verify_key.verify(data, signature)
        except (nacl.exceptions.CryptoError, ValueError, TypeError) as e:
            raise CheckpointError(f"signature by {name} does not verify") from e
        verified = True
    if not verified:
        raise CheckpointError(f"note has no signature by {verifier.name}")
    return text


# -- checkpoints -----------------------------------------------------------------------


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """The tlog-checkpoint text ``<origin>\\n<size>\\n<base64 root>\\n``."""
    if not _valid_name(origin):
        raise MalformedError(f"invalid checkpoint origin {origin!r}")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_TREE_SIZE:
        raise MalformedError("checkpoint size must be an integer in range")
    if not isinstance(root, bytes) or len(root) != ROOT_SIZE:
        raise MalformedError(f"checkpoint root must be {ROOT_SIZE} bytes")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode('ascii')}\n"


def sign_checkpoint(
    origin: str, size: int, root: bytes, signing_key: nacl.signing.SigningKey
) -> Checkpoint:
    """Sign a checkpoint with the log key, whose key name is the origin."""
    note = sign_note(checkpoint_body(origin, size, root), origin, signing_key)
    return Checkpoint(origin=origin, size=size, root=root, note=note)


def _parse_body(text: str, note: bytes) -> Checkpoint:
    """Strict tlog-checkpoint body; extension lines after the root are allowed, ignored."""
    lines = text.split("\n")[:-1]
    if len(lines) < 3:
        raise CheckpointError("checkpoint needs origin, size and root lines")
    origin, size_text, root_text = lines[:3]
    if not origin:
        raise CheckpointError("checkpoint origin is empty")
    if not size_text.isascii() or not size_text.isdigit():
        raise CheckpointError("checkpoint size is not a decimal number")
    if len(size_text) > 1 and size_text[0] == "0":
        raise CheckpointError("checkpoint size has a leading zero")
    if len(size_text) > 19 or int(size_text) > MAX_TREE_SIZE:
        raise CheckpointError("checkpoint size is too large")
    try:
        root = _b64decode(root_text)
    except (binascii.Error, ValueError) as e:
        raise CheckpointError("checkpoint root is not valid base64") from e
    if len(root) != ROOT_SIZE:
        raise CheckpointError(f"checkpoint root is not {ROOT_SIZE} bytes")
    if any(not line for line in lines[3:]):
        raise CheckpointError("checkpoint extension lines must not be empty")
    return Checkpoint(origin=origin, size=int(size_text), root=root, note=note)


def verify_checkpoint(note: bytes, vkey: str) -> Checkpoint:
    """Open a checkpoint note with the log's verifier key and parse its body."""
    verifier = parse_vkey(vkey)
    text = open_note(note, verifier)
    checkpoint = _parse_body(text, note)
    if checkpoint.origin != verifier.name:
        raise CheckpointError(
            f"checkpoint origin {checkpoint.origin!r} is not the key name {verifier.name!r}"
        )
    return checkpoint


def parse_checkpoint_unverified(note: bytes, *, max_bytes: int = 1 << 16) -> Checkpoint:
    """Parse a checkpoint without checking any signature: for display only, never trust."""
    text, _ = _split_note(note, max_bytes)
    return _parse_body(text, note)
