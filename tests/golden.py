"""The project's golden files: a small ledger built from fixed keys, nonces and times.

Ed25519 signatures are deterministic, so the same inputs give the same bytes on every
machine. ``scripts/regen-vectors`` writes these files to tests/vectors/ and
tests/test_golden.py checks them byte for byte: a change to any signed or hashed
format shows up as a diff there.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ledger.dsse import parse_envelope
from ledger.home import init_home
from ledger.keys import Signer
from ledger.scenario import Scenario, output

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
VECTORS = Path(__file__).resolve().parent / "vectors"


def _seeded(name: str) -> Signer:
    return Signer.from_seed(hashlib.sha256(b"lotchain golden " + name.encode()).digest())


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def generate() -> dict[str, bytes]:
    """Build the golden ledger in a temporary folder and return file name -> bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        now = [T0]
        registrar = _seeded("registrar")
        home = init_home(
            Path(tmp) / "home",
            b"golden passphrase",
            now=T0,
            origin="golden.lotchain.example/log",
            registrar_signer=registrar,
            log_signer=_seeded("log"),
            nonce="00" * 16,
        )
        ledger = home.open_ledger(b"golden passphrase", clock=lambda: now[0])
        scenario = Scenario(
            ledger, "party:registrar", {"party:registrar": registrar}, seed=b"golden"
        )
        scenario.signers["party:patel-farm"] = _seeded("patel-farm")
        scenario.signers["party:rajkot-gin"] = _seeded("rajkot-gin")
        scenario.party("party:patel-farm", "Patel Cotton Farm", "IN", ["supplier"], T0)
        scenario.party("party:rajkot-gin", "Rajkot Ginning Pvt. Ltd.", "IN", ["supplier"], T0)
        scenario.facility(
            "facility:patel-farm",
            "Patel Farm",
            "party:patel-farm",
            "IN",
            ["farming"],
            T0,
            region="IN-GJ",
        )
        now[0] = T0 + timedelta(hours=1)
        origin = scenario.origin(
            "party:patel-farm",
            "facility:patel-farm",
            "seed cotton",
            "5201.00",
            [output("PCF-24-001", "seed cotton", "5201.00", "12000.5")],
            "2024-10-15",
            now[0],
        )
        now[0] = T0 + timedelta(hours=2)
        transfer = scenario.transfer(
            "party:patel-farm",
            "party:rajkot-gin",
            [(origin.attestation + "#0", "12000.5")],
            [output("PCF-24-001", "seed cotton", "5201.00", "12000.5")],
            T0 - timedelta(days=3),
            now[0],
            invoice="PCF-INV-0042",
            cosign=True,
        )
        entries = ledger.store.range(0, 100)
        files = {
            "trust-root.json": _json(home.trust_root().to_json()),
            "envelope-transfer.json": ledger.store.get(transfer.index).envelope + b"\n",
            "payload-transfer.json": parse_envelope(
                ledger.store.get(transfer.index).envelope
            ).payload
            + b"\n",
            "leaves.json": _json(
                [
                    {"index": e.index, "leaf": e.leaf.decode(), "leaf_hash": e.leaf_hash.hex()}
                    for e in entries
                ]
            ),
            "receipt-transfer.json": _json(transfer.to_json()),
            "checkpoint.txt": ledger.checkpoint().note,
            "consistency-2-6.json": _json(ledger.consistency_proof(2, 6).to_json()),
        }
        ledger.store.close()
        return files
