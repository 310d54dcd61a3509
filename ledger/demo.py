"""The demo ledger: cotton apparel and polysilicon solar chains across several countries.

Every party, facility and lot is fictional except the screened names, which are real
UFLPA Entity List names. Among the shipments some pass, one needs review (a facility
without a certificate), and some fail (Xinjiang origin, an entity-listed spinner, an
expired certificate, an over-yield gin). A double spend is refused at append.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.errors import LedgerError
from ledger.scenario import Scenario, output

#: One real row of the UFLPA Entity List (FR notice of 2023-12-11), used when the full
#: list in ../shared/data is not beside the project.
SCREENING_EXCERPT = (
    "name,aliases,list_section,effective_date,location,sector,source,removed_date,notes\n"
    '"Anhui Xinya New Materials Co., Ltd.","Chaohu Youngor Color Spinning Technology Co., '
    'Ltd. (formerly known as)",2(d)(2)(B)(ii),2023-12-11,"Anhui, China",textiles (yarn),'
    '"UFLPA Entity List, DHS (Dec 11, 2023)",,\n'
)


def at(day: str, hour: int = 9) -> datetime:
    """An event time on a fixed date (demo data never depends on today's date)."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@dataclass
class DemoLedger:
    """What the demo built: shipments with their ids, and what happened to the double spend."""

    shipments: list[dict[str, Any]] = field(default_factory=list)
    parties: list[dict[str, str]] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)


SEED_COTTON = ("seed cotton", "5201.00")
LINT = ("cotton lint", "5201.00")
YARN = ("cotton yarn", "5205.11")
TSHIRTS = ("cotton knit T-shirts", "6109.10")


def _lot(
    label: str, kind: tuple[str, str], amount: str, unit: str = "kg", mass_kg: str | None = None
) -> dict[str, Any]:
    return output(label, kind[0], kind[1], amount, unit, mass_kg)


class _Builder:
    def __init__(self, scenario: Scenario, now: datetime) -> None:
        self.s = scenario
        self.now = now
        self.result = DemoLedger()

    def party(
        self,
        pid: str,
        name: str,
        country: str,
        roles: list[str],
        *,
        aliases: list[str] | None = None,
        locality: str = "Capital",
    ) -> None:
        self.s.party(pid, name, country, roles, self.now, aliases=aliases, locality=locality)
        self.result.parties.append(
            {"id": pid, "name": name, "country": country, "roles": ",".join(roles)}
        )

    def facility(
        self,
        fid: str,
        name: str,
        operator: str,
        country: str,
        region: str,
        processes: list[str],
        locality: str,
    ) -> None:
        self.s.facility(
            fid, name, operator, country, processes, self.now, region=region, locality=locality
        )

    def certify(
        self,
        auditor: str,
        facility: str,
        cert_id: str,
        audit_day: str,
        valid_from: str,
        valid_until: str,
        processes: list[str],
    ) -> None:
        audit = self.s.audit(auditor, facility, "pass", audit_day, self.now)
        self.s.certificate(
            auditor,
            cert_id,
            facility,
            [audit.attestation],
            valid_from,
            valid_until,
            self.now,
            processes=processes,
        )

    def ship(
        self,
        label: str,
        expect: str,
        importer: str,
        entry: str,
        lot: str,
        amount: str,
        exporter: str,
        manufacturer: str,
        origin_country: str,
        arrival: str,
        hts: str,
        description: str,
    ) -> None:
        receipt = self.s.shipment(
            importer,
            entry,
            [(lot, amount)],
            exporter,
            manufacturer,
            origin_country,
            arrival,
            self.now,
            hts_code=hts,
            description=description,
        )
        self.result.shipments.append(
            {
                "label": label,
                "id": receipt.attestation,
                "entry_number": entry,
                "expected": expect,
                "importer": importer,
            }
        )


def build_demo(scenario: Scenario, now: datetime) -> DemoLedger:
    """Append the whole demo through ``scenario`` (integration time ``now``)."""
    b = _Builder(scenario, now)
    s = scenario
    _actors(b)
    _cotton(b, s)
    _solar(b, s)
    return b.result


def _actors(b: _Builder) -> None:
    b.party(
        "party:us-cbp", "U.S. Customs and Border Protection", "US", ["cbp"], locality="Washington"
    )
    b.party(
        "party:northbridge-cert",
        "Northbridge Certification Services Ltd.",
        "GB",
        ["auditor"],
        locality="Manchester",
    )
    b.party(
        "party:meridian-audit",
        "Meridian Social Compliance Pte. Ltd.",
        "SG",
        ["auditor"],
        locality="Singapore",
    )
    b.party("party:acme-apparel", "Acme Apparel Inc.", "US", ["importer"], locality="New York")
    b.party(
        "party:sunrise-solar", "Sunrise Solar Imports LLC", "US", ["importer"], locality="Phoenix"
    )


def _cotton(b: _Builder, s: Scenario) -> None:
    nb = "party:northbridge-cert"
    # Tier 1: Texas farm and gin
    b.party(
        "party:lubbock-growers",
        "Lubbock Cotton Growers Cooperative",
        "US",
        ["supplier"],
        locality="Lubbock",
    )
    b.facility(
        "facility:lubbock-farm",
        "Lubbock Growers Field 7",
        "party:lubbock-growers",
        "US",
        "US-TX",
        ["farming"],
        "Lubbock",
    )
    b.party("party:plains-gin", "Plains Cotton Gin LLC", "US", ["supplier"], locality="Lubbock")
    b.facility(
        "facility:plains-gin",
        "Plains Gin No. 2",
        "party:plains-gin",
        "US",
        "US-TX",
        ["ginning"],
        "Lubbock",
    )
    b.certify(
        nb,
        "facility:plains-gin",
        "NB-GIN-2024-017",
        "2024-05-20",
        "2024-06-01",
        "2026-05-31",
        ["ginning"],
    )
    seed = s.origin(
        "party:lubbock-growers",
        "facility:lubbock-farm",
        *SEED_COTTON,
        [_lot("LGC-24-0931", SEED_COTTON, "100000")],
        "2024-10-15",
        b.now,
    )
    moved = s.transfer(
        "party:lubbock-growers",
        "party:plains-gin",
        [(seed.attestation + "#0", "100000")],
        [_lot("LGC-24-0931", SEED_COTTON, "100000")],
        at("2024-10-20"),
        b.now,
        invoice="LGC-INV-2024-311",
    )
    lint = s.transform(
        "party:plains-gin",
        "facility:plains-gin",
        "ginning",
        [(moved.attestation + "#0", "100000")],
        [_lot("PCG-B-24-5518", LINT, "40000")],
        at("2024-11-01"),
        b.now,
    )
    lint_ref = lint.attestation + "#0"
    # Tier 2: spinner in Vietnam, garment factory in Bangladesh
    b.party(
        "party:saigon-spinning",
        "Saigon Spinning Joint Stock Company",
        "VN",
        ["supplier"],
        locality="Ho Chi Minh City",
    )
    b.facility(
        "facility:saigon-spinning",
        "Saigon Spinning Mill 3",
        "party:saigon-spinning",
        "VN",
        "VN-SG",
        ["spinning"],
        "Ho Chi Minh City",
    )
    b.certify(
        nb,
        "facility:saigon-spinning",
        "NB-SPN-2024-102",
        "2024-08-12",
        "2024-09-01",
        "2026-08-31",
        ["spinning"],
    )
    to_spinner = s.transfer(
        "party:plains-gin",
        "party:saigon-spinning",
        [(lint_ref, "34000")],
        [_lot("PCG-B-24-5518", LINT, "34000")],
        at("2024-12-10"),
        b.now,
        invoice="PCG-INV-24-7781",
        cosign=True,
    )
    yarn = s.transform(
        "party:saigon-spinning",
        "facility:saigon-spinning",
        "spinning",
        [(to_spinner.attestation + "#0", "34000")],
        [_lot("SSM-Y30-2501", YARN, "30000")],
        at("2025-01-15"),
        b.now,
    )
    yarn_ref = yarn.attestation + "#0"
    b.party("party:dhaka-knit", "Dhaka Knit Apparels Ltd.", "BD", ["supplier"], locality="Gazipur")
    b.facility(
        "facility:dhaka-knit",
        "Dhaka Knit Unit 1",
        "party:dhaka-knit",
        "BD",
        "BD-13",
        ["knitting", "cut-and-sew"],
        "Gazipur",
    )
    b.certify(
        "party:meridian-audit",
        "facility:dhaka-knit",
        "MSC-BD-2024-0456",
        "2024-11-05",
        "2024-12-01",
        "2026-11-30",
        ["knitting", "cut-and-sew"],
    )
    _garments(
        b,
        s,
        "party:saigon-spinning",
        "party:dhaka-knit",
        "facility:dhaka-knit",
        yarn_ref,
        "16000",
        "2025-02-05",
        "DKA-TS-2503",
        "AAP-2504101-7",
        "pass",
        "clean cotton chain",
    )
    # Review: a garment factory with no certificate at all
    b.party(
        "party:chittagong-garments",
        "Chittagong Garments Ltd.",
        "BD",
        ["supplier"],
        locality="Chattogram",
    )
    b.facility(
        "facility:chittagong-garments",
        "Chittagong Garments Factory 2",
        "party:chittagong-garments",
        "BD",
        "BD-10",
        ["cut-and-sew"],
        "Chattogram",
    )
    _garments(
        b,
        s,
        "party:saigon-spinning",
        "party:chittagong-garments",
        "facility:chittagong-garments",
        yarn_ref,
        "8000",
        "2025-02-20",
        "CGL-TS-2504",
        "AAP-2505202-3",
        "review",
        "garment factory without a certificate",
    )
    # Fail: an expired certificate at the garment factory
    b.party(
        "party:hanoi-garment", "Hanoi Garment Corporation", "VN", ["supplier"], locality="Hanoi"
    )
    b.facility(
        "facility:hanoi-garment",
        "Hanoi Garment Factory 5",
        "party:hanoi-garment",
        "VN",
        "VN-HN",
        ["cut-and-sew"],
        "Hanoi",
    )
    b.certify(
        nb,
        "facility:hanoi-garment",
        "NB-GAR-2023-033",
        "2023-01-10",
        "2023-02-01",
        "2024-12-31",
        ["cut-and-sew"],
    )
    _garments(
        b,
        s,
        "party:saigon-spinning",
        "party:hanoi-garment",
        "facility:hanoi-garment",
        yarn_ref,
        "6000",
        "2025-03-01",
        "HGC-TS-2505",
        "AAP-2506303-9",
        "fail",
        "certificate expired before the sewing",
    )
    # The double spend: the spinner tries to sell yarn it already used up
    try:
        s.transfer(
            "party:saigon-spinning",
            "party:dhaka-knit",
            [(yarn_ref, "500")],
            [_lot("SSM-Y30-2501", YARN, "500")],
            at("2025-03-05"),
            b.now,
            invoice="SSM-INV-25-0999",
        )
    except LedgerError as e:
        b.result.refused.append(
            {"what": "double spend of yarn lot SSM-Y30-2501", "code": e.code, "message": e.message}
        )
    _xinjiang(b, s)
    _listed_spinner(b, s, lint_ref)
    _over_yield(b, s)


def _garments(
    b: _Builder,
    s: Scenario,
    spinner: str,
    factory: str,
    facility: str,
    yarn_ref: str,
    kg: str,
    day: str,
    lot: str,
    entry: str,
    expect: str,
    label: str,
) -> None:
    """Yarn to a garment factory, T-shirts (about 4 per kg of yarn) to the importer."""
    moved = s.transfer(
        spinner,
        factory,
        [(yarn_ref, kg)],
        [_lot("SSM-Y30-2501", YARN, kg)],
        at(day),
        b.now,
        invoice=f"INV-{lot}",
    )
    pieces = str(int(kg) * 4)
    mass = str(int(kg) * 95 // 100)
    sewn = s.transform(
        factory,
        facility,
        "cut-and-sew",
        [(moved.attestation + "#0", kg)],
        [_lot(lot, TSHIRTS, pieces, "pcs", mass)],
        at(day) + timedelta(days=5),
        b.now,
    )
    sold = s.transfer(
        factory,
        "party:acme-apparel",
        [(sewn.attestation + "#0", pieces)],
        [_lot(lot, TSHIRTS, pieces, "pcs", mass)],
        at(day) + timedelta(days=12),
        b.now,
        invoice=f"EXP-{lot}",
    )
    record = s.ledger.store.party(factory)
    b.ship(
        label,
        expect,
        "party:acme-apparel",
        entry,
        sold.attestation + "#0",
        pieces,
        factory,
        factory,
        record.country if record is not None else "BD",
        (at(day) + timedelta(days=40)).date().isoformat(),
        "6109.10.0012",
        "Men's cotton knit T-shirts",
    )


def _xinjiang(b: _Builder, s: Scenario) -> None:
    b.party(
        "party:aksu-agri",
        "Aksu Prefecture Agricultural Cooperative",
        "CN",
        ["supplier"],
        locality="Aksu",
    )
    b.facility(
        "facility:aksu-field",
        "Aksu Cotton Fields",
        "party:aksu-agri",
        "CN",
        "CN-XJ",
        ["farming", "ginning"],
        "Aksu",
    )
    seed = s.origin(
        "party:aksu-agri",
        "facility:aksu-field",
        *SEED_COTTON,
        [_lot("AKS-24-001", SEED_COTTON, "20000")],
        "2024-09-30",
        b.now,
    )
    lint = s.transform(
        "party:aksu-agri",
        "facility:aksu-field",
        "ginning",
        [(seed.attestation + "#0", "20000")],
        [_lot("AKS-L-24-01", LINT, "8000")],
        at("2024-10-20"),
        b.now,
    )
    sold = s.transfer(
        "party:aksu-agri",
        "party:acme-apparel",
        [(lint.attestation + "#0", "8000")],
        [_lot("AKS-L-24-01", LINT, "8000")],
        at("2024-11-15"),
        b.now,
        invoice="AKS-EXP-24-118",
    )
    b.ship(
        "Xinjiang-origin cotton lint",
        "fail",
        "party:acme-apparel",
        "AAP-2501155-2",
        sold.attestation + "#0",
        "8000",
        "party:aksu-agri",
        "party:aksu-agri",
        "CN",
        "2025-01-20",
        "5201.00.1800",
        "Raw cotton lint",
    )


def _listed_spinner(b: _Builder, s: Scenario, lint_ref: str) -> None:
    # A real UFLPA Entity List name (effective 2023-12-11), written with other punctuation
    b.party(
        "party:anhui-xinya",
        "Anhui Xinya New Materials Co. Ltd",
        "CN",
        ["supplier"],
        locality="Chaohu",
    )
    b.facility(
        "facility:anhui-xinya",
        "Xinya Spinning Plant",
        "party:anhui-xinya",
        "CN",
        "CN-AH",
        ["spinning"],
        "Chaohu",
    )
    moved = s.transfer(
        "party:plains-gin",
        "party:anhui-xinya",
        [(lint_ref, "6000")],
        [_lot("PCG-B-24-5518", LINT, "6000")],
        at("2025-01-05"),
        b.now,
        invoice="PCG-INV-25-0012",
    )
    yarn = s.transform(
        "party:anhui-xinya",
        "facility:anhui-xinya",
        "spinning",
        [(moved.attestation + "#0", "6000")],
        [_lot("AXN-Y-2502", YARN, "5200")],
        at("2025-02-10"),
        b.now,
    )
    sold = s.transfer(
        "party:anhui-xinya",
        "party:acme-apparel",
        [(yarn.attestation + "#0", "5200")],
        [_lot("AXN-Y-2502", YARN, "5200")],
        at("2025-02-25"),
        b.now,
        invoice="AXN-EXP-25-044",
    )
    b.ship(
        "yarn spun by an entity-listed spinner",
        "fail",
        "party:acme-apparel",
        "AAP-2503108-4",
        sold.attestation + "#0",
        "5200",
        "party:anhui-xinya",
        "party:anhui-xinya",
        "CN",
        "2025-03-28",
        "5205.11.1000",
        "Single cotton yarn",
    )


def _over_yield(b: _Builder, s: Scenario) -> None:
    b.party(
        "party:punjab-gin",
        "Punjab Cotton Ginners (Pvt.) Ltd.",
        "PK",
        ["supplier"],
        locality="Multan",
    )
    b.facility(
        "facility:punjab-gin",
        "Multan Ginning Factory",
        "party:punjab-gin",
        "PK",
        "PK-PB",
        ["farming", "ginning"],
        "Multan",
    )
    b.certify(
        "party:meridian-audit",
        "facility:punjab-gin",
        "MSC-PK-2024-0190",
        "2024-07-01",
        "2024-08-01",
        "2026-07-31",
        ["farming", "ginning"],
    )
    seed = s.origin(
        "party:punjab-gin",
        "facility:punjab-gin",
        *SEED_COTTON,
        [_lot("PCG-PK-24-77", SEED_COTTON, "10000")],
        "2024-10-05",
        b.now,
    )
    lint = s.transform(
        "party:punjab-gin",
        "facility:punjab-gin",
        "ginning",
        [(seed.attestation + "#0", "10000")],
        [_lot("PCG-PK-L-24-77", LINT, "6000")],
        at("2024-10-25"),
        b.now,
    )
    sold = s.transfer(
        "party:punjab-gin",
        "party:acme-apparel",
        [(lint.attestation + "#0", "6000")],
        [_lot("PCG-PK-L-24-77", LINT, "6000")],
        at("2024-11-20"),
        b.now,
        invoice="PCG-EXP-24-310",
    )
    b.ship(
        "gin reporting 60% lint from seed cotton",
        "fail",
        "party:acme-apparel",
        "AAP-2412017-5",
        sold.attestation + "#0",
        "6000",
        "party:punjab-gin",
        "party:punjab-gin",
        "PK",
        "2024-12-28",
        "5201.00.1800",
        "Raw cotton lint",
    )


def _solar(b: _Builder, s: Scenario) -> None:
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
    q = s.origin(
        "party:nordic-quartz",
        "facility:nordic-quartz-mine",
        *quartz,
        [_lot("NQ-24-310", quartz, "60000")],
        "2024-06-01",
        b.now,
    )
    moved = s.transfer(
        "party:nordic-quartz",
        "party:fjord-silicon",
        [(q.attestation + "#0", "60000")],
        [_lot("NQ-24-310", quartz, "60000")],
        at("2024-06-10"),
        b.now,
        invoice="NQ-INV-24-310",
    )
    si = s.transform(
        "party:fjord-silicon",
        "facility:fjord-smelter",
        "smelting",
        [(moved.attestation + "#0", "60000")],
        [_lot("FS-MG-24-88", mgsi, "24000")],
        at("2024-07-01"),
        b.now,
    )
    moved = s.transfer(
        "party:fjord-silicon",
        "party:bavaria-poly",
        [(si.attestation + "#0", "24000")],
        [_lot("FS-MG-24-88", mgsi, "24000")],
        at("2024-07-20"),
        b.now,
        invoice="FS-INV-24-088",
    )
    pl = s.transform(
        "party:bavaria-poly",
        "facility:bavaria-poly",
        "polysilicon-production",
        [(moved.attestation + "#0", "24000")],
        [_lot("BP-PS-24-4410", poly, "20000")],
        at("2024-08-30"),
        b.now,
    )
    moved = s.transfer(
        "party:bavaria-poly",
        "party:penang-wafer",
        [(pl.attestation + "#0", "20000")],
        [_lot("BP-PS-24-4410", poly, "20000")],
        at("2024-09-25"),
        b.now,
        invoice="BP-INV-24-4410",
    )
    wf = s.transform(
        "party:penang-wafer",
        "facility:penang-wafer",
        "wafering",
        [(moved.attestation + "#0", "20000")],
        [_lot("PW-W-24-901", wafers, "1000000", "pcs", "12000")],
        at("2024-10-20"),
        b.now,
    )
    cl = s.transform(
        "party:penang-wafer",
        "facility:penang-wafer",
        "cell-production",
        [(wf.attestation + "#0", "1000000")],
        [_lot("PW-C-24-902", cells, "980000", "pcs", "11700")],
        at("2024-11-10"),
        b.now,
    )
    moved = s.transfer(
        "party:penang-wafer",
        "party:kedah-solar",
        [(cl.attestation + "#0", "980000")],
        [_lot("PW-C-24-902", cells, "980000", "pcs", "11700")],
        at("2024-11-25"),
        b.now,
        invoice="PW-INV-24-902",
    )
    md = s.transform(
        "party:kedah-solar",
        "facility:kedah-solar",
        "module-assembly",
        [(moved.attestation + "#0", "980000")],
        [_lot("KSM-M-24-1201", modules, "9800", "pcs", "11700")],
        at("2024-12-15"),
        b.now,
    )
    sold = s.transfer(
        "party:kedah-solar",
        "party:sunrise-solar",
        [(md.attestation + "#0", "9800")],
        [_lot("KSM-M-24-1201", modules, "9800", "pcs", "11700")],
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
