"""Shipment verification: attestations per second, online and offline, by chain length.

Chains are built in a ledger of their own, so the size series stays the workload's.
Peak memory is measured in a fresh subprocess per chain and mode (``bench.py
_verify-rss``), so each peak is that verification's alone.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from bench_lib.chains import build_chain, load_screening_lists, register_chain_parties
from bench_lib.library import PASSPHRASE
from bench_lib.measure import run_json, self_peak_mib, timed
from bench_lib.workload import scenario
from ledger.home import Home, init_home
from ledger.keys import load_private_key
from ledger.log import Ledger
from ledger.scenario import Scenario
from ledger.trustroot import TrustRoot
from ledger.verify import build_bundle, verify_bundle, verify_shipment_online


def _repeats(chain: int, budget: int) -> int:
    """Enough repetitions to verify about ``budget`` attestations (at least 2)."""
    return max(2, min(200, budget // chain))


def chains(
    workdir: Path,
    lengths: list[int],
    budget: int,
    bench_script: Path,
    profile_dir: Path | None = None,
) -> list[dict[str, Any]]:
    """Build one chain per length; verify each online and from its bundle, and its RSS."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    home = init_home(workdir / "verify-home", PASSPHRASE.encode(), now=now)
    ledger = home.open_ledger(PASSPHRASE.encode())
    load_screening_lists(ledger, now)
    s = scenario(ledger, load_private_key(home.registrar_key_path, PASSPHRASE.encode()))
    register_chain_parties(s, now)
    out: list[dict[str, Any]] = []
    try:
        for n in lengths:
            profile_to = profile_dir if n == max(lengths) else None
            out.append(_one(ledger, s, home, n, budget, workdir, bench_script, profile_to))
    finally:
        ledger.store.close()
    return out


def _one(
    ledger: Ledger,
    s: Scenario,
    home: Home,
    n: int,
    budget: int,
    workdir: Path,
    bench_script: Path,
    profile_dir: Path | None,
) -> dict[str, Any]:
    """Build a chain of ``n``; its verification rates, bundle and peak memory."""
    built, shipment = timed(lambda: build_chain(ledger, s, n, f"V{n}"))
    verdict = verify_shipment_online(ledger, shipment)
    if verdict.status != "pass":
        raise RuntimeError(f"chain {n} does not pass: {verdict.findings[:2]}")
    counts = verdict.summary["counts"]
    reps = _repeats(n, budget)
    online, _ = timed(lambda: [verify_shipment_online(ledger, shipment) for _ in range(reps)])
    bundle_s, bundle = timed(lambda: build_bundle(ledger, shipment))
    data = json.dumps(bundle, separators=(",", ":")).encode()
    bundle_path = workdir / f"bundle-{n}.json"
    bundle_path.write_bytes(data)
    offline, _ = timed(lambda: [verify_bundle(data, ledger.trust) for _ in range(reps)])
    multi = json.dumps(build_bundle(ledger, shipment, multiproof=True), separators=(",", ":"))
    multi_data = multi.encode()
    multi_s, _ = timed(lambda: [verify_bundle(multi_data, ledger.trust) for _ in range(reps)])
    rss = {
        "online": _rss(bench_script, ["--home", str(home.path), "--ref", shipment]),
        "offline": _rss(
            bench_script,
            ["--bundle", str(bundle_path), "--trust-root", str(home.trust_root_path)],
        ),
    }
    if profile_dir is not None:
        from bench_lib.profiles import pyinstrument_text

        pyinstrument_text(
            profile_dir / f"verify_online_{n}.txt",
            lambda: verify_shipment_online(ledger, shipment),
        )
        pyinstrument_text(
            profile_dir / f"verify_offline_{n}.txt",
            lambda: [verify_bundle(data, ledger.trust) for _ in range(3)],
        )
    return {
        "chain": int(counts["chain"]),
        "relied_on": int(counts["relied_on"]),
        "status": verdict.status,
        "build_seconds": built,
        "repeats": reps,
        "online": {"seconds": online / reps, "rate": n * reps / online},
        "offline": {"seconds": offline / reps, "rate": n * reps / offline},
        "offline_multiproof": {"seconds": multi_s / reps, "rate": n * reps / multi_s},
        "bundle_bytes": len(data),
        "bundle_multiproof_bytes": len(multi_data),
        "bundle_build_seconds": bundle_s,
        "rss_mib": rss,
    }


def _rss(bench_script: Path, args: list[str]) -> float:
    value = run_json([sys.executable, str(bench_script), "_verify-rss", *args], timeout=600)
    return float(value["peak_rss_mib"])


def rss_child(home: str | None, ref: str | None, bundle: str | None, trust: str | None) -> None:
    """(In the subprocess) verify once, print the peak RSS of this process as JSON."""
    start = time.perf_counter()
    if bundle is not None and trust is not None:
        verdict = verify_bundle(Path(bundle).read_bytes(), TrustRoot.load(Path(trust)))
    elif home is not None and ref is not None:
        ledger = Home(Path(home)).open_ledger(None)
        verdict = verify_shipment_online(ledger, ref)
        ledger.store.close()
    else:
        raise SystemExit("_verify-rss needs --home and --ref, or --bundle and --trust-root")
    print(
        json.dumps(
            {
                "status": verdict.status,
                "seconds": time.perf_counter() - start,
                "peak_rss_mib": self_peak_mib(),
            }
        )
    )
