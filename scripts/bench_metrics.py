"""Benchmark the metrics report on a ledger of N real shipments (scripts/bench-metrics).

Builds the ledger through the real append path (signed envelopes, every admission
rule, the summary rows written in the same transaction): per block of 250 shipments an
origin, a transfer to the importer and 250 shipments; one shipment in ten detained,
some of those released or excluded. Then times ``metric_groups`` for every dimension
(median of 5 runs) and writes results.json and summary.md into --out.

    python scripts/bench_metrics.py --shipments 100000 --out docs/benchmarks/metrics-100k
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ledger import metrics  # noqa: E402
from ledger.home import init_home  # noqa: E402
from ledger.keys import load_private_key  # noqa: E402
from ledger.scenario import Scenario, output  # noqa: E402
from ledger.storage.sql import SqlStore  # noqa: E402

PASSPHRASE = b"benchmark passphrase, not secret"
BLOCK = 250
COUNTRIES = ["IN", "VN", "BD", "MY", "CN", "TH", "US", "PK"]
CODES = ["5201.00", "6109.10.0012", "8541.43.0010", "7601.10", "0702.00", "9403.60"]


def build(scenario: Scenario, count: int, now: datetime) -> float:
    s = scenario
    s.party("party:farm", "Bench Farm", "IN", ["supplier"], now)
    s.party("party:importer", "Bench Importer", "US", ["importer"], now, filer_codes=["BEN"])
    s.party("party:us-cbp", "U.S. Customs and Border Protection", "US", ["cbp"], now)
    s.facility("facility:farm", "Bench Farm", "party:farm", "IN", ["farming"], now)
    start = time.perf_counter()
    first = date(2022, 10, 1)
    made = 0
    while made < count:
        n = min(BLOCK, count - made)
        lots = [output(f"L{made + i}", "seed cotton", "5201.00", "10") for i in range(n)]
        harvest = output(f"H{made}", "seed cotton", "5201.00", str(10 * n))
        origin = s.origin(
            "party:farm", "facility:farm", "seed cotton", "5201.00", [harvest], "2022-09-01", now
        )
        # one input split into n lots (MATERIAL compares every input with every output)
        sold = s.transfer(
            "party:farm",
            "party:importer",
            [(f"{origin.attestation}#0", str(10 * n))],
            lots,
            now - timedelta(days=1),
            now,
        )
        envelopes = []
        for i in range(n):
            k = made + i
            arrival = first + timedelta(days=k % 1200)
            body = {
                "entry_number": f"BEN-{k:07d}-0",
                "hts_lines": [
                    {
                        "hts_code": CODES[k % len(CODES)],
                        "description": "Goods",
                        "quantity": {"amount": "10", "unit": "kg"},
                        "value_usd": str(100 + k % 900),
                    }
                ],
                "exporter": "party:farm",
                "manufacturer": "party:farm",
                "country_of_origin": COUNTRIES[k % len(COUNTRIES)],
                "arrival_date": arrival.isoformat(),
                "inputs": [{"ref": f"{sold.attestation}#{i}", "amount": "10"}],
            }
            envelopes.append(s.sign("shipment", "party:importer", body, now).envelope)
        receipts = s.ledger.append_batch(envelopes)
        detentions = []
        for i, receipt in enumerate(receipts):
            k = made + i
            if k % 10 != 0 or isinstance(receipt, Exception):
                continue
            arrival = first + timedelta(days=k % 1200)
            body = {
                "shipment": receipt.attestation,
                "legal_basis": "uflpa",
                "entered_on": arrival.isoformat(),
                "detained_on": (arrival + timedelta(days=2)).isoformat(),
                "reason": "bench",
            }
            detentions.append(s.sign("detention", "party:us-cbp", body, now).envelope)
        held = s.ledger.append_batch(detentions)
        decisions = []
        for j, receipt in enumerate(held):
            if isinstance(receipt, Exception) or j % 3 == 2:
                continue  # one in three stays pending
            entry = s.ledger.store.find(receipt.attestation)
            assert entry is not None
            shipment = json.loads(
                __import__("base64").b64decode(json.loads(entry.envelope)["payload"])
            )["body"]["shipment"]
            body = {
                "shipment": shipment,
                "detention": receipt.attestation,
                "outcome": "released" if j % 3 == 0 else "excluded",
                "decided_on": now.date().isoformat(),
                "reasons": "bench",
            }
            decisions.append(s.sign("determination", "party:us-cbp", body, now).envelope)
        s.ledger.append_batch(decisions)
        made += n
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--shipments", type=int, default=2000)
    p.add_argument("--db", default=None, help="a postgresql:// URL (default: SQLite in a temp dir)")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        home = init_home(Path(tmp) / "home", PASSPHRASE, now=now, db=args.db)
        ledger = home.open_ledger(PASSPHRASE)
        registrar = load_private_key(home.registrar_key_path, PASSPHRASE)
        scenario = Scenario(ledger, "party:registrar", {"party:registrar": registrar})
        built = build(scenario, args.shipments, now)
        store = ledger.store
        assert isinstance(store, SqlStore)
        timings: dict[str, Any] = {}
        for by in metrics.DIMENSIONS:
            runs = []
            for _ in range(5):
                t = time.perf_counter()
                groups = store.metric_groups(by)
                runs.append(time.perf_counter() - t)
            timings[by] = {
                "median_ms": round(statistics.median(runs) * 1000, 2),
                "groups": len(groups),
            }
        total = metrics.report_json("status", store.metric_groups("status"), {})["total"]
        result = {
            "shipments": args.shipments,
            "log_size": ledger.size(),
            "backend": "postgresql" if args.db else "sqlite",
            "build_seconds": round(built, 1),
            "report": timings,
            "total": total,
            "machine": platform.platform(),
            "python": platform.python_version(),
            "when": now.isoformat(),
        }
        ledger.store.close()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        f"# Metrics report at {args.shipments} shipments ({result['backend']})",
        "",
        f"Log of {result['log_size']} entries built through the append path in "
        f"{result['build_seconds']} s on {result['machine']} (Python {result['python']}), "
        f"{result['when'][:10]}.",
        "",
        "| by | groups | median ms |",
        "| --- | ---: | ---: |",
        *(f"| {by} | {t['groups']} | {t['median_ms']} |" for by, t in timings.items()),
    ]
    (args.out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
