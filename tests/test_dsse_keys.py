"""DSSE envelopes (PAE against the public vector, vendored) and key files."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from conftest import vendored_path
from ledger.dsse import PAYLOAD_TYPE, cosign, pae, parse_envelope, sign_envelope
from ledger.errors import KeyFileError, MalformedError, TooLargeError
from ledger.keys import (
    Signer,
    key_id,
    load_private_key,
    load_public_key,
    save_private_key,
    save_public_key,
    verify_signature,
)


def test_pae_matches_the_dsse_protocol_vector() -> None:
    vector = json.loads(vendored_path("vectors", "dsse", "hello-world.json").read_text())
    body = vector["serialized_body"].encode()
    assert pae(vector["payload_type"], body) == vector["pae"].encode()


def test_dsse_vector_envelope_parses_as_dsse_shape() -> None:
    """The vector envelope is DSSE, but not ours: its payloadType and keyless sig are refused."""
    vector = json.loads(vendored_path("vectors", "dsse", "hello-world.json").read_text())
    with pytest.raises(MalformedError, match="payloadType"):
        parse_envelope(vector["envelope"])


def test_sign_parse_and_verify_round_trip() -> None:
    seller, buyer = Signer.from_seed(b"s" * 32), Signer.from_seed(b"b" * 32)
    env = cosign(sign_envelope(b'{"x":1}', [seller]), buyer)
    again = parse_envelope(env.canonical)
    assert again == env
    assert again.digest == env.digest
    for sig, signer in zip(again.signatures, (seller, buyer), strict=True):
        assert sig.keyid == signer.key_id
        assert verify_signature(signer.public_key, pae(PAYLOAD_TYPE, b'{"x":1}'), sig.sig)
    assert not verify_signature(
        seller.public_key, pae(PAYLOAD_TYPE, b'{"x":2}'), env.signatures[0].sig
    )


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.update(payloadType="text/plain"),
        lambda e: e.update(payload="not base64!"),
        lambda e: e.update(payload=e["payload"] + "=="),
        lambda e: e.update(signatures=[]),
        lambda e: e.update(signatures=[{"keyid": "rsa:1", "sig": e["signatures"][0]["sig"]}]),
        lambda e: e["signatures"][0].update(sig="AAAA"),
        lambda e: e["signatures"][0].update(extra=1),
        lambda e: e.update(extra=True),
        lambda e: e.update(signatures=e["signatures"] * 2),
    ],
)
def test_malformed_envelopes_are_refused(mutate) -> None:  # type: ignore[no-untyped-def]
    env = sign_envelope(b'{"x":1}', [Signer.from_seed(b"k" * 32)]).to_json()
    mutate(env)
    with pytest.raises(MalformedError):
        parse_envelope(json.dumps(env).encode())


def test_oversized_envelope_is_refused() -> None:
    with pytest.raises(TooLargeError):
        parse_envelope(b" " * (2 << 20))


def test_key_id_is_sha256_of_raw_public_key() -> None:
    signer = Signer.from_seed(bytes(32))
    import hashlib

    assert signer.key_id == "ed25519:" + hashlib.sha256(signer.public_key).hexdigest()
    assert key_id(signer.public_key) == signer.key_id


def test_private_key_files_are_encrypted_and_private(tmp_path: Path) -> None:
    signer = Signer.generate()
    path = tmp_path / "k.pem"
    save_private_key(path, signer, b"a good passphrase")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "ENCRYPTED PRIVATE KEY" in text
    assert load_private_key(path, b"a good passphrase").key_id == signer.key_id
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        load_private_key(path, b"another passphrase")
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        save_private_key(path, signer, b"a good passphrase")
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_private_key(path, b"a good passphrase")
    with pytest.raises(KeyFileError, match="at least"):
        save_private_key(tmp_path / "short.pem", signer, b"short")
    pub = tmp_path / "k.pub"
    save_public_key(pub, signer.public_key)
    assert load_public_key(pub) == signer.public_key
    assert "BEGIN PUBLIC KEY" in pub.read_text()


def test_unencrypted_private_key_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = tmp_path / "plain.pem"
    path.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="not encrypted"):
        load_private_key(path, b"a good passphrase")
