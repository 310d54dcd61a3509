"""The benchmark's data: realistic ~1 KB signed envelopes, made fast in worker processes.

Filler entries come in *units* of three attestations that a real cotton trade would
write: a farm's harvest (``origin``), its sale to a gin (``transfer`` with invoice,
packing list and bill of lading), and the ginning (``transformation`` into lint and
cottonseed). A unit refers only to its own outputs, so any number of units can be
signed ahead of time, in parallel, and appended in any order of units (each unit in
its own order). Keys are derived from a seed so worker processes sign as the parties
the main process registered.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.attestation import build_payload
from ledger.canonical import canonical_bytes
from ledger.dsse import sign_envelope
from ledger.encoding import b64encode, format_timestamp
from ledger.keys import Signer
from ledger.log import Ledger
from ledger.scenario import Scenario, doc_hash, output

SEED = b"lotchain-bench"
LANES = 16  # farm/gin pairs the units rotate through
TARGET_BYTES = 1024  # envelope size the bodies are padded to
T0 = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)  # filler events happen from here on

FIBRE_NOTE = (
    "Rain-fed upland cotton (Gossypium hirsutum), hand-picked in two passes; seed from the "
    "state seed corporation, no contract labour, wages paid by bank transfer to each picker; "
    "moisture measured at the farm gate and bales tagged with the lot number before loading. "
)


def signer_for(party: str) -> Signer:
    """The key a party signs with (the same derivation as ``Scenario`` with ``seed``)."""
    return Signer.from_seed(hashlib.sha256(SEED + party.encode()).digest())


def farm(lane: int) -> str:
    return f"party:bench-farm-{lane:02d}"


def gin(lane: int) -> str:
    return f"party:bench-gin-{lane:02d}"


def scenario(ledger: Ledger, registrar: Signer) -> Scenario:
    """A scenario whose party keys are :func:`signer_for`'s."""
    return Scenario(ledger, "party:registrar", {"party:registrar": registrar}, seed=SEED)


def register_lanes(s: Scenario, now: datetime, lanes: int = LANES) -> None:
    """Admit the farms and gins of every lane, with their facilities."""
    for lane in range(lanes):
        s.party(farm(lane), f"Bench Farm {lane} Cooperative", "IN", ["supplier"], now)
        s.party(gin(lane), f"Bench Ginning Mill {lane} Pvt. Ltd.", "IN", ["supplier"], now)
        s.facility(
            farm(lane).replace("party:", "facility:"),
            f"Bench Farm {lane} Fields",
            farm(lane),
            "IN",
            ["farming"],
            now,
            region="IN-GJ",
        )
        s.facility(
            gin(lane).replace("party:", "facility:"),
            f"Bench Gin {lane}",
            gin(lane),
            "IN",
            ["ginning"],
            now,
            region="IN-GJ",
        )


def _nonce(unit: int, kind: str) -> str:
    return hashlib.sha256(SEED + f"{unit}:{kind}".encode()).hexdigest()[:32]


def _document(kind: str, number: str, day: str) -> dict[str, Any]:
    return {"kind": kind, "number": number, "sha256": doc_hash(number), "issued_on": day}


def _signed(
    type_: str, issuer: str, body: dict[str, Any], when: datetime, nonce: str, pad: list[Any]
) -> bytes:
    """Sign ``body``, first padding the text at ``pad`` (dict, key) to about TARGET_BYTES.

    The envelope base64-encodes the payload (4/3) and adds ~250 bytes of signature and
    type, so the padding is computed from the payload's canonical size.
    """
    holder, key = pad
    base = canonical_bytes(
        {
            "v": 1,
            "type": type_,
            "issuer": issuer,
            "issued_at": format_timestamp(when),
            "nonce": nonce,
            "body": body,
        }
    )
    envelope_estimate = len(b64encode(base)) + 272
    missing = (TARGET_BYTES - envelope_estimate) * 3 // 4
    if missing > 16:
        missing -= len(f',"{key}":""')
        holder[key] = (FIBRE_NOTE * (1 + missing // len(FIBRE_NOTE)))[:missing].rstrip()
    payload = build_payload(type_, issuer, body, now=when, nonce=nonce)
    return sign_envelope(payload, [signer_for(issuer)]).canonical


def unit_envelopes(unit: int, lanes: int = LANES) -> list[bytes]:
    """The three envelopes of one unit: harvest, sale to the gin, ginning."""
    lane = unit % lanes
    f, g = farm(lane), gin(lane)
    f_site, g_site = f.replace("party:", "facility:"), g.replace("party:", "facility:")
    when = T0 + timedelta(seconds=unit)
    day = when.date().isoformat()
    tag = f"{lane:02d}-{unit:08d}"
    origin_body: dict[str, Any] = {
        "facility": f_site,
        "material": {"name": "seed cotton", "hs_code": "5201.00"},
        "produced_on": day,
        "plot": {"name": f"Field {unit % 40 + 1}", "area_ha": "42.5"},
        "outputs": [output(f"SC-{tag}", "seed cotton", "5201.00", "20000")],
        "documents": [_document("production-record", f"PR-{tag}", day)],
    }
    origin = _signed(
        "origin", f, origin_body, when, _nonce(unit, "o"), [origin_body["plot"], "description"]
    )
    origin_id = "sha256:" + _payload_digest(origin)
    sale_body: dict[str, Any] = {
        "from": f,
        "to": g,
        "event_time": format_timestamp(when + timedelta(minutes=1)),
        "inputs": [{"ref": f"{origin_id}#0", "amount": "20000"}],
        "outputs": [output(f"SC-{tag}-G", "seed cotton", "5201.00", "20000")],
        "documents": [_document("invoice", f"INV-{tag}", day)],
    }
    sale = _signed(
        "transfer",
        f,
        sale_body,
        when + timedelta(minutes=1),
        _nonce(unit, "t"),
        [sale_body["documents"][0], "description"],
    )
    sale_id = "sha256:" + _payload_digest(sale)
    gin_body: dict[str, Any] = {
        "facility": g_site,
        "process": "ginning",
        "event_time": format_timestamp(when + timedelta(minutes=2)),
        "inputs": [{"ref": f"{sale_id}#0", "amount": "20000"}],
        "outputs": [
            output(f"LINT-{tag}", "cotton lint", "5201.00", "7000"),
            output(f"CS-{tag}", "cottonseed", "1207.21", "11000"),
        ],
    }
    ginning = _signed(
        "transformation",
        g,
        gin_body,
        when + timedelta(minutes=2),
        _nonce(unit, "g"),
        [gin_body, "description"],
    )
    return [origin, sale, ginning]


def _payload_digest(envelope: bytes) -> str:
    """Hex SHA-256 of an envelope's payload (its attestation id), without a full parse."""
    return hashlib.sha256(base64.b64decode(json.loads(envelope)["payload"])).hexdigest()


def sign_units(first: int, count: int) -> list[bytes]:
    """Envelopes of units ``first .. first+count-1`` in append order (a pool task)."""
    out: list[bytes] = []
    for unit in range(first, first + count):
        out.extend(unit_envelopes(unit))
    return out
