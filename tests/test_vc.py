"""W3C credentials out: eddsa-jcs-2022 against the W3C vectors, did:key, and a certificate
exported as a UNTP Digital Conformity Credential, then verified locally and over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import PASSPHRASE, T0, run_cli, shared_standards_path, vendored_path
from ledger.cli import vc_cmds
from ledger.didkey import (
    did_key,
    multibase_decode,
    multibase_encode,
    public_key_of_did,
    verification_method,
)
from ledger.errors import CredentialError, MalformedError
from ledger.home import Home
from ledger.keys import Signer, save_private_key
from ledger.scenario import Scenario
from ledger.vc import add_proof, verify_data_integrity, verify_proof

VECTORS = ("vectors", "eddsa-jcs-2022")
AUDITOR, GIN, FACILITY = "party:veritas-audit", "party:rajkot-gin", "facility:rajkot-gin"
NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


def _vector(name: str) -> Any:
    return json.loads(vendored_path(*VECTORS, name).read_bytes())


def _vector_signer() -> Signer:
    private = multibase_decode(_vector("keyPair.json")["privateKeyMultibase"])
    assert private[:2] == b"\x80\x26"  # multicodec ed25519-priv
    return Signer.from_seed(private[2:])


def test_signing_reproduces_the_eddsa_jcs_2022_vector_byte_for_byte() -> None:
    config = _vector("proofConfigJCS.json")
    signed = add_proof(
        _vector("unsigned.json"),
        _vector_signer(),
        created=config["created"],
        method=config["verificationMethod"],
    )
    expected = _vector("signedJCS.json")
    assert signed["proof"]["proofValue"] == vendored_path(*VECTORS, "sigBTC58JCS.txt").read_text()
    assert signed == expected


def test_the_vector_key_is_its_did_key() -> None:
    signer = _vector_signer()
    keys = _vector("keyPair.json")
    method = _vector("proofConfigJCS.json")["verificationMethod"]
    assert did_key(signer.public_key) == "did:key:" + keys["publicKeyMultibase"]
    assert verification_method(signer.public_key) == method
    assert public_key_of_did(method) == signer.public_key
    assert verify_data_integrity(_vector("signedJCS.json")) == signer.public_key


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("name",), "Alumni Credential (forged)"),
        (("credentialSubject", "alumniOf"), "Another School"),
        (("proof", "created"), "2023-02-24T23:36:39Z"),
        (("proof", "@context"), ["https://www.w3.org/ns/credentials/v2"]),
    ],
)
def test_any_change_to_a_signed_credential_breaks_its_proof(
    path: tuple[str, ...], value: object
) -> None:
    signed = _vector("signedJCS.json")
    target = signed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(CredentialError):
        verify_data_integrity(signed)


def test_a_proof_by_another_did_key_is_refused() -> None:
    signed = _vector("signedJCS.json")
    other = verification_method(Signer.from_seed(b"\x01" * 32).public_key)
    signed["proof"]["verificationMethod"] = other
    with pytest.raises(CredentialError, match="does not verify"):
        verify_data_integrity(signed)


@pytest.mark.parametrize("text", ["", "6Mk", "z0OIl", "z" + "1" * 300, 12, "z!"])
def test_multibase_refuses_what_is_not_base58btc(text: object) -> None:
    with pytest.raises(MalformedError):
        multibase_decode(text)


def test_multibase_round_trips_leading_zero_bytes() -> None:
    for data in (b"", b"\0", b"\0\0\x01", bytes(range(40))):
        assert multibase_decode(multibase_encode(data)) == data


@pytest.mark.parametrize(
    "did",
    [
        "did:web:example.com",
        "did:key:z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc",  # X25519, not Ed25519
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6Mkother",
    ],
)
def test_did_key_refuses_other_methods_keys_and_fragments(did: str) -> None:
    with pytest.raises(MalformedError):
        public_key_of_did(did)


# -- a certificate exported and verified ------------------------------------------------


@pytest.fixture
def certified(scenario: Scenario) -> dict[str, str]:
    s = scenario
    s.party(AUDITOR, "Veritas Social Audits Pvt Ltd", "IN", ["auditor"], T0)
    s.party(GIN, "Rajkot Cotton Ginning Co.", "IN", ["supplier"], T0)
    s.party("party:other-auditor", "Other Audits LLP", "IN", ["auditor"], T0)
    s.facility(FACILITY, "Rajkot Gin No. 2", GIN, "IN", ["ginning"], T0, region="IN-GJ")
    audit = s.audit(AUDITOR, FACILITY, "pass", "2025-02-10", T0)
    cert = s.certificate(
        AUDITOR,
        "SA8000-IN-2025-0117",
        FACILITY,
        [audit.attestation],
        "2025-02-15",
        "2026-02-14",
        T0,
        processes=["ginning"],
    )
    return {"audit": audit.attestation, "certificate": cert.attestation}


def _key_file(tmp_path: Path, scenario: Scenario, party: str) -> str:
    path = tmp_path / (party.split(":")[1] + ".pem")
    save_private_key(path, scenario.signers[party], PASSPHRASE)
    return str(path)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTCHAIN_PASSPHRASE", PASSPHRASE.decode())
    for name in ("LOTCHAIN_HOME", "LOTCHAIN_DB", "LOTCHAIN_REMOTE", "LOTCHAIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(vc_cmds, "_now", lambda: NOW)


def _export(
    capsys: pytest.CaptureFixture[str], home: Home, key: str, out: Path, ref: str
) -> dict[str, Any]:
    code, stdout, err = run_cli(
        capsys,
        "export",
        "vc",
        ref,
        "--home",
        str(home.path),
        "--key",
        key,
        "--out",
        str(out),
        "--json",
    )
    assert code == 0, err
    assert json.loads(stdout)["out"] == str(out)
    value: dict[str, Any] = json.loads(out.read_text())
    return value


def _verify(
    capsys: pytest.CaptureFixture[str], home: Home, path: Path, *extra: str
) -> tuple[int, dict[str, Any]]:
    code, out, err = run_cli(
        capsys, "verify", "vc", str(path), "--home", str(home.path), "--json", *extra
    )
    return code, json.loads(out or err)


def test_export_renders_a_signed_untp_conformity_credential(
    tmp_path: Path,
    home: Home,
    scenario: Scenario,
    certified: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
) -> None:
    key = _key_file(tmp_path, scenario, AUDITOR)
    vc = _export(capsys, home, key, tmp_path / "cert.vc.json", "SA8000-IN-2025-0117")
    auditor_key = scenario.signers[AUDITOR].public_key
    assert vc["issuer"]["id"] == did_key(auditor_key)
    assert vc["issuer"]["name"] == "Veritas Social Audits Pvt Ltd"
    assert vc["validFrom"] == "2025-02-15T00:00:00Z"
    assert vc["validUntil"] == "2026-02-14T23:59:59Z"
    subject = vc["credentialSubject"]
    assert subject["id"] == "urn:lotchain:attestation:" + certified["certificate"]
    assert subject["issuedToParty"]["name"] == "Rajkot Cotton Ginning Co."
    [assessment] = subject["assessment"]
    assert assessment["id"] == "urn:lotchain:attestation:" + certified["audit"]
    assert assessment["assessmentDate"] == "2025-02-10" and assessment["conformance"] is True
    assert assessment["assessedFacility"][0]["facility"]["name"] == "Rajkot Gin No. 2"
    proof = vc["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-jcs-2022"
    assert proof["proofPurpose"] == "assertionMethod" and proof["created"] == "2025-06-01T09:00:00Z"
    assert proof["verificationMethod"] == verification_method(auditor_key)
    assert proof["proofValue"].startswith("z")
    assert verify_proof(vc).certificate == certified["certificate"]
    # by attestation id as well, the same credential but for the proof's signature time
    again = _export(capsys, home, key, tmp_path / "again.json", certified["certificate"])
    assert {k: v for k, v in again.items() if k != "proof"} == {
        k: v for k, v in vc.items() if k != "proof"
    }


def test_the_credential_validates_against_the_untp_dcc_schema(
    tmp_path: Path,
    home: Home,
    scenario: Scenario,
    certified: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
) -> None:
    schema = json.loads(shared_standards_path("untp", "untp-dcc-schema.json").read_bytes())
    key = _key_file(tmp_path, scenario, AUDITOR)
    vc = _export(capsys, home, key, tmp_path / "cert.vc.json", certified["certificate"])
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(vc)]
    assert errors == []
    broken = {**vc, "issuer": {**vc["issuer"], "extra": 1}}
    assert not validator.is_valid(broken)  # the schema does bite


def test_verify_vc_passes_then_fails_once_the_ledger_revokes_the_certificate(
    tmp_path: Path,
    home: Home,
    scenario: Scenario,
    certified: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
) -> None:
    path = tmp_path / "cert.vc.json"
    _export(capsys, home, _key_file(tmp_path, scenario, AUDITOR), path, certified["certificate"])
    code, verdict = _verify(capsys, home, path)
    assert (code, verdict["status"]) == (0, "pass"), verdict
    assert [c["ok"] for c in verdict["checks"]] == [True] * 5
    code, text, _ = run_cli(capsys, "verify", "vc", str(path), "--home", str(home.path))
    assert code == 0 and "5. ok   status" in text and "status: PASS" in text
    code, verdict = _verify(capsys, home, path, "--offline")
    assert (code, verdict["status"]) == (3, "review")
    assert "not checked" in verdict["checks"][-1]["message"]
    scenario.revoke(
        AUDITOR,
        certified["certificate"],
        "forced overtime found in a follow-up visit",
        datetime(2025, 5, 1, tzinfo=UTC),
        T0,
    )
    code, verdict = _verify(capsys, home, path)
    assert (code, verdict["status"]) == (1, "fail")
    assert "revoked effective 2025-05-01" in verdict["checks"][-1]["message"]


def test_verify_vc_fails_an_expired_or_tampered_credential_and_refuses_bad_input(
    tmp_path: Path,
    home: Home,
    scenario: Scenario,
    certified: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "cert.vc.json"
    vc = _export(capsys, home, _key_file(tmp_path, scenario, AUDITOR), path, "SA8000-IN-2025-0117")
    monkeypatch.setattr(vc_cmds, "_now", lambda: datetime(2026, 3, 1, tzinfo=UTC))
    code, verdict = _verify(capsys, home, path)
    assert code == 1 and "expired" in verdict["checks"][2]["message"]
    tampered = tmp_path / "tampered.json"
    vc["validUntil"] = "2027-02-14T23:59:59Z"
    tampered.write_text(json.dumps(vc))
    code, problem = _verify(capsys, home, tampered)
    assert code == 1 and problem["error"]["code"] == "CREDENTIAL"
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    code, problem = _verify(capsys, home, garbage)
    assert code == 2 and problem["error"]["code"] == "MALFORMED"


def test_a_credential_signed_by_a_key_the_ledger_does_not_give_the_auditor_fails(
    tmp_path: Path,
    home: Home,
    scenario: Scenario,
    certified: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
) -> None:
    path = tmp_path / "cert.vc.json"
    vc = _export(capsys, home, _key_file(tmp_path, scenario, AUDITOR), path, "SA8000-IN-2025-0117")
    forger = Signer.from_seed(b"\x07" * 32)
    unsigned = {k: v for k, v in vc.items() if k != "proof"}
    unsigned["issuer"] = {**vc["issuer"], "id": did_key(forger.public_key)}
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(add_proof(unsigned, forger, created=NOW)))
    code, verdict = _verify(capsys, home, forged)
    assert code == 1 and "not a valid key of party:veritas-audit" in verdict["checks"][3]["message"]


def test_export_refuses_a_key_that_is_not_the_certificate_issuers(
    tmp_path: Path,
    home: Home,
    scenario: Scenario,
    certified: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
) -> None:
    key = _key_file(tmp_path, scenario, "party:other-auditor")
    code, _, err = run_cli(
        capsys,
        "export",
        "vc",
        "SA8000-IN-2025-0117",
        "--home",
        str(home.path),
        "--key",
        key,
        "--json",
    )
    assert code == 2 and json.loads(err)["error"]["code"] == "KEY_FILE"
    code, _, err = run_cli(
        capsys, "export", "vc", "NO-SUCH-CERT", "--home", str(home.path), "--key", key, "--json"
    )
    assert code == 2 and json.loads(err)["error"]["code"] == "NOT_FOUND"


def test_verify_vc_asks_a_served_ledger_with_remote(
    tmp_path: Path,
    home: Home,
    scenario: Scenario,
    certified: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
) -> None:
    from test_api_server import _start, _stop

    path = tmp_path / "cert.vc.json"
    vc = _export(
        capsys, home, _key_file(tmp_path, scenario, AUDITOR), path, certified["certificate"]
    )
    scenario.revoke(
        AUDITOR,
        certified["certificate"],
        "audit evidence withdrawn",
        datetime(2025, 5, 1, tzinfo=UTC),
        T0,
    )
    forger = Signer.from_seed(b"\x09" * 32)
    unsigned = {k: v for k, v in vc.items() if k != "proof"}
    unsigned["issuer"] = {**vc["issuer"], "id": did_key(forger.public_key)}
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(add_proof(unsigned, forger, created=NOW)))
    scenario.ledger.store.close()
    url, process = _start(home.path)
    try:
        code, out, err = run_cli(capsys, "verify", "vc", str(path), "--remote", url, "--json")
        verdict = json.loads(out or err)
        assert code == 1, verdict
        ledger_check, status_check = verdict["checks"][3], verdict["checks"][4]
        assert ledger_check["ok"] is True and "SA8000-IN-2025-0117" in ledger_check["message"]
        assert status_check["ok"] is False and "revoked" in status_check["message"]
        code, out, _ = run_cli(capsys, "verify", "vc", str(forged), "--remote", url, "--json")
        assert code == 1 and "not a valid key" in json.loads(out)["checks"][3]["message"]
    finally:
        _stop(process)


def test_export_vc_from_a_served_ledger_signs_on_the_desk(
    tmp_path: Path,
    home: Home,
    scenario: Scenario,
    certified: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
) -> None:
    from ledger.tokens import TokenStore
    from test_api_server import _start, _stop

    key = _key_file(tmp_path, scenario, AUDITOR)
    local = _export(capsys, home, key, tmp_path / "local.vc.json", "SA8000-IN-2025-0117")
    token = TokenStore(scenario.ledger.store).issue(AUDITOR, now=T0).token
    other = _key_file(tmp_path, scenario, "party:other-auditor")
    scenario.ledger.store.close()
    url, process = _start(home.path)
    remote = ("--remote", url, "--token", token, "--home", str(tmp_path / "desk"), "--json")
    try:
        out = tmp_path / "remote.vc.json"
        code, stdout, err = run_cli(
            capsys, "export", "vc", "SA8000-IN-2025-0117", "--key", key, "--out", str(out), *remote
        )
        assert code == 0, err
        assert json.loads(stdout)["certificate"] == certified["certificate"]
        vc = json.loads(out.read_text())
        assert {k: v for k, v in vc.items() if k != "proof"} == {
            k: v for k, v in local.items() if k != "proof"
        }
        code, verdict = _verify(capsys, home, out)
        assert (code, verdict["status"]) == (0, "pass"), verdict

        refused = tmp_path / "refused.vc.json"
        for ref, with_key, wanted in (
            ("SA8000-IN-2025-0117", other, "KEY_FILE"),
            ("NO-SUCH-CERT", key, "NOT_FOUND"),
        ):
            code, _, err = run_cli(
                capsys, "export", "vc", ref, "--key", with_key, "--out", str(refused), *remote
            )
            assert code == 2 and json.loads(err)["error"]["code"] == wanted
            assert not refused.exists()
    finally:
        _stop(process)
