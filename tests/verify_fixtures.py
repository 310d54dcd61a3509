"""A world to verify in: a real ledger on a settable clock, and a realistic cotton chain.

``CottonChain`` builds farm -> gin -> spinner -> knitter -> garment factory -> importer,
stage by stage, with the knobs a test needs to break exactly one rule. The polysilicon
chain is in ``verify_solar``; ``verify_bypass`` slips an entry past the append-time
rules, as a faulty or dishonest log operator could, so the verifier must catch it alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.home import Home, init_home
from ledger.keys import load_private_key
from ledger.lists import record_version
from ledger.log import Ledger
from ledger.scenario import Scenario, output
from ledger.verify import Verdict, verify_shipment_online
from ledger.verify.verdict import STEP_OF

PASSPHRASE = b"correct horse battery"
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
#: The UFLPA Entity List and CBP's WRO/Findings list as vendored in the project (data/).
ENTITY_LIST = Path(__file__).resolve().parents[1] / "data" / "uflpa-entity-list.csv"
WRO_LIST = Path(__file__).resolve().parents[1] / "data" / "wro-findings.csv"


def day(text: str, hour: int = 10) -> datetime:
    """Noon-ish UTC on a ``YYYY-MM-DD`` day (events), so logs a few hours later are after."""
    return datetime.fromisoformat(text).replace(hour=hour, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclasses.dataclass
class World:
    """A home, its ledger (on a settable clock) and a scenario of signed actors."""

    home: Home
    ledger: Ledger
    s: Scenario
    clock: Clock
    ids: dict[str, str] = dataclasses.field(default_factory=dict)

    def at(self, when: datetime) -> datetime:
        """Move the log clock to ``when`` and return it (the issue time of the next entry)."""
        self.clock.now = max(self.clock.now, when)
        return self.clock.now

    def log(self, name: str, receipt: Any) -> str:
        self.ids[name] = receipt.attestation
        return str(receipt.attestation)

    def verify(self, **kw: Any) -> Verdict:
        return verify_shipment_online(self.ledger, self.ids["shipment"], **kw)


def load_both_lists(led: Ledger, now: datetime | None = None) -> None:
    """Record an entity list and the WRO/Findings list, as a real deployment has them.

    Loaded at the real present by default, so they are current both at the test clock's
    time and for commands that verify at the real time (CLI, offline bundles).
    """
    when = now or datetime.now(UTC)
    for kind, path, name in (
        ("entity", ENTITY_LIST, "uflpa-entity-list"),
        ("wro", WRO_LIST, "wro-findings"),
    ):
        record_version(led.store, path.read_bytes(), kind=kind, name=name, source=None, now=when)


def make_world(root: Path, db: str | None = None, *, lists: bool = True) -> World:
    """A fresh home and ledger; with ``lists``, both kinds of screening list are loaded."""
    home = init_home(root / "home", PASSPHRASE, now=T0, db=db)
    clock = Clock()
    led = home.open_ledger(PASSPHRASE, clock=clock)
    if lists:
        load_both_lists(led)
    registrar = load_private_key(home.registrar_key_path, PASSPHRASE)
    s = Scenario(led, "party:registrar", {"party:registrar": registrar}, seed=b"verify")
    return World(home, led, s, clock)


@pytest.fixture(name="world")
def world_fixture(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.ledger.store.close()


@pytest.fixture(name="bare_world")
def bare_world_fixture(tmp_path: Path) -> Iterator[World]:
    """A world with no screening list loaded (for tests of loading lists)."""
    w = make_world(tmp_path, lists=False)
    yield w
    w.ledger.store.close()


@pytest.fixture(name="any_world", params=["sqlite", "postgresql"])
def any_world_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """A world on SQLite, then on PostgreSQL (skipped, saying why, with no server)."""
    import pg

    db = None
    if request.param == "postgresql":
        reason = pg.unavailable()
        if reason:
            pytest.skip(reason)
        db = pg.fresh_schema()
    w = make_world(tmp_path, db)
    yield w
    w.ledger.store.close()


# -- cotton: farm, gin, spinner, knitter, garment factory, importer -------------------------

COTTON_SITES = {
    # key: (party, legal name, country, facility, facility name, region, processes)
    "farm": (
        "party:patel-farm",
        "Patel Family Farm",
        "IN",
        "facility:patel-farm-gondal",
        "Patel Farm Gondal",
        "IN-GJ",
        ["farming"],
    ),
    "gin": (
        "party:shree-ginning",
        "Shree Ginning and Pressing Pvt. Ltd.",
        "IN",
        "facility:shree-gin-rajkot",
        "Shree Gin Rajkot",
        "IN-GJ",
        ["ginning"],
    ),
    "spinner": (
        "party:coimbatore-spinners",
        "Coimbatore Spinners Limited",
        "IN",
        "facility:coimbatore-mill-2",
        "Coimbatore Mill No. 2",
        "IN-TN",
        ["spinning"],
    ),
    "knitter": (
        "party:gazipur-knit",
        "Gazipur Knit Fabrics Ltd.",
        "BD",
        "facility:gazipur-knit-1",
        "Gazipur Knitting Unit 1",
        "BD-18",
        ["knitting"],
    ),
    "garment": (
        "party:dhaka-apparel",
        "Dhaka Apparel Limited",
        "BD",
        "facility:dhaka-apparel-gazipur",
        "Dhaka Apparel Gazipur Plant",
        "BD-18",
        ["cut-and-sew", "packing"],
    ),
}
PROCESS = {"gin": "ginning", "spinner": "spinning", "knitter": "knitting", "garment": "cut-and-sew"}
IMPORTER = "party:acme-imports"
AUDITOR = "party:bureau-social-audit"
ENTRY_NUMBER = "ABC-1234567-8"


class CottonChain:
    """Builds the cotton chain stage by stage; ``build()`` runs every stage clean."""

    def __init__(self, w: World) -> None:
        self.w = w
        self.s = w.s

    def party(self, key: str) -> str:
        return COTTON_SITES[key][0]

    def facility(self, key: str) -> str:
        return COTTON_SITES[key][3]

    def actors(
        self,
        *,
        names: dict[str, str] | None = None,
        aliases: dict[str, list[str]] | None = None,
        regions: dict[str, str | None] | None = None,
        countries: dict[str, str] | None = None,
    ) -> None:
        names, aliases, regions = names or {}, aliases or {}, regions or {}
        countries = countries or {}
        now = self.w.at(T0)
        for key, (
            party,
            legal,
            country,
            facility,
            fname,
            region,
            processes,
        ) in COTTON_SITES.items():
            country = countries.get(key, country)
            self.s.party(
                party, names.get(key, legal), country, ["supplier"], now, aliases=aliases.get(key)
            )
            self.s.facility(
                facility, fname, party, country, processes, now, region=regions.get(key, region)
            )
        self.s.party(IMPORTER, "Acme Imports LLC", "US", ["importer"], now, filer_codes=["ABC"])
        self.s.party(AUDITOR, "Bureau Social Audit SA", "CH", ["auditor"], now)

    def certify(
        self,
        keys: tuple[str, ...] = ("gin", "spinner", "knitter", "garment"),
        *,
        result: str = "pass",
        valid_from: str = "2024-06-01",
        valid_until: str = "2026-05-31",
    ) -> None:
        now = self.w.at(T0 + timedelta(hours=1))
        for key in keys:
            audit = self.w.log(
                f"audit:{key}", self.s.audit(AUDITOR, self.facility(key), result, "2024-05-20", now)
            )
            self.w.log(
                f"cert:{key}",
                self.s.certificate(
                    AUDITOR,
                    f"SA8000-{key.upper()}-2024",
                    self.facility(key),
                    [audit],
                    valid_from,
                    valid_until,
                    now,
                    processes=[PROCESS[key]],
                ),
            )

    def farm(self, *, produced_on: str = "2025-03-01", amount: str = "10000") -> None:
        w, s = self.w, self.s
        now = w.at(day("2025-03-02"))
        origin = w.log(
            "origin",
            s.origin(
                self.party("farm"),
                self.facility("farm"),
                "seed cotton",
                "5201.00",
                [output("SC-2025-017", "seed cotton", "5201.00", amount)],
                produced_on,
                now,
            ),
        )
        now = w.at(day("2025-03-03"))
        w.log(
            "t:farm-gin",
            s.transfer(
                self.party("farm"),
                self.party("gin"),
                [(origin + "#0", amount)],
                [output("SG-IN-017", "seed cotton", "5201.00", amount)],
                now,
                now,
                invoice="PF-2025-017",
            ),
        )

    def gin(
        self,
        *,
        lint_kg: str = "3600",
        seed_kg: str = "6000",
        event: datetime | None = None,
        sold: list[dict[str, Any]] | None = None,
        sold_inputs: list[tuple[int, str]] | None = None,
    ) -> None:
        w, s = self.w, self.s
        now = w.at(day("2025-03-05"))
        w.log(
            "ginning",
            s.transform(
                self.party("gin"),
                self.facility("gin"),
                "ginning",
                [(w.ids["t:farm-gin"] + "#0", "10000")],
                [
                    output("SG-B-0881..0900", "cotton lint", "5201.00", "20", "bales", lint_kg),
                    output("SG-CS-0881", "cotton seed", "1207.21", seed_kg),
                ],
                event or now,
                now,
            ),
        )
        now = w.at(day("2025-03-08"))
        w.log(
            "t:gin-spinner",
            s.transfer(
                self.party("gin"),
                self.party("spinner"),
                [(f"{w.ids['ginning']}#{i}", a) for i, a in sold_inputs or [(0, "20")]],
                sold
                or [output("CSL-IN-25-0042", "cotton lint", "5201.00", "20", "bales", lint_kg)],
                now,
                now,
                invoice="SG/2024-25/117",
                cosign=True,
            ),
        )

    def spin(
        self, *, yarn: dict[str, Any] | None = None, bales: str = "20", transfer: bool = True
    ) -> None:
        w, s = self.w, self.s
        now = w.at(day("2025-03-12"))
        yarn = yarn or output("CSL-Y-30S-0042", "combed cotton yarn 30s", "5205.26", "3200")
        w.log(
            "spinning",
            s.transform(
                self.party("spinner"),
                self.facility("spinner"),
                "spinning",
                [(w.ids["t:gin-spinner"] + "#0", bales)],
                [yarn],
                now,
                now,
            ),
        )
        if not transfer:
            return
        now = w.at(day("2025-03-15"))
        amount = yarn["quantity"]["amount"]
        w.log(
            "t:spinner-knitter",
            s.transfer(
                self.party("spinner"),
                self.party("knitter"),
                [(w.ids["spinning"] + "#0", amount)],
                [{**yarn, "lot": "GKF-IN-0042"}],
                now,
                now,
                invoice="CSL-EXP-0042",
            ),
        )

    def knit(
        self,
        *,
        fabric_kg: str = "3100",
        yarn_amount: str = "3200",
        source: str = "t:spinner-knitter",
    ) -> None:
        w, s = self.w, self.s
        now = w.at(day("2025-03-20"))
        w.log(
            "knitting",
            s.transform(
                self.party("knitter"),
                self.facility("knitter"),
                "knitting",
                [(w.ids[source] + "#0", yarn_amount)],
                [output("GKF-SJ-0042", "cotton single jersey fabric", "6006.21", fabric_kg)],
                now,
                now,
            ),
        )
        now = w.at(day("2025-03-22"))
        w.log(
            "t:knitter-garment",
            s.transfer(
                self.party("knitter"),
                self.party("garment"),
                [(w.ids["knitting"] + "#0", fabric_kg)],
                [output("DAL-FAB-0042", "cotton single jersey fabric", "6006.21", fabric_kg)],
                now,
                now,
                invoice="GKF-0042",
            ),
        )

    def sew(self, *, pieces: str = "12000", mass_kg: str | None = "2400") -> None:
        w, s = self.w, self.s
        now = w.at(day("2025-03-28"))
        fabric = "3100"
        w.log(
            "sewing",
            s.transform(
                self.party("garment"),
                self.facility("garment"),
                "cut-and-sew",
                [(w.ids["t:knitter-garment"] + "#0", fabric)],
                [output("DAL-TS-0042", "men's cotton T-shirts", "6109.10", pieces, "pcs", mass_kg)],
                now,
                now,
            ),
        )
        now = w.at(day("2025-04-02"))
        w.log(
            "t:garment-importer",
            s.transfer(
                self.party("garment"),
                IMPORTER,
                [(w.ids["sewing"] + "#0", pieces)],
                [
                    output(
                        "ACME-PO-7781", "men's cotton T-shirts", "6109.10", pieces, "pcs", mass_kg
                    )
                ],
                now,
                now,
                invoice="DAL-2025-0311",
                cosign=True,
            ),
        )

    def ship(
        self,
        *,
        pieces: str = "12000",
        entry_number: str = ENTRY_NUMBER,
        exporter: str | None = None,
        manufacturer: str | None = None,
        lines: list[dict[str, Any]] | None = None,
    ) -> str:
        """The entry of ``pieces`` of the importer's lot (by default as one line of them)."""
        w = self.w
        now = w.at(day("2025-04-10"))
        return w.log(
            "shipment",
            self.s.shipment(
                IMPORTER,
                entry_number,
                [(w.ids["t:garment-importer"] + "#0", pieces)],
                exporter or self.party("garment"),
                manufacturer or self.party("garment"),
                "BD",
                "2025-04-18",
                now,
                lines=lines,
            ),
        )

    def build(self) -> str:
        self.actors()
        self.certify()
        self.farm()
        self.gin()
        self.spin()
        self.knit()
        self.sew()
        return self.ship()


def only(w: World, code: str) -> list[dict[str, Any]]:
    """Assert the verdict has findings of ``code`` and no other; return them as JSON."""
    verdict = w.verify()
    assert verdict.codes() == {code}, [f.to_json() for f in verdict.findings]
    assert verdict.status == ("review" if code == "CERT_MISSING" else "fail")
    assert all(f.step == STEP_OF[code] for f in verdict.findings)
    return [f.to_json() for f in verdict.findings]
