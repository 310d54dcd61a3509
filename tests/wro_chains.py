"""Chains for the WRO and Finding tests: one tier per producer, from raw material to import.

A :class:`Tier` is a party with one facility and one step: the first tier declares the
raw material (an origin), every later tier buys the previous tier's lot and processes it.
Dates start at ``start`` and advance a few days per step, so orders can be judged on
entry dates before and after their issue, modification and revocation.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

from ledger.scenario import output
from verify_fixtures import AUDITOR, World, day

IMPORTER = "party:harbor-imports"


@dataclasses.dataclass(frozen=True)
class Tier:
    key: str
    legal: str
    country: str
    region: str | None
    process: str
    material: str
    hs: str
    amount: str
    unit: str = "kg"
    mass_kg: str | None = None
    aliases: tuple[str, ...] = ()
    vessel: dict[str, str] | None = None


def cotton(
    *,
    farm: tuple[str, str, str | None] = ("Patel Family Farm", "IN", "IN-GJ"),
    gin: tuple[str, str, str | None] = ("Shree Ginning and Pressing Pvt. Ltd.", "IN", "IN-GJ"),
    spinner: tuple[str, str, str | None] = ("Saigon Cotton Spinning JSC", "VN", "VN-SG"),
    knitter: tuple[str, str, str | None] | None = None,
    garment: tuple[str, str, str | None] | None = None,
    aliases: dict[str, tuple[str, ...]] | None = None,
) -> list[Tier]:
    """Seed cotton -> lint -> yarn [-> knitted fabric -> T-shirts]."""
    aliases = aliases or {}
    tiers = [
        Tier("farm", *farm, "farming", "seed cotton", "5201.00", "10000"),
        Tier("gin", *gin, "ginning", "cotton lint", "5201.00", "3600"),
        Tier("spinner", *spinner, "spinning", "combed cotton yarn 30s", "5205.26", "3200"),
    ]
    if knitter:
        tiers.append(
            Tier("knitter", *knitter, "knitting", "cotton single jersey", "6006.21", "3100")
        )
    if garment:
        tiers.append(
            Tier("garment", *garment, "cut-and-sew", "men's cotton T-shirts", "6109.10", "12000",
                 "pcs", "2400")
        )
    return [dataclasses.replace(t, aliases=aliases.get(t.key, ())) for t in tiers]


def solar(smelter: tuple[str, str, str | None], *, aliases: tuple[str, ...] = ()) -> list[Tier]:
    """Quartz -> metallurgical silicon -> polysilicon -> wafers -> cells -> modules."""
    return [
        Tier("mine", "Blue Ridge Quartz Inc.", "US", "US-NC", "quarrying", "high-purity quartz",
             "2506.10", "30000"),
        Tier("smelter", *smelter, "smelting", "metallurgical-grade silicon", "2804.69", "10000",
             aliases=aliases),
        Tier("poly", "Bavaria Polysilicon GmbH", "DE", "DE-BY", "polysilicon-production",
             "polysilicon", "2804.61", "8000"),
        Tier("wafer", "Penang Wafer Sdn. Bhd.", "MY", "MY-07", "wafering",
             "monocrystalline wafers", "3818.00", "500000", "pcs", "4000"),
        Tier("cell", "Penang Cell Sdn. Bhd.", "MY", "MY-07", "cell-production", "solar cells",
             "8541.42", "490000", "pcs", "4100"),
        Tier("module", "Kulim Solar Modules Sdn. Bhd.", "MY", "MY-02", "module-assembly",
             "solar modules", "8541.43", "7000", "pcs", "154000"),
    ]


def tuna(vessel: dict[str, str], *, operator: str = "Pacific Longline Co., Ltd.",
         flag: str = "VU", region: str | None = None) -> list[Tier]:
    """Frozen tuna landed by a vessel -> canned tuna in Thailand."""
    return [
        Tier("vessel", operator, flag, region, "fishing", "frozen yellowfin tuna", "0303.42",
             "20000", vessel=vessel),
        Tier("cannery", "Songkhla Canning Public Company Limited", "TH", "TH-90", "processing",
             "canned tuna in oil", "1604.14", "12000"),
    ]


def build(
    w: World,
    tiers: list[Tier],
    *,
    start: str = "2025-03-01",
    arrival: str | None = None,
    entry_number: str = "HBR-2500001-3",
    manufacturer: tuple[str, str, str] | None = None,
) -> str:
    """Append the chain and its shipment; returns the shipment id (``w.ids`` names each step)."""
    s = w.s
    first = day(start)
    now = w.at(first - timedelta(days=1))
    s.party(IMPORTER, "Harbor Imports Inc.", "US", ["importer"], now, filer_codes=["HBR"])
    s.party(AUDITOR, "Bureau Social Audit SA", "CH", ["auditor"], now)
    if manufacturer:  # the manufacturer declared on the entry, if not the last tier
        s.party(manufacturer[0], manufacturer[1], manufacturer[2], ["supplier"], now)
    for tier in tiers:
        party, facility = f"party:{tier.key}", f"facility:{tier.key}"
        s.party(party, tier.legal, tier.country, ["supplier"], now, aliases=list(tier.aliases))
        body: dict[str, Any] = {
            "facility_id": facility,
            "name": f"{tier.legal} works",
            "operator": party,
            "address": {"street": "1 Mill Road", "locality": "Works", "country": tier.country},
            "country": tier.country,
            "processes": [tier.process],
        }
        if tier.region:
            body["region"] = tier.region
        if tier.vessel:
            body["vessel"] = tier.vessel
            body["name"] = tier.vessel["name"]
        s.append("facility", party, body, now)
        if tier is not tiers[0]:
            audit = s.audit(AUDITOR, facility, "pass", "2015-01-05", now).attestation
            s.certificate(AUDITOR, f"SA-{tier.key}", facility, [audit], "2015-01-10",
                          "2030-12-31", now, processes=[tier.process])
    when = first
    head = tiers[0]

    def lot(tier: Tier, label: str) -> dict[str, Any]:
        return output(label, tier.material, tier.hs, tier.amount, tier.unit, tier.mass_kg)

    now = w.at(when)
    ref = w.log(head.key, s.origin(f"party:{head.key}", f"facility:{head.key}", head.material,
                                   head.hs, [lot(head, f"{head.key.upper()}-1")],
                                   when.date().isoformat(), now)) + "#0"
    holder, previous = f"party:{head.key}", head
    for tier in tiers[1:]:
        when += timedelta(days=3)
        now = w.at(when)
        moved = w.log(f"t:{tier.key}", s.transfer(
            holder, f"party:{tier.key}", [(ref, previous.amount)],
            [lot(previous, f"{tier.key.upper()}-IN")], when, now, invoice=f"INV-{tier.key}"))
        when += timedelta(days=2)
        now = w.at(when)
        ref = w.log(tier.key, s.transform(
            f"party:{tier.key}", f"facility:{tier.key}", tier.process,
            [(moved + "#0", previous.amount)], [lot(tier, f"{tier.key.upper()}-1")], when, now,
        )) + "#0"
        holder, previous = f"party:{tier.key}", tier
    when += timedelta(days=3)
    now = w.at(when)
    moved = w.log("t:import", s.transfer(
        holder, IMPORTER, [(ref, previous.amount)], [lot(previous, "HBR-PO-1")], when, now,
        invoice="INV-import"))
    landed = day(arrival) if arrival else when + timedelta(days=14)
    now = w.at(max(landed, when + timedelta(hours=1)))
    return w.log("shipment", s.shipment(
        IMPORTER, entry_number, [(moved + "#0", previous.amount)], holder,
        manufacturer[0] if manufacturer else holder,
        previous.country, landed.date().isoformat(), now, hts_code=previous.hs,
        description=previous.material))


def entry_after(start: str, tiers: int) -> date:
    """The default entry date of :func:`build` for a chain of ``tiers`` tiers."""
    return (day(start) + timedelta(days=5 * (tiers - 1) + 3 + 14)).date()
