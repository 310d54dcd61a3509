"""The metrics report against a hand count, on SQLite and PostgreSQL; its access rule."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from conftest import PASSPHRASE, T0, run_cli
from ledger import metrics
from ledger.home import Home
from ledger.scenario import Scenario, output
from ledger.storage.sql import SqlStore

CBP, ACME = "party:us-cbp", "party:acme"
WRO = "wro-2021-01-13-xinjiang-cotton-tomato"
#: (entry number, arrival, country, [(hts, value)]) of five shipments
SHIPMENTS = [
    ("ACM-0000001-5", "2024-09-15", "IN", [("5201.00", "100.50")]),
    ("ACM-0000002-3", "2024-10-02", "IN", [("6109.10.0012", "200")]),
    ("ACM-0000003-1", "2025-01-10", "VN", [("8541.43", "50"), ("6109.10", "300")]),
    ("ACM-0000004-9", "2025-02-20", "CN", [("8541.43.0010", "1000")]),
    ("ACM-0000005-6", "2025-02-25", "CN", [("5201.00", "0.25")]),
]


@pytest.fixture
def ledger_with_enforcement(scenario: Scenario) -> dict[str, str]:
    s = scenario
    s.party("party:farm", "Patel Cotton Farm", "IN", ["supplier"], T0)
    s.party(ACME, "Acme Apparel Inc.", "US", ["importer"], T0, filer_codes=["ACM"])
    s.party(CBP, "U.S. Customs and Border Protection", "US", ["cbp"], T0)
    s.facility("facility:farm", "Patel Farm", "party:farm", "IN", ["farming"], T0)
    lot = output("SC-1", "seed cotton", "5201.00", "1000")
    made = s.origin(
        "party:farm", "facility:farm", "seed cotton", "5201.00", [lot], "2024-08-01", T0
    )
    parts = [output(f"SC-1.{i}", "seed cotton", "5201.00", "200") for i in range(5)]
    sold = s.transfer(
        "party:farm", ACME, [(made.attestation + "#0", "1000")], parts, T0 - timedelta(days=3), T0
    )
    ids = {}
    for i, (number, arrival, country, lines) in enumerate(SHIPMENTS):
        body: dict[str, Any] = {
            "entry_number": number,
            "hts_lines": [
                {
                    "hts_code": code,
                    "description": "Goods",
                    "quantity": {"amount": "1", "unit": "pcs"},
                    "value_usd": value,
                }
                for code, value in lines
            ],
            "exporter": "party:farm",
            "manufacturer": "party:farm",
            "country_of_origin": country,
            "arrival_date": arrival,
            "inputs": [{"ref": f"{sold.attestation}#{i}", "amount": "200"}],
        }
        ids[number] = s.append("shipment", ACME, body, T0).attestation
    b, c, d, e = (ids[n] for n in [x[0] for x in SHIPMENTS[1:]])
    s.detain(CBP, b, "uflpa", "2024-10-02", "2024-10-04", T0)
    held = s.detain(CBP, c, "uflpa", "2025-01-10", "2025-01-13", T0).attestation
    s.determine(CBP, c, held, "released", "2025-03-01", T0)
    held = s.detain(CBP, d, WRO, "2025-02-20", "2025-02-21", T0).attestation
    s.determine(CBP, d, held, "excluded", "2025-02-28", T0)
    held = s.detain(CBP, e, WRO, "2025-02-25", "2025-02-26", T0).attestation
    s.submit_admissibility(ACME, e, held, "certificate-of-origin", "ef" * 32, T0)
    return ids


def _report(store: SqlStore, by: str, **dates: str) -> dict[str, Any]:
    groups = store.metric_groups(by, dates.get("date_from"), dates.get("date_to"))
    return metrics.report_json(by, groups, {})


def _rows(report: dict[str, Any], by: str) -> dict[str, tuple[Any, ...]]:
    keys = ("shipments", "value_usd", "stopped", "released", "denied", "pending")
    return {g[by]: tuple(g[k] for k in keys) for g in report["groups"]}


def test_metrics_equal_a_hand_count(scenario: Scenario, ledger_with_enforcement: Any) -> None:
    store = scenario.ledger.store
    assert isinstance(store, SqlStore)
    fy = _report(store, "fiscal-year")
    assert _rows(fy, "fiscal-year") == {
        "FY2024": (1, "100.50", 0, 0, 0, 0),
        "FY2025": (4, "1550.25", 4, 1, 1, 2),
    }
    assert fy["total"]["shipments"] == 5 and fy["total"]["value_usd"] == "1650.75"
    assert fy["total"]["value_stopped_usd"] == "1550.25"
    assert _rows(_report(store, "quarter"), "quarter") == {
        "FY2024-Q4": (1, "100.50", 0, 0, 0, 0),
        "FY2025-Q1": (1, "200.00", 1, 0, 0, 1),
        "FY2025-Q2": (3, "1350.25", 3, 1, 1, 1),
    }
    assert _rows(_report(store, "industry"), "industry") == {
        "XI": (4, "650.75", 3, 1, 0, 2),
        "XVI": (1, "1000.00", 1, 0, 1, 0),
    }
    assert _rows(_report(store, "hs4"), "hs4") == {
        "5201": (2, "100.75", 1, 0, 0, 1),
        "6109": (2, "550.00", 2, 1, 0, 1),
        "8541": (1, "1000.00", 1, 0, 1, 0),
    }
    assert _rows(_report(store, "country"), "country") == {
        "CN": (2, "1000.25", 2, 0, 1, 1),
        "IN": (2, "300.50", 1, 0, 0, 1),
        "VN": (1, "350.00", 1, 1, 0, 0),
    }
    statuses = _rows(_report(store, "status"), "status")
    assert {k: v[0] for k, v in statuses.items()} == {
        "none": 1,
        "detained": 1,
        "released": 1,
        "excluded": 1,
        "submitted": 1,
    }
    assert _rows(_report(store, "legal-basis"), "legal-basis") == {
        "none": (1, "100.50", 0, 0, 0, 0),
        "uflpa": (2, "550.00", 2, 1, 0, 1),
        WRO: (2, "1000.25", 2, 0, 1, 1),
    }
    months = _rows(_report(store, "month", date_from="2024-10-01", date_to="2025-01-31"), "month")
    assert months == {"2024-10": (1, "200.00", 1, 0, 0, 1), "2025-01": (1, "350.00", 1, 1, 0, 0)}


def test_fiscal_periods() -> None:
    assert metrics.fiscal_year(date(2024, 9, 30)) == 2024
    assert metrics.fiscal_year(date(2024, 10, 1)) == 2025
    assert [metrics.fiscal_quarter(date(2025, m, 1)) for m in (10, 12, 1, 4, 7, 9)] == [
        1,
        1,
        2,
        3,
        4,
        4,
    ]
    assert metrics.hs_section("0302.11") == "I" and metrics.hs_section("9403.60") == "XX"


def test_the_cli_prints_table_csv_and_json(
    home: Home,
    scenario: Scenario,
    ledger_with_enforcement: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOTCHAIN_PASSPHRASE", PASSPHRASE.decode())
    h = ("--home", str(home.path))
    code, out, err = run_cli(capsys, "report", "metrics", "--by", "country", "--format", "csv", *h)
    assert code == 0, err
    assert (
        out.splitlines()[0]
        == "country,shipments,value_usd,stopped,value_stopped_usd,released,denied,pending"
    )
    assert "CN,2,1000.25,2,1000.25,0,1,1" in out and out.rstrip().endswith(
        "total,5,1650.75,4,1550.25,1,1,2"
    )
    code, out, _ = run_cli(capsys, "report", "metrics", "--json", *h)
    assert code == 0 and '"FY2025"' in out
    code, out, _ = run_cli(capsys, "report", "metrics", "--by", "industry", *h)
    assert code == 0 and out.splitlines()[1].startswith("---")
    code, _, err = run_cli(capsys, "report", "metrics", "--from", "2025-02-30", *h)
    assert code == 2


def test_only_cbp_reads_metrics(
    home: Home, scenario: Scenario, ledger_with_enforcement: Any
) -> None:
    from api import create_app
    from ledger.tokens import TokenStore

    tokens = TokenStore(scenario.ledger.store)
    cbp = tokens.issue(CBP, now=T0).token
    acme = tokens.issue(ACME, now=T0).token
    client = create_app(ledger=scenario.ledger).test_client()
    ok = client.get("/v1/reports/metrics?by=status", headers={"Authorization": f"Bearer {cbp}"})
    assert ok.status_code == 200 and ok.get_json()["total"]["shipments"] == 5
    assert client.get("/v1/reports/metrics").status_code == 401
    denied = client.get("/v1/reports/metrics", headers={"Authorization": f"Bearer {acme}"})
    assert denied.status_code == 403 and denied.get_json()["code"] == "FORBIDDEN"
    bad = client.get("/v1/reports/metrics?by=verdict", headers={"Authorization": f"Bearer {cbp}"})
    assert bad.status_code == 400


def test_the_migration_fills_rows_for_shipments_already_logged(
    scenario: Scenario, ledger_with_enforcement: Any
) -> None:
    from ledger.storage.migrations import _shipment_metrics

    store = scenario.ledger.store
    assert isinstance(store, SqlStore)
    before = _report(store, "country")
    store.db.execute_sql('DROP TABLE "shipment_metric"')  # a database from before the table
    with store.db.atomic():
        _shipment_metrics(store)
    assert _report(store, "country") == before
