"""Canonical JSON (RFC 8785) against the vendored vectors, and strict parsing of hostile input."""

from __future__ import annotations

import hashlib
import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import vendored_path
from ledger.canonical import canonical_bytes, parse_canonical, parse_json
from ledger.errors import MalformedError, TooLargeError
from ledger.keys import Signer

JCS_NAMES = ["arrays", "french", "structures", "unicode", "values", "weird"]


@pytest.mark.parametrize("name", JCS_NAMES)
def test_jcs_vectors(name: str) -> None:
    source = vendored_path("vectors", "jcs", "input", f"{name}.json").read_bytes()
    expected = vendored_path("vectors", "jcs", "output", f"{name}.json").read_bytes()
    assert canonical_bytes(json.loads(source)) == expected.rstrip(b"\n")


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _base58(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + _B58.index(char)
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + raw


def test_eddsa_jcs_2022_vectors_canonical_form_hashes_and_signature() -> None:
    """Our JCS and Ed25519 signer reproduce the W3C eddsa-jcs-2022 test vectors exactly."""
    folder = ("vectors", "eddsa-jcs-2022")
    unsigned = json.loads(vendored_path(*folder, "unsigned.json").read_bytes())
    proof_config = json.loads(vendored_path(*folder, "proofConfigJCS.json").read_bytes())
    canon_doc = canonical_bytes(unsigned)
    canon_proof = canonical_bytes(proof_config)
    assert canon_doc == vendored_path(*folder, "canonDocJCS.txt").read_bytes().strip()
    assert canon_proof == vendored_path(*folder, "proofCanonJCS.txt").read_bytes().strip()
    doc_hash = hashlib.sha256(canon_doc).digest()
    proof_hash = hashlib.sha256(canon_proof).digest()
    assert doc_hash.hex() == vendored_path(*folder, "docHashJCS.txt").read_text().strip()
    assert (proof_hash + doc_hash).hex() == vendored_path(
        *folder, "combinedHashJCS.txt"
    ).read_text().strip()
    keys = json.loads(vendored_path(*folder, "keyPair.json").read_bytes())
    private = _base58(keys["privateKeyMultibase"][1:])
    public = _base58(keys["publicKeyMultibase"][1:])
    assert private[:2] == b"\x80\x26" and public[:2] == b"\xed\x01"
    signer = Signer.from_seed(private[2:])
    assert signer.public_key == public[2:]
    signature = signer.sign(proof_hash + doc_hash)
    assert signature.hex() == vendored_path(*folder, "sigHexJCS.txt").read_text().strip()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b'{"a": 1, "a": 2}', "duplicate key"),
        (b'{"a": NaN}', "NaN"),
        (b"[Infinity]", "Infinity"),
        (b'{"a": 1', "invalid JSON"),
        (b'"\xff\xfe"', "UTF-8"),
        (b"12345678901234567890123", "too long"),
        (b"9007199254740993", "interoperable"),
        (b'"\\ud800"', "surrogate"),
        (b"[" * 40 + b"]" * 40, "nests deeper"),
        (b"[" * 5000 + b"]" * 5000, "nests deeper"),
    ],
)
def test_parse_json_refuses_hostile_input_with_a_code(data: bytes, fragment: str) -> None:
    with pytest.raises(MalformedError) as err:
        parse_json(data)
    assert err.value.code == "MALFORMED"
    assert fragment in err.value.message


def test_parse_json_limits_size() -> None:
    with pytest.raises(TooLargeError) as err:
        parse_json(b" " * 100 + b"1", max_bytes=50)
    assert err.value.code == "TOO_LARGE"


def test_parse_canonical_refuses_other_encodings_of_the_same_value() -> None:
    assert parse_canonical(b'{"a":1,"b":[true,null]}') == {"a": 1, "b": [True, None]}
    for variant in (b'{"b":[true,null],"a":1}', b'{"a": 1,"b":[true,null]}', b'{"a":1.0}'):
        with pytest.raises(MalformedError):
            parse_canonical(variant)


plain_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(alphabet=st.characters(max_codepoint=127), max_size=6), inner, max_size=4
        )
    ),
    max_leaves=25,
)


@settings(max_examples=500, deadline=None)
@given(plain_values)
def test_fast_encoder_is_exactly_rfc8785_on_plain_values(value: object) -> None:
    """The standard library path must give the same bytes as the rfc8785 reference."""
    assert canonical_bytes(value) == rfc8785.dumps(value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_fast_encoder_escapes_every_character_as_rfc8785(text: str) -> None:
    assert canonical_bytes({"k": text, "l": [text]}) == rfc8785.dumps({"k": text, "l": [text]})


def test_values_that_are_not_plain_still_canonicalise() -> None:
    for value in ({"a": 1.5e21}, {"é": 1}, {"\U0001f600": 1, "\ufb01": 2}, [0.1, -0.0]):
        assert canonical_bytes(value) == rfc8785.dumps(value)
