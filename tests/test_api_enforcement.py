"""Enforcement through the API: the shipment's field, the list filter, who reads them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

import pg
from api_fixtures import World, build_world, problem
from conftest import BACKENDS, T0
from ledger import verify

ACME, GLOBEX = "ACM-1234567-8", "GLX-7654321-0"
BUNDLE = "cd" * 32


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The API world, with Acme's shipment detained, answered and released."""
    db = None if request.param == "sqlite" else pg.fresh_schema()
    w = build_world(tmp_path_factory.mktemp("enforcement"), db)
    s, shipment = w.scenario, w.ids["shipment"]
    detention = s.detain("party:cbp", shipment, "uflpa", "2025-02-20", "2025-02-24", T0)
    submission = s.submit_admissibility(
        "party:acme", shipment, detention.attestation, "applicability-review", BUNDLE, T0
    )
    decided = s.determine(
        "party:cbp", shipment, detention.attestation, "released", "2025-03-01", T0
    )
    w.ids.update(
        detention=detention.attestation,
        submission=submission.attestation,
        determination=decided.attestation,
    )
    yield w
    w.ledger.store.close()


@pytest.fixture
def client(world: World) -> FlaskClient:
    return world.client()


def test_the_shipment_shows_its_enforcement(world: World, client: FlaskClient) -> None:
    for party in ("party:cbp", "party:acme"):
        response = client.get(f"/v1/shipments/{ACME}", headers=world.auth(party))
        assert response.status_code == 200
        held = response.get_json()["enforcement"]
        assert held["status"] == "released" and held["legal_basis"] == "uflpa"
        assert held["submit_by"] == "2025-03-26" and held["decide_by"] == "2025-03-22"
        steps = [(h["step"], h["status"], h["attestation"]) for h in held["history"]]
        assert steps == [
            ("detention", "detained", world.ids["detention"]),
            ("admissibility", "submitted", world.ids["submission"]),
            ("determination", "released", world.ids["determination"]),
        ]
        assert held["history"][1]["bundle_sha256"] == BUNDLE


def test_a_shipment_never_detained_says_none(world: World, client: FlaskClient) -> None:
    response = client.get(f"/v1/shipments/{GLOBEX}", headers=world.auth("party:cbp"))
    assert response.get_json()["enforcement"] == {
        "shipment": world.ids["rival_shipment"],
        "status": "none",
    }


def test_others_get_the_answer_of_a_missing_shipment(world: World, client: FlaskClient) -> None:
    missing = problem(
        client.get("/v1/shipments/ACM-7777777-7", headers=world.auth("party:globex")),
        404,
        "NOT_FOUND",
    )
    other = problem(
        client.get(f"/v1/shipments/{ACME}", headers=world.auth("party:globex")), 404, "NOT_FOUND"
    )
    assert {k: v for k, v in missing.items() if k not in ("detail", "instance")} == {
        k: v for k, v in other.items() if k not in ("detail", "instance")
    }
    problem(client.get(f"/v1/shipments/{ACME}"), 401, "UNAUTHORIZED")


@pytest.mark.parametrize(
    ("query", "party", "found"),
    [
        ("enforcement=released", "party:cbp", [ACME]),
        ("enforcement=none", "party:cbp", [GLOBEX]),
        ("enforcement=detained", "party:cbp", []),
        ("enforcement=released", "party:acme", [ACME]),
        ("enforcement=released", "party:globex", []),
        ("enforcement=none", "party:globex", [GLOBEX]),
    ],
)
def test_the_list_filters_by_enforcement(
    world: World, client: FlaskClient, query: str, party: str, found: list[str]
) -> None:
    response = client.get(f"/v1/shipments?{query}", headers=world.auth(party))
    assert response.status_code == 200, response.get_data(as_text=True)
    items = response.get_json()["shipments"]
    assert [s["entry_number"] for s in items] == found
    assert all(s["enforcement"] == query.split("=")[1] for s in items)


def test_status_still_means_the_verdict(world: World, client: FlaskClient) -> None:
    response = client.get(
        "/v1/shipments?status=pass&enforcement=released", headers=world.auth("party:cbp")
    )
    assert response.status_code == 200
    items = response.get_json()["shipments"]
    expected = verify.verify_shipment_online(world.ledger, world.ids["shipment"]).status
    assert [s["entry_number"] for s in items] == ([ACME] if expected == "pass" else [])
    problem(
        client.get("/v1/shipments?enforcement=held", headers=world.auth("party:cbp")),
        400,
        "MALFORMED",
    )


def test_the_importer_reads_cbp_steps_on_its_own_shipment(
    world: World, client: FlaskClient
) -> None:
    for ref in ("detention", "determination"):
        url = f"/v1/entries/{world.ids[ref]}"
        assert client.get(url, headers=world.auth("party:acme")).status_code == 200
        problem(client.get(url, headers=world.auth("party:globex")), 404, "NOT_FOUND")


def test_the_verification_route_reports_enforcement(world: World, client: FlaskClient) -> None:
    response = client.get(f"/v1/shipments/{ACME}/verification", headers=world.auth("party:acme"))
    assert response.status_code == 200
    assert response.get_json()["summary"]["enforcement"]["status"] == "released"


def test_the_verdict_reports_enforcement_and_keeps_its_status(world: World) -> None:
    verdict = verify.verify_shipment_online(world.ledger, world.ids["shipment"])
    assert verify.with_enforcement(world.ledger, verdict).summary["enforcement"]["status"] == (
        "released"
    )
    bundle = verify.build_bundle(world.ledger, world.ids["shipment"])
    import json

    offline = verify.verify_bundle(json.dumps(bundle).encode(), world.ledger.trust, now=T0)
    assert offline.status == verdict.status
