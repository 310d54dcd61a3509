"""A CBP officer and an importer's broker, on the command line, without hand-written JSON."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from test_enforcement import ACME, CBP, world  # noqa: F401  (the fixture)

from conftest import PASSPHRASE, SQLITE_ONLY, run_cli
from ledger.home import Home
from ledger.keys import save_private_key
from ledger.scenario import Scenario

pytestmark = SQLITE_ONLY


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTCHAIN_PASSPHRASE", PASSPHRASE.decode())
    for name in ("LOTCHAIN_HOME", "LOTCHAIN_DB", "LOTCHAIN_REMOTE", "LOTCHAIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def test_detain_submit_determine_status_check(
    home: Home,
    scenario: Scenario,
    world: dict[str, str],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    keys = {}
    for party in (CBP, ACME):
        keys[party] = str(tmp_path / f"{party.split(':')[1]}.pem")
        save_private_key(Path(keys[party]), scenario.signers[party], PASSPHRASE)
    h = ("--home", str(home.path))
    entry = "ACM-0000001-5"

    code, out, err = run_cli(
        capsys, "detain", entry, "--basis", "uflpa", "--detained-on", "2025-02-24",
        "--issuer", CBP, "--key", keys[CBP], "--submit", *h,
    )  # fmt: skip
    assert code == 0, err
    assert "submission by 2025-03-26, CBP decides by 2025-03-22" in err

    bundle = tmp_path / "bundle.json"
    bundle.write_text('{"shipment": "as the importer received it"}\n', encoding="utf-8")
    statement = tmp_path / "statement.txt"
    statement.write_text("Detailed statement", encoding="utf-8")
    code, out, err = run_cli(
        capsys, "admissibility", "submit", entry, "--kind", "applicability-review",
        "--bundle", str(bundle), "--document", f"detailed-statement={statement}",
        "--issuer", ACME, "--key", keys[ACME], "--submit", *h,
    )  # fmt: skip
    assert code == 0, err

    code, out, err = run_cli(capsys, "enforcement", "status", entry, "--json", *h)
    assert code == 0, err
    status = json.loads(out)
    assert status["status"] == "submitted" and status["late"] is True  # logged in 2026
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    assert status["history"][1]["bundle_sha256"] == digest
    assert status["history"][1]["documents"] == [
        {"kind": "detailed-statement", "sha256": hashlib.sha256(b"Detailed statement").hexdigest()}
    ]

    code, out, _ = run_cli(
        capsys, "enforcement", "check-bundle", entry, "--bundle", str(bundle), *h
    )
    assert code == 0 and out.startswith("OK")
    bundle.write_text('{"shipment": "altered"}\n', encoding="utf-8")
    code, out, _ = run_cli(
        capsys, "enforcement", "check-bundle", entry, "--bundle", str(bundle), *h
    )
    assert code == 1 and out.startswith("MISMATCH")

    code, _, err = run_cli(
        capsys, "determine", entry, "--outcome", "seized", "--reason", "no",
        "--issuer", CBP, "--key", keys[CBP], "--submit", *h,
    )  # fmt: skip
    assert code == 2 and "[ENFORCEMENT]" in err and "Finding" in err
    code, _, err = run_cli(
        capsys, "determine", entry, "--outcome", "released", "--reason", "Traced to India",
        "--issuer", CBP, "--key", keys[CBP], "--submit", *h,
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = run_cli(capsys, "enforcement", "status", entry, *h)
    assert "enforcement RELEASED" in out and "determination -> released" in out


def test_a_shipment_not_detained_has_nothing_to_answer(
    home: Home,
    scenario: Scenario,
    world: dict[str, str],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = tmp_path / "acme.pem"
    save_private_key(key, scenario.signers[ACME], PASSPHRASE)
    bundle = tmp_path / "b.json"
    bundle.write_text("{}", encoding="utf-8")
    code, _, err = run_cli(
        capsys, "admissibility", "submit", "ACM-0000001-5", "--kind", "exception-request",
        "--bundle", str(bundle), "--issuer", ACME, "--key", str(key), "--home", str(home.path),
    )  # fmt: skip
    assert code == 2 and "not detained" in err
