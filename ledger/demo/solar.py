"""The crystalline silicon solar chain: quartz in Norway to modules in Malaysia."""

from __future__ import annotations

from ledger.demo.base import Builder, at, lot
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
    poly = ("polysilicon", "2804.61")
    wafers = ("silicon wafers", "3818.00")
    cells = ("solar cells", "8541.42")
    modules = ("solar modules", "8541.43")
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
    moved = s.hand_over(
        "party:fjord-silicon",
        "party:bavaria-poly",
        smelted,
        silicon,
        at("2024-07-20"),
        b.now,
        invoice="FS-INV-24-088",
    )
    polysilicon = lot("BP-PS-24-4410", poly, "20000")
    refined = s.transform(
        "party:bavaria-poly",
        "facility:bavaria-poly",
        "polysilicon-production",
        [(moved.attestation + "#0", "24000")],
        [polysilicon],
        at("2024-08-30"),
        b.now,
    )
    moved = s.hand_over(
        "party:bavaria-poly",
        "party:penang-wafer",
        refined,
        polysilicon,
        at("2024-09-25"),
        b.now,
        invoice="BP-INV-24-4410",
    )
    sliced = s.transform(
        "party:penang-wafer",
        "facility:penang-wafer",
        "wafering",
        [(moved.attestation + "#0", "20000")],
        [lot("PW-W-24-901", wafers, "1000000", "pcs", "12000")],
        at("2024-10-20"),
        b.now,
    )
    cell_lot = lot("PW-C-24-902", cells, "980000", "pcs", "11700")
    made_cells = s.transform(
        "party:penang-wafer",
        "facility:penang-wafer",
        "cell-production",
        [(sliced.attestation + "#0", "1000000")],
        [cell_lot],
        at("2024-11-10"),
        b.now,
    )
    moved = s.hand_over(
        "party:penang-wafer",
        "party:kedah-solar",
        made_cells,
        cell_lot,
        at("2024-11-25"),
        b.now,
        invoice="PW-INV-24-902",
    )
    module_lot = lot("KSM-M-24-1201", modules, "9800", "pcs", "11700")
    assembled = s.transform(
        "party:kedah-solar",
        "facility:kedah-solar",
        "module-assembly",
        [(moved.attestation + "#0", "980000")],
        [module_lot],
        at("2024-12-15"),
        b.now,
    )
    sold = s.hand_over(
        "party:kedah-solar",
        "party:sunrise-solar",
        assembled,
        module_lot,
        at("2025-01-05"),
        b.now,
        invoice="KSM-EXP-25-001",
    )
    b.ship(
        "crystalline silicon modules, Norway to Malaysia",
        "pass",
        "party:sunrise-solar",
        "SSI-2502114-6",
        sold.attestation + "#0",
        "9800",
        "party:kedah-solar",
        "party:kedah-solar",
        "MY",
        "2025-02-11",
        "8541.43.0010",
        "Crystalline silicon photovoltaic modules",
    )
