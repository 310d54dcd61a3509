"""The demo's enforcement: a detained shipment answered and released, one excluded.

CBP detains the garments from the uncertified factory under the UFLPA; the importer
submits an applicability review with its evidence bundle (written into the home, so
CBP can check the file against the signed digest); CBP releases it. The Xinjiang-origin
lint shipment is detained under the Xinjiang cotton and tomato WRO and excluded.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from ledger.attestation import parse_attestation
from ledger.scenario import Scenario
from ledger.verify import build_bundle

CBP = "party:us-cbp"
XINJIANG_WRO = "wro-2021-01-13-xinjiang-cotton-tomato"


def _arrival(scenario: Scenario, shipment_id: str) -> date:
    entry = scenario.ledger.store.find(shipment_id)
    assert entry is not None
    return date.fromisoformat(parse_attestation(entry.envelope).body["arrival_date"])


def _day(d: date) -> str:
    return d.isoformat()


def add_enforcement(
    scenario: Scenario, shipments: list[dict[str, Any]], home: Path, now: datetime
) -> list[dict[str, Any]]:
    """Detain, answer and decide two demo shipments; return what was done, per shipment."""
    by_label = {s["label"]: s for s in shipments}
    released = by_label["garment factory without a certificate"]
    excluded = by_label["Xinjiang-origin cotton lint"]
    done = []

    arrival = _arrival(scenario, released["id"])
    detention = scenario.detain(
        CBP,
        released["id"],
        "uflpa",
        _day(arrival),
        _day(arrival + timedelta(days=3)),
        now,
        reason="Cotton apparel: the supply chain may include CN-XJ cotton (UFLPA)",
        requested=["applicability-review", "exception-request"],
        # the demo runs today on goods that arrived in 2025: CBP granted a longer period
        respond_by=_day(now.date() + timedelta(days=30)),
    ).attestation
    bundle = json.dumps(build_bundle(scenario.ledger, released["id"]), indent=1, ensure_ascii=False)
    data = (bundle + "\n").encode("utf-8")  # as `lotchain verify shipment --bundle` writes it
    path = home / "bundles" / f"bundle-{released['entry_number'].replace('-', '')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    submission = scenario.submit_admissibility(
        released["importer"],
        released["id"],
        detention,
        "applicability-review",
        hashlib.sha256(data).hexdigest(),
        now,
        documents=[{"kind": "executive-summary", "sha256": hashlib.sha256(b"summary").hexdigest()}],
    ).attestation
    scenario.determine(
        CBP,
        released["id"],
        detention,
        "released",
        _day(now.date()),
        now,
        reasons="Applicability review: the cotton traced to Texas and Viet Nam; no CN-XJ input",
        rested_on=[submission],
    )
    done.append({**_row(released), "basis": "uflpa", "bundle": str(path)})

    arrival = _arrival(scenario, excluded["id"])
    detention = scenario.detain(
        CBP,
        excluded["id"],
        XINJIANG_WRO,
        _day(arrival),
        _day(arrival + timedelta(days=2)),
        now,
        reason="Cotton produced in the XUAR (Xinjiang cotton and tomato WRO, 2021-01-13)",
        requested=["certificate-of-origin"],
    ).attestation
    scenario.determine(
        CBP,
        excluded["id"],
        detention,
        "excluded",
        _day(arrival + timedelta(days=95)),
        now,
        reasons="No certificate of origin and detailed statement within 3 months (19 CFR 12.43)",
    )
    done.append({**_row(excluded), "basis": XINJIANG_WRO})
    return done


def _row(shipment: dict[str, Any]) -> dict[str, Any]:
    return {"label": shipment["label"], "entry_number": shipment["entry_number"]}
