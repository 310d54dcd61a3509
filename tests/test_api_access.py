"""The access matrix: every read route against every kind of caller.

Callers: anonymous, the parties of the cotton chain (farm, gin, factory), its importer
(Acme), an unrelated importer (Globex) and supplier (rival), an auditor and CBP. Every
answer is also checked against the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis

import pg
from api import create_app
from api_fixtures import World, add_allegation, build_world, problem
from conftest import BACKENDS, T0
from ledger.scenario import output
from ledger.tokens import TokenStore

CALLERS = (
    None,
    "party:farm",
    "party:gin",
    "party:factory",
    "party:acme",
    "party:globex",
    "party:rival",
    "party:auditor",
    "party:cbp",
)
EVERYONE = dict.fromkeys(CALLERS, 200)
TOKEN = {c: 401 if c is None else 200 for c in CALLERS}  # any party's token
ACME = "party:acme"


def only(*parties: str) -> dict[str | None, int]:
    """200 for ``parties`` and CBP, 401 for anonymous, 404 (as if absent) for the rest."""
    allowed = {*parties, "party:cbp"}
    return {c: 401 if c is None else 200 if c in allowed else 404 for c in CALLERS}


#: (name, OpenAPI path, path parameters or query (by world id names), expected by caller)
ROWS: list[tuple[str, str, dict[str, str], dict[str | None, int]]] = [
    ("farm's origin", "/v1/entries/{ref}", {"ref": "@origin"}, only("party:farm", "party:acme")),
    (
        "gin-to-factory transfer",
        "/v1/entries/{ref}",
        {"ref": "@to_factory"},
        only("party:gin", "party:factory", "party:acme"),
    ),
    (
        "factory's sewing",
        "/v1/entries/{ref}",
        {"ref": "@shirts"},
        only("party:factory", "party:acme"),
    ),
    ("Acme's shipment entry", "/v1/entries/{ref}", {"ref": "@shipment"}, only("party:acme")),
    (
        "audit relied on by Acme's chain",
        "/v1/entries/{ref}",
        {"ref": "@audit:facility:gin"},
        only("party:auditor", "party:acme"),
    ),
    (
        "rival's origin",
        "/v1/entries/{ref}",
        {"ref": "@rival_origin"},
        only("party:rival", "party:globex"),
    ),
    ("a party entry (directory)", "/v1/entries/{ref}", {"ref": "0"}, TOKEN),
    ("a certificate entry", "/v1/entries/{ref}", {"ref": "@cert:FLA-GIN-2025"}, TOKEN),
    ("a certificate's revocation", "/v1/entries/{ref}", {"ref": "@revocation"}, TOKEN),
    ("Acme's shipment", "/v1/shipments/{ref}", {"ref": "ACM-1234567-8"}, only("party:acme")),
    (
        "its verdict",
        "/v1/shipments/{ref}/verification",
        {"ref": "ACM-1234567-8"},
        only("party:acme"),
    ),
    ("its bundle", "/v1/shipments/{ref}/bundle", {"ref": "@shipment"}, only("party:acme")),
    ("its graph", "/v1/shipments/{ref}/graph", {"ref": "ACM-1234567-8"}, only("party:acme")),
    (
        "Globex's verdict",
        "/v1/shipments/{ref}/verification",
        {"ref": "GLX-7654321-0"},
        only("party:globex"),
    ),
    ("shipment search", "/v1/shipments", {}, TOKEN),
    (
        "impact",
        "/v1/impact",
        {"?party": "party:gin"},
        {c: 401 if c is None else 200 if c == "party:cbp" else 403 for c in CALLERS},
    ),
    (
        "impact of an allegation",
        "/v1/impact",
        {"?allegation": "@allegation"},
        {c: 401 if c is None else 200 if c == "party:cbp" else 403 for c in CALLERS},
    ),
    (
        "allegations",
        "/v1/allegations",
        {},
        {c: 401 if c is None else 200 if c == "party:cbp" else 403 for c in CALLERS},
    ),
    (
        "an allegation",
        "/v1/allegations/{ident}",
        {"ident": "@allegation"},
        {c: 401 if c is None else 200 if c == "party:cbp" else 403 for c in CALLERS},
    ),
    ("checkpoint", "/v1/checkpoint", {}, EVERYONE),
    ("inclusion proof", "/v1/proofs/inclusion", {"?id": "@origin"}, EVERYONE),
    ("consistency proof", "/v1/proofs/consistency", {"?old": "2"}, EVERYONE),
    ("leaves", "/v1/log/leaves", {"?start": "0", "?end": "100"}, EVERYONE),
    ("party directory", "/v1/parties", {}, EVERYONE),
    ("a party", "/v1/parties/{party_id}", {"party_id": "party:acme"}, EVERYONE),
    ("certificates", "/v1/certificates", {}, EVERYONE),
    ("a certificate", "/v1/certificates/{ref}", {"ref": "FLA-KSH-2025"}, EVERYONE),
    ("health", "/healthz", {}, EVERYONE),
    ("the OpenAPI document", "/openapi.json", {}, EVERYONE),
]


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    db = None if request.param == "sqlite" else pg.fresh_schema()
    w = build_world(tmp_path_factory.mktemp("access"), db)
    add_allegation(w)
    yield w
    w.ledger.store.close()


@pytest.fixture(scope="module")
def api_schema(world: World) -> Any:
    return schemathesis.openapi.from_wsgi("/openapi.json", world.client().application)


def _url(world: World, path: str, values: dict[str, str]) -> str:
    resolved = {k: world.ids[v[1:]] if v.startswith("@") else v for k, v in values.items()}
    query = "&".join(f"{k[1:]}={v}" for k, v in resolved.items() if k.startswith("?"))
    for key, value in resolved.items():
        path = path.replace("{" + key + "}", value)
    return path + ("?" + query if query else "")


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c or "anonymous")
@pytest.mark.parametrize(("name", "path", "values", "expected"), ROWS, ids=[r[0] for r in ROWS])
def test_access_matrix(
    world: World,
    api_schema: Any,
    caller: str | None,
    name: str,
    path: str,
    values: dict[str, str],
    expected: dict[str | None, int],
) -> None:
    response = world.client().get(_url(world, path, values), headers=world.auth(caller))
    status = expected[caller]
    assert response.status_code == status, f"{name} as {caller}: {response.get_data()[:300]!r}"
    if status == 401:
        body = problem(response, 401, "UNAUTHORIZED")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "token" in body["detail"]
    elif status == 403:
        problem(response, 403, "FORBIDDEN")
    elif status == 404:
        problem(response, 404, "NOT_FOUND")
    if path != "/openapi.json":
        api_schema[path]["GET"].validate_response(response)


@pytest.mark.parametrize(
    ("caller", "entry_numbers"),
    [
        ("party:cbp", ["ACM-1234567-8", "GLX-7654321-0"]),
        ("party:acme", ["ACM-1234567-8"]),
        ("party:globex", ["GLX-7654321-0"]),
        ("party:factory", []),  # exporter and manufacturer, but not the importer of record
        ("party:auditor", []),
    ],
)
def test_shipment_search_shows_only_what_the_caller_may_read(
    world: World, caller: str, entry_numbers: list[str]
) -> None:
    page = world.client().get("/v1/shipments", headers=world.auth(caller)).get_json()
    assert [s["entry_number"] for s in page["shipments"]] == entry_numbers


@pytest.mark.parametrize(
    "header",
    ["Bearer lct_" + "A" * 43, "Bearer", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 300, "lct_abc"],
)
def test_bad_tokens_are_401_with_invalid_token(world: World, header: str) -> None:
    response = world.client().get("/v1/shipments", headers={"Authorization": header})
    problem(response, 401, "UNAUTHORIZED")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_public_routes_ignore_tokens_entirely(world: World) -> None:
    headers = {"Authorization": "Bearer nonsense"}
    assert world.client().get("/v1/checkpoint", headers=headers).status_code == 200
    assert world.client().get("/v1/parties/party:acme", headers=headers).status_code == 200


def test_a_revoked_token_stops_working_at_once(world: World) -> None:
    tokens = TokenStore(world.ledger.store)
    issued = tokens.issue("party:cbp", now=T0, label="temporary")
    headers = {"Authorization": f"Bearer {issued.token}"}
    client = world.client()
    assert client.get("/v1/shipments", headers=headers).status_code == 200
    tokens.revoke(issued.info.id, now=T0)
    problem(client.get("/v1/shipments", headers=headers), 401, "UNAUTHORIZED")


def test_roles_are_read_at_request_time(tmp_path: Path) -> None:
    """A token carries a party, not roles: a party re-admitted without cbp loses CBP reads."""
    world = build_world(tmp_path)
    client = create_app(ledger=world.ledger).test_client()
    headers = world.auth("party:cbp")
    assert client.get("/v1/impact?party=party:gin", headers=headers).status_code == 200
    world.scenario.party("party:cbp", "U.S. Customs and Border Protection", "US", ["importer"], T0)
    problem(client.get("/v1/impact?party=party:gin", headers=headers), 403, "FORBIDDEN")
    world.ledger.store.close()


def test_a_new_shipment_extends_its_importers_reads(tmp_path: Path) -> None:
    """Chains are cached; a shipment appended later still opens its chain to the importer."""
    world = build_world(tmp_path)
    client = create_app(ledger=world.ledger).test_client()
    acme = world.auth("party:acme")
    assert client.get(f"/v1/entries/{world.ids['origin']}", headers=acme).status_code == 200
    s = world.scenario
    lot = [output("SC-2", "seed cotton", "5201.00", "100")]
    origin = s.origin(
        "party:farm", "facility:farm", "seed cotton", "5201.00", lot, "2025-02-01", T0
    )
    url = f"/v1/entries/{origin.attestation}"
    problem(client.get(url, headers=acme), 404, "NOT_FOUND")
    sale = s.transfer("party:farm", "party:acme", [(origin.attestation + "#0", "100")], lot, T0, T0)
    s.shipment(
        "party:acme",
        "ACM-2222222-2",
        [(sale.attestation + "#0", "100")],
        "party:farm",
        "party:farm",
        "IN",
        "2025-02-28",
        T0,
    )
    assert client.get(url, headers=acme).status_code == 200
    problem(client.get(url, headers=world.auth("party:globex")), 404, "NOT_FOUND")
    world.ledger.store.close()
