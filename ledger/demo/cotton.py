"""The cotton apparel chains: one clean, one for review, four that fail."""

from __future__ import annotations

from datetime import timedelta

from ledger.demo.base import LINT, SEED_COTTON, TSHIRTS, YARN, Builder, at, lot
from ledger.errors import LedgerError
from ledger.scenario import Scenario


def add_cotton_chains(b: Builder, s: Scenario) -> None:
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
    harvest = lot("LGC-24-0931", SEED_COTTON, "100000")
    seed = s.origin(
        "party:lubbock-growers",
        "facility:lubbock-farm",
        *SEED_COTTON,
        [harvest],
        "2024-10-15",
        b.now,
    )
    moved = s.hand_over(
        "party:lubbock-growers",
        "party:plains-gin",
        seed,
        harvest,
        at("2024-10-20"),
        b.now,
        invoice="LGC-INV-2024-311",
    )
    lint = s.transform(
        "party:plains-gin",
        "facility:plains-gin",
        "ginning",
        [(moved.attestation + "#0", "100000")],
        [lot("PCG-B-24-5518", LINT, "40000")],
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
        [lot("PCG-B-24-5518", LINT, "34000")],
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
        [lot("SSM-Y30-2501", YARN, "30000")],
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
            [lot("SSM-Y30-2501", YARN, "500")],
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
    b: Builder,
    s: Scenario,
    spinner: str,
    factory: str,
    facility: str,
    yarn_ref: str,
    kg: str,
    day: str,
    lot_label: str,
    entry: str,
    expect: str,
    label: str,
) -> None:
    """Yarn to a garment factory, T-shirts (about 4 per kg of yarn) to the importer."""
    moved = s.transfer(
        spinner,
        factory,
        [(yarn_ref, kg)],
        [lot("SSM-Y30-2501", YARN, kg)],
        at(day),
        b.now,
        invoice=f"INV-{lot_label}",
    )
    pieces = str(int(kg) * 4)
    mass = str(int(kg) * 95 // 100)
    shirts = lot(lot_label, TSHIRTS, pieces, "pcs", mass)
    sewn = s.transform(
        factory,
        facility,
        "cut-and-sew",
        [(moved.attestation + "#0", kg)],
        [shirts],
        at(day) + timedelta(days=5),
        b.now,
    )
    sold = s.hand_over(
        factory,
        "party:acme-apparel",
        sewn,
        shirts,
        at(day) + timedelta(days=12),
        b.now,
        invoice=f"EXP-{lot_label}",
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
        "4.20",  # FOB per piece
    )


def _xinjiang(b: Builder, s: Scenario) -> None:
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
    _lint_to_importer(
        b,
        s,
        "party:aksu-agri",
        "facility:aksu-field",
        seed=("AKS-24-001", "20000", "2024-09-30"),
        lint=("AKS-L-24-01", "8000", "2024-10-20"),
        sale=("AKS-EXP-24-118", "2024-11-15"),
        shipment=("Xinjiang-origin cotton lint", "AAP-2501155-2", "CN", "2025-01-20"),
    )


def _listed_spinner(b: Builder, s: Scenario, lint_ref: str) -> None:
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
        [lot("PCG-B-24-5518", LINT, "6000")],
        at("2025-01-05"),
        b.now,
        invoice="PCG-INV-25-0012",
    )
    spun = lot("AXN-Y-2502", YARN, "5200")
    yarn = s.transform(
        "party:anhui-xinya",
        "facility:anhui-xinya",
        "spinning",
        [(moved.attestation + "#0", "6000")],
        [spun],
        at("2025-02-10"),
        b.now,
    )
    sold = s.hand_over(
        "party:anhui-xinya",
        "party:acme-apparel",
        yarn,
        spun,
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
        "3.10",  # per kg
    )


def _over_yield(b: Builder, s: Scenario) -> None:
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
    _lint_to_importer(
        b,
        s,
        "party:punjab-gin",
        "facility:punjab-gin",
        seed=("PCG-PK-24-77", "10000", "2024-10-05"),
        lint=("PCG-PK-L-24-77", "6000", "2024-10-25"),
        sale=("PCG-EXP-24-310", "2024-11-20"),
        shipment=("gin reporting 60% lint from seed cotton", "AAP-2412017-5", "PK", "2024-12-28"),
    )


def _lint_to_importer(
    b: Builder,
    s: Scenario,
    grower: str,
    facility: str,
    *,
    seed: tuple[str, str, str],
    lint: tuple[str, str, str],
    sale: tuple[str, str],
    shipment: tuple[str, str, str, str],
) -> None:
    """A grower that gins its own seed cotton sells the lint to Acme, which imports it.

    ``seed`` and ``lint`` are (lot, kg, day); ``sale`` is (invoice, day); ``shipment`` is
    (label, entry number, country of origin, arrival date). Every such shipment fails.
    """
    seed_lot, seed_kg, harvested = seed
    lint_lot, lint_kg, ginned = lint
    invoice, sold_on = sale
    label, entry, country, arrival = shipment
    grown = s.origin(
        grower, facility, *SEED_COTTON, [lot(seed_lot, SEED_COTTON, seed_kg)], harvested, b.now
    )
    bales = lot(lint_lot, LINT, lint_kg)
    ginned_lint = s.transform(
        grower,
        facility,
        "ginning",
        [(grown.attestation + "#0", seed_kg)],
        [bales],
        at(ginned),
        b.now,
    )
    sold = s.hand_over(
        grower, "party:acme-apparel", ginned_lint, bales, at(sold_on), b.now, invoice=invoice
    )
    b.ship(
        label,
        "fail",
        "party:acme-apparel",
        entry,
        sold.attestation + "#0",
        lint_kg,
        grower,
        grower,
        country,
        arrival,
        "5201.00.1800",
        "Raw cotton lint",
        "1.85",  # per kg
    )
