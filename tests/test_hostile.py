"""Hostile input, generated: every parser answers a coded error or a value, nothing else.

Property-based (hypothesis) over canonical JSON, envelopes, payloads, leaves, proofs and
checkpoints, and over the append path: whatever arrives, the result is a
:class:`LedgerError` with a code (never another exception, never a traceback) and a
refused append writes nothing.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.attestation import parse_attestation
from ledger.canonical import canonical_bytes, parse_canonical, parse_json
from ledger.checkpoint import parse_vkey, verify_checkpoint
from ledger.dsse import PAYLOAD_TYPE, parse_envelope, sign_envelope
from ledger.errors import LedgerError
from ledger.keys import Signer
from ledger.leaf import parse_leaf
from ledger.log import Ledger

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SIGNER = Signer.from_seed(b"h" * 32)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False, min_value=-(2.0**52), max_value=2.0**52)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _coded(call: Any, *args: Any) -> None:
    try:
        call(*args)
    except LedgerError as e:
        assert e.code and e.code.isupper() and e.message


@SETTINGS
@given(st.binary(max_size=300))
def test_parse_json_on_arbitrary_bytes(data: bytes) -> None:
    _coded(parse_json, data)


@SETTINGS
@given(st.text(alphabet='{}[]":,0123456789.eE+-tnulfase\\ u\x00\ud800', max_size=60))
def test_parse_json_on_json_like_text(text: str) -> None:
    _coded(parse_json, text.encode("utf-8", errors="surrogatepass"))


@SETTINGS
@given(json_values)
def test_canonical_round_trip(value: Any) -> None:
    try:
        encoded = canonical_bytes(value)
    except LedgerError:
        return  # e.g. integers beyond what JCS can represent exactly
    assert parse_canonical(encoded) == json.loads(encoded)
    assert canonical_bytes(parse_json(encoded)) == encoded


@SETTINGS
@given(json_values)
def test_parse_envelope_on_arbitrary_json(value: Any) -> None:
    _coded(parse_envelope, json.dumps(value).encode())


@SETTINGS
@given(st.binary(max_size=400))
def test_parse_attestation_on_signed_garbage(payload: bytes) -> None:
    """Validly signed, but the payload is anything at all."""
    _coded(parse_attestation, sign_envelope(payload, [SIGNER]))


@SETTINGS
@given(json_values)
def test_parse_attestation_on_signed_json(value: Any) -> None:
    payload = {
        "v": 1,
        "type": "origin",
        "issuer": "party:abc",
        "issued_at": "2025-01-01T00:00:00Z",
        "nonce": "ab" * 16,
        "body": value,
    }
    try:
        data = canonical_bytes(payload)
    except LedgerError:
        return
    _coded(parse_attestation, sign_envelope(data, [SIGNER]))


@SETTINGS
@given(st.binary(max_size=300))
def test_parse_leaf(data: bytes) -> None:
    _coded(parse_leaf, data)


@SETTINGS
@given(json_values)
def test_proofs_from_arbitrary_json(value: Any) -> None:
    _coded(merkle.InclusionProof.from_json, value)
    _coded(merkle.ConsistencyProof.from_json, value)


@SETTINGS
@given(
    st.integers(min_value=-3, max_value=2**64),
    st.integers(min_value=-3, max_value=2**64),
    st.lists(st.binary(min_size=0, max_size=40), max_size=70),
)
def test_proof_verification_with_arbitrary_numbers(a: int, b: int, hashes: list[bytes]) -> None:
    root = bytes(32)
    _coded(merkle.verify_inclusion, root, a, b, hashes, root)
    _coded(merkle.verify_consistency, a, b, hashes, root, root)


@SETTINGS
@given(st.binary(max_size=400))
def test_checkpoints_from_arbitrary_bytes(note: bytes) -> None:
    vkey = "golden.example/log+8b9d1a5c+" + base64.b64encode(b"\x01" + bytes(32)).decode()
    _coded(verify_checkpoint, note, vkey)


@SETTINGS
@given(st.text(max_size=120))
def test_vkeys_from_arbitrary_text(text: str) -> None:
    _coded(parse_vkey, text)


@SETTINGS
@given(value=json_values)
def test_append_of_anything_writes_nothing(ledger: Ledger, value: Any) -> None:
    size = ledger.size()
    envelope = {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(json.dumps(value).encode()).decode(),
        "signatures": [{"keyid": SIGNER.key_id, "sig": base64.b64encode(bytes(64)).decode()}],
    }
    for candidate in (json.dumps(value).encode(), envelope):
        _coded(ledger.append, candidate)
    assert ledger.size() == size
