"""The demo ledger: every shipment gets the verdict it was built to get."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.cli import main


def test_demo_builds_the_promised_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOTCHAIN_PASSPHRASE", "demo passphrase for tests")
    home = tmp_path / "demo"
    with pytest.raises(SystemExit) as done:
        main(["demo", "--home", str(home), "--no-serve", "--json"])
    assert done.value.code == 0
    summary = json.loads(capsys.readouterr().out)
    statuses = {s["entry_number"]: (s["expected"], s["status"]) for s in summary["shipments"]}
    assert all(expected == got for expected, got in statuses.values()), statuses
    assert {s["status"] for s in summary["shipments"]} == {"pass", "review", "fail"}
    codes = {s["entry_number"]: s["codes"] for s in summary["shipments"]}
    assert "WRO" in codes["SSI-2508219-3"]  # Hoshine silicon inside Malaysian modules
    assert "WRO" not in codes["SSI-2502114-6"]
    codes = {code for s in summary["shipments"] for code in s["codes"]}
    assert {"REGION_HIGH_RISK", "ENTITY_LISTED", "CERT_INVALID", "YIELD", "CERT_MISSING"} <= codes
    assert [r["code"] for r in summary["refused_at_append"]] == ["OVERCONSUMED"]
    assert summary["tokens"]["cbp"].startswith("lct_")
    countries = {p["country"] for p in summary["parties"]}
    assert len(countries) >= 8
    allegation = summary["allegation"]  # an anonymous allegation, linked by CBP
    assert allegation["impact"] == ["AAP-2501155-2"]  # the Xinjiang-origin lint
    with pytest.raises(SystemExit) as done:
        main(
            [
                "allegation", "verify", str(home / "allegation-receipt.json"),
                "--allegation", str(home / "allegation.json"),
                "--trust-root", str(home / "keys" / "trust-root.json"),
            ]
        )  # fmt: skip
    assert done.value.code == 0
    held = {e["entry_number"]: e for e in summary["enforcement"]}
    released, excluded = held["AAP-2505202-3"], held["AAP-2501155-2"]
    assert released["status"] == "released" and released["basis"] == "uflpa"
    assert [h.split()[0] for h in released["history"]] == [
        "detention", "admissibility", "determination"
    ]
    assert excluded["status"] == "excluded" and excluded["basis"].startswith("wro-")
    with pytest.raises(SystemExit) as done:  # CBP holds the very bundle that was signed
        main(["enforcement", "check-bundle", "AAP-2505202-3", "--bundle", released["bundle"],
              "--home", str(home)])
    assert done.value.code == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(["demo", "--home", str(home), "--no-serve"])
    assert done.value.code == 2  # an existing ledger is never overwritten without --fresh
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(["audit", "--home", str(home), "--json"])
    assert done.value.code == 0
