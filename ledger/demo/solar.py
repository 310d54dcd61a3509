"""The crystalline silicon solar chain: quartz in Norway to modules in Malaysia."""

from __future__ import annotations

from typing import Any

from ledger.demo.base import Builder, at, lot
from ledger.log import Receipt
from ledger.scenario import Scenario


def add_solar_chain(b: Builder, s: Scenario) -> None:
    nb, ms = "party:northbridge-cert", "party:meridian-audit"
    steps = [
        (
            "party:nordic-quartz",
            "Nordic Quartz AS",
            "NO",
            "facility:nordic-quartz-mine",
            "Tana Quartz Mine",
            "NO-54",
            "quarrying",
            "Tana",
        ),
        (
            "party:fjord-silicon",
            "Fjord Silicon Smelting AS",
            "NO",
            "facility:fjord-smelter",
            "Fjord Smelter",
            "NO-46",
            "smelting",
            "Bremanger",
        ),
        (
            "party:bavaria-poly",
            "Bavaria Polysilicon GmbH",
            "DE",
            "facility:bavaria-poly",
            "Burghausen Polysilicon Plant",
            "DE-BY",
            "polysilicon-production",
            "Burghausen",
        ),
        (
            "party:penang-wafer",
            "Penang Wafer Technologies Sdn. Bhd.",
            "MY",
            "facility:penang-wafer",
            "Penang Wafer and Cell Fab",
            "MY-07",
            "wafering",
            "Bayan Lepas",
        ),
        (
            "party:kedah-solar",
            "Kedah Solar Modules Sdn. Bhd.",
            "MY",
            "facility:kedah-solar",
            "Kulim Module Assembly",
            "MY-02",
            "module-assembly",
            "Kulim",
        ),
    ]
    for pid, name, country, fid, fname, region, process, town in steps:
        b.party(pid, name, country, ["supplier"], locality=town)
        processes = [process, "cell-production"] if process == "wafering" else [process]
        b.facility(fid, fname, pid, country, region, processes, town)
        if process != "quarrying":
            b.certify(
                nb if country != "MY" else ms,
                fid,
                f"SOL-{country}-{process[:4].upper()}",
                "2024-03-10",
                "2024-04-01",
                "2026-03-31",
                processes,
            )
    quartz = ("quartz", "2506.10")
    mgsi = ("metallurgical-grade silicon", "2804.69")
    ore = lot("NQ-24-310", quartz, "60000")
    mined = s.origin(
        "party:nordic-quartz", "facility:nordic-quartz-mine", *quartz, [ore], "2024-06-01", b.now
    )
    moved = s.hand_over(
        "party:nordic-quartz",
        "party:fjord-silicon",
        mined,
        ore,
        at("2024-06-10"),
        b.now,
        invoice="NQ-INV-24-310",
    )
    silicon = lot("FS-MG-24-88", mgsi, "24000")
    smelted = s.transform(
        "party:fjord-silicon",
        "facility:fjord-smelter",
        "smelting",
        [(moved.attestation + "#0", "60000")],
        [silicon],
        at("2024-07-01"),
        b.now,
    )
    _modules_from_silicon(
        b,
        s,
        smelted,
        silicon,
        "party:fjord-silicon",
        tag="24",
        start="2024-07",
        ship_as=(
            "crystalline silicon modules, Norway to Malaysia",
            "pass",
            "SSI-2502114-6",
            "party:kedah-solar",
            "2025-02-11",
        ),
    )


def add_hoshine_chain(b: Builder, s: Scenario) -> None:
    """Modules made in Malaysia from polysilicon refined in Germany, whose metallurgical
    silicon came from Hoshine's Zhejiang subsidiary: the Hoshine WRO follows silica-based
    goods and everything made from them wherever made, so the entry is caught (WRO)."""
    hoshine = "party:hoshine-jiaxing"
    b.party(
        hoshine,
        "Hoshine Silicon (Jia Xing) Industry Co., Ltd.",
        "CN",
        ["supplier"],
        locality="Jiaxing",
    )
    b.facility("facility:hoshine-quarry", "Pinghu Quartz Pit", hoshine, "CN", "CN-ZJ",
               ["quarrying"], "Pinghu")  # fmt: skip
    b.facility("facility:hoshine-jiaxing", "Jiaxing Silicon Smelter", hoshine, "CN", "CN-ZJ",
               ["smelting"], "Jiaxing")  # fmt: skip
    ore = lot("HSJ-Q-25-07", ("quartz", "2506.10"), "45000")
    mined = s.origin(
        hoshine, "facility:hoshine-quarry", "quartz", "2506.10", [ore], "2025-01-10", b.now
    )
    silicon = lot("HSJ-MG-25-31", ("metallurgical-grade silicon", "2804.69"), "18000")
    smelted = s.transform(
        hoshine,
        "facility:hoshine-jiaxing",
        "smelting",
        [(mined.attestation + "#0", "45000")],
        [silicon],
        at("2025-01-25"),
        b.now,
    )
    _modules_from_silicon(
        b,
        s,
        smelted,
        silicon,
        hoshine,
        tag="25",
        start="2025-02",
        ship_as=(
            "modules from Hoshine silicon, refined in Germany",
            "fail",
            "SSI-2508219-3",
            "party:kedah-solar",
            "2025-08-21",
        ),
    )


def _modules_from_silicon(
    b: Builder,
    s: Scenario,
    smelted: Receipt,
    silicon: dict[str, Any],
    smelter: str,
    *,
    tag: str,
    start: str,
    ship_as: tuple[str, str, str, str, str],
) -> None:
    """Polysilicon in Bavaria, wafers and cells in Penang, modules in Kulim, shipped to
    Sunrise Solar: the tiers both solar chains share (``tag`` keeps their lots apart;
    events fall in the months after ``start``, YYYY-MM)."""
    year, month = (int(x) for x in start.split("-"))

    def day(months: int, dd: int) -> str:
        m = month + months
        return f"{year + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}-{dd:02d}"

    poly = ("polysilicon", "2804.61")
    wafers = ("silicon wafers", "3818.00")
    cells = ("solar cells", "8541.42")
    modules = ("solar modules", "8541.43")
    mgsi_kg = silicon["quantity"]["amount"]
    moved = s.hand_over(
        smelter,
        "party:bavaria-poly",
        smelted,
        silicon,
        at(day(0, 20)),
        b.now,
        invoice=f"{silicon['lot']}-INV",
    )
    poly_kg = str(int(mgsi_kg) * 5 // 6)
    polysilicon = lot(f"BP-PS-{tag}-4410", poly, poly_kg)
    refined = s.transform(
        "party:bavaria-poly",
        "facility:bavaria-poly",
        "polysilicon-production",
        [(moved.attestation + "#0", mgsi_kg)],
        [polysilicon],
        at(day(1, 30)),
        b.now,
    )
    moved = s.hand_over(
        "party:bavaria-poly",
        "party:penang-wafer",
        refined,
        polysilicon,
        at(day(2, 25)),
        b.now,
        invoice=f"BP-INV-{tag}-4410",
    )
    pieces = int(poly_kg) * 50
    sliced = s.transform(
        "party:penang-wafer",
        "facility:penang-wafer",
        "wafering",
        [(moved.attestation + "#0", poly_kg)],
        [lot(f"PW-W-{tag}-901", wafers, str(pieces), "pcs", str(int(poly_kg) * 3 // 5))],
        at(day(3, 20)),
        b.now,
    )
    cell_count = pieces * 98 // 100
    cell_lot = lot(
        f"PW-C-{tag}-902", cells, str(cell_count), "pcs", str(int(poly_kg) * 585 // 1000)
    )
    made_cells = s.transform(
        "party:penang-wafer",
        "facility:penang-wafer",
        "cell-production",
        [(sliced.attestation + "#0", str(pieces))],
        [cell_lot],
        at(day(4, 10)),
        b.now,
    )
    moved = s.hand_over(
        "party:penang-wafer",
        "party:kedah-solar",
        made_cells,
        cell_lot,
        at(day(4, 25)),
        b.now,
        invoice=f"PW-INV-{tag}-902",
    )
    module_count = str(cell_count // 100)
    module_lot = lot(
        f"KSM-M-{tag}-1201", modules, module_count, "pcs", str(int(poly_kg) * 585 // 1000)
    )
    assembled = s.transform(
        "party:kedah-solar",
        "facility:kedah-solar",
        "module-assembly",
        [(moved.attestation + "#0", str(cell_count))],
        [module_lot],
        at(day(5, 15)),
        b.now,
    )
    sold = s.hand_over(
        "party:kedah-solar",
        "party:sunrise-solar",
        assembled,
        module_lot,
        at(day(6, 5)),
        b.now,
        invoice=f"KSM-EXP-{tag}-001",
    )
    label, expect, entry, maker, arrival = ship_as
    b.ship(
        label,
        expect,
        "party:sunrise-solar",
        entry,
        sold.attestation + "#0",
        module_count,
        maker,
        maker,
        "MY",
        arrival,
        "8541.43.0010",
        "Crystalline silicon photovoltaic modules",
        "118.00",  # per module
    )
