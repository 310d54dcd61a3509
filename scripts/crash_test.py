"""Crash safety: kill writers and the server with SIGKILL at random moments, check nothing
acknowledged is lost.

Each cycle starts library writers (appending through ``Ledger`` in their own processes)
and HTTP writers (appending through ``lotchain serve``), lets them run for a random
moment, then SIGKILLs the server and the writers at random. After every cycle it checks
that every entry whose receipt reached a writer is present, unchanged, at its index,
that nothing half-written is visible, and that the whole-log audit passes.

Short form (the test suite): ``scripts/crash-test --cycles 2``. Long form:
``scripts/crash-test --cycles 200`` (see the README for the figures of the last run).
With ``LOTCHAIN_POOL_WORKERS=1`` in the environment the writers and the server run the
admission pool, which batches of 40 go through.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from ledger.audit import audit_log
from ledger.home import Home, init_home
from ledger.keys import Signer, load_private_key
from ledger.scenario import Scenario, output

PASSPHRASE = "crash test passphrase"


def _signer(party: str) -> Signer:
    return Signer.from_seed(hashlib.sha256(b"crash-test " + party.encode()).digest())


def setup(workdir: Path, writers: int, db: str | None = None) -> Home:
    now = datetime.now(UTC)
    home = init_home(workdir / "home", PASSPHRASE.encode(), now=now, db=db)
    ledger = home.open_ledger(PASSPHRASE.encode())
    registrar = load_private_key(home.registrar_key_path, PASSPHRASE.encode())
    scenario = Scenario(ledger, "party:registrar", {"party:registrar": registrar})
    for n in range(writers):
        party = f"party:writer-{n:02d}"
        scenario.signers[party] = _signer(party)
        scenario.party(party, f"Writer {n} Farms Ltd.", "IN", ["supplier"], now)
        scenario.facility(
            f"facility:writer-{n:02d}", f"Writer {n} Farm", party, "IN", ["farming"], now
        )
    ledger.store.close()
    return home


def writer(
    home: Path,
    party: str,
    mode: str,
    url: str,
    ack: Path,
    batch: int,
    count: int | None = None,
    ready: Path | None = None,
) -> None:
    """Append origins (forever, or ``count`` of them), one line per receipt to ``ack``."""
    from ledger.attestation import make_attestation

    signer = _signer(party)
    facility = party.replace("party:", "facility:")
    client = ledger = None
    if mode == "http":
        from ledger.client import Client

        client = Client(url, timeout=10)
    else:
        ledger = Home(home).open_ledger(PASSPHRASE.encode())
    counter = acknowledged = 0
    if ready is not None:
        ready.touch()
    with ack.open("a", encoding="utf-8") as out:
        while count is None or acknowledged < count:
            envelopes = []
            for _ in range(batch if count is None else min(batch, count - acknowledged)):
                counter += 1
                body = {
                    "facility": facility,
                    "material": {"name": "seed cotton", "hs_code": "5201.00"},
                    "produced_on": "2025-10-01",
                    "outputs": [
                        output(
                            f"{party[6:]}-{os.getpid()}-{counter}", "seed cotton", "5201.00", "1000"
                        )
                    ],
                }
                envelopes.append(
                    make_attestation(
                        "origin", party, body, [signer], now=datetime.now(UTC)
                    ).envelope
                )
            try:
                if client is not None:
                    receipts = client.submit_batch([e.canonical for e in envelopes])
                else:
                    assert ledger is not None
                    receipts = [
                        r.to_json()
                        for r in ledger.append_batch(envelopes)
                        if not isinstance(r, Exception)
                    ]
            except Exception:  # the server is being killed: try again
                time.sleep(0.05)
                continue
            for r in receipts:
                if "index" in r:
                    leaf_hash = hashlib.sha256(b"\x00" + base64.b64decode(r["leaf"])).hexdigest()
                    out.write(f"{r['index']} {r['attestation']} {leaf_hash}\n")
                    acknowledged += 1
            out.flush()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, seconds: float) -> bool:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def _start_server(
    home: Home, env: dict[str, str], *, threads: int, workers: int = 1
) -> tuple[str, subprocess.Popen[bytes]]:
    """``lotchain serve`` on a free port, answering /healthz; its URL and process."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from ledger.cli import main; main()",
            "serve",
            "--home",
            str(home.path),
            "--port",
            str(port),
            "--threads",
            str(threads),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if not _wait_for(url, 30):
        server.kill()
        raise SystemExit("the server did not start")
    return url, server


def _wait_until_started(ready: list[Path], *, seconds: float) -> None:
    """Writers touch a file once ready to append: kill them while they write, not load."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(path.exists() for path in ready):
        time.sleep(0.05)


def check(home: Home, acks: list[Path]) -> tuple[int, int]:
    """Every acknowledged entry is present, unchanged, at its index; the audit passes."""
    ledger = home.open_ledger(None)
    try:
        acknowledged = 0
        for path in acks:
            if not path.exists():
                continue  # that writer was killed before it started: nothing acknowledged
            for line in path.read_text().splitlines():
                parts = line.split()
                if len(parts) != 3:
                    continue  # a line cut by the kill was never acknowledged in full
                index, attestation, leaf_hash = int(parts[0]), parts[1], parts[2]
                entry = ledger.store.get(index)
                if entry.attestation_id != attestation or entry.leaf_hash.hex() != leaf_hash:
                    raise SystemExit(f"LOST: acknowledged entry {index} ({attestation}) changed")
                acknowledged += 1
        report = audit_log(ledger.store, ledger.trust)
        if not report.ok:
            raise SystemExit(f"AUDIT FAILED: {report.to_json()['findings'][:3]}")
        return acknowledged, ledger.size()
    finally:
        ledger.store.close()


def run(args: argparse.Namespace) -> dict[str, object]:
    rng = random.Random(args.seed)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="lotchain-crash-"))
    total = args.writers + args.http_writers
    home = setup(workdir, total)
    env = {**os.environ, "LOTCHAIN_PASSPHRASE": PASSPHRASE}
    acks = [workdir / f"ack-{n:02d}.txt" for n in range(total)]
    me = [sys.executable, str(Path(__file__).resolve())]
    kills = {"server": 0, "writers": 0}
    started = time.monotonic()
    for cycle in range(args.cycles):
        procs: list[subprocess.Popen[bytes]] = []
        server = None
        url = ""
        if args.http_writers:
            url, server = _start_server(home, env, threads=4)
        ready = [workdir / f"ready-{cycle}-{n:02d}" for n in range(total)]
        for n in range(total):
            mode = "lib" if n < args.writers else "http"
            procs.append(
                subprocess.Popen(
                    [
                        *me,
                        "writer",
                        "--home",
                        str(home.path),
                        "--party",
                        f"party:writer-{n:02d}",
                        "--mode",
                        mode,
                        "--url",
                        url,
                        "--ack",
                        str(acks[n]),
                        "--batch",
                        str(rng.choice([1, 1, 5, 20, 40])),  # 40: the admission pool, when it is on
                        "--ready",
                        str(ready[n]),
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        _wait_until_started(ready, seconds=60)
        time.sleep(rng.uniform(args.min_seconds, args.max_seconds))
        victims = [*procs, *([server] if server else [])]
        rng.shuffle(victims)
        for proc in victims:
            proc.send_signal(signal.SIGKILL)
            time.sleep(rng.uniform(0, 0.05))
        for proc in victims:
            proc.wait(timeout=30)
        kills["writers"] += len(procs)
        kills["server"] += 1 if server else 0
        acknowledged, size = check(home, acks)
        if not args.json:
            print(
                f"cycle {cycle + 1}/{args.cycles}: {acknowledged} acknowledged, log size "
                f"{size}, audit passed",
                flush=True,
            )
    acknowledged, size = check(home, acks)
    return {
        "cycles": args.cycles,
        "acknowledged": acknowledged,
        "log_size": size,
        "lost": 0,
        "kills": kills,
        "seconds": round(time.monotonic() - started, 1),
        "workdir": str(workdir),
    }


def concurrent(args: argparse.Namespace) -> dict[str, object]:
    """Writers in several processes at once, no kills: exactly the acknowledged entries."""
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="lotchain-concurrent-"))
    total = args.writers + args.http_writers
    home = setup(workdir, total, args.db)
    env = {**os.environ, "LOTCHAIN_PASSPHRASE": PASSPHRASE}
    acks = [workdir / f"ack-{n:02d}.txt" for n in range(total)]
    server = None
    url = ""
    if args.http_writers:
        url, server = _start_server(home, env, threads=8, workers=args.server_workers)
    before = _log_size(home)
    try:
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "writer",
                    "--home",
                    str(home.path),
                    "--party",
                    f"party:writer-{n:02d}",
                    "--mode",
                    "lib" if n < args.writers else "http",
                    "--url",
                    url,
                    "--ack",
                    str(acks[n]),
                    "--batch",
                    str(1 + n % 3),
                    "--count",
                    str(args.count),
                ],
                env=env,
            )
            for n in range(total)
        ]
        for proc in procs:
            if proc.wait(timeout=600) != 0:
                raise SystemExit(f"a writer failed with exit code {proc.returncode}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    acknowledged, size = check(home, acks)
    expected = total * args.count
    if acknowledged != expected or size != before + expected:
        raise SystemExit(
            f"expected {expected} new entries, acknowledged {acknowledged}, "
            f"log grew by {size - before}"
        )
    _check_all_checkpoints(home)
    return {
        "writers": args.writers,
        "http_writers": args.http_writers,
        "acknowledged": acknowledged,
        "log_size": size,
        "db": args.db or "sqlite",
    }


def _log_size(home: Home) -> int:
    ledger = home.open_ledger(None)
    try:
        return ledger.size()
    finally:
        ledger.store.close()


def _check_all_checkpoints(home: Home) -> None:
    """Every signed checkpoint is consistent with the next one and with the last."""
    from ledger.checkpoint import verify_checkpoint
    from ledger.merkle import consistency_proof, verify_consistency

    ledger = home.open_ledger(None)
    try:
        vkey = ledger.trust.log_vkey
        cps = [verify_checkpoint(c.note, vkey) for c in ledger.store.checkpoints()]
        sizes = [c.size for c in cps]
        if len(set(sizes)) != len(sizes) or sizes != sorted(sizes):
            raise SystemExit("two checkpoints were signed for one size")
        last = cps[-1]
        for old, new in zip(cps, [*cps[1:], last], strict=True):
            for target in (new, last):
                proof = consistency_proof(old.size, target.size, ledger.store)
                verify_consistency(old.size, target.size, proof, old.root, target.root)
    finally:
        ledger.store.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    w = sub.add_parser("writer", help="(internal) one writer process")
    w.add_argument("--home", type=Path, required=True)
    w.add_argument("--party", required=True)
    w.add_argument("--mode", choices=["lib", "http"], required=True)
    w.add_argument("--url", default="")
    w.add_argument("--ack", type=Path, required=True)
    w.add_argument("--batch", type=int, default=1)
    w.add_argument("--count", type=int, default=None)
    w.add_argument("--ready", type=Path, default=None, help="touched once ready to append")
    c = sub.add_parser("concurrent", help="writers at once, no kills: exact count")
    c.add_argument("--writers", type=int, default=4)
    c.add_argument("--http-writers", type=int, default=2)
    c.add_argument("--server-workers", type=int, default=1)
    c.add_argument("--count", type=int, default=25, help="entries per writer")
    c.add_argument("--db", default=None, help="database URL (default: SQLite in the workdir)")
    c.add_argument("--workdir", default=None)
    parser.add_argument("--cycles", type=int, default=200, help="kill-and-check cycles")
    parser.add_argument("--writers", type=int, default=2, help="library writer processes")
    parser.add_argument("--http-writers", type=int, default=2, help="HTTP writer processes")
    parser.add_argument("--min-seconds", type=float, default=0.3)
    parser.add_argument("--max-seconds", type=float, default=1.5)
    parser.add_argument("--seed", type=int, default=None, help="for a repeatable run")
    parser.add_argument("--workdir", default=None, help="keep the ledger here")
    parser.add_argument("--json", action="store_true", help="print a JSON summary only")
    args = parser.parse_args()
    if args.command == "writer":
        writer(
            args.home, args.party, args.mode, args.url, args.ack, args.batch, args.count, args.ready
        )
        return
    if args.command == "concurrent":
        print(json.dumps(concurrent(args)))
        return
    summary = run(args)
    print(
        json.dumps(summary)
        if args.json
        else f"crash test passed: {summary['cycles']} cycles, {summary['acknowledged']} "
        f"acknowledged entries, 0 lost, log size {summary['log_size']}, "
        f"{summary['seconds']} s"
    )


if __name__ == "__main__":
    main()
