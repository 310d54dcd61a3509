"""Shipment chains of a chosen length, for verification rates and the fixed shipment.

A chain of ``n`` attestations: ``b`` harvests (``origin``), each sold to the gin
(``transfer``); one ginning (``transformation``) of all of them into lint; the lint
passed between two traders (``transfer``), then sold to the importer; the shipment.
The gin holds a certificate (audit + certificate entries), so an honest chain passes.
Entries are signed first and appended in batches, in order: references are ids, known
at signing time.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ledger.attestation import Attestation
from ledger.encoding import format_timestamp
from ledger.errors import LedgerError
from ledger.lists import record_version
from ledger.log import Ledger
from ledger.scenario import Scenario, doc_hash, output

FARM = "party:chain-farm"
GIN = "party:chain-gin"
TRADERS = ("party:chain-trader-a", "party:chain-trader-b")
IMPORTER = "party:chain-importer"
AUDITOR = "party:chain-auditor"
START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
STEP = timedelta(minutes=10)


ROOT = Path(__file__).resolve().parents[2]
ENTITY_LIST = ROOT / "data" / "uflpa-entity-list.csv"
WRO_LIST = ROOT / "data" / "wro-findings.csv"


def load_screening_lists(ledger: Ledger, now: datetime) -> None:
    """Both kinds of screening list, as a deployment verifies with (their matching is
    part of what verification costs)."""
    for kind, path in (("entity", ENTITY_LIST), ("wro", WRO_LIST)):
        data = path.read_bytes()
        record_version(ledger.store, data, kind=kind, name=f"{kind}-list", source=None, now=now)


def register_chain_parties(s: Scenario, now: datetime) -> None:
    """Admit the chain's actors and facilities; certify the gin."""
    s.party(FARM, "Chain Test Farm Cooperative", "IN", ["supplier"], now)
    s.party(GIN, "Chain Test Ginning Mill Pvt. Ltd.", "IN", ["supplier"], now)
    for i, trader in enumerate(TRADERS):
        s.party(trader, f"Chain Test Trading House {i}", "SG", ["supplier"], now)
    s.party(
        IMPORTER, "Chain Test Apparel Imports Inc.", "US", ["importer"], now, filer_codes=["BCH"]
    )
    s.party(AUDITOR, "Chain Test Social Audits Ltd.", "GB", ["auditor"], now)
    s.facility(
        "facility:chain-farm", "Chain Farm Fields", FARM, "IN", ["farming"], now, region="IN-GJ"
    )
    s.facility("facility:chain-gin", "Chain Gin", GIN, "IN", ["ginning"], now, region="IN-GJ")
    audit = s.audit(AUDITOR, "facility:chain-gin", "pass", "2024-12-01", now)
    s.certificate(
        AUDITOR,
        "CERT-CHAIN-GIN",
        "facility:chain-gin",
        [audit.attestation],
        "2024-12-01",
        "2027-12-31",
        now,
        processes=["ginning"],
    )


def _entry_number(tag: str) -> str:
    serial = int(hashlib.sha256(tag.encode()).hexdigest(), 16) % 10_000_000
    return f"BCH-{serial:07d}-3"


def chain_attestations(s: Scenario, n: int, tag: str) -> list[Attestation]:
    """Sign the ``n`` attestations of one chain, in append order (nothing appended)."""
    branches = max(1, n // 20)
    hops = n - 2 * branches - 2
    if hops < 1:
        raise ValueError(f"a chain needs at least {2 * branches + 3} attestations")
    out: list[Attestation] = []
    clock = [START]

    def sign(type_: str, issuer: str, body: dict[str, Any]) -> Attestation:
        when = clock[0]
        clock[0] += STEP
        att = s.sign(type_, issuer, body, when)
        out.append(att)
        return att

    def moved(
        inputs: list[tuple[str, str]],
        seller: str,
        buyer: str,
        lot: str,
        kind: str,
        hs: str,
        amount: str,
        number: str,
    ) -> Attestation:
        return sign(
            "transfer",
            seller,
            {
                "from": seller,
                "to": buyer,
                "event_time": format_timestamp(clock[0]),
                "inputs": [{"ref": r, "amount": a} for r, a in inputs],
                "outputs": [output(lot, kind, hs, amount)],
                "documents": [{"kind": "invoice", "number": number, "sha256": doc_hash(number)}],
            },
        )

    sold: list[tuple[str, str]] = []
    for b in range(branches):
        harvest = sign(
            "origin",
            FARM,
            {
                "facility": "facility:chain-farm",
                "material": {"name": "seed cotton", "hs_code": "5201.00"},
                "produced_on": clock[0].date().isoformat(),
                "outputs": [output(f"{tag}-SC-{b}", "seed cotton", "5201.00", "1000")],
            },
        )
        sale = moved(
            [(f"{harvest.id}#0", "1000")],
            FARM,
            GIN,
            f"{tag}-SCG-{b}",
            "seed cotton",
            "5201.00",
            "1000",
            f"INV-{tag}-F{b}",
        )
        sold.append((f"{sale.id}#0", "1000"))
    lint = str(350 * branches)
    ginning = sign(
        "transformation",
        GIN,
        {
            "facility": "facility:chain-gin",
            "process": "ginning",
            "event_time": format_timestamp(clock[0]),
            "inputs": [{"ref": r, "amount": a} for r, a in sold],
            "outputs": [output(f"{tag}-LINT", "cotton lint", "5201.00", lint)],
        },
    )
    ref, holder = f"{ginning.id}#0", GIN
    for h in range(hops):
        buyer = IMPORTER if h == hops - 1 else TRADERS[h % 2]
        hop = moved(
            [(ref, lint)],
            holder,
            buyer,
            f"{tag}-LINT-{h}",
            "cotton lint",
            "5201.00",
            lint,
            f"INV-{tag}-H{h}",
        )
        ref, holder = f"{hop.id}#0", buyer
    sign(
        "shipment",
        IMPORTER,
        {
            "entry_number": _entry_number(tag),
            "hts_lines": [
                {
                    "hts_code": "5201.00",
                    "description": "Cotton lint, not carded",
                    "quantity": {"amount": lint, "unit": "kg"},
                }
            ],
            "exporter": TRADERS[0],
            "manufacturer": GIN,
            "country_of_origin": "IN",
            "arrival_date": (clock[0] + timedelta(days=20)).date().isoformat(),
            "inputs": [{"ref": ref, "amount": lint}],
        },
    )
    return out


def append_all(ledger: Ledger, atts: list[Attestation], batch: int = 500) -> None:
    """Append in order, in batches; any refusal is a bug in the benchmark: raise it."""
    for start in range(0, len(atts), batch):
        chunk = [a.envelope for a in atts[start : start + batch]]
        for result in ledger.append_batch(chunk):
            if isinstance(result, LedgerError):
                raise result


def build_chain(ledger: Ledger, s: Scenario, n: int, tag: str) -> str:
    """Append a chain of ``n`` attestations; return its shipment's attestation id."""
    atts = chain_attestations(s, n, tag)
    append_all(ledger, atts)
    return atts[-1].id
