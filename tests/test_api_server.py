"""``lotchain serve`` as a separate process, talked to over real HTTP by the client and CLI."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from api_fixtures import World, build_world
from conftest import PASSPHRASE, T0
from ledger import merkle
from ledger.checkpoint import verify_checkpoint
from ledger.cli import main
from ledger.client import Client, RemoteUnavailableError
from ledger.errors import (
    MalformedError,
    NotFoundError,
    OverconsumedError,
    ReplayError,
    UnauthorizedError,
)
from ledger.log import verify_receipt
from ledger.scenario import doc_hash

START_TIMEOUT = 30.0


@dataclass
class Served:
    url: str
    world: World
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(home: Path, *extra: str) -> tuple[str, subprocess.Popen[bytes]]:
    port = _free_port()
    env = {**os.environ, "LOTCHAIN_PASSPHRASE": PASSPHRASE.decode()}
    command = [sys.executable, "-c", "from ledger.cli import main; main()", "serve"]
    log = home.parent / f"serve-{port}.log"
    with log.open("wb") as out:  # a file, not a pipe: a full pipe would block the server
        process = subprocess.Popen(
            [*command, "--home", str(home), "--port", str(port), *extra],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise AssertionError(f"lotchain serve exited early: {tail}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return url, process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    _stop(process)
    raise AssertionError("lotchain serve did not answer /healthz in time")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    world = build_world(tmp_path_factory.mktemp("served"))
    url, process = _start(world.root / "home")
    try:
        yield Served(url, world, process)
    finally:
        _stop(process)
        world.ledger.store.close()


def _audit_envelope(world: World, date: str) -> bytes:
    body = {
        "facility": "facility:factory",
        "scheme": "SA8000",
        "audit_date": date,
        "result": "pass",
        "topics": ["excessive-overtime"],
        "findings": [],
        "evidence_sha256": doc_hash("served " + date),
    }
    return world.scenario.sign("audit", "party:auditor", body, T0).envelope.canonical


def test_post_an_envelope_and_fetch_the_checkpoint(served: Served) -> None:
    client = Client(served.url)
    trust = served.world.ledger.trust
    before = verify_checkpoint(client.checkpoint(), trust.log_vkey)
    receipt = client.submit(_audit_envelope(served.world, "2025-02-01"))
    after = verify_checkpoint(client.checkpoint(), trust.log_vkey)
    assert after.size == before.size + 1 == receipt["index"] + 1
    proof = merkle.InclusionProof.from_json(client.inclusion_proof(receipt["attestation"]))
    proof.verify(after.root)
    consistency = client.consistency_proof(before.size)
    merkle.ConsistencyProof.from_json(consistency).verify(before.root, after.root)
    old = verify_checkpoint(client.checkpoint(before.size), trust.log_vkey)
    assert old.root == before.root
    leaves = client.leaves(0, after.size + 10)
    hashes = [merkle.leaf_hash(base64.b64decode(leaf["leaf"])) for leaf in leaves]
    assert merkle.root_hash(after.size, merkle.MemoryNodes.from_leaf_hashes(hashes)) == after.root


def test_problems_come_back_as_the_matching_errors(served: Served) -> None:
    client = Client(served.url)
    envelope = _audit_envelope(served.world, "2025-02-02")
    client.submit(envelope)
    with pytest.raises(ReplayError) as replay:
        client.submit(envelope)
    assert replay.value.attestation is not None
    with pytest.raises(MalformedError):
        client.submit(b"{}")
    with pytest.raises(NotFoundError):
        client.inclusion_proof("sha256:" + "0" * 64)
    with pytest.raises(UnauthorizedError):
        client.entry(served.world.ids["origin"])
    with pytest.raises(RemoteUnavailableError):
        Client(f"http://127.0.0.1:{_free_port()}", timeout=2).checkpoint()


def test_tokens_scope_reads(served: Served) -> None:
    ids, tokens = served.world.ids, served.world.tokens
    farm = Client(served.url, token=tokens["party:farm"])
    assert farm.entry(ids["origin"])["type"] == "origin"
    cbp = Client(served.url, token=tokens["party:cbp"])
    assert cbp.shipment("ACM-1234567-8")["attestation"] == ids["shipment"]
    assert [s["entry_number"] for s in cbp.shipments()] == ["ACM-1234567-8", "GLX-7654321-0"]
    assert Client(served.url).party("party:gin")["country"] == "IN"
    assert Client(served.url).certificate("FLA-FARM-2023")["status"] == "expired"


def test_batch_submission_reports_each_envelope(served: Served) -> None:
    good = _audit_envelope(served.world, "2025-02-03")
    results = Client(served.url).submit_batch([good, good])
    assert "attestation" in results[0]
    assert results[1]["error"]["code"] == "REPLAY"


def test_double_spend_over_http(served: Served) -> None:
    w = served.world
    body = {
        "from": "party:rival",
        "to": "party:globex",
        "event_time": "2025-02-20T00:00:00Z",
        "inputs": [{"ref": w.ids["rival_origin"] + "#0", "amount": "1"}],
        "outputs": [
            {
                "lot": "KS-1",
                "material": {"name": "seed cotton", "hs_code": "5201.00"},
                "quantity": {"amount": "1", "unit": "kg"},
            }
        ],
        "documents": [{"kind": "invoice", "number": "INV-K2", "sha256": doc_hash("K2")}],
    }
    envelope = w.scenario.sign("transfer", "party:rival", body, T0).envelope.canonical
    with pytest.raises(OverconsumedError):
        Client(served.url).submit(envelope)


def test_html_never_escapes(served: Served) -> None:
    request = urllib.request.Request(served.url + "/nope", headers={"Accept": "text/html"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    with caught.value as response:
        assert response.headers["Content-Type"] == "application/problem+json"
        assert json.loads(response.read())["code"] == "NOT_FOUND"


def test_cli_remote_commands(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    home = str(served.world.root / "home")
    with pytest.raises(SystemExit) as done:
        main(["checkpoint", "--home", home, "--remote", served.url, "--json"])
    assert done.value.code == 0
    note = json.loads(capsys.readouterr().out)
    assert note["size"] == Client(served.url).health()["log_size"]
    envelope = served.world.root / "audit.json"
    envelope.write_bytes(_audit_envelope(served.world, "2025-02-04"))
    with pytest.raises(SystemExit) as done:
        main(["submit", "--home", home, "--remote", served.url, "--json", str(envelope)])
    assert done.value.code == 0
    assert json.loads(capsys.readouterr().out)["index"] == note["size"]
    for args in (
        ["prove", "consistency", "2", str(note["size"])],
        ["prove", "inclusion", "3", "--tree-size", "5"],
    ):
        with pytest.raises(SystemExit) as done:
            main([*args, "--home", home, "--remote", served.url, "--json"])
        assert done.value.code == 0, capsys.readouterr().err
        proof = json.loads(capsys.readouterr().out)
        assert proof.get("new_size", proof.get("tree_size")) in (note["size"], 5)


@pytest.mark.slow
def test_gunicorn_workers_serialise_appends(tmp_path: Path) -> None:
    """Two worker processes append concurrently; the log stays one consistent chain."""
    world = build_world(tmp_path)
    world.ledger.store.close()
    url, process = _start(world.root / "home", "--workers", "2", "--threads", "2")
    try:
        client = Client(url)
        envelopes = [_audit_envelope(world, f"2024-06-{day:02d}") for day in range(1, 21)]
        with ThreadPoolExecutor(max_workers=6) as pool:
            receipts = list(pool.map(client.submit, envelopes))
        indices = sorted(r["index"] for r in receipts)
        start = indices[0]
        assert indices == list(range(start, start + len(envelopes)))
        final = verify_checkpoint(client.checkpoint(), world.ledger.trust.log_vkey)
        for receipt in receipts:
            proof = merkle.InclusionProof.from_json(client.inclusion_proof(receipt["index"]))
            proof.verify(final.root)
    finally:
        _stop(process)


@pytest.mark.parametrize(("workers", "stop"), [("1", "term"), ("2", "term"), ("1", "kill")])
def test_batches_through_the_pool_and_no_process_left(
    tmp_path: Path, workers: str, stop: str
) -> None:
    """A batch prepared in the pool's processes (in one waitress process, or in each of
    two gunicorn workers) gets receipts that verify; stopping the server ends them all,
    and so does killing it (each worker watches the process that owns its pool)."""
    import psutil

    world = build_world(tmp_path)
    world.ledger.store.close()
    url, process = _start(
        world.root / "home",
        *("--workers", workers, "--pool-workers", "1", "--integrate-every-ms", "20"),
    )
    try:
        client = Client(url)
        envelopes = [_audit_envelope(world, f"2024-07-{day:02d}") for day in range(1, 29)]
        envelopes += [_audit_envelope(world, f"2024-08-{day:02d}") for day in range(1, 29)]
        results = client.submit_batch([*envelopes, envelopes[0]])
        assert all("attestation" in r for r in results[:-1])
        assert results[-1]["error"]["code"] == "REPLAY"
        vkey = world.ledger.trust.log_vkey
        for receipt in results[:-1]:
            verify_receipt(receipt, vkey)
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) >= int(workers) + 1  # the pool's worker(s) at least
    finally:
        if stop == "kill":
            process.kill()
            process.wait(timeout=15)
        _stop(process)
    _gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, [p.pid for p in alive]
