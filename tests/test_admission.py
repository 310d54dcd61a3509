"""Each refusal rule at append time: its code, and that a refused envelope writes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from conftest import T0, Clock
from ledger.attestation import build_payload, make_attestation
from ledger.canonical import canonical_bytes
from ledger.dsse import Signature, sign_envelope
from ledger.encoding import b64encode, format_timestamp
from ledger.errors import LedgerError
from ledger.keys import Signer
from ledger.log import Ledger
from ledger.scenario import Scenario, output

SEED = output("SC-0001", "seed cotton", "5201.00", "10000")


def _tables(ledger: Ledger) -> dict[str, int]:
    """Row counts of every table of the store (on either backend)."""
    return {m._meta.table_name: m.select().count() for m in ledger.store.m.values()}


@pytest.fixture
def chain(scenario: Scenario) -> dict[str, str]:
    """Farm and gin in India, an importer in the US; a seed cotton lot at the farm."""
    s = scenario
    s.party("party:farm-a", "Patel Cotton Farm", "IN", ["supplier"], T0)
    s.party("party:gin-a", "Rajkot Ginning Pvt. Ltd.", "IN", ["supplier"], T0)
    s.party("party:acme", "Acme Apparel Inc.", "US", ["importer"], T0, filer_codes=["ACM"])
    s.facility(
        "facility:farm-a", "Patel Farm", "party:farm-a", "IN", ["farming"], T0, region="IN-GJ"
    )
    s.facility("facility:gin-a", "Rajkot Gin", "party:gin-a", "IN", ["ginning"], T0, region="IN-GJ")
    origin = s.origin(
        "party:farm-a", "facility:farm-a", "seed cotton", "5201.00", [SEED], "2024-10-01", T0
    )
    return {"lot": origin.attestation + "#0"}


def _refused(ledger: Ledger, envelope: Any, code: str) -> LedgerError:
    before = _tables(ledger)
    head = ledger.store.head()
    with pytest.raises(LedgerError) as err:
        ledger.append(envelope)
    assert err.value.code == code, err.value.message
    assert _tables(ledger) == before, "a refused envelope must write nothing"
    assert ledger.store.head() == head
    return err.value


def _transfer_body(
    lot: str, amount: str, seller: str = "party:farm-a", buyer: str = "party:gin-a"
) -> dict[str, Any]:
    return {
        "from": seller,
        "to": buyer,
        "event_time": format_timestamp(T0 - timedelta(days=1)),
        "inputs": [{"ref": lot, "amount": amount}],
        "outputs": [output("SC-0001", "seed cotton", "5201.00", amount)],
        "documents": [{"kind": "invoice", "number": "INV-1", "sha256": "ab" * 32}],
    }


def test_malformed_envelope(ledger: Ledger) -> None:
    _refused(ledger, b'{"payloadType": 1}', "MALFORMED")
    _refused(ledger, b"not json", "MALFORMED")


def test_schema_violation(scenario: Scenario, chain: dict[str, str]) -> None:
    body = _transfer_body(chain["lot"], "100")
    del body["documents"]
    signer = scenario.signers["party:farm-a"]
    payload = canonical_bytes(
        {
            "v": 1,
            "type": "transfer",
            "issuer": "party:farm-a",
            "issued_at": "2025-03-01T08:00:00Z",
            "nonce": "00112233445566778899aabbccddeeff",
            "body": body,
        }
    )
    err = _refused(scenario.ledger, sign_envelope(payload, [signer]), "SCHEMA")
    assert "documents" in err.message


def test_non_canonical_payload(scenario: Scenario, chain: dict[str, str]) -> None:
    payload = build_payload("transfer", "party:farm-a", _transfer_body(chain["lot"], "1"), now=T0)
    spaced = payload.replace(b'":', b'": ', 1)
    _refused(
        scenario.ledger, sign_envelope(spaced, [scenario.signers["party:farm-a"]]), "MALFORMED"
    )


def test_bad_signature(scenario: Scenario, chain: dict[str, str]) -> None:
    att = scenario.sign("transfer", "party:farm-a", _transfer_body(chain["lot"], "1"), T0)
    env = att.envelope
    forged = Signature(env.signatures[0].keyid, bytes(64))
    bad = {**env.to_json(), "signatures": [{"keyid": forged.keyid, "sig": b64encode(forged.sig)}]}
    _refused(scenario.ledger, bad, "SIGNATURE")


def test_unknown_key(scenario: Scenario, chain: dict[str, str]) -> None:
    stranger = Signer.from_seed(b"x" * 32)
    att = make_attestation(
        "transfer", "party:farm-a", _transfer_body(chain["lot"], "1"), [stranger], now=T0
    )
    _refused(scenario.ledger, att.envelope, "KEY_INVALID")


def test_key_of_another_party(scenario: Scenario, chain: dict[str, str]) -> None:
    att = make_attestation(
        "transfer",
        "party:farm-a",
        _transfer_body(chain["lot"], "1"),
        [scenario.signers["party:gin-a"]],
        now=T0,
    )
    err = _refused(scenario.ledger, att.envelope, "KEY_INVALID")
    assert "issuer" in err.message


def test_revoked_key(scenario: Scenario, chain: dict[str, str], clock: Clock) -> None:
    farm = scenario.signers["party:farm-a"]
    scenario.append(
        "key",
        "party:farm-a",
        {
            "party": "party:farm-a",
            "action": "revoke",
            "key_id": farm.key_id,
            "effective_at": format_timestamp(T0),
            "reason": "laptop stolen",
        },
        T0,
    )
    clock.now = T0 + timedelta(minutes=1)
    att = scenario.sign("transfer", "party:farm-a", _transfer_body(chain["lot"], "1"), T0)
    err = _refused(scenario.ledger, att.envelope, "KEY_INVALID")
    assert "revoked" in err.message


def test_backdated_revocation_refuses_later_entries(
    scenario: Scenario, chain: dict[str, str], clock: Clock
) -> None:
    """A revocation dated back to a compromise refuses whatever is signed after it arrives."""
    farm = scenario.signers["party:farm-a"]
    clock.now = T0 + timedelta(days=2)
    scenario.append(
        "key",
        "party:registrar",
        {
            "party": "party:farm-a",
            "action": "revoke",
            "key_id": farm.key_id,
            "effective_at": format_timestamp(T0 - timedelta(days=30)),
            "reason": "key compromised a month ago",
        },
        clock.now,
    )
    att = scenario.sign("transfer", "party:farm-a", _transfer_body(chain["lot"], "1"), clock.now)
    _refused(scenario.ledger, att.envelope, "KEY_INVALID")


def test_role_not_held(scenario: Scenario, chain: dict[str, str]) -> None:
    body = {
        "facility": "facility:gin-a",
        "scheme": "SA8000",
        "audit_date": "2025-02-01",
        "result": "pass",
        "topics": ["debt-bondage"],
        "findings": [],
        "evidence_sha256": "cd" * 32,
    }
    att = scenario.sign("audit", "party:gin-a", body, T0)
    err = _refused(scenario.ledger, att.envelope, "ROLE")
    assert "auditor" in err.message


def test_replay(scenario: Scenario, chain: dict[str, str]) -> None:
    att = scenario.sign("transfer", "party:farm-a", _transfer_body(chain["lot"], "10"), T0)
    scenario.ledger.append(att.envelope)
    _refused(scenario.ledger, att.envelope, "REPLAY")


def test_reference_to_missing_output(scenario: Scenario, chain: dict[str, str]) -> None:
    missing = "sha256:" + "0" * 64 + "#0"
    att = scenario.sign("transfer", "party:farm-a", _transfer_body(missing, "1"), T0)
    _refused(scenario.ledger, att.envelope, "REF_MISSING")
    wrong_index = chain["lot"].replace("#0", "#7")
    att = scenario.sign("transfer", "party:farm-a", _transfer_body(wrong_index, "1"), T0)
    _refused(scenario.ledger, att.envelope, "REF_MISSING")


def test_custody(scenario: Scenario, chain: dict[str, str]) -> None:
    """The gin cannot pass on seed cotton still held by the farm."""
    body = _transfer_body(chain["lot"], "1", seller="party:gin-a", buyer="party:acme")
    att = scenario.sign("transfer", "party:gin-a", body, T0)
    err = _refused(scenario.ledger, att.envelope, "CUSTODY")
    assert err.message == "inputs[0] is not held by the issuer party:gin-a"  # no holder, no lot


def test_double_spend(scenario: Scenario, chain: dict[str, str]) -> None:
    first = scenario.sign("transfer", "party:farm-a", _transfer_body(chain["lot"], "6000"), T0)
    scenario.ledger.append(first.envelope)
    second = scenario.sign("transfer", "party:farm-a", _transfer_body(chain["lot"], "4001"), T0)
    err = _refused(scenario.ledger, second.envelope, "OVERCONSUMED")
    assert "4000 kg" in err.message
    third = scenario.sign("transfer", "party:farm-a", _transfer_body(chain["lot"], "4000"), T0)
    scenario.ledger.append(third.envelope)


def test_double_spend_inside_one_batch(scenario: Scenario, chain: dict[str, str]) -> None:
    """Entries of a batch are judged in order, each against the ones before it."""
    a = scenario.sign("transfer", "party:farm-a", _transfer_body(chain["lot"], "10000"), T0)
    b = scenario.sign("transfer", "party:farm-a", _transfer_body(chain["lot"], "1"), T0)
    size = scenario.ledger.size()
    results = scenario.ledger.append_batch([a.envelope, b.envelope])
    assert not isinstance(results[0], LedgerError)
    assert isinstance(results[1], LedgerError) and results[1].code == "OVERCONSUMED"
    assert scenario.ledger.size() == size + 1


def test_event_in_the_future(scenario: Scenario, chain: dict[str, str]) -> None:
    body = _transfer_body(chain["lot"], "1")
    body["event_time"] = format_timestamp(T0 + timedelta(days=3))
    att = scenario.sign("transfer", "party:farm-a", body, T0)
    _refused(scenario.ledger, att.envelope, "TIME_ORDER")


def test_facility_of_another_operator(scenario: Scenario, chain: dict[str, str]) -> None:
    body = {
        "facility": "facility:gin-a",
        "material": {"name": "seed cotton", "hs_code": "5201"},
        "produced_on": "2024-10-01",
        "outputs": [SEED],
    }
    att = scenario.sign("origin", "party:farm-a", body, T0)
    _refused(scenario.ledger, att.envelope, "CUSTODY")


def test_party_with_mismatched_key_id(scenario: Scenario) -> None:
    signer = Signer.from_seed(b"p" * 32)
    body = {
        "party_id": "party:new",
        "legal_name": "New Co",
        "country": "VN",
        "roles": ["supplier"],
        "keys": [
            {
                "key_id": "ed25519:" + "1" * 64,
                "public_key": b64encode(signer.public_key),
                "valid_from": format_timestamp(T0),
            }
        ],
    }
    att = scenario.sign("party", "party:registrar", body, T0)
    _refused(scenario.ledger, att.envelope, "KEY_INVALID")
