"""A small but realistic ledger for the API tests, built through the real Ledger.

Two supply chains that share nothing:
- cotton: a farm in Gujarat (IN) -> a gin (IN) -> a garment factory in Vietnam that
  spins and sews -> Acme (US importer), shipment ``ACM-1234567-8``;
- a rival supplier's own farm in Xinjiang (CN-XJ) -> Globex (US importer), shipment
  ``GLX-7654321-0``.
An auditor certifies the gin and the factory (valid), the farm (expired) and the rival
(revoked). Every party has a bearer token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api import create_app
from conftest import PASSPHRASE, T0, Clock
from ledger.home import init_home
from ledger.keys import load_private_key
from ledger.log import Ledger
from ledger.scenario import Scenario, output
from ledger.tokens import TokenStore
from verify_fixtures import load_both_lists

DAY = timedelta(days=1)
PARTIES = {
    "party:cbp": ("U.S. Customs and Border Protection", "US", ["cbp"]),
    "party:acme": ("Acme Apparel Inc.", "US", ["importer"]),
    "party:globex": ("Globex Retail LLC", "US", ["importer"]),
    "party:farm": ("Patel Cotton Farm", "IN", ["supplier"]),
    "party:gin": ("Rajkot Ginning Pvt. Ltd.", "IN", ["supplier"]),
    "party:factory": ("Saigon Garment Co.", "VN", ["supplier"]),
    "party:rival": ("Kashgar Cotton Co.", "CN", ["supplier"]),
    "party:auditor": ("Fair Labour Audits SA", "CH", ["auditor"]),
}
#: CBP entry filer codes of the importers (their entry numbers begin with them).
FILER_CODES = {"party:acme": ["ACM"], "party:globex": ["GLX"]}


@dataclass
class World:
    """The ledger, the ids the tests look up, and a token per party."""

    root: Path
    ledger: Ledger
    scenario: Scenario
    clock: Clock
    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    app: Flask | None = None

    def client(self) -> FlaskClient:
        if self.app is None:
            self.app = create_app(ledger=self.ledger)
        return self.app.test_client()

    def auth(self, party: str | None) -> dict[str, str]:
        return {} if party is None else {"Authorization": f"Bearer {self.tokens[party]}"}


def problem(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    """Check an RFC 9457 problem response and return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert isinstance(body, dict)
    assert body["code"] == code and body["status"] == status
    assert body["type"] == "https://lotchain.dev/problems/" + code.lower().replace("_", "-")
    assert {"title", "detail", "instance"} <= set(body)
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def build_world(root: Path, db: str | None = None) -> World:
    """The two chains in a new home; ``db`` picks another database (a PostgreSQL URL)."""
    home = init_home(root / "home", PASSPHRASE, now=T0 - 30 * DAY, db=db)
    clock = Clock(T0)
    ledger = home.open_ledger(PASSPHRASE, clock=clock)
    load_both_lists(ledger)
    registrar = load_private_key(home.registrar_key_path, PASSPHRASE)
    s = Scenario(ledger, "party:registrar", {"party:registrar": registrar}, seed=b"api")
    w = World(root, ledger, s, clock)
    when = T0 - 30 * DAY
    for pid, (name, country, roles) in PARTIES.items():
        s.party(pid, name, country, roles, when, filer_codes=FILER_CODES.get(pid))
    fac = [
        ("facility:farm", "Patel Farm", "party:farm", "IN", ["farming"], "IN-GJ"),
        ("facility:gin", "Rajkot Gin", "party:gin", "IN", ["ginning"], "IN-GJ"),
        (
            "facility:factory",
            "Saigon Garments",
            "party:factory",
            "VN",
            ["spinning", "cut-and-sew"],
            None,
        ),
        ("facility:rival", "Kashgar Farm", "party:rival", "CN", ["farming"], "CN-XJ"),
    ]
    for fid, name, operator, country, processes, region in fac:
        s.facility(fid, name, operator, country, processes, when, region=region)
    _certificates(w)
    _cotton(w)
    _rival(w)
    w.ids["gin_key"] = s.signers["party:gin"].key_id
    tokens = TokenStore(ledger.store)
    for pid in PARTIES:
        w.tokens[pid] = tokens.issue(pid, now=T0, label="tests").token
    return w


def _certificates(w: World) -> None:
    s = w.scenario
    t = T0 - 30 * DAY
    for facility, cert, start, end in (
        ("facility:gin", "FLA-GIN-2025", "2025-01-01", "2025-12-31"),
        ("facility:factory", "FLA-FAC-2025", "2025-01-01", "2025-12-31"),
        ("facility:farm", "FLA-FARM-2023", "2023-01-01", "2024-06-30"),
        ("facility:rival", "FLA-KSH-2025", "2025-01-01", "2025-12-31"),
    ):
        audit = s.audit("party:auditor", facility, "pass", start, t)
        receipt = s.certificate("party:auditor", cert, facility, [audit.attestation], start, end, t)
        w.ids[f"audit:{facility}"] = audit.attestation
        w.ids[f"cert:{cert}"] = receipt.attestation
    revoked = w.ids["cert:FLA-KSH-2025"]
    body = {
        "target": revoked,
        "reason": "audit evidence withdrawn",
        "effective_at": "2025-02-01T00:00:00Z",
    }
    w.ids["revocation"] = s.append("revocation", "party:auditor", body, t).attestation


def _cotton(w: World) -> None:
    s = w.scenario
    t = T0 - 20 * DAY
    origin = s.origin(
        "party:farm",
        "facility:farm",
        "seed cotton",
        "5201.00",
        [output("SC-1", "seed cotton", "5201.00", "10000")],
        "2024-10-01",
        t,
    )
    to_gin = s.transfer(
        "party:farm",
        "party:gin",
        [(origin.attestation + "#0", "10000")],
        [output("SC-1", "seed cotton", "5201.00", "10000")],
        t - DAY,
        t,
        invoice="INV-F1",
    )
    lint = s.transform(
        "party:gin",
        "facility:gin",
        "ginning",
        [(to_gin.attestation + "#0", "10000")],
        [output("LINT-1", "cotton lint", "5201.00", "3400")],
        t - DAY,
        t,
    )
    to_factory = s.transfer(
        "party:gin",
        "party:factory",
        [(lint.attestation + "#0", "3400")],
        [output("LINT-1", "cotton lint", "5201.00", "3400")],
        t - DAY,
        t,
        invoice="INV-G1",
    )
    yarn = s.transform(
        "party:factory",
        "facility:factory",
        "spinning",
        [(to_factory.attestation + "#0", "3400")],
        [output("YARN-1", "combed cotton yarn", "5205.12", "2900")],
        t - DAY,
        t,
    )
    shirts = s.transform(
        "party:factory",
        "facility:factory",
        "cut-and-sew",
        [(yarn.attestation + "#0", "2900")],
        [output("TS-1", "cotton T-shirts", "6109.10", "10000", "pcs", "2500")],
        t - DAY,
        t,
    )
    to_acme = s.transfer(
        "party:factory",
        "party:acme",
        [(shirts.attestation + "#0", "10000")],
        [output("TS-1", "cotton T-shirts", "6109.10", "10000", "pcs", "2500")],
        t - DAY,
        t,
        invoice="INV-S1",
    )
    shipment = s.shipment(
        "party:acme",
        "ACM-1234567-8",
        [(to_acme.attestation + "#0", "10000")],
        "party:factory",
        "party:factory",
        "VN",
        "2025-02-20",
        t,
    )
    w.ids.update(
        origin=origin.attestation,
        to_gin=to_gin.attestation,
        lint=lint.attestation,
        to_factory=to_factory.attestation,
        yarn=yarn.attestation,
        shirts=shirts.attestation,
        to_acme=to_acme.attestation,
        shipment=shipment.attestation,
    )
    w.ids["shipment_index"] = str(shipment.index)


def _rival(w: World) -> None:
    s = w.scenario
    t = T0 - 10 * DAY
    origin = s.origin(
        "party:rival",
        "facility:rival",
        "seed cotton",
        "5201.00",
        [output("KS-1", "seed cotton", "5201.00", "500")],
        "2024-11-01",
        t,
    )
    sale = s.transfer(
        "party:rival",
        "party:globex",
        [(origin.attestation + "#0", "500")],
        [output("KS-1", "seed cotton", "5201.00", "500")],
        t - DAY,
        t,
        invoice="INV-K1",
    )
    shipment = s.shipment(
        "party:globex",
        "GLX-7654321-0",
        [(sale.attestation + "#0", "500")],
        "party:rival",
        "party:rival",
        "CN",
        "2025-02-25",
        t,
        hts_code="5201.00.1800",
        description="Seed cotton, not carded or combed",
    )
    w.ids.update(
        rival_origin=origin.attestation,
        rival_sale=sale.attestation,
        rival_shipment=shipment.attestation,
    )


#: A realistic allegation against the rival's farm (anonymous), for the access tests.
ALLEGATION = {
    "v": 1,
    "alleged": [{"name": "Kashgar Cotton Co.", "role": "producer", "country": "CN"}],
    "merchandise": {"description": "Seed cotton", "hs_codes": ["5201.00"]},
    "production": {"country": "CN", "region": "CN-XJ", "facility": "Kashgar Farm"},
    "indicators": ["restriction-of-movement", "withholding-of-wages"],
    "statement": "Pickers bussed in under a labour transfer programme could not leave.",
}


def add_allegation(w: World) -> None:
    """Submit :data:`ALLEGATION` (appended after everything else) as ``ids["allegation"]``."""
    import json

    from ledger.allegation import parse_allegation
    from ledger.storage.allegations import AllegationStore

    store = AllegationStore(w.ledger)
    receipt = store.submit(parse_allegation(json.dumps(ALLEGATION).encode()))
    w.ids["allegation"] = receipt.allegation


XINJIANG_WRO = "wro-2021-01-13-xinjiang-cotton-tomato"


def add_enforcement(w: World) -> None:
    """CBP's steps: Globex's Xinjiang cotton detained under the WRO and excluded; Acme's
    garments detained under the UFLPA and answered (pending a determination)."""
    s = w.scenario
    glx = s.detain(
        "party:cbp", w.ids["rival_shipment"], XINJIANG_WRO, "2025-02-25", "2025-02-26", T0,
        reason="Cotton produced in the XUAR",
    )
    s.determine(
        "party:cbp", w.ids["rival_shipment"], glx.attestation, "excluded", "2025-02-28", T0,
        reasons="No certificate of origin",
    )
    acm = s.detain("party:cbp", w.ids["shipment"], "uflpa", "2025-02-20", "2025-02-24", T0)
    s.submit_admissibility(
        "party:acme", w.ids["shipment"], acm.attestation, "applicability-review", "cd" * 32, T0
    )
    w.ids.update(glx_detention=glx.attestation, acm_detention=acm.attestation)
