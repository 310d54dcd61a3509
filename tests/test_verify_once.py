"""Each leaf, proof and payload is checked once per verification; the fast parsers of
canonical bytes answer exactly as the strict ones (value or error, word for word)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.canonical import _canonical_fast, canonical_bytes, parse_canonical, parse_json
from ledger.dsse import parse_envelope, sign_envelope
from ledger.encoding import b64encode
from ledger.errors import LedgerError
from ledger.keys import Signer, verify_signature
from ledger.verify import build_bundle, verify_bundle
from verify_fixtures import (
    CottonChain,
    World,
    world_fixture,  # noqa: F401 - the `world` fixture
)


def _strict(data: bytes) -> Any:
    """parse_canonical as it was before its fast path: value, or the error's message."""
    try:
        value = parse_json(data)
        if canonical_bytes(value) != data:
            return ("error", "not canonical")
        return ("value", value)
    except LedgerError as e:
        return ("error", e.message)


def _now(data: bytes) -> Any:
    try:
        return ("value", parse_canonical(data))
    except LedgerError as e:
        return ("error", "not canonical" if "not RFC 8785" in e.message else e.message)


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1,"a":2}',
        b'{"a":1,"b":{"c":[1,2,{"d":null}]}}',
        b'{"a":1.5}',
        b'{"a":1.0}',
        b"[9007199254740993]",
        b"[12345678901234567890123]",
        b'{"a":NaN}',
        b'["\\ud800"]',
        b'["\\u00e9"]',
        '{"é":1}'.encode(),
        '{"z":"日本","a":"é"}'.encode(),
        b"[" * 40 + b"]" * 40,
        b'{"b":1,"a":2}',
        b' {"a":1}',
        b'"\xff"',
        b"true",
    ],
)
def test_parse_canonical_answers_as_the_strict_parser(data: bytes) -> None:
    assert _now(data) == _strict(data)


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
        max_leaves=20,
    )
)
def test_fast_canonical_path_agrees_on_any_value(value: Any) -> None:
    try:
        data = canonical_bytes(value)
    except LedgerError:
        return
    assert _now(data) == _strict(data)
    fast = _canonical_fast(data)
    if data.isascii() and _strict(data)[0] == "value":
        assert fast == value  # plain ASCII canonical bytes take the fast path


def _envelope(signers: int = 2) -> bytes:
    keys = [Signer.from_seed(bytes([i + 1]) * 32) for i in range(signers)]
    env = sign_envelope(b'{"v":1,"x":"y"}', keys)
    return env.canonical


def test_canonical_envelopes_parse_as_their_json() -> None:
    for n in (1, 2, 3):
        data = _envelope(n)
        fast = parse_envelope(data)
        general = parse_envelope(json.loads(data))
        assert fast == general
        assert fast.canonical == data == general.canonical
        spaced = json.dumps(json.loads(data), indent=1).encode()  # the general JSON path
        assert parse_envelope(spaced) == general
        assert parse_envelope(spaced).canonical == data


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda o: o.update(payload=o["payload"][:-2] + "R="), "payload is not"),
        (lambda o: o["signatures"].append(dict(o["signatures"][0])), "one signature per key"),
        (
            lambda o: o["signatures"][0].update(sig=o["signatures"][0]["sig"][:-3] + "B=="),
            "signatures[0].sig is not",
        ),
    ],
)
def test_canonical_shaped_but_invalid_envelopes_fail_as_before(edit: Any, message: str) -> None:
    obj = json.loads(_envelope(1))
    obj["payload"] = b64encode(b'{"v":1,"x":"yz"}')  # 16 bytes: one padding character
    edit(obj)
    data = canonical_bytes(obj)
    with pytest.raises(LedgerError) as fast:
        parse_envelope(data)
    with pytest.raises(LedgerError) as general:
        parse_envelope(obj)
    assert fast.value.message == general.value.message
    assert message in fast.value.message


def test_verify_signature_refuses_what_is_not_a_key_or_signature() -> None:
    signer = Signer.from_seed(b"k" * 32)
    sig = signer.sign(b"message")
    assert verify_signature(signer.public_key, b"message", sig)
    assert not verify_signature(signer.public_key, b"massage", sig)
    assert not verify_signature(signer.public_key, b"message", sig[:-1] + bytes([sig[-1] ^ 1]))
    assert not verify_signature(signer.public_key[:31], b"message", sig)
    assert not verify_signature(signer.public_key, b"message", sig[:63])
    assert not verify_signature(b"\x00" * 32, b"message", sig)


def _counting(monkeypatch: pytest.MonkeyPatch) -> tuple[Counter[int], Counter[bytes]]:
    import ledger.verify.parsed as parsed

    proofs: Counter[int] = Counter()
    payloads: Counter[bytes] = Counter()
    real_verify, real_parse = merkle.verify_inclusion, parsed.parse_attestation

    def verify_inclusion(leaf_hash: bytes, index: int, *args: Any) -> None:
        proofs[index] += 1
        real_verify(leaf_hash, index, *args)

    def parse_attestation(env: Any) -> Any:
        payloads[env.payload] += 1
        return real_parse(env)

    monkeypatch.setattr(merkle, "verify_inclusion", verify_inclusion)
    monkeypatch.setattr(parsed, "parse_attestation", parse_attestation)
    return proofs, payloads


def test_each_leaf_and_payload_is_checked_once_online_and_offline(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    CottonChain(world).build()
    shipment, now = world.ids["shipment"], world.clock.now
    bundles = [
        json.dumps(build_bundle(world.ledger, shipment, now=now, multiproof=multi))
        for multi in (False, True)
    ]
    for data in bundles:
        proofs, payloads = _counting(monkeypatch)
        online = world.verify(now=now)
        assert proofs and payloads
        assert max(proofs.values()) == 1 and max(payloads.values()) == 1
        assert len(payloads) == online.summary["counts"]["relied_on"]
        proofs.clear(), payloads.clear()
        offline = verify_bundle(data.encode(), world.ledger.trust, now=now)
        assert offline.to_json() == online.to_json()
        assert max(proofs.values()) == 1 and max(payloads.values()) == 1
        monkeypatch.undo()


def _outcome(parse: Any) -> Any:
    try:
        env = parse()
    except LedgerError as e:
        return ("error", e.message)
    return ("envelope", env, env.canonical)


@settings(max_examples=400, deadline=None)
@given(
    st.integers(1, 3),
    st.integers(0, 10_000),
    st.sampled_from([*b'"=\\ AQ/+,{}[]:e\x00', 0xC3, 0x7F]),
)
def test_an_edited_canonical_envelope_parses_as_the_general_path_says(
    signers: int, at: int, byte: int
) -> None:
    data = bytearray(_envelope(signers))
    data[at % len(data)] = byte
    edited = bytes(data)
    assert _outcome(lambda: parse_envelope(edited)) == _outcome(
        lambda: parse_envelope(parse_json(edited))
    )


def test_legal_forms_found_by_their_edge_word_are_those_a_full_scan_finds() -> None:
    import random

    from ledger import screening as s

    def full_scan(words: list[str]) -> list[str]:
        for prefix in s.LEGAL_PREFIXES:
            if len(words) > len(prefix) and tuple(words[: len(prefix)]) == prefix:
                words = words[len(prefix) :]
                break
        changed = True
        while changed:
            changed = False
            for suffix in s.LEGAL_SUFFIXES:
                if len(words) > len(suffix) and tuple(words[-len(suffix) :]) == suffix:
                    words, changed = words[: -len(suffix)], True
                    break
            if not changed and len(words) > 2 and words[-1] in s.ORG_WORDS:
                words, changed = words[:-1], True
        return words

    forms = s.LEGAL_SUFFIXES + s.LEGAL_PREFIXES
    vocab = sorted({w for f in forms for w in f} | {"acme", "group", "holding", "cotton"})
    rng = random.Random(3)
    for _ in range(20_000):
        words = [rng.choice(vocab) for _ in range(rng.randint(0, 7))]
        assert s._strip_legal_forms(list(words)) == full_scan(list(words)), words


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=30))
def test_folding_a_name_skips_nothing_for_ascii(name: str) -> None:
    import unicodedata

    from ledger import screening as s

    text = unicodedata.normalize("NFKD", s._MESSRS.sub("", s._ANNOTATION.sub(" ", name)))
    text = "".join(c for c in text if not unicodedata.combining(c)).translate(s._FOLD).casefold()
    assert s._fold(name) == s._APOSTROPHES.sub("", text.replace("&", " and "))
