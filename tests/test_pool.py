"""The admission pool (parse, schema, signatures in worker processes) and the cadence of
integrations (concurrent appends share one commit and one signed checkpoint)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import pg
from conftest import PASSPHRASE, T0, Clock
from ledger.attestation import parse_attestation
from ledger.canonical import canonical_bytes
from ledger.checkpoint import verify_checkpoint
from ledger.dsse import Envelope, Signature, sign_envelope
from ledger.encoding import b64encode
from ledger.errors import LedgerError
from ledger.home import Home, init_home
from ledger.keys import Signer, load_private_key, verify_signature
from ledger.log import Ledger, Receipt, verify_receipt
from ledger.pool import PreparePool, workers_setting
from ledger.scenario import Scenario, output


def _seeded(name: str) -> Signer:
    return Signer.from_seed(hashlib.sha256(name.encode()).digest())


def _home(path: Path, db: str | None) -> Home:
    return init_home(
        path,
        PASSPHRASE,
        now=T0,
        db=db,
        registrar_signer=_seeded("registrar"),
        log_signer=_seeded("log"),
        nonce="0" * 32,
    )


def _party_body(party: str, signer: Signer) -> dict[str, Any]:
    return {
        "party_id": party,
        "legal_name": f"{party} Ltd.",
        "country": "VN",
        "roles": ["supplier"],
        "keys": [
            {
                "key_id": signer.key_id,
                "public_key": b64encode(signer.public_key),
                "valid_from": "2025-03-01T08:00:00Z",
            }
        ],
    }


def _wire(env: Envelope) -> bytes:
    return json.dumps(env.to_json()).encode()


def _batches(scenario: Scenario) -> list[list[Any]]:
    """Two batches above the pool's threshold, with refusals of several kinds among them:
    parties signed by the root registrar, then facilities and origins signed by keys the
    first batch admitted (found by the pool in storage)."""
    parties = [f"party:s{i:02d}" for i in range(36)]
    for p in parties:
        scenario.signers[p] = _seeded(p)
    first: list[Any] = []
    for p in parties:
        env = scenario.sign("party", "party:registrar", _party_body(p, scenario.signers[p]), T0)
        first.append(_wire(env.envelope))
    forged = scenario.sign(
        "party", "party:registrar", _party_body("party:forged", _seeded("x")), T0
    )
    bad_sig = Signature(forged.envelope.signatures[0].keyid, bytes(64))
    bad_body = _party_body("party:Not A Slug", _seeded("z"))
    payload = {
        "v": 1,
        "type": "party",
        "issuer": "party:registrar",
        "issued_at": "2025-03-01T08:00:00Z",
        "nonce": "1" * 32,
        "body": bad_body,
    }
    schema_bad = sign_envelope(canonical_bytes(payload), [scenario.signers["party:registrar"]])
    first[3:3] = [
        b"{not json",
        _wire(schema_bad),
        _wire(Envelope(forged.envelope.payload_type, forged.envelope.payload, (bad_sig,))),
        first[0],  # a replay of an earlier entry of the same batch
        json.dumps({"payloadType": "x", "payload": "", "signatures": []}).encode(),
    ]
    second: list[Any] = []
    for i, p in enumerate(parties):
        fid = f"facility:f{i:02d}"
        facility = {
            "facility_id": fid,
            "name": f"Farm {i}",
            "operator": p,
            "address": {"street": "1 Mill Road", "locality": "Park", "country": "VN"},
            "country": "VN",
            "processes": ["farming"],
        }
        second.append(scenario.sign("facility", p, facility, T0).envelope.to_json())
        origin = {
            "facility": fid,
            "material": {"name": "seed cotton", "hs_code": "5201.00"},
            "produced_on": "2025-01-15",
            "outputs": [output(f"L-{i}", "seed cotton", "5201.00", "100")],
        }
        second.append(scenario.sign("origin", p, origin, T0).envelope)
    second.insert(5, second[1])  # an origin replayed
    unknown = _seeded("nobody")
    stray = scenario.sign("party", "party:registrar", _party_body("party:stray", unknown), T0)
    own = Signature(unknown.key_id, unknown.sign(stray.envelope.signed_bytes()))
    second.insert(9, Envelope(stray.envelope.payload_type, stray.envelope.payload, (own,)))
    return [first, second]


def _outcomes(results: list[Receipt | LedgerError]) -> list[Any]:
    return [
        r.to_json() if isinstance(r, Receipt) else (r.code, r.message, r.attestation)
        for r in results
    ]


@pytest.fixture
def pooled(home: Home, clock: Clock) -> Iterator[Ledger]:
    led = home.open_ledger(PASSPHRASE, clock=clock)
    led.close()
    led.pool = PreparePool(1, chunk=8)
    yield led
    led.close()
    led.store.close()


def test_the_pool_gives_exactly_the_in_process_results(
    tmp_path: Path, db_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same receipts byte for byte, same refusals with the same codes, in the same order;
    and the sequencer repeats no Ed25519 check a worker made."""
    outcomes: dict[str, list[Any]] = {}
    calls: dict[str, int] = {}
    real = verify_signature
    for name, workers in (("inline", 0), ("pool", 2)):
        db = None if db_url is None else pg.fresh_schema()
        home = _home(tmp_path / name, db)
        ledger = home.open_ledger(PASSPHRASE, clock=Clock(T0 + timedelta(hours=1)))
        ledger.close()
        ledger.pool = PreparePool(workers, chunk=8) if workers else None
        scenario = Scenario(ledger, "party:registrar", {"party:registrar": _seeded("registrar")})
        scenario.seed = b"same"
        counted = [0]

        def counting(public: bytes, message: bytes, sig: bytes, _c: list[int] = counted) -> bool:
            _c[0] += 1
            return real(public, message, sig)

        monkeypatch.setattr("ledger.admission.verify_signature", counting)
        try:
            outcomes[name] = [_outcomes(ledger.append_batch(b)) for b in _batches(scenario)]
        finally:
            ledger.close()
            ledger.store.close()
        calls[name] = counted[0]
    assert outcomes["pool"] == outcomes["inline"]
    codes = [[r[0] for r in batch if isinstance(r, tuple)] for batch in outcomes["pool"]]
    assert codes == [
        ["MALFORMED", "SCHEMA", "SIGNATURE", "REPLAY", "MALFORMED"],
        ["REPLAY", "KEY_INVALID"],
    ]
    accepted = sum(1 for batch in outcomes["pool"] for r in batch if isinstance(r, dict))
    assert accepted == 36 * 3
    # in-process: one check per signature reached; pooled: only the forged one is repeated
    assert calls["inline"] >= accepted and calls["pool"] == 1


def _scenario(ledger: Ledger, home: Home) -> Scenario:
    registrar = load_private_key(home.registrar_key_path, PASSPHRASE)
    return Scenario(ledger, "party:registrar", {"party:registrar": registrar}, seed=b"pool")


def test_receipts_from_the_pool_verify(pooled: Ledger, home: Home) -> None:
    scenario = _scenario(pooled, home)
    batch = _batches(scenario)[0]
    vkey = home.trust_root().log_vkey
    receipts = [r for r in pooled.append_batch(batch) if isinstance(r, Receipt)]
    assert len(receipts) == 36
    for receipt in receipts:
        verify_receipt(receipt.to_json(), vkey)


def test_a_dead_worker_gives_a_coded_error_and_the_pool_starts_again(
    pooled: Ledger, home: Home
) -> None:
    assert pooled.pool is not None
    scenario = _scenario(pooled, home)
    batch = _batches(scenario)[0]
    before = pooled.size()
    (pid,) = pooled.pool.start()
    os.kill(pid, signal.SIGKILL)
    results = pooled.append_batch(batch)
    assert all(isinstance(r, LedgerError) and r.code == "INTERNAL" for r in results)
    assert len(results) == len(batch) and pooled.size() == before  # nothing written
    again = pooled.append_batch(batch)
    assert sum(isinstance(r, Receipt) for r in again) == 36
    assert pid not in pooled.pool.start()


def test_closing_the_pool_ends_its_processes(pooled: Ledger) -> None:
    assert pooled.pool is not None
    pids = pooled.pool.start()
    pooled.close()
    for pid in pids:
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def test_the_pool_setting() -> None:
    assert workers_setting("off") == 0 and workers_setting(3) == 3
    assert workers_setting("auto") == max(0, (os.cpu_count() or 1) - 1)
    with pytest.raises(LedgerError) as bad:
        workers_setting("many")
    assert bad.value.code == "CONFIG"


# -- the cadence -------------------------------------------------------------------------


def _party_envelopes(scenario: Scenario, count: int) -> list[Envelope]:
    out = []
    for i in range(count):
        party = f"party:t{i}"
        scenario.signers[party] = _seeded(party)
        body = _party_body(party, scenario.signers[party])
        out.append(scenario.sign("party", "party:registrar", body, T0).envelope)
    return out


def _held_parse(
    monkeypatch: pytest.MonkeyPatch,
    gate: threading.Barrier | None = None,
    hold: dict[bytes, threading.Event] | None = None,
) -> None:
    """Make preparing an envelope wait: at a barrier (all are being admitted at once),
    or until an event is set for its payload."""
    real = parse_attestation

    def parse(env: Any) -> Any:
        if gate is not None:
            gate.wait(timeout=30)
        if hold is not None and isinstance(env, Envelope) and env.payload in hold:
            hold[env.payload].wait(timeout=30)
        return real(env)

    monkeypatch.setattr("ledger.log.parse_attestation", parse)


def _append_all(ledger: Ledger, envelopes: list[Envelope]) -> dict[int, Receipt | LedgerError]:
    results: dict[int, Receipt | LedgerError] = {}

    def run(i: int, env: Envelope) -> None:
        try:
            results[i] = ledger.append(env)
        except LedgerError as e:
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, e)) for i, e in enumerate(envelopes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_concurrent_appends_share_one_integration_and_checkpoint(
    scenario: Scenario, ledger: Ledger, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.close()
    ledger.pool, ledger.integrate_every = None, 5.0
    envelopes = _party_envelopes(scenario, 8)
    checkpoints = len(list(ledger.store.checkpoints()))
    _held_parse(monkeypatch, gate=threading.Barrier(8))
    results = _append_all(ledger, envelopes)
    receipts = [results[i] for i in range(8)]
    assert all(isinstance(r, Receipt) for r in receipts)
    notes = {r.checkpoint for r in receipts if isinstance(r, Receipt)}
    assert len(notes) == 1  # one integration, one signed checkpoint for all eight
    assert len(list(ledger.store.checkpoints())) == checkpoints + 1
    vkey = home.trust_root().log_vkey
    for r in receipts:
        assert isinstance(r, Receipt)
        verify_receipt(r.to_json(), vkey)
        assert verify_checkpoint(r.checkpoint, vkey).size == ledger.size()


def test_an_append_waits_no_longer_than_the_cadence(
    scenario: Scenario, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One append stuck in admission does not hold the others beyond ``integrate_every``."""
    ledger.close()
    ledger.pool, ledger.integrate_every = None, 0.2
    envelopes = _party_envelopes(scenario, 3)
    stuck = threading.Event()
    _held_parse(monkeypatch, hold={envelopes[0].payload: stuck})
    results: dict[int, Receipt | LedgerError] = {}
    slow = threading.Thread(target=lambda: results.update(_append_all(ledger, envelopes[:1])))
    slow.start()
    time.sleep(0.05)
    started = time.monotonic()
    rest = _append_all(ledger, envelopes[1:])
    waited = time.monotonic() - started
    assert all(isinstance(r, Receipt) for r in rest.values()) and len(rest) == 2
    assert 0.1 < waited < 5 and not results  # they waited for it, then went without it
    stuck.set()
    slow.join(timeout=30)
    assert isinstance(results[0], Receipt) and results[0].index == ledger.size() - 1


def test_a_lone_append_does_not_wait_for_the_cadence(ledger: Ledger, scenario: Scenario) -> None:
    ledger.close()
    ledger.pool, ledger.integrate_every = None, 5.0
    (envelope,) = _party_envelopes(scenario, 1)
    started = time.monotonic()
    ledger.append(envelope)
    assert time.monotonic() - started < 2.5
