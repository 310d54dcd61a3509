"""Lifecycle commands through the command line: parties and facilities from flags, a key
revoked back to a compromise or rotated, a certificate revoked by its number; and the
examples appended to a real ledger."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from desk_fixtures import FARM, GIN, GIN_SITE, Desk, _environment, chain, ok, run, write
from ledger.templates import example

__all__ = ["_environment", "chain"]  # fixtures, used by name


# -- lifecycle --------------------------------------------------------------------------------


def payload_of(path: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(base64.b64decode(json.loads(path.read_text())["payload"]))
    return value


def test_the_examples_append_to_a_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "home")
    ok(capsys, "init", "--home", home)
    farm = Desk(tmp_path, "farm", "farm passphrase 1")
    farm.generate(capsys)
    ok(
        capsys,
        *("party", "register", "--home", home, "--party", example("facility")["operator"]),
        *("--name", "Patel Cotton Farm", "--country", "IN", "--role", "supplier"),
        *("--public-key", f"{farm.key}.pub"),
    )
    for type_ in ("facility", "origin"):
        path = Path(__file__).parents[1] / "examples" / f"{type_}.json"
        out = ok(
            capsys,
            *("attest", type_, "--home", home, "--issuer", example("facility")["operator"]),
            *("--body", str(path), *farm.signing(), "--submit"),
        )
        assert out.startswith("appended sha256:")
    assert "RJK-2024-SC-017" in out


def test_party_register_from_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = str(tmp_path / "home")
    ok(capsys, "init", "--home", home)
    desk = Desk(tmp_path, "auditor", "auditor pass 1")
    desk.generate(capsys)
    envelope = tmp_path / "party.env.json"
    ok(
        capsys,
        *("party", "register", "--home", home, "--party", "party:fair-labour-audits"),
        *("--name", "Fair Labour Audits SA", "--country", "CH", "--role", "auditor"),
        *("--public-key", f"{desk.key}.pub", "--address-street", "Rue du Rhone 14"),
        *("--address-locality", "Geneva", "--address-postal-code", "1204"),
        *("--address-region", "CH-GE", "--identifier", "LEI=5493001KJTIIGC8Y1R12"),
        *("--identifier", "CH-UID=CHE-123.456.789", "--identifier", "duns=481234567"),
        *("--accreditation-body", "SAAS", "--accreditation-scheme", "SA8000"),
        *("--accreditation-number", "SAAS-CB-042", "--accreditation-valid-until", "2027-06-30"),
        *("--out", str(envelope)),
    )
    body = payload_of(envelope)["body"]
    assert body["address"] == {
        "street": "Rue du Rhone 14",
        "locality": "Geneva",
        "region": "CH-GE",
        "postal_code": "1204",
        "country": "CH",
    }
    assert body["identifiers"] == [
        {"scheme": "lei", "value": "5493001KJTIIGC8Y1R12"},
        {"scheme": "other", "value": "CHE-123.456.789", "scheme_name": "CH-UID"},
        {"scheme": "duns", "value": "481234567"},
    ]
    assert body["accreditation"] == {
        "body": "SAAS",
        "scheme": "SA8000",
        "number": "SAAS-CB-042",
        "valid_until": "2027-06-30",
    }
    receipt = json.loads(ok(capsys, "submit", "--home", home, str(envelope), "--json"))
    assert receipt["index"] == 1
    for bad, said in (
        (("--address-street", "Rue du Rhone 14"), "--address-locality"),
        (("--accreditation-body", "SAAS"), "--accreditation-scheme"),
        (("--identifier", "LEI"), "SCHEME=VALUE"),
    ):
        code, _, err = run(
            capsys,
            *("party", "register", "--home", home, "--party", "party:x-co", "--name", "X"),
            *("--country", "CH", "--role", "auditor", "--public-key", f"{desk.key}.pub", *bad),
        )
        assert code == 2 and said in err, err


def test_facility_register_checks_its_flags(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    base = (
        *("facility", "register", "--home", chain["home"], "--facility-id", "facility:x-site"),
        *("--name", "X", "--operator", FARM, "--country", "IN", "--process", "farming"),
        *chain["farm"].signing(),
    )
    code, _, err = run(capsys, *base)
    assert code == 2 and "needs its address" in err
    address = ("--address-street", "1 Road", "--address-locality", "Rajkot")
    code, _, err = run(capsys, *base, *address, "--geo", "95,70")
    assert code == 2 and "LAT,LON" in err
    out = tmp = chain["root"] / "site.env.json"
    ok(capsys, *base, *address, "--geo", "22.3039,70.8022", "--out", str(out))
    body = payload_of(tmp)["body"]
    assert body["geo"] == {"type": "Point", "coordinates": [70.8022, 22.3039]}
    assert body["address"]["country"] == "IN" and body["processes"] == ["farming"]


def test_a_key_revoked_back_to_a_compromise_signs_nothing_more(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    home, farm = chain["home"], chain["farm"]
    out = ok(
        capsys,
        *("keys", "revoke", "--home", home, "--party", FARM, "--key-id", f"{farm.key}.pub"),
        *("--compromised-since", "2025-01-01T00:00:00Z", "--reason", "laptop stolen"),
        *("--issuer", "party:registrar", "--key", f"{home}/keys/registrar.pem", "--json"),
    )
    assert json.loads(out)["index"] > 0
    code, _, err = run(
        capsys,
        *("attest", "facility", "--home", home, "--issuer", FARM, "--body"),
        write(chain["root"] / "f.json", example("facility") | {"operator": FARM}),
        *(*farm.signing(), "--submit"),
    )
    assert code != 0 and "KEY_INVALID" in err and "revoked" in err
    code, _, err = run(
        capsys,
        *("keys", "revoke", "--home", home, "--party", FARM, "--key-id", "nonsense"),
        *("--reason", "x", *farm.signing()),
    )
    assert code == 2 and "ed25519:<64 hex>" in err


def test_rotation_retires_the_old_key(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    home, gin = chain["home"], chain["gin"]
    new = Desk(chain["root"], "gin-2026", "gin new passphrase")
    new_id = new.generate(capsys)
    out = ok(
        capsys,
        *("keys", "rotate", "--home", home, "--party", GIN, *gin.signing()),
        *("--new-public-key", f"{new.key}.pub", "--json"),
    )
    assert len(json.loads(out)) == 2
    site = {"operator": GIN, "facility_id": "facility:shree-gin-unit-2"}
    body = write(chain["root"] / "f.json", example("facility") | site)
    attest = ("attest", "facility", "--home", home, "--issuer", GIN, "--body", body, "--submit")
    code, _, err = run(capsys, *attest, *gin.signing())
    assert code != 0 and "KEY_INVALID" in err
    ok(capsys, *attest, *new.signing())
    assert new_id.startswith("ed25519:")


def test_a_certificate_is_revoked_by_its_number(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    home, root = chain["home"], chain["root"]
    auditor = Desk(root, "auditor", "auditor pass 1")
    auditor.generate(capsys)
    party = "party:fair-labour-audits"
    ok(
        capsys,
        *("party", "register", "--home", home, "--party", party, "--name", "Fair Labour Audits"),
        *("--country", "CH", "--role", "auditor", "--public-key", f"{auditor.key}.pub"),
    )
    report = root / "report.pdf"
    report.write_bytes(b"audit report")
    audit = example("audit") | {"facility": GIN_SITE, "audit_date": "2024-05-20"}
    out = ok(
        capsys,
        *("attest", "audit", "--home", home, "--issuer", party, "--body"),
        write(root / "audit.json", audit),
        *(*auditor.signing(), "--document", f"evidence={report}", "--submit", "--json"),
    )
    audit_id = json.loads(out)["attestation"]
    cert = example("certificate") | {
        "facility": GIN_SITE,
        "audits": [audit_id],
        "valid_from": "2024-06-01",
        "scope": {"processes": ["ginning"], "materials": ["cotton lint"]},
    }
    out = ok(
        capsys,
        *("attest", "certificate", "--home", home, "--issuer", party, "--body"),
        write(root / "cert.json", cert),
        *(*auditor.signing(), "--submit", "--json"),
    )
    cert_id = json.loads(out)["attestation"]
    envelope = root / "revoke.env.json"
    ok(
        capsys,
        *("certificate", "revoke", cert["certificate_id"], "--home", home, "--issuer", party),
        *(*auditor.signing(), "--reason", "retained passports found", "--out", str(envelope)),
    )
    body = payload_of(envelope)["body"]
    assert body["target"] == cert_id and body["reason"] == "retained passports found"
    ok(capsys, "submit", "--home", home, str(envelope))
    code, _, err = run(
        capsys,
        *("certificate", "revoke", "NO-SUCH-CERT", "--home", home, "--issuer", party),
        *(*auditor.signing(), "--reason", "x"),
    )
    assert code == 2 and "no certificate numbered NO-SUCH-CERT" in err
