"""Shipments through the real app: lookup, search filters, verdict, bundle, graph, impact."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from api import create_app
from api_fixtures import World, build_world, problem
from ledger import verify

ACME, GLOBEX = "ACM-1234567-8", "GLX-7654321-0"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = build_world(tmp_path_factory.mktemp("shipments"))
    yield w
    w.ledger.store.close()


@pytest.fixture
def client(world: World) -> FlaskClient:
    return world.client()


def _get(world: World, client: FlaskClient, url: str, party: str = "party:cbp") -> object:
    response = client.get(url, headers=world.auth(party))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_a_shipment_by_id_entry_number_or_index(world: World, client: FlaskClient) -> None:
    by_number = _get(world, client, f"/v1/shipments/{ACME}")
    assert isinstance(by_number, dict)
    assert by_number["attestation"] == world.ids["shipment"]
    assert by_number["importer"] == "party:acme" and by_number["hts_codes"] == ["6109.10.0012"]
    assert by_number["body"]["inputs"][0]["ref"] == world.ids["to_acme"] + "#0"
    assert by_number["links"]["bundle"] == f"/v1/shipments/{world.ids['shipment']}/bundle"
    for ref in (world.ids["shipment"], world.ids["shipment_index"], "ACM12345678"):
        assert _get(world, client, f"/v1/shipments/{ref}") == by_number


@pytest.mark.parametrize(
    ("ref", "status", "code"),
    [
        ("ZZZ-0000000-0", 404, "NOT_FOUND"),
        ("sha256:" + "2" * 64, 404, "NOT_FOUND"),
        ("0", 404, "NOT_FOUND"),  # entry 0 exists but is not a shipment
        ("99999", 404, "NOT_FOUND"),
        ("not a ref", 400, "MALFORMED"),
    ],
)
def test_shipment_lookup_errors(
    world: World, client: FlaskClient, ref: str, status: int, code: str
) -> None:
    for suffix in ("", "/verification", "/bundle", "/graph"):
        problem(
            client.get(f"/v1/shipments/{ref}{suffix}", headers=world.auth("party:cbp")),
            status,
            code,
        )


def test_verdicts_pass_and_fail_with_reasons(world: World, client: FlaskClient) -> None:
    acme = _get(world, client, f"/v1/shipments/{ACME}/verification", "party:acme")
    assert isinstance(acme, dict)
    assert acme["shipment"] == world.ids["shipment"] and acme["status"] == "pass"
    globex = _get(world, client, f"/v1/shipments/{GLOBEX}/verification", "party:globex")
    assert isinstance(globex, dict) and globex["status"] == "fail"
    assert "REGION_HIGH_RISK" in {f["code"] for f in globex["findings"]}


def test_the_bundle_reverifies_offline_to_the_same_verdict(
    world: World, client: FlaskClient
) -> None:
    response = client.get(f"/v1/shipments/{GLOBEX}/bundle", headers=world.auth("party:globex"))
    assert response.status_code == 200
    assert (
        response.headers["Content-Disposition"] == 'attachment; filename="bundle-GLX76543210.json"'
    )
    offline = verify.verify_bundle(response.data, world.ledger.trust, now=world.clock())
    online = _get(world, client, f"/v1/shipments/{GLOBEX}/verification", "party:globex")
    assert isinstance(online, dict)
    assert offline.status == online["status"] == "fail"
    assert sorted(f["code"] for f in offline.to_json()["findings"]) == sorted(
        f["code"] for f in online["findings"]
    )


def test_the_graph_reaches_the_origin(world: World, client: FlaskClient) -> None:
    graph = _get(world, client, f"/v1/shipments/{ACME}/graph", "party:acme")
    assert isinstance(graph, dict) and graph["shipment"] == world.ids["shipment"]
    nodes = {n["attestation"] for n in graph["nodes"]}
    assert {world.ids[k] for k in ("origin", "lint", "yarn", "shirts", "to_acme")} <= nodes
    edge = next(e for e in graph["edges"] if e["to"] == world.ids["shipment"])
    assert edge["from"] == world.ids["to_acme"] and edge["amount"] == "10000"


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("", [ACME, GLOBEX]),
        ("hs=6109", [ACME]),
        ("hs=6109.10.0012", [ACME]),
        ("hs=5201", [GLOBEX]),
        ("hs=84", []),
        ("party=party:gin", [ACME]),  # upstream only
        ("party=party:factory", [ACME]),  # named on the entry
        ("party=party:acme", [ACME]),
        ("party=party:rival", [GLOBEX]),
        ("party=party:auditor", []),
        ("facility=facility:farm", [ACME]),
        ("facility=facility:rival", [GLOBEX]),
        ("region=IN-GJ", [ACME]),
        ("region=CN-XJ", [GLOBEX]),
        ("region=CN-65", [GLOBEX]),  # the old code of Xinjiang
        ("region=US-TX", []),
        ("country=VN", [ACME]),  # declared origin
        ("country=IN", [ACME]),  # the farm and gin of its chain
        ("country=CN", [GLOBEX]),
        ("country=US", []),
        ("arrived_from=2025-02-21", [GLOBEX]),
        ("arrived_to=2025-02-20", [ACME]),
        ("arrived_from=2025-02-20&arrived_to=2025-02-25", [ACME, GLOBEX]),
        ("status=pass", [ACME]),
        ("status=fail", [GLOBEX]),
        ("status=review", []),
        ("region=CN-XJ&hs=6109", []),
        ("country=IN&status=pass&facility=facility:gin", [ACME]),
    ],
)
def test_search_filters(world: World, client: FlaskClient, query: str, found: list[str]) -> None:
    page = _get(world, client, f"/v1/shipments?{query}")
    assert isinstance(page, dict)
    assert [s["entry_number"] for s in page["shipments"]] == found
    assert page["next_cursor"] is None
    if "status=" in query:
        assert all("status" in s for s in page["shipments"])


def test_search_pages_with_a_cursor(world: World, client: FlaskClient) -> None:
    first = _get(world, client, "/v1/shipments?limit=1")
    assert isinstance(first, dict)
    assert [s["entry_number"] for s in first["shipments"]] == [ACME]
    second = _get(world, client, f"/v1/shipments?limit=1&cursor={first['next_cursor']}")
    assert isinstance(second, dict)
    assert [s["entry_number"] for s in second["shipments"]] == [GLOBEX]
    last = _get(world, client, f"/v1/shipments?limit=1&cursor={second['next_cursor']}")
    assert last == {"shipments": [], "next_cursor": None}


def test_search_stops_at_its_scan_budget(world: World) -> None:
    """An unselective filter never scans the whole log in one request: it pages."""
    client = create_app(ledger=world.ledger, config={"LOTCHAIN_SCAN_BUDGET": 1}).test_client()
    headers = world.auth("party:cbp")
    first = client.get("/v1/shipments?hs=5201", headers=headers).get_json()
    assert first["shipments"] == [] and first["next_cursor"] is not None
    rest = client.get(f"/v1/shipments?hs=5201&cursor={first['next_cursor']}", headers=headers)
    assert [s["entry_number"] for s in rest.get_json()["shipments"]] == [GLOBEX]


@pytest.mark.parametrize(
    "query",
    [
        "country=cn",
        "region=XJ",
        "hs=x",
        "arrived_from=2025-02-30",
        "arrived_to=yesterday",
        "status=ok",
        "party=acme",
        "facility=farm",
        "limit=0",
        "cursor=abc",
        "regoin=CN-XJ",  # a misspelt filter must not silently widen the search
        "hs=6109&hs=5201",
    ],
)
def test_search_errors(world: World, client: FlaskClient, query: str) -> None:
    problem(client.get(f"/v1/shipments?{query}", headers=world.auth("party:cbp")), 400, "MALFORMED")


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("party=party:gin", [ACME]),
        ("facility=facility:rival", [GLOBEX]),
        ("region=CN-XJ", [GLOBEX]),
        ("region=CN-65", [GLOBEX]),
        ("lot=TS-1", [ACME]),
        ("party=party:farm&region=CN-XJ", [ACME, GLOBEX]),
    ],
)
def test_impact(world: World, client: FlaskClient, query: str, found: list[str]) -> None:
    result = _get(world, client, f"/v1/impact?{query}")
    assert isinstance(result, dict)
    assert sorted(s["entry_number"] for s in result["shipments"]) == found
    assert set(result["query"]) == {part.split("=")[0] for part in query.split("&")}


@pytest.mark.parametrize("query", ["", "region=xj", "party=gin", "lot=" + "x" * 200, "size=3"])
def test_impact_errors(world: World, client: FlaskClient, query: str) -> None:
    problem(client.get(f"/v1/impact?{query}", headers=world.auth("party:cbp")), 400, "MALFORMED")
