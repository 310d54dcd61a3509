"""Ed25519 keys: generation, key ids, encrypted PEM files and signers.

Private keys on disk are PKCS#8 PEM encrypted with a passphrase (written 0600);
public keys are SubjectPublicKeyInfo PEM. Signing and verifying on the hot path use
PyNaCl; ``cryptography`` handles only the file formats.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import nacl.bindings
import nacl.exceptions
import nacl.signing
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import KeyFileError, MalformedError

MIN_PASSPHRASE_BYTES = 8
MAX_KEY_FILE_BYTES = 16 * 1024


def key_id(public_key: bytes) -> str:
    """The contract key id: ``ed25519:`` + hex SHA-256 of the raw 32-byte public key."""
    if len(public_key) != 32:
        raise MalformedError("an Ed25519 public key is 32 bytes")
    return "ed25519:" + hashlib.sha256(public_key).hexdigest()


@dataclass(frozen=True)
class Signer:
    """A private key ready to sign, with its key id."""

    signing_key: nacl.signing.SigningKey

    @property
    def public_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.signing_key.sign(message).signature

    @classmethod
    def generate(cls) -> Signer:
        return cls(nacl.signing.SigningKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> Signer:
        """Deterministic keys, for golden files and tests only."""
        return cls(nacl.signing.SigningKey(seed))


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``message``."""
    if (
        type(public_key) is not bytes
        or type(signature) is not bytes
        or len(public_key) != nacl.bindings.crypto_sign_PUBLICKEYBYTES
        or len(signature) != nacl.bindings.crypto_sign_BYTES
    ):
        return False
    try:  # the binding itself: VerifyKey's checks are the ones above
        nacl.bindings.crypto_sign_open(signature + bytes(message), public_key)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically with mode 0600 from the first byte; never overwrite a key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise KeyFileError(f"{path} exists; refusing to overwrite a key file")
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def save_private_key(path: Path, signer: Signer, passphrase: bytes) -> None:
    if len(passphrase) < MIN_PASSPHRASE_BYTES:
        raise KeyFileError(f"passphrase must be at least {MIN_PASSPHRASE_BYTES} bytes")
    key = Ed25519PrivateKey.from_private_bytes(bytes(signer.signing_key))
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    _write_private(path, pem)


def load_private_key(path: Path, passphrase: bytes) -> Signer:
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError(
                f"{path} is readable by group or others (mode {stat.S_IMODE(mode):o}); "
                f"run: chmod 600 {path}"
            )
        data = path.read_bytes()[: MAX_KEY_FILE_BYTES + 1]
    except FileNotFoundError as e:
        raise KeyFileError(f"no key file at {path}") from e
    except OSError as e:
        raise KeyFileError(f"cannot read {path}: {e.strerror}") from e
    if len(data) > MAX_KEY_FILE_BYTES:
        raise KeyFileError(f"{path} is too large to be a key file")
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError as e:
        raise KeyFileError(f"{path} is not encrypted; lotchain keeps private keys encrypted") from e
    except (ValueError, UnsupportedAlgorithm) as e:
        raise KeyFileError(f"cannot decrypt {path}: wrong passphrase or not a key file") from e
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} holds a key that is not Ed25519")
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return Signer(nacl.signing.SigningKey(raw))


def public_key_pem(public_key: bytes) -> bytes:
    return Ed25519PublicKey.from_public_bytes(public_key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def save_public_key(path: Path, public_key: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(public_key_pem(public_key))


def load_public_key(path: Path) -> bytes:
    try:
        data = path.read_bytes()[: MAX_KEY_FILE_BYTES + 1]
        key = serialization.load_pem_public_key(data)
    except OSError as e:
        raise KeyFileError(f"cannot read {path}: {e.strerror}") from e
    except (ValueError, UnsupportedAlgorithm) as e:
        raise KeyFileError(f"{path} is not a PEM public key") from e
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path} holds a key that is not Ed25519")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
