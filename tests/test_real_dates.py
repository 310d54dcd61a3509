"""Every date and timestamp of every schema is a real calendar date or time.

Both validators check formats: jsonschema-rs (the hot path) and jsonschema (which words
the error). A date that does not exist is refused at append with ``SCHEMA`` and a plain
sentence, never the raw pattern, on both backends; it is also refused when the envelope
is signed by hand, past the client's own checks.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest

import ledger.scenario
from ledger import schemas
from ledger.canonical import canonical_bytes
from ledger.dsse import sign_envelope
from ledger.encoding import format_timestamp
from ledger.errors import SchemaError
from ledger.keys import Signer
from test_schemas import EXAMPLE_BODIES
from verify_fixtures import (
    AUDITOR,
    CottonChain,
    World,
    any_world_fixture,  # noqa: F401 - the `any_world` fixture
    day,
)

NOT_REAL = [
    "2025-02-30",  # February has 28 days in 2025
    "2025-13-45",
    "2025-00-00",
    "2027-02-31",
    "2025-04-31",
    "2023-02-29",  # not a leap year
    "0000-01-01",  # no year zero
]
NOT_REAL_TIMES = [
    "2025-02-30T10:00:00Z",
    "2025-13-01T10:00:00Z",
    "2025-01-01T24:00:00Z",
    "2025-01-01T23:60:00Z",
    "2025-01-01T23:59:60Z",  # no leap second: Python times cannot hold one
    "2025-01-01T25:00:00.5Z",
]
REAL = ["2024-02-29", "2025-12-31", "1999-01-01", "2000-02-29"]
REAL_TIMES = ["2024-02-29T23:59:59.999999Z", "2025-01-01T00:00:00Z"]


@pytest.mark.parametrize("value", NOT_REAL + NOT_REAL_TIMES + REAL + REAL_TIMES)
def test_both_engines_agree_on_real_dates_and_times(value: str) -> None:
    name, field = ("origin", "produced_on") if len(value) == 10 else ("transfer", "event_time")
    body = {**copy.deepcopy(EXAMPLE_BODIES[name]), field: value}
    fast = schemas._fast(name).is_valid(body)
    reference = not any(schemas.validator(name).iter_errors(body))
    assert fast == reference == (value in REAL + REAL_TIMES)


def test_the_format_checks_reject_impossible_values_on_their_own() -> None:
    """Without the patterns: the engines' own format checks, as switched on here."""
    import jsonschema_rs

    # (year 0000, which jsonschema-rs's date format admits, is kept out by the pattern)
    for fmt, bad in (("date", NOT_REAL[:-1]), ("date-time", NOT_REAL_TIMES[:4])):
        fast = jsonschema_rs.validator_for({"format": fmt}, validate_formats=True)
        reference = schemas._format_checker(schemas.jsonschema.Draft202012Validator)
        for value in bad:
            assert not fast.is_valid(value), (fmt, value)
            assert not reference.conforms(value, fmt), (fmt, value)


# (type, path to the field, bad value, what the message says)
CASES: list[tuple[str, tuple[Any, ...], str, str]] = [
    ("origin", ("produced_on",), "2025-13-45", "produced_on: 2025-13-45 is not a real date"),
    ("certificate", ("valid_until",), "2027-02-31", "valid_until: 2027-02-31 is not a real date"),
    ("certificate", ("valid_from",), "2025-02-29", "valid_from: 2025-02-29 is not a real date"),
    ("audit", ("audit_date",), "2025-00-00", "audit_date: 2025-00-00 is not a real date"),
    ("shipment", ("arrival_date",), "2025-04-31", "arrival_date: 2025-04-31 is not a real date"),
    (
        "transfer",
        ("event_time",),
        "2025-02-30T10:00:00Z",
        "event_time: 2025-02-30T10:00:00Z is not a real date and time",
    ),
    (
        "transformation",
        ("event_time",),
        "2025-03-12T24:00:00Z",
        "event_time: 2025-03-12T24:00:00Z is not a real date and time",
    ),
    (
        "transfer",
        ("documents", 0, "issued_on"),
        "2025-02-30",
        "documents[0].issued_on: 2025-02-30 is not a real date",
    ),
    ("key", ("effective_at",), "2025-06-31T00:00:00Z", "effective_at: 2025-06-31T00:00:00Z"),
]


def _set(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    parent: Any = out
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return out


@pytest.mark.parametrize(("type_", "path", "value", "said"), CASES)
def test_schema_errors_say_it_in_plain_words(
    type_: str, path: tuple[Any, ...], value: str, said: str
) -> None:
    body = _set(EXAMPLE_BODIES[type_], path, value)
    with pytest.raises(SchemaError) as refused:
        schemas.validate(type_, body, what=f"{type_} body")
    message = refused.value.message
    assert refused.value.code == "SCHEMA" and said in message
    expected = "(expected YYYY-MM-DD)" if len(value) == 10 else "(expected an RFC 3339"
    assert expected in message and "^" not in message and "[0-9]" not in message


def test_a_value_of_the_wrong_shape_is_not_a_date() -> None:
    body = _set(EXAMPLE_BODIES["origin"], ("produced_on",), "1 March 2025")
    with pytest.raises(SchemaError) as refused:
        schemas.validate("origin", body)
    assert "produced_on: 1 March 2025 is not a date (expected YYYY-MM-DD)" in (
        refused.value.message
    )


@contextmanager
def signed_by_hand(monkeypatch: pytest.MonkeyPatch, issued_at: str | None = None) -> Iterator[None]:
    """Sign payloads as they are, with no schema check before signing (a hand-made client)."""

    def make(
        type_: str,
        issuer: str,
        body: dict[str, Any],
        signers: list[Signer],
        *,
        now: datetime,
        nonce: str | None = None,
    ) -> Any:
        payload = {
            "v": 1,
            "type": type_,
            "issuer": issuer,
            "issued_at": issued_at or format_timestamp(now),
            "nonce": nonce or secrets.token_hex(16),
            "body": body,
        }
        return type("Signed", (), {"envelope": sign_envelope(canonical_bytes(payload), signers)})

    with monkeypatch.context() as patch:
        patch.setattr(ledger.scenario, "make_attestation", make)
        yield




def _refused(w: World, append: Any, said: str) -> None:
    size = w.ledger.store.size()
    with pytest.raises(SchemaError) as refused:
        append()
    assert refused.value.code == "SCHEMA" and said in refused.value.message
    assert w.ledger.store.size() == size  # nothing written


def test_impossible_dates_are_refused_at_append(
    any_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = any_world
    chain = CottonChain(w)
    chain.actors()
    with signed_by_hand(monkeypatch):
        _refused(
            w,
            lambda: chain.farm(produced_on="2025-13-45"),
            "produced_on: 2025-13-45 is not a real date (expected YYYY-MM-DD)",
        )
        _refused(
            w,
            lambda: w.s.audit(AUDITOR, chain.facility("gin"), "pass", "2025-00-00", w.clock.now),
            "audit_date: 2025-00-00 is not a real date",
        )
        audit = w.s.audit(AUDITOR, chain.facility("gin"), "pass", "2024-05-20", w.clock.now)
        _refused(
            w,
            lambda: w.s.certificate(
                AUDITOR,
                "SA8000-GIN-2024",
                chain.facility("gin"),
                [audit.attestation],
                "2024-06-01",
                "2027-02-31",
                w.clock.now,
                processes=["ginning"],
            ),
            "valid_until: 2027-02-31 is not a real date",
        )
    with signed_by_hand(monkeypatch, issued_at="2025-02-29T08:00:00Z"):
        _refused(
            w,
            lambda: w.s.revoke(AUDITOR, audit.attestation, "x", day("2025-03-02"), w.clock.now),
            "issued_at: 2025-02-29T08:00:00Z is not a real date and time",
        )
    # and the chain built with real dates passes with no finding
    chain.certify()
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew, chain.ship):
        stage()
    verdict = w.verify()
    assert (verdict.status, verdict.findings) == ("pass", ())
