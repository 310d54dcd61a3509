"""The benchmark's CI-size run keeps working: every measure present and positive, plots drawn.

No timing is asserted (the machines are shared and noisy); the figures of a real run
are committed under docs/benchmarks/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pg

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench.py"

PER_SIZE = {
    "append_batched": ["rate", "entries"],
    "append_batched_pool": ["rate", "entries", "pool_workers"],
    "append_single": ["rate", "entries"],
    "proofs": [
        "inclusion_gen_ms",
        "inclusion_verify_ms",
        "consistency_gen_ms",
        "consistency_verify_ms",
    ],
    "fixed_shipment": ["online_ms", "bundle_ms", "rate"],
    "storage": ["bytes_per_entry", "envelope_bytes_per_entry", "ratio"],
}
HTTP = {
    "single": ["rate", "entries"],
    "batch": ["rate", "entries"],
    "server_rss": ["max_process_mib", "total_mib"],
}
PER_CHAIN = ["online.rate", "offline.rate", "bundle_bytes", "rss_mib.online", "rss_mib.offline"]
PEERS = [
    "dsse.ours_per_s",
    "dsse.securesystemslib_per_s",
    "dsse.ratio",
    "merkle.ours.append_batched_per_s",
    "merkle.ours.append_single_per_s",
    "merkle.ours.proof_gen_ms",
    "merkle.ours.proof_verify_ms",
    "merkle.pymerkle.append_batched_per_s",
    "merkle.pymerkle.append_single_per_s",
    "merkle.pymerkle.proof_gen_ms",
    "merkle.pymerkle.proof_verify_ms",
    "merkle.ratio_batched",
    "merkle.ratio_single",
]


def _get(obj: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj[part]
    return obj


def _positive(obj: dict[str, Any], dotted: str, where: str) -> None:
    value = _get(obj, dotted)
    assert isinstance(value, (int, float)) and not isinstance(value, bool), (where, dotted)
    assert value > 0, (where, dotted, value)


def _check_size_rows(rows: list[dict[str, Any]], http: bool) -> None:
    assert len(rows) == 2
    for row in rows:
        where = f"size {row['size']}"
        for measure, keys in PER_SIZE.items():
            for key in keys:
                _positive(row, f"{measure}.{key}", where)
        if http:
            _positive(row, "wal.wal_bytes_per_entry", where)
            for route, keys in HTTP.items():
                for key in keys:
                    _positive(row, f"http.{route}.{key}", where)


@pytest.mark.slow
def test_quick_benchmark_measures_everything(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [sys.executable, str(SCRIPT), "--quick", "--out", str(out)]
    args += ["--workdir", str(tmp_path / "work")]
    use_pg = pg.unavailable() is None or os.environ.get("LOTCHAIN_REQUIRE_POSTGRES") == "1"
    if use_pg:
        args += ["--postgres", pg.fresh_schema()]
    done = subprocess.run(args, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    result = json.loads((out / "results.json").read_text())
    _positive(result, "yardstick.verify_per_s", "yardstick")
    _positive(result, "workload.envelope_bytes_mean", "workload")
    assert 900 <= result["workload"]["envelope_bytes_mean"] <= 1300  # about 1 KB
    _check_size_rows(result["sizes"], http=True)
    assert len(result["verification"]) == 3
    for chain in result["verification"]:
        assert chain["status"] == "pass"
        for key in PER_CHAIN:
            _positive(chain, key, f"chain {chain['chain']}")
    for key in PEERS:
        _positive(result["peers"], key, "peers")
    if use_pg:
        _check_size_rows(result["postgres"]["sizes"], http=False)
        assert result["machine"]["postgresql"]
    for field in ("cpu", "cores", "python", "sqlite", "date"):
        assert result["machine"][field]

    targets = result["targets"]
    assert len(targets) == 15
    assert all(isinstance(t["met"], bool) and t["value"] > 0 for t in targets)
    for name in ("append_rate.png", "proof_time.png", "verification_rate.png"):
        png = out / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    summary = (out / "summary.md").read_text()
    assert "| measure | target | this run | met |" in summary
    assert "Yardstick" in summary
