"""Entries through the real app: append, batch, read back; and every generic error path."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import peewee as pw
import pytest
from flask.testing import FlaskClient

import pg
from api import create_app
from api_fixtures import World, build_world, problem
from conftest import BACKENDS, T0
from ledger import merkle
from ledger.attestation import Attestation
from ledger.canonical import canonical_bytes
from ledger.checkpoint import verify_checkpoint
from ledger.dsse import sign_envelope
from ledger.scenario import doc_hash


@pytest.fixture(params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    db = None if request.param == "sqlite" else pg.fresh_schema()
    w = build_world(tmp_path_factory.mktemp("entries"), db)
    yield w
    w.ledger.store.close()


@pytest.fixture
def client(world: World) -> FlaskClient:
    return world.client()


def _audit(world: World, facility: str = "facility:gin", date: str = "2025-02-27") -> Attestation:
    body = {
        "facility": facility,
        "scheme": "SA8000",
        "audit_date": date,
        "result": "pass",
        "topics": ["debt-bondage"],
        "findings": [],
        "evidence_sha256": doc_hash(f"report {facility} {date}"),
    }
    return world.scenario.sign("audit", "party:auditor", body, T0)


def _check_receipt(world: World, receipt: dict[str, Any]) -> None:
    cp = verify_checkpoint(receipt["checkpoint"].encode(), world.ledger.trust.log_vkey)
    proof = merkle.InclusionProof.from_json(receipt["inclusion"])
    assert proof.leaf_hash == merkle.leaf_hash(base64.b64decode(receipt["leaf"]))
    proof.verify(cp.root)


def test_append_needs_no_token_and_returns_a_verifiable_receipt(
    world: World, client: FlaskClient
) -> None:
    att = _audit(world)
    response = client.post("/v1/entries", data=att.envelope.canonical)
    assert response.status_code == 201, response.get_json()
    receipt = response.get_json()
    assert receipt["attestation"] == att.id
    assert response.headers["Location"] == f"/v1/entries/{att.id}"
    _check_receipt(world, receipt)
    # a token is irrelevant to writes: even a bogus one does not stop a signed envelope
    other = _audit(world, date="2025-02-28")
    headers = {"Authorization": "Bearer lct_bogus"}
    assert (
        client.post("/v1/entries", data=other.envelope.canonical, headers=headers).status_code
        == 201
    )
    # the auditor reads back what it issued
    entry = client.get(f"/v1/entries/{att.id}", headers=world.auth("party:auditor")).get_json()
    assert entry["index"] == receipt["index"] and entry["type"] == "audit"
    assert entry["envelope"] == json.loads(att.envelope.canonical)


def test_append_refusals_carry_the_admission_code(world: World, client: FlaskClient) -> None:
    att = _audit(world)
    assert client.post("/v1/entries", data=att.envelope.canonical).status_code == 201
    replay = problem(client.post("/v1/entries", data=att.envelope.canonical), 409, "REPLAY")
    assert replay["attestation"] == att.id
    problem(client.post("/v1/entries", data=b"{not json"), 400, "MALFORMED")
    problem(client.post("/v1/entries", data=b""), 400, "MALFORMED")
    problem(client.post("/v1/entries", data=b"[1]"), 400, "MALFORMED")
    tampered = json.loads(_audit(world, date="2025-02-26").envelope.canonical)
    sig = bytearray(base64.b64decode(tampered["signatures"][0]["sig"]))
    sig[0] ^= 1
    tampered["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    problem(client.post("/v1/entries", json=tampered), 422, "SIGNATURE")
    # a supplier may not issue audits
    body = json.loads(base64.b64decode(json.loads(att.envelope.canonical)["payload"]))["body"]
    wrong = world.scenario.sign("audit", "party:gin", {**body, "audit_date": "2025-01-05"}, T0)
    problem(client.post("/v1/entries", data=wrong.envelope.canonical), 403, "ROLE")
    # a canonical, signed payload whose body breaks the audit schema
    incomplete = {k: v for k, v in body.items() if k != "facility"}
    payload = {
        "v": 1,
        "type": "audit",
        "issuer": "party:auditor",
        "issued_at": "2025-03-01T08:00:00Z",
        "nonce": "ab" * 16,
        "body": incomplete,
    }
    signer = world.scenario.signers["party:auditor"]
    envelope = sign_envelope(canonical_bytes(payload), [signer])
    refused = problem(client.post("/v1/entries", data=envelope.canonical), 422, "SCHEMA")
    assert refused["schema"] == "audit"


def test_double_spend_is_refused_at_append(world: World, client: FlaskClient) -> None:
    s = world.scenario
    lot = world.ids["to_acme"] + "#0"  # Acme already shipped all 10000 pieces of it
    body = {
        "entry_number": "ACM-7777777-1",
        "hts_lines": [
            {
                "hts_code": "6109.10.0012",
                "description": "T-shirts",
                "quantity": {"amount": "1", "unit": "pcs"},
            }
        ],
        "exporter": "party:factory",
        "manufacturer": "party:factory",
        "country_of_origin": "VN",
        "arrival_date": "2025-02-28",
        "inputs": [{"ref": lot, "amount": "1"}],
    }
    again = s.sign("shipment", "party:acme", body, T0)
    refused = problem(
        client.post("/v1/entries", data=again.envelope.canonical), 409, "OVERCONSUMED"
    )
    assert "remain" in refused["detail"]


def test_batch_gives_a_result_per_envelope(world: World, client: FlaskClient) -> None:
    good, dup = _audit(world), _audit(world, date="2025-02-25")
    envelopes = [json.loads(a.envelope.canonical) for a in (good, dup, dup)]
    envelopes.append({"payloadType": "x"})
    response = client.post("/v1/entries:batch", json={"envelopes": envelopes})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["accepted"], body["refused"]) == (2, 2)
    statuses = [r["status"] for r in body["results"]]
    assert statuses == [201, 201, 409, 400]
    assert body["results"][2]["problem"]["code"] == "REPLAY"
    assert body["results"][3]["problem"]["code"] == "MALFORMED"
    for result in body["results"][:2]:
        _check_receipt(world, result["receipt"])
    # one commit, one checkpoint: the tree size before the batch's last entry was not signed
    last = body["results"][1]["receipt"]["index"]
    problem(client.get(f"/v1/proofs/inclusion?id=0&tree_size={last}"), 404, "NOT_FOUND")


def test_an_atomic_batch_appends_all_or_none(world: World, client: FlaskClient) -> None:
    good, dup = _audit(world), _audit(world, date="2025-02-25")
    before = client.get("/v1/checkpoint").data
    envelopes = [json.loads(a.envelope.canonical) for a in (good, dup, dup)]
    response = client.post("/v1/entries:batch", json={"envelopes": envelopes, "atomic": True})
    body = response.get_json()
    assert response.status_code == 200 and (body["accepted"], body["refused"]) == (0, 3)
    codes = [r["problem"]["code"] for r in body["results"]]
    assert codes == ["BATCH_REFUSED", "BATCH_REFUSED", "REPLAY"]
    assert client.get("/v1/checkpoint").data == before  # nothing written, no checkpoint
    response = client.post(
        "/v1/entries:batch", json={"envelopes": envelopes[:2], "atomic": True}
    )
    assert response.get_json()["accepted"] == 2
    for result in response.get_json()["results"]:
        _check_receipt(world, result["receipt"])


@pytest.mark.parametrize(
    "payload",
    [
        b"[]",
        b'{"envelopes": []}',
        b'{"envelopes": {}}',
        b'{"envelopes": [], "x": 1}',
        b'{"envelopes": [{}], "atomic": "yes"}',
        b"nope",
    ],
)
def test_batch_shape_errors(client: FlaskClient, payload: bytes) -> None:
    problem(client.post("/v1/entries:batch", data=payload), 400, "MALFORMED")


def test_limits(world: World) -> None:
    config = {"MAX_CONTENT_LENGTH": 1000, "LOTCHAIN_MAX_BATCH": 2, "LOTCHAIN_MAX_QUERY": 64}
    client = create_app(ledger=world.ledger, config=config).test_client()
    problem(client.post("/v1/entries", data=b"x" * 2000), 413, "TOO_LARGE")
    many = {"envelopes": [{}, {}, {}]}
    problem(client.post("/v1/entries:batch", json=many), 413, "TOO_LARGE")
    problem(client.get("/v1/parties?country=" + "A" * 100), 414, "TOO_LARGE")
    # a batch has its own, larger body limit
    envelopes = [
        json.loads(_audit(world, date=f"2025-01-{d:02d}").envelope.canonical) for d in (1, 2)
    ]
    response = client.post("/v1/entries:batch", json={"envelopes": envelopes})
    assert response.status_code == 200 and response.get_json()["accepted"] == 2


def test_read_only_server_refuses_appends(world: World) -> None:
    client = create_app(world.root / "home").test_client()
    try:
        att = _audit(world)
        problem(client.post("/v1/entries", data=att.envelope.canonical), 503, "READ_ONLY")
        problem(client.post("/v1/entries:batch", json={"envelopes": [{}]}), 503, "READ_ONLY")
        assert client.get("/healthz").get_json()["writable"] is False
    finally:
        client.application.extensions["lotchain"].ledger.store.close()


@pytest.mark.parametrize(
    ("ref", "status", "code"),
    [
        ("sha256:" + "1" * 64, 404, "NOT_FOUND"),
        ("99999", 404, "NOT_FOUND"),
        ("-1", 400, "MALFORMED"),
    ],
)
def test_entry_errors(world: World, client: FlaskClient, ref: str, status: int, code: str) -> None:
    problem(client.get(f"/v1/entries/{ref}", headers=world.auth("party:cbp")), status, code)
    problem(client.get(f"/v1/entries/{ref}"), 401, "UNAUTHORIZED")  # no token: before all


def test_http_errors_are_problems(world: World, client: FlaskClient) -> None:
    problem(client.get("/v1/nowhere"), 404, "NOT_FOUND")
    response = client.delete("/v1/checkpoint")
    problem(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["Allow"]
    problem(client.get("/v1/entries"), 405, "METHOD_NOT_ALLOWED")


def test_unexpected_failures_are_problems_without_a_traceback(world: World) -> None:
    app = create_app(ledger=world.ledger)

    def boom() -> str:
        raise RuntimeError("secret internals")

    app.add_url_rule("/boom", view_func=boom)
    response = app.test_client().get("/boom")
    body = problem(response, 500, "INTERNAL")
    assert "secret" not in json.dumps(body)


def test_database_failures_are_503(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    client = create_app(ledger=world.ledger).test_client()

    def down(*_: object, **__: object) -> None:
        raise pw.OperationalError("disk I/O error")

    monkeypatch.setattr(world.ledger.store, "head", down)
    problem(client.get("/v1/checkpoint"), 503, "STORAGE")


def test_health_and_openapi(world: World, client: FlaskClient) -> None:
    health = client.get("/healthz").get_json()
    assert health == {
        "status": "ok",
        "version": health["version"],
        "origin": world.ledger.origin,
        "log_size": world.ledger.size(),
        "writable": True,
    }
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    app = client.application
    rules = {
        rule.rule.replace("<path:", "{").replace("<", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not rule.endpoint.startswith("console.")
    }
    assert rules == set(doc["paths"]), "every API route is documented, and only API routes are"
    for path_item in doc["paths"].values():
        for operation in path_item.values():
            assert operation["responses"], operation["operationId"]
