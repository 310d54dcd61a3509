"""A polysilicon chain for the verification tests: quartz -> metallurgical silicon ->
polysilicon -> wafer -> cell -> module -> importer, each plant audited and certified."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ledger.scenario import output
from verify_fixtures import AUDITOR, T0, World, day

# -- polysilicon: quartz, metallurgical silicon, polysilicon, wafer, cell, module ------------

SOLAR_SITES = {
    "mine": (
        "party:blue-ridge-quartz",
        "Blue Ridge Quartz Inc.",
        "US",
        "facility:spruce-pine-mine",
        "Spruce Pine Quartz Mine",
        "US-NC",
        ["quarrying"],
    ),
    "smelter": (
        "party:nordic-silicon",
        "Nordic Silicon AS",
        "NO",
        "facility:nordic-smelter",
        "Nordic Silicon Smelter",
        "NO-18",
        ["smelting"],
    ),
    "poly": (
        "party:bavaria-poly",
        "Bavaria Polysilicon GmbH",
        "DE",
        "facility:bavaria-poly",
        "Bavaria Polysilicon Plant",
        "DE-BY",
        ["polysilicon-production"],
    ),
    "wafer": (
        "party:penang-wafer",
        "Penang Wafer Sdn. Bhd.",
        "MY",
        "facility:penang-wafer",
        "Penang Wafer Fab",
        "MY-07",
        ["ingot-casting", "wafering"],
    ),
    "cell": (
        "party:penang-cell",
        "Penang Cell Sdn. Bhd.",
        "MY",
        "facility:penang-cell",
        "Penang Cell Line",
        "MY-07",
        ["cell-production"],
    ),
    "module": (
        "party:ohio-modules",
        "Ohio Modules LLC",
        "US",
        "facility:ohio-module-plant",
        "Ohio Module Plant",
        "US-OH",
        ["module-assembly"],
    ),
}
SOLAR_STEPS = [
    # (site, process, output lot, material, hs code, amount, unit, mass_kg)
    (
        "smelter",
        "smelting",
        "NS-MG-7",
        "metallurgical-grade silicon",
        "2804.69",
        "10000",
        "kg",
        None,
    ),
    ("poly", "polysilicon-production", "BP-PS-7", "polysilicon", "2804.61", "8000", "kg", None),
    ("wafer", "wafering", "PW-W-7", "monocrystalline wafers", "3818.00", "500000", "pcs", "4000"),
    ("cell", "cell-production", "PC-C-7", "solar cells", "8541.42", "490000", "pcs", "4100"),
    ("module", "module-assembly", "OM-M-7", "solar modules", "8541.43", "7000", "pcs", "154000"),
]
SOLAR_IMPORTER = "party:sunny-imports"


class SolarChain:
    """Builds the polysilicon chain; ``build()`` runs it clean."""

    def __init__(self, w: World) -> None:
        self.w = w
        self.s = w.s

    def build(
        self,
        *,
        regions: dict[str, str] | None = None,
        steps: list[tuple[Any, ...]] | None = None,
        countries: dict[str, str] | None = None,
    ) -> str:
        w, s = self.w, self.s
        regions = regions or {}
        now = w.at(T0)
        for key, (party, legal, country, facility, fname, region, processes) in SOLAR_SITES.items():
            country = (countries or {}).get(key, country)
            s.party(party, legal, country, ["supplier"], now)
            s.facility(
                facility, fname, party, country, processes, now, region=regions.get(key, region)
            )
        s.party(SOLAR_IMPORTER, "Sunny Imports Inc.", "US", ["importer"], now, filer_codes=["SUN"])
        s.party(AUDITOR, "Bureau Social Audit SA", "CH", ["auditor"], now)
        steps = steps or SOLAR_STEPS
        for key, _, _, _, _, _, _, _ in steps:
            fac = SOLAR_SITES[key][3]
            audit = w.log(f"audit:{key}", s.audit(AUDITOR, fac, "pass", "2024-09-01", now))
            s.certificate(
                AUDITOR,
                f"RBA-{key.upper()}-2024",
                fac,
                [audit],
                "2024-10-01",
                "2026-09-30",
                now,
                scheme="RBA VAP",
                processes=SOLAR_SITES[key][6],
            )
        now = w.at(day("2025-03-02"))
        mine = SOLAR_SITES["mine"]
        quartz = ("high-purity quartz", "2506.10")
        ref = w.log(
            "origin",
            s.origin(
                mine[0], mine[3], *quartz, [output("BRQ-7", *quartz, "30000")], "2025-03-01", now
            ),
        )
        ref += "#0"
        holder, amount, unit, mass, material = mine[0], "30000", "kg", None, quartz
        when = day("2025-03-03")
        for key, process, lot, name, hs, out_amount, out_unit, out_mass in steps:
            party, fac = SOLAR_SITES[key][0], SOLAR_SITES[key][3]
            now = w.at(when)
            moved = w.log(
                f"t:{key}",
                s.transfer(
                    holder,
                    party,
                    [(ref, amount)],
                    [output(f"{lot}-IN", *material, amount, unit, mass)],
                    now,
                    now,
                    invoice=f"INV-{key}",
                ),
            )
            now = w.at(when + timedelta(days=2))
            made = w.log(
                key,
                s.transform(
                    party,
                    fac,
                    process,
                    [(moved + "#0", amount)],
                    [output(lot, name, hs, out_amount, out_unit, out_mass)],
                    now,
                    now,
                ),
            )
            ref, holder, amount, unit = made + "#0", party, out_amount, out_unit
            mass, material = out_mass, (name, hs)
            when += timedelta(days=5)
        now = w.at(when)
        moved = w.log(
            "t:import",
            s.transfer(
                holder,
                SOLAR_IMPORTER,
                [(ref, amount)],
                [output("SUN-PO-7", *material, amount, unit, mass)],
                now,
                now,
                invoice="OM-7",
            ),
        )
        now = w.at(when + timedelta(days=3))
        return w.log(
            "shipment",
            s.shipment(
                SOLAR_IMPORTER,
                "SUN-7654321-0",
                [(moved + "#0", amount)],
                holder,
                holder,
                "US",
                "2025-05-01",
                now,
                hts_code="8541.43.0010",
                description="Crystalline silicon photovoltaic modules",
            ),
        )
