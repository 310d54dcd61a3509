"""Signed notes and checkpoints against the public C2SP vector (vendored) and hostile inputs."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import nacl.signing
import pytest

from conftest import EXTERNAL_VECTORS
from ledger.checkpoint import (
    Checkpoint,
    NoteVerifier,
    checkpoint_body,
    open_note,
    parse_checkpoint_unverified,
    parse_vkey,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
    vkey_for,
)
from ledger.errors import CheckpointError, LedgerError, MalformedError, TooLargeError


def vectors_dir() -> Path:
    """The public vectors vendored in tests/vectors/external; a missing one must fail."""
    return EXTERNAL_VECTORS


NOTE_DIR = vectors_dir() / "signed-note"
ORIGIN = "lotchain.example/log"
KEY = nacl.signing.SigningKey(hashlib.sha256(b"lotchain test log key").digest())
OTHER = nacl.signing.SigningKey(hashlib.sha256(b"someone else").digest())
VKEY = vkey_for(ORIGIN, bytes(KEY.verify_key))
ROOT = hashlib.sha256(b"root").digest()


def _example() -> tuple[bytes, str]:
    note = (NOTE_DIR / "example.note").read_bytes()
    vkey = (NOTE_DIR / "example.vkey").read_text().strip()
    return note, vkey


def _signed(text: str, name: str = ORIGIN, key: nacl.signing.SigningKey = KEY) -> bytes:
    return sign_note(text, name, key)


def test_public_vector_verifies() -> None:
    note, vkey = _example()
    verifier = parse_vkey(vkey)
    assert verifier.name == "example.com/foo"
    assert verifier.key_hash.hex() == "530d903a"
    assert open_note(note, verifier) == "This is an example message.\n"


def test_public_vector_any_changed_byte_fails() -> None:
    note, vkey = _example()
    verifier = parse_vkey(vkey)
    for i in range(len(note)):
        for delta in (1, 0x20):
            bad = bytearray(note)
            bad[i] ^= delta
            with pytest.raises(LedgerError) as info:
                open_note(bytes(bad), verifier)
            assert isinstance(info.value, CheckpointError), (i, delta, info.value)


def test_vkey_round_trip_and_public_format() -> None:
    _, vkey = _example()
    v = parse_vkey(vkey)
    assert vkey_for(v.name, v.public_key) == vkey
    assert parse_vkey(VKEY) == NoteVerifier(
        ORIGIN, bytes.fromhex(VKEY.split("+")[1]), bytes(KEY.verify_key)
    )


@pytest.mark.parametrize(
    "vkey",
    [
        "",
        "name",
        "name+530d903a",
        "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903x+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903a+AkyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2!",
        "bad name+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    ],
)
def test_bad_vkeys_rejected(vkey: str) -> None:
    with pytest.raises((MalformedError, CheckpointError)):
        parse_vkey(vkey)


def test_checkpoint_round_trip() -> None:
    cp = sign_checkpoint(ORIGIN, 42, ROOT, KEY)
    assert cp.note.startswith(checkpoint_body(ORIGIN, 42, ROOT).encode() + "\n\u2014 ".encode())
    got = verify_checkpoint(cp.note, VKEY)
    assert got == Checkpoint(ORIGIN, 42, ROOT, cp.note)
    assert got.note is cp.note
    assert parse_checkpoint_unverified(cp.note) == got
    zero = sign_checkpoint(ORIGIN, 0, ROOT, KEY)
    assert verify_checkpoint(zero.note, VKEY).size == 0


def test_wrong_vkey_fails() -> None:
    cp = sign_checkpoint(ORIGIN, 1, ROOT, KEY)
    for vkey in (
        vkey_for(ORIGIN, bytes(OTHER.verify_key)),
        vkey_for("other", bytes(KEY.verify_key)),
    ):
        with pytest.raises(CheckpointError):
            verify_checkpoint(cp.note, vkey)


def test_signature_by_same_name_other_key_fails() -> None:
    note = _signed(checkpoint_body(ORIGIN, 1, ROOT), ORIGIN, OTHER)
    with pytest.raises(CheckpointError):
        verify_checkpoint(note, VKEY)


def test_only_other_key_name_refused() -> None:
    note = _signed(checkpoint_body(ORIGIN, 1, ROOT), "witness.example", OTHER)
    with pytest.raises(CheckpointError):
        verify_checkpoint(note, VKEY)
    with pytest.raises(CheckpointError):
        open_note(note, parse_vkey(VKEY))


def test_other_signatures_ignored_and_cosigned_verifies() -> None:
    body = checkpoint_body(ORIGIN, 7, ROOT)
    ours = _signed(body)
    witness = _signed(body, "witness.example", OTHER)
    witness_line = witness[len(body) + 1 :]
    cosigned = witness[: len(body) + 1] + witness_line + ours[len(body) + 1 :]
    assert verify_checkpoint(cosigned, VKEY).size == 7
    # a garbage signature by an unknown key is still ignored
    junk = b"\xe2\x80\x94 unknown.example " + base64.b64encode(b"\x00" * 20) + b"\n"
    assert verify_checkpoint(ours + junk, VKEY).size == 7


def test_origin_must_match_key_name() -> None:
    note = _signed(checkpoint_body("other.example", 1, ROOT), ORIGIN)
    with pytest.raises(CheckpointError):
        verify_checkpoint(note, VKEY)


def test_extension_lines_allowed() -> None:
    note = _signed(checkpoint_body(ORIGIN, 3, ROOT) + "ext one\nanother\n")
    cp = verify_checkpoint(note, VKEY)
    assert (cp.origin, cp.size, cp.root) == (ORIGIN, 3, ROOT)


B64_ROOT = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    "text",
    [
        f"{ORIGIN}\n042\n{B64_ROOT}\n",
        f"{ORIGIN}\n00\n{B64_ROOT}\n",
        f"{ORIGIN}\n-1\n{B64_ROOT}\n",
        f"{ORIGIN}\n+1\n{B64_ROOT}\n",
        f"{ORIGIN}\n 1\n{B64_ROOT}\n",
        f"{ORIGIN}\n1.0\n{B64_ROOT}\n",
        f"{ORIGIN}\n\u0661\n{B64_ROOT}\n",
        f"{ORIGIN}\n{2**63}\n{B64_ROOT}\n",
        f"{ORIGIN}\n\n{B64_ROOT}\n",
        f"{ORIGIN}\n1\n{B64_ROOT[:-1]}\n",
        f"{ORIGIN}\n1\n{B64_ROOT[:-2]}!=\n",
        f"{ORIGIN}\n1\n{base64.b64encode(ROOT[:31]).decode()}\n",
        f"{ORIGIN}\n1\n{base64.b64encode(ROOT + b'x').decode()}\n",
        f"{ORIGIN}\n1\n",
        f"{ORIGIN}\n1\n{B64_ROOT}\n\nextension after blank\n",
        f"\n1\n{B64_ROOT}\n",
    ],
)
def test_malformed_bodies_fail(text: str) -> None:
    note = _signed(text)
    with pytest.raises(CheckpointError) as info:
        verify_checkpoint(note, VKEY)
    assert info.value.code == "CHECKPOINT"
    with pytest.raises(CheckpointError):
        parse_checkpoint_unverified(note)


def test_missing_trailing_newline() -> None:
    with pytest.raises(MalformedError):
        sign_note(f"{ORIGIN}\n1\n{B64_ROOT}", ORIGIN, KEY)
    good = _signed(checkpoint_body(ORIGIN, 1, ROOT))
    for bad in (good[:-1], good + b"extra", good.replace(b"\n\n", b"\n")):
        with pytest.raises(CheckpointError):
            verify_checkpoint(bad, VKEY)


@pytest.mark.parametrize(
    "note",
    [
        b"",
        b"\xff\n\n",
        b"text\n",
        b"text\r\n\n\xe2\x80\x94 " + ORIGIN.encode() + b" AAAA\n",
        b"text\n\n- " + ORIGIN.encode() + b" AAAAAAAA\n",
        b"text\n\n\xe2\x80\x94 " + ORIGIN.encode() + b"\n",
        b"text\n\n\xe2\x80\x94 " + ORIGIN.encode() + b" AAAA\n",
        b"text\n\n\xe2\x80\x94 " + ORIGIN.encode() + b" !!!!!!!!\n",
        b"text\n\n\n",
    ],
)
def test_malformed_notes_fail(note: bytes) -> None:
    with pytest.raises(CheckpointError):
        open_note(note, parse_vkey(VKEY))


def test_too_many_signatures_and_too_large() -> None:
    body = checkpoint_body(ORIGIN, 1, ROOT)
    ours = _signed(body)
    line = _signed(body, "w", OTHER)[len(body) + 1 :]
    with pytest.raises(CheckpointError):
        verify_checkpoint(ours + line * 100, VKEY)
    assert verify_checkpoint(ours + line * 99, VKEY).size == 1
    with pytest.raises(TooLargeError):
        open_note(ours, parse_vkey(VKEY), max_bytes=len(ours) - 1)


def test_sign_rejects_bad_input() -> None:
    with pytest.raises(MalformedError):
        sign_note("tab\there\n", ORIGIN, KEY)
    with pytest.raises(MalformedError):
        sign_note("ok\n", "has space", KEY)
    with pytest.raises(MalformedError):
        sign_note("ok\n", "has+plus", KEY)
    with pytest.raises(MalformedError):
        sign_checkpoint(ORIGIN, -1, ROOT, KEY)
    with pytest.raises(MalformedError):
        sign_checkpoint(ORIGIN, 1, ROOT[:31], KEY)
    with pytest.raises(MalformedError):
        sign_checkpoint("", 1, ROOT, KEY)
