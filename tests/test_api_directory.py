"""Public directory routes: parties and auditors' certificates with their status."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from api_fixtures import PARTIES, World, build_world, problem
from conftest import T0

ALL_CERTIFICATES = ("FLA-GIN-2025", "FLA-FAC-2025", "FLA-FARM-2023", "FLA-KSH-2025")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = build_world(tmp_path_factory.mktemp("directory"))
    yield w
    w.ledger.store.close()


@pytest.fixture
def client(world: World) -> FlaskClient:
    return world.client()


def test_party_directory_pages_through_every_party(client: FlaskClient) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/v1/parties?{query}").get_json()
        assert len(page["parties"]) <= 3
        seen += [p["party_id"] for p in page["parties"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted({*PARTIES, "party:registrar"})


def test_party_filters(client: FlaskClient) -> None:
    importers = client.get("/v1/parties?role=importer").get_json()["parties"]
    assert [p["party_id"] for p in importers] == ["party:acme", "party:globex"]
    indian = client.get("/v1/parties?country=IN").get_json()["parties"]
    assert {p["party_id"] for p in indian} == {"party:farm", "party:gin"}
    assert client.get("/v1/parties?role=cbp&country=IN").get_json()["parties"] == []


def test_party_detail_has_address_and_keys(world: World, client: FlaskClient) -> None:
    party = client.get("/v1/parties/party:gin").get_json()
    assert party["legal_name"] == "Rajkot Ginning Pvt. Ltd." and party["roles"] == ["supplier"]
    assert party["address"]["country"] == "IN"
    (key,) = party["keys"]
    assert key["key_id"] == world.scenario.signers["party:gin"].key_id
    assert key["revoked_at"] is None
    assert world.ledger.entry(party["index"]).attestation_id == party["attestation"]


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/v1/parties/party:nobody", 404, "NOT_FOUND"),
        ("/v1/parties/Party:Bad", 400, "MALFORMED"),
        ("/v1/parties?role=king", 400, "MALFORMED"),
        ("/v1/parties?country=india", 400, "MALFORMED"),
        ("/v1/parties?limit=0", 400, "MALFORMED"),
        ("/v1/parties?limit=100000", 400, "MALFORMED"),
        ("/v1/parties?cursor=nope", 400, "MALFORMED"),
    ],
)
def test_party_errors(client: FlaskClient, url: str, status: int, code: str) -> None:
    problem(client.get(url), status, code)


def test_certificate_statuses(world: World, client: FlaskClient) -> None:
    """At the log's clock (2025-03-01): valid, expired, and revoked since February."""
    expected = {
        "FLA-GIN-2025": "valid",
        "FLA-FAC-2025": "valid",
        "FLA-FARM-2023": "expired",
        "FLA-KSH-2025": "revoked",
    }
    listed = client.get("/v1/certificates").get_json()
    assert listed["next_cursor"] is None
    assert {c["certificate_id"]: c["status"] for c in listed["certificates"]} == expected
    revoked = client.get("/v1/certificates/FLA-KSH-2025").get_json()
    assert revoked["revocation"]["attestation"] == world.ids["revocation"]
    assert revoked["revocation"]["reason"] == "audit evidence withdrawn"
    by_id = client.get(f"/v1/certificates/{world.ids['cert:FLA-GIN-2025']}").get_json()
    assert by_id["certificate_id"] == "FLA-GIN-2025" and by_id["revocation"] is None
    assert by_id["audits"] == [world.ids["audit:facility:gin"]]


def test_certificate_status_follows_the_clock(world: World, client: FlaskClient) -> None:
    try:
        world.clock.now = T0.replace(year=2024, month=12)
        early = client.get("/v1/certificates/FLA-GIN-2025").get_json()
        assert early["status"] == "not_yet_valid"
        world.clock.now = T0.replace(year=2026)
        assert client.get("/v1/certificates/FLA-GIN-2025").get_json()["status"] == "expired"
    finally:
        world.clock.now = T0


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("facility=facility:gin", ["FLA-GIN-2025"]),
        ("status=valid", ["FLA-GIN-2025", "FLA-FAC-2025"]),
        ("status=revoked", ["FLA-KSH-2025"]),
        ("status=expired&facility=facility:farm", ["FLA-FARM-2023"]),
        ("scheme=sa8000&auditor=party:auditor", [*ALL_CERTIFICATES]),
        ("auditor=party:gin", []),
        ("scheme=BSCI", []),
    ],
)
def test_certificate_search(client: FlaskClient, query: str, ids: list[str]) -> None:
    found = client.get(f"/v1/certificates?{query}").get_json()["certificates"]
    assert [c["certificate_id"] for c in found] == ids


def test_certificate_pages(client: FlaskClient) -> None:
    first = client.get("/v1/certificates?limit=3").get_json()
    assert len(first["certificates"]) == 3 and first["next_cursor"] is not None
    rest = client.get(f"/v1/certificates?limit=3&cursor={first['next_cursor']}").get_json()
    assert [c["certificate_id"] for c in rest["certificates"]] == ["FLA-KSH-2025"]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/v1/certificates/NOPE-1", 404, "NOT_FOUND"),
        ("/v1/certificates/sha256:" + "0" * 64, 404, "NOT_FOUND"),
        ("/v1/certificates/-dash-first", 400, "MALFORMED"),
        ("/v1/certificates?status=great", 400, "MALFORMED"),
        ("/v1/certificates?facility=gin", 400, "MALFORMED"),
        ("/v1/certificates?cursor=-3", 400, "MALFORMED"),
    ],
)
def test_certificate_errors(client: FlaskClient, url: str, status: int, code: str) -> None:
    problem(client.get(url), status, code)


def test_an_audit_id_is_not_a_certificate(world: World, client: FlaskClient) -> None:
    problem(client.get(f"/v1/certificates/{world.ids['audit:facility:gin']}"), 404, "NOT_FOUND")


def test_certificate_numbers_may_contain_slashes(tmp_path: Path) -> None:
    world = build_world(tmp_path)
    audit = world.ids["audit:facility:gin"]
    world.scenario.certificate(
        "party:auditor", "FLA/2025/77", "facility:gin", [audit], "2025-01-01", "2025-06-30", T0
    )
    found = world.client().get("/v1/certificates/FLA/2025/77").get_json()
    world.ledger.store.close()
    assert found["certificate_id"] == "FLA/2025/77" and found["status"] == "valid"
