"""HTTP appends against a real ``lotchain serve`` subprocess, from client processes.

Each client is its own process (the GIL would serialise threads) with one keep-alive
``http.client`` connection; all start together at a barrier and post pre-signed
envelopes, so the clients spend their time waiting on the server, not signing. The
rate is the accepted entries over the span from the first start to the last finish.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROUTES = {"single": "/v1/entries", "batch": "/v1/entries:batch"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``lotchain serve`` on a free loopback port; always stopped by :meth:`stop`."""

    def __init__(self, home: Path, passphrase: str, workers: int, threads: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from ledger.cli import main; main()",
                "serve",
                "--home",
                str(home),
                "--port",
                str(self.port),
                "--threads",
                str(threads),
                "--workers",
                str(workers),
            ],
            env={**os.environ, "LOTCHAIN_PASSPHRASE": passphrase},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.workers = workers

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"lotchain serve exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):
                    pass
                if self.workers == 1 or len(self._processes()) > self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("lotchain serve did not become ready")

    def _processes(self) -> list[Any]:
        import psutil

        main = psutil.Process(self.proc.pid)
        return [main, *main.children(recursive=True)]

    def peak_rss_mib(self) -> dict[str, float]:
        """Peak resident set (VmHWM) of the serving processes: the largest and the sum."""
        from bench_lib.measure import vm_peak_kib

        peaks = [vm_peak_kib(p.pid) / 1024 for p in self._processes()]
        serving = peaks[1:] if self.workers > 1 else peaks  # gunicorn's master serves nothing
        return {"max_process_mib": max(serving), "total_mib": sum(peaks)}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


def _client(port: int, path: str, bodies: list[bytes], barrier: Any, results: Any) -> None:
    """One client process: connect, wait for the others, post every body, report."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.connect()
    barrier.wait(timeout=120)
    start = time.monotonic()
    accepted = refused = 0
    first_error = ""
    for body in bodies:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        if path == ROUTES["single"]:
            ok = response.status == 201
            accepted, refused = accepted + ok, refused + (not ok)
        elif response.status == 200:
            answer = json.loads(data)
            accepted += int(answer["accepted"])
            refused += int(answer["refused"])
        else:
            refused += 1
        if response.status not in (200, 201) and not first_error:
            first_error = data[:300].decode("utf-8", "replace")
    results.put((start, time.monotonic(), accepted, refused, first_error))
    conn.close()


def run_clients(port: int, route: str, per_client: list[list[bytes]]) -> dict[str, Any]:
    """Post ``per_client[i]`` from client process ``i``, all at once; the joint rate."""
    ctx = get_context("fork")
    barrier = ctx.Barrier(len(per_client))
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_client, args=(port, ROUTES[route], bodies, barrier, results))
        for bodies in per_client
    ]
    for p in procs:
        p.start()
    try:
        rows = [results.get(timeout=900) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
                p.join(timeout=10)
    span = max(r[1] for r in rows) - min(r[0] for r in rows)
    accepted = sum(r[2] for r in rows)
    refused = sum(r[3] for r in rows)
    errors = [r[4] for r in rows if r[4]]
    if refused:
        raise RuntimeError(f"{refused} HTTP appends were refused: {errors[:1]}")
    return {
        "clients": len(per_client),
        "requests": sum(len(b) for b in per_client),
        "entries": accepted,
        "seconds": span,
        "rate": accepted / span,
    }


def batch_body(envelopes: list[bytes]) -> bytes:
    """``{"envelopes": [...]}`` from envelope bytes, without re-encoding them."""
    return b'{"envelopes":[' + b",".join(envelopes) + b"]}"
