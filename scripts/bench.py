"""Benchmark lotchain: append, HTTP, verification, proofs, storage, memory and peers.

Grows a ledger of realistic ~1 KB envelopes through the sizes asked for and measures
at each size, then verifies shipment chains and runs the peers (securesystemslib DSSE,
pymerkle SqliteTree) on the same data. Every rate is also given as a ratio to the raw
PyNaCl Ed25519 verify rate measured in the same run. Writes results.json, summary.md
(the table and each target of issue 5, met or not) and PNG plots into the out dir.

    scripts/bench --quick                      # CI size, well under a minute
    scripts/bench --sizes 1000,100000          # a medium run
    scripts/bench                              # 1 k, 100 k and 1 M entries
    scripts/bench --postgres auto              # PostgreSQL beside SQLite
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PG_SERVER = "postgresql://postgres@127.0.0.1:5432/test"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="scripts/bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="a CI-size run (small sizes, windows)")
    p.add_argument(
        "--sizes",
        default=None,
        help="log sizes, comma separated (default 1000,100000,1000000; quick 500,3000)",
    )
    p.add_argument(
        "--chains",
        default=None,
        help="chain lengths to verify (default 10,100,1000; quick 10,50,200)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default docs/benchmarks/<date>-<hostname>)",
    )
    p.add_argument(
        "--postgres",
        default=None,
        metavar="URL",
        help=f"also measure PostgreSQL; 'auto' = a fresh schema on {PG_SERVER}",
    )
    p.add_argument(
        "--postgres-max-size",
        type=int,
        default=100_000,
        help="largest size grown on PostgreSQL (default 100000)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes: 1 = waitress threads, more = gunicorn workers",
    )
    p.add_argument("--threads", type=int, default=8, help="server threads per process")
    p.add_argument("--clients", type=int, default=8, help="concurrent HTTP client processes")
    p.add_argument(
        "--profile",
        action="store_true",
        help="also profile the slow paths with pyinstrument (OUT/profiles)",
    )
    p.add_argument(
        "--only",
        choices=["verify"],
        default=None,
        help="verify: only the yardstick, the DSSE peer and the verification chains "
        "(minutes, no log growth; the sizes are ignored)",
    )
    p.add_argument("--workdir", type=Path, default=None, help="keep the ledgers here")
    p.add_argument("--seed", type=int, default=5)
    args = p.parse_args(argv)
    args.sizes = sorted(
        int(x)
        for x in (args.sizes or ("500,3000" if args.quick else "1000,100000,1000000")).split(",")
    )
    args.chains = sorted(
        int(x) for x in (args.chains or ("10,50,200" if args.quick else "10,100,1000")).split(",")
    )
    if (len(args.sizes) < 2 and args.only is None) or len(args.chains) < 2:
        p.error("give at least two sizes and two chain lengths (targets compare them)")
    if min(args.chains) < 5:
        p.error("a chain has at least 5 attestations")
    if args.out is None:
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        args.out = ROOT / "docs" / "benchmarks" / f"{day}-{socket.gethostname()}"
    return args


def windows(quick: bool) -> dict[str, Any]:
    """How much each measure does: small for CI, enough to steady the figures otherwise."""
    if quick:
        return {
            "batched": 1000,
            "batched_pool": 300,
            "batch": 500,
            "single": 100,
            "proofs": 100,
            "fixed": 5,
            "http_single": 10,
            "http_batches": 1,
            "http_batch": 60,
            "verify_budget": 400,
            "dsse": 300,
            "merkle_leaves": 3000,
            "merkle_singles": 50,
            "yardstick_seconds": 0.3,
            "peer_seconds": 0.3,
        }
    return {
        "batched": 5000,
        "batched_pool": 5000,
        "batch": 500,
        "single": 500,
        "proofs": 500,
        "fixed": 20,
        "http_single": 50,
        "http_batches": 2,
        "http_batch": 250,
        "verify_budget": 3000,
        "dsse": 2000,
        "merkle_leaves": 100_000,
        "merkle_singles": 300,
        "yardstick_seconds": 1.0,
        "peer_seconds": 1.0,
    }


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def fresh_pg_schema(server: str) -> tuple[str, str]:
    """An empty schema on ``server`` and a URL that uses it."""
    import psycopg2

    name = f"lotchain_bench_{int(time.time())}"
    conn = psycopg2.connect(server, connect_timeout=5)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{name}"')
    conn.close()
    return f"{server}?options=-csearch_path%3D{name}", name


def drop_pg_schema(server: str, name: str) -> None:
    import psycopg2

    conn = psycopg2.connect(server, connect_timeout=5)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SET lock_timeout = '10s'")
        cur.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    conn.close()


def pg_version(url: str) -> str:
    import psycopg2

    conn = psycopg2.connect(url.split("?")[0], connect_timeout=5)
    with conn.cursor() as cur:
        cur.execute("SHOW server_version")
        version = str(cur.fetchone()[0])
    conn.close()
    return version


def workload_sample(count: int) -> tuple[list[bytes], dict[str, bytes], dict[str, float]]:
    """Envelopes for the yardstick and the DSSE peer; the keys; mean sizes by type."""
    from bench_lib.workload import LANES, farm, gin, sign_units, signer_for

    from ledger.attestation import parse_attestation

    envelopes = sign_units(5_000_000, max(1, count // 3))
    keys = {}
    for lane in range(LANES):
        for party in (farm(lane), gin(lane)):
            keys[signer_for(party).key_id] = signer_for(party).public_key
    sizes: dict[str, list[int]] = {}
    for e in envelopes:
        sizes.setdefault(parse_attestation(e).type, []).append(len(e))
    return envelopes, keys, {t: sum(v) / len(v) for t, v in sizes.items()}


def yardstick_items(envelopes: list[bytes], keys: dict[str, bytes]) -> list[Any]:
    from ledger.dsse import parse_envelope

    items = []
    for data in envelopes:
        env = parse_envelope(data)
        sig = env.signatures[0]
        items.append((keys[sig.keyid], env.signed_bytes(), sig.sig))
    return items


def _bodies(
    signed: list[bytes], w: dict[str, Any], clients: int
) -> tuple[list[list[bytes]], list[list[bytes]]]:
    """Per client: envelopes for the single route, batch bodies for the batch route."""
    from bench_lib.http_bench import batch_body

    one, many = _per_client(w)
    single = [signed[i * one : (i + 1) * one] for i in range(clients)]
    rest = signed[one * clients :]
    batches = []
    for i in range(clients):
        mine = rest[i * many : (i + 1) * many]
        step = w["http_batch"]
        batches.append([batch_body(mine[j : j + step]) for j in range(0, len(mine), step)])
    return single, batches


def http_phase(
    bench: Any,
    args: argparse.Namespace,
    w: dict[str, Any],
    signed: list[bytes],
    profiled: tuple[list[bytes], Path] | None = None,
) -> dict[str, Any]:
    """Serve the ledger; 8 clients on the single route, then on the batch route.

    With ``profiled`` (more envelopes, a raw output path), one more round of both
    routes runs under py-spy after the measured rounds.
    """
    from bench_lib.http_bench import Server, run_clients
    from bench_lib.library import PASSPHRASE
    from bench_lib.profiles import PySpy

    single_bodies, batch_bodies = _bodies(signed, w, args.clients)
    server = Server(bench.home.path, PASSPHRASE, args.workers, args.threads)
    try:
        server.wait_ready()
        idle = server.peak_rss_mib()
        single = run_clients(server.port, "single", single_bodies)
        batch = run_clients(server.port, "batch", batch_bodies)
        batch["batch"] = w["http_batch"]
        rss = server.peak_rss_mib()
        if profiled is not None:
            more_single, more_batch = _bodies(profiled[0], w, args.clients)
            spy = PySpy(server.proc.pid, profiled[1])
            try:
                run_clients(server.port, "single", more_single)
                run_clients(server.port, "batch", more_batch)
            finally:
                spy.stop()
    finally:
        server.stop()
    return {
        "single": single,
        "batch": batch,
        "server_rss": rss,
        "server_rss_idle": idle,
        "workers": args.workers,
        "threads": args.threads,
    }


def _per_client(w: dict[str, Any]) -> tuple[int, int]:
    """Entries per client on the single and the batch route, in whole workload units.

    A unit's three envelopes refer to each other, so one client posts them in order.
    """

    def whole(n: int) -> int:
        return -(-n // 3) * 3

    return whole(w["http_single"]), whole(w["http_batches"] * w["http_batch"])


def http_entries(args: argparse.Namespace, w: dict[str, Any]) -> int:
    """Entries one HTTP phase needs, for both routes."""
    one, many = _per_client(w)
    return (one + many) * int(args.clients)


def size_series(
    bench: Any,
    sizes: list[int],
    args: argparse.Namespace,
    w: dict[str, Any],
    http: bool,
    label: str,
    timing: dict[str, float],
) -> list[dict[str, Any]]:
    """Grow the log to each size and measure there."""
    from bench_lib.library import Signing

    out = []
    profiled: tuple[list[bytes], Path] | None = None
    for target in sizes:
        with_signing = Signing()
        try:
            log(f"{label}: growing the log to {target:,}")
            build = bench.grow_to(target, with_signing)
            timing["build_seconds"] += build["seconds"]
            started = time.perf_counter()
            size = bench.size()
            log(
                f"{label}: at {size:,} (built {build['entries']:,} at {build['rate']:,.0f}/s); "
                "measuring"
            )
            row: dict[str, Any] = {"size": target, "actual_size": size, "build": build}
            # what depends on the size first, then the appends (which grow the log)
            row["proofs"] = bench.proofs(w["proofs"], args.seed)
            row["fixed_shipment"] = bench.fixed_verification(w["fixed"])
            row["storage"] = bench.storage()
            if target == sizes[-1]:
                row["storage"]["by_table"] = bench.breakdown()
            row["wal"] = bench.wal_per_entry(with_signing)
            row["append_batched"] = bench.append_batched(w["batched"], w["batch"], with_signing)
            row["append_batched_pool"] = bench.append_batched_pool(
                w["batched_pool"], w["batch"], with_signing
            )
            row["append_single"] = bench.append_single(w["single"], with_signing)
            if http:
                signed = with_signing.now(*bench._units(http_entries(args, w)))
                if args.profile and target == sizes[-1]:
                    more = with_signing.now(*bench._units(http_entries(args, w)))
                    profiled = (more, args.out / "profiles" / "server_http_pyspy.txt")
        finally:
            with_signing.close()
        if http:
            log(f"{label}: HTTP at {bench.size():,}")
            row["http"] = http_phase(bench, args, w, signed, profiled)
        row["measure_seconds"] = time.perf_counter() - started
        out.append(row)
    return out


def profile(bench: Any, out: Path) -> None:
    """pyinstrument profiles of the library's slow paths, as text, into OUT/profiles."""
    from bench_lib.library import Signing
    from bench_lib.profiles import pyinstrument_text

    signing = Signing()
    try:
        pyinstrument_text(
            out / "profiles" / "append_batched.txt",
            lambda: bench.append_batched(2000, 500, signing),
        )
        pyinstrument_text(
            out / "profiles" / "append_single.txt", lambda: bench.append_single(200, signing)
        )
        pyinstrument_text(
            out / "profiles" / "verify_fixed_online.txt", lambda: bench.fixed_verification(20)
        )
    finally:
        signing.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench_lib import peers, verify_bench
    from bench_lib.library import LogBench, Signing
    from bench_lib.measure import CpuShare, machine_info, yardstick

    w = windows(args.quick)
    cpu = CpuShare()
    started = time.perf_counter()
    timing = {"build_seconds": 0.0}
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="lotchain-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    pg_url, pg_schema, pg_server = args.postgres, None, PG_SERVER
    if args.postgres == "auto":
        pg_url, pg_schema = fresh_pg_schema(pg_server)
    result: dict[str, Any] = {
        "command": "scripts/bench " + " ".join(sys.argv[1:]),
        "machine": machine_info(ROOT, pg_version(pg_url) if pg_url else None)
        | {"load_average_at_start": list(os.getloadavg())},
        "config": {
            "quick": args.quick,
            "sizes": args.sizes,
            "chains": args.chains,
            "clients": args.clients,
            "workers": args.workers,
            "threads": args.threads,
            "windows": w,
        },
    }
    if args.only == "verify":
        return run_verify_only(args, w, result, workdir, started, cpu)
    try:
        log("yardstick and DSSE peer")
        envelopes, keys, by_type = workload_sample(w["dsse"])
        items = yardstick_items(envelopes, keys)
        y0 = yardstick(items, w["yardstick_seconds"])
        result["workload"] = {
            "envelope_bytes_mean": sum(map(len, envelopes)) / len(envelopes),
            "by_type": by_type,
        }
        result["peers"] = {"dsse": peers.dsse(envelopes, keys, w["peer_seconds"])}

        bench = LogBench.create(workdir / "sqlite-home")
        try:
            result["sizes"] = size_series(bench, args.sizes, args, w, True, "sqlite", timing)
            result["build_curve"] = bench.build_curve
            if args.profile:
                log("profiling")
                profile(bench, args.out)
        finally:
            bench.close()

        log("verification chains")
        result["verification"] = verify_bench.chains(
            workdir,
            args.chains,
            w["verify_budget"],
            Path(__file__).resolve(),
            args.out / "profiles" if args.profile else None,
        )

        log("pymerkle peer")
        with_signing = Signing()
        try:
            total = w["merkle_leaves"] + w["merkle_singles"]
            leaves = with_signing.now(6_000_000, -(-total // 3))[:total]
        finally:
            with_signing.close()
        result["peers"]["merkle"] = peers.merkle_tree(
            workdir / "merkle",
            leaves[: w["merkle_leaves"]],
            leaves[w["merkle_leaves"] :],
            w["proofs"],
            args.seed,
        )

        if pg_url:
            pg_sizes = [s for s in args.sizes if s <= args.postgres_max_size] or args.sizes[:1]
            pg_bench = LogBench.create(workdir / "pg-home", db=pg_url)
            try:
                result["postgres"] = {
                    "version": result["machine"]["postgresql"],
                    "sizes": size_series(pg_bench, pg_sizes, args, w, False, "postgres", timing),
                }
            finally:
                pg_bench.close()

        y1 = yardstick(items, w["yardstick_seconds"])
        result["yardstick"] = {
            "verify_per_s": (y0 + y1) / 2,
            "start": y0,
            "end": y1,
            "message_bytes": sum(len(i[1]) for i in items) / len(items),
        }
    finally:
        if pg_schema:
            drop_pg_schema(pg_server, pg_schema)
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    timing["total_seconds"] = time.perf_counter() - started
    result["timing"] = timing
    result["machine"]["cpu_used_by_others"] = cpu.others()
    folder = args.out / "profiles"
    if args.profile and folder.exists():
        result["profiles"] = sorted(f"profiles/{p.name}" for p in folder.iterdir())
    result["estimate_full_run"] = estimate(result)
    return result


def run_verify_only(
    args: argparse.Namespace,
    w: dict[str, Any],
    result: dict[str, Any],
    workdir: Path,
    started: float,
    cpu: Any,
) -> dict[str, Any]:
    """``--only verify``: the yardstick, the DSSE peer and the chains, nothing else."""
    from bench_lib import peers, verify_bench
    from bench_lib.measure import yardstick

    try:
        log("yardstick and DSSE peer")
        envelopes, keys, by_type = workload_sample(w["dsse"])
        items = yardstick_items(envelopes, keys)
        y0 = yardstick(items, w["yardstick_seconds"])
        result["workload"] = {
            "envelope_bytes_mean": sum(map(len, envelopes)) / len(envelopes),
            "by_type": by_type,
        }
        result["peers"] = {"dsse": peers.dsse(envelopes, keys, w["peer_seconds"])}
        log("verification chains")
        result["verification"] = verify_bench.chains(
            workdir,
            args.chains,
            w["verify_budget"],
            Path(__file__).resolve(),
            args.out / "profiles" if args.profile else None,
        )
        y1 = yardstick(items, w["yardstick_seconds"])
        result["yardstick"] = {
            "verify_per_s": (y0 + y1) / 2,
            "start": y0,
            "end": y1,
            "message_bytes": sum(len(i[1]) for i in items) / len(items),
        }
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    result["timing"] = {"total_seconds": time.perf_counter() - started, "build_seconds": 0.0}
    result["machine"]["cpu_used_by_others"] = cpu.others()
    return result


def estimate(r: dict[str, Any]) -> dict[str, Any] | None:
    """How long the full run (1 k, 100 k, 1 M) would take, from this run's rates."""
    sizes = r["sizes"]
    if sizes[-1]["size"] >= 1_000_000:
        return None
    curve = r["build_curve"] or [{"size": sizes[-1]["size"], "rate": sizes[-1]["build"]["rate"]}]
    rates = [c["rate"] for c in curve[-5:] if c["rate"] > 0] or [
        s["build"]["rate"] for s in sizes if s["build"]["rate"] > 0
    ]
    if not rates:
        return None
    rate = min(rates)
    build = (1_000_000 - sizes[-1]["actual_size"]) / rate
    per_size = max(s["measure_seconds"] for s in sizes)
    fixed = (
        r["timing"]["total_seconds"]
        - r["timing"]["build_seconds"]
        - sum(s["measure_seconds"] for s in sizes)
    )
    seconds = r["timing"]["total_seconds"] + build + per_size * 1.5
    return {
        "seconds": seconds,
        "build_seconds": build,
        "build_rate": rate,
        "fixed_seconds": fixed,
        "basis": f"the slowest recent build rate of this run, at {curve[-1]['size']:,}",
    }


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if argv[:1] == ["_verify-rss"]:
        sub = argparse.ArgumentParser(prog="bench.py _verify-rss")
        for name in ("--home", "--ref", "--bundle", "--trust-root"):
            sub.add_argument(name, default=None)
        a = sub.parse_args(argv[1:])
        from bench_lib.verify_bench import rss_child

        rss_child(a.home, a.ref, a.bundle, a.trust_root)
        return
    args = parse_args(argv)
    from bench_lib import report

    result = run(args)
    if args.only == "verify":
        report.write_verify_only(result, args.out)
    else:
        report.write(result, args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
