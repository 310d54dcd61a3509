"""Allegations: intake limits, confidential storage, the hash-only receipt, CBP's links.

Every ledger test runs on SQLite and PostgreSQL. The receipt is checked the way its
submitter would check it, offline against the trust root; the whole-log audit must
still pass with receipts among ordinary entries.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import TestResponse

import pg
from api import create_app
from api.ratelimit import RateLimiter, client_key
from api_fixtures import World, build_world, problem
from conftest import BACKENDS, PASSPHRASE, T0, run_cli
from ledger.allegation import (
    MAX_UPLOAD_BYTES,
    check_stored,
    parse_allegation,
    verify_allegation_receipt,
)
from ledger.audit import audit_log
from ledger.errors import LedgerError
from ledger.storage.allegations import AllegationStore

PDF = b"%PDF-1.7 payroll ledger, Kashgar Cotton Co., wages withheld three months"

ALLEGATION: dict[str, Any] = {
    "v": 1,
    "alleged": [
        {
            "name": "Kashgar Cotton Co.",
            "aliases": ["Kashi Mianhua"],
            "role": "producer",
            "country": "CN",
            "address": {"locality": "Kashgar", "region": "CN-XJ", "country": "CN"},
            "party": "party:rival",
        }
    ],
    "merchandise": {"description": "Seed cotton and cotton lint", "hs_codes": ["5201.00"]},
    "production": {"country": "CN", "region": "CN-XJ", "facility": "Kashgar Farm"},
    "indicators": ["withholding-of-wages", "restriction-of-movement"],
    "period": {"from": "2024-09-01", "to": "2024-11-30"},
    "statement": "Pickers transferred from other prefectures under a labour programme "
    "were not free to leave and were paid months late.",
    "evidence": [
        {
            "name": "payroll.pdf",
            "media_type": "application/pdf",
            "sha256": hashlib.sha256(PDF).hexdigest(),
            "size": len(PDF),
            "content": base64.b64encode(PDF).decode(),
        },
        {"name": "video.mp4", "sha256": "ab" * 32, "size": 48_000_000},
    ],
}


def body(**changes: Any) -> bytes:
    value = copy.deepcopy(ALLEGATION)
    value.update(changes)
    return json.dumps(value).encode()


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    db = None if request.param == "sqlite" else pg.fresh_schema()
    w = build_world(tmp_path_factory.mktemp("allegations"), db)
    yield w
    w.ledger.store.close()


def _client(world: World, **config: Any) -> Any:
    return create_app(ledger=world.ledger, config=config).test_client()


def _submit(client: Any, data: bytes, address: str = "198.51.100.7") -> TestResponse:
    response: TestResponse = client.post(
        "/v1/allegations", data=data, environ_base={"REMOTE_ADDR": address}
    )
    return response


# -- intake: what is refused, with which code ------------------------------------------


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"{not json", 400, "MALFORMED"),
        (b'{"v": 1, "v": 1}', 400, "MALFORMED"),
        (b"[]", 400, "MALFORMED"),
        (body(statement="short"), 422, "SCHEMA"),
        (body(alleged=[]), 422, "SCHEMA"),
        (body(indicators=["forced-smiling"]), 422, "SCHEMA"),
        (body(period={"from": "2025-02-30"}), 422, "SCHEMA"),
        (body(period={"from": "2025-03-01", "to": "2025-02-01"}), 422, "SCHEMA"),
        (body(contact={"email": "no at sign"}), 422, "SCHEMA"),
        (body(surprise=True), 422, "SCHEMA"),
    ],
    ids=[
        "not JSON",
        "duplicate key",
        "not an object",
        "no real statement",
        "nobody alleged",
        "unknown indicator",
        "unreal date",
        "period backwards",
        "bad email",
        "unknown field",
    ],
)
def test_malformed_submissions_get_a_problem_with_a_code(
    world: World, data: bytes, status: int, code: str
) -> None:
    before = world.ledger.size()
    response = _submit(_client(world), data)
    problem(response, status, code)
    assert world.ledger.size() == before  # nothing written


def test_an_upload_must_be_the_file_it_declares(world: World) -> None:
    evidence = copy.deepcopy(ALLEGATION["evidence"])
    evidence[0]["sha256"] = "00" * 32
    detail = problem(_submit(_client(world), body(evidence=evidence)), 422, "SCHEMA")["detail"]
    assert "evidence[0]" in detail


def test_oversized_submissions_and_uploads_are_413(world: World) -> None:
    client = _client(world, LOTCHAIN_ALLEGATION_MAX_BYTES=4096)
    problem(_submit(client, body(statement="x" * 5000)), 413, "TOO_LARGE")
    big = b"\0" * (MAX_UPLOAD_BYTES + 1)
    evidence = [
        {
            "name": "scan.tif",
            "sha256": hashlib.sha256(big).hexdigest(),
            "size": len(big),
            "content": base64.b64encode(big).decode(),
        }
    ]
    problem(_submit(_client(world), body(evidence=evidence)), 413, "TOO_LARGE")
    with pytest.raises(LedgerError) as raised:
        parse_allegation(b" " * (2 << 20))
    assert raised.value.code == "TOO_LARGE"


def test_too_frequent_submissions_get_429_with_retry_after(world: World) -> None:
    client = _client(world, LOTCHAIN_ALLEGATION_RATE=2, LOTCHAIN_ALLEGATION_WINDOW=600)
    assert _submit(client, body()).status_code == 201
    assert _submit(client, b"{not json").status_code == 400  # counted too
    refused = _submit(client, body())
    problem(refused, 429, "RATE_LIMITED")
    assert 1 <= int(refused.headers["Retry-After"]) <= 600
    assert _submit(client, body(), address="203.0.113.9").status_code == 201  # another client


def test_the_limit_holds_across_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    limiter = RateLimiter(25, 60)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: limiter.hit("192.0.2.1"), range(200)))
    assert sum(r is None for r in results) == 25


def test_the_window_slides() -> None:
    now = [0.0]
    limiter = RateLimiter(1, 10, clock=lambda: now[0])
    assert limiter.hit("a") is None
    assert limiter.hit("a") == 10
    now[0] = 10.5
    assert limiter.hit("a") is None


def test_client_addresses_behind_proxies_and_ipv6() -> None:
    assert client_key("10.0.0.1", "198.51.100.7", 0) == "10.0.0.1"  # header not believed
    assert client_key("10.0.0.1", "6.6.6.6, 198.51.100.7", 1) == "198.51.100.7"
    assert client_key("10.0.0.1", "198.51.100.7, 10.0.0.2", 2) == "198.51.100.7"
    assert client_key("2001:db8::1", None, 0) == client_key("2001:db8::ffff", None, 0)
    assert client_key("::ffff:192.0.2.1", None, 0) == "192.0.2.1"


# -- the receipt -----------------------------------------------------------------------


def test_the_receipt_verifies_and_a_changed_byte_fails_it(world: World) -> None:
    data = body()
    response = _submit(_client(world), data, address="192.0.2.50")
    assert response.status_code == 201, response.get_data(as_text=True)
    receipt = response.get_json()
    assert response.headers["Location"] == f"/v1/allegations/{receipt['allegation']}"
    trust = world.ledger.trust
    checked = verify_allegation_receipt(receipt, trust, data)
    assert checked.allegation_checked and checked.index == receipt["index"]
    assert verify_allegation_receipt(receipt, trust).allegation_checked is False
    changed = data.replace(b"paid months late", b"paid months lane")
    with pytest.raises(LedgerError) as raised:
        verify_allegation_receipt(receipt, trust, changed)
    assert raised.value.code == "LOG_INCLUSION"
    for field, value in (
        ("salt", base64.b64encode(b"\1" * 32).decode()),
        ("content_sha256", "sha256:" + "0" * 64),
        ("index", receipt["index"] + 1),
    ):
        with pytest.raises(LedgerError):
            verify_allegation_receipt({**receipt, field: value}, trust, data)


def test_the_leaf_and_envelope_reveal_nothing_of_the_allegation(world: World) -> None:
    data = body()
    receipt = _submit(_client(world), data, address="192.0.2.51").get_json()
    leaf = json.loads(base64.b64decode(receipt["leaf"]))
    payload = json.loads(base64.b64decode(receipt["envelope"]["payload"]))
    assert payload["type"] == "allegation-receipt"
    assert set(payload["body"]) == {"commitment"}
    content_hash = receipt["content_sha256"]
    public = json.dumps(leaf) + json.dumps(receipt["envelope"])
    assert content_hash.removeprefix("sha256:") not in public
    assert "Kashgar" not in public
    assert payload["issuer"] == world.ledger.trust.registrars[0].party


def test_the_whole_log_audit_passes_with_receipts(world: World) -> None:
    client = _client(world)
    for i in range(3):
        assert _submit(client, body(), address=f"192.0.2.{100 + i}").status_code == 201
    world.scenario.party("party:ngo", "Labour Watch", "GB", ["supplier"], T0)  # after them
    report = audit_log(world.ledger.store, world.ledger.trust)
    assert report.ok, report.to_json()
    assert report.size == world.ledger.size()


def test_only_the_log_key_may_sign_a_receipt_entry(world: World) -> None:
    from ledger.attestation import make_attestation
    from ledger.keys import load_private_key

    registrar = load_private_key(world.root / "home" / "keys" / "registrar.pem", PASSPHRASE)
    att = make_attestation(
        "allegation-receipt",
        "party:registrar",
        {"commitment": "sha256:" + "1" * 64},
        [registrar],
        now=T0,
    )
    response = _client(world).post("/v1/entries", data=att.envelope.canonical)
    problem(response, 422, "KEY_INVALID")


# -- confidential storage and CBP's reads ----------------------------------------------


def test_only_cbp_reads_allegations(world: World) -> None:
    client = world.client()
    ident = _submit(client, body(), address="192.0.2.60").get_json()["allegation"]
    for url in ("/v1/allegations", f"/v1/allegations/{ident}"):
        problem(client.get(url), 401, "UNAUTHORIZED")
        for party in ("party:acme", "party:rival", "party:auditor"):
            problem(client.get(url, headers=world.auth(party)), 403, "FORBIDDEN")
    whole = client.get(f"/v1/allegations/{ident}", headers=world.auth("party:cbp")).get_json()
    assert whole["allegation"] == json.loads(body()) and whole["intact"] is True
    assert whole["anonymous"] is True
    missing = client.get("/v1/allegations/alg_" + "0" * 24, headers=world.auth("party:cbp"))
    problem(missing, 404, "NOT_FOUND")
    # the receipt entry itself: CBP may read its envelope, nobody else
    entry = f"/v1/entries/{whole['receipt_entry']['attestation']}"
    assert client.get(entry, headers=world.auth("party:cbp")).status_code == 200
    problem(client.get(entry, headers=world.auth("party:acme")), 404, "NOT_FOUND")


def test_cbp_pages_through_allegations(world: World) -> None:
    client = world.client()
    for i in range(3):
        _submit(client, body(contact={"name": "R. Reporter"}), address=f"192.0.2.{70 + i}")
    seen: list[str] = []
    cursor = None
    while True:
        url = "/v1/allegations?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=world.auth("party:cbp")).get_json()
        assert len(page["allegations"]) <= 2
        seen += [a["id"] for a in page["allegations"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 3
    listed = AllegationStore(world.ledger).page(limit=1000)[0]
    assert [a.id for a in listed] == seen
    assert "contact" not in json.dumps([a.summary() for a in listed])


def test_links_and_impact(world: World) -> None:
    client = world.client()
    cbp = world.auth("party:cbp")
    ident = _submit(client, body(), address="192.0.2.80").get_json()["allegation"]
    url = f"/v1/allegations/{ident}/links"
    problem(client.post(url, json={"kind": "party", "value": "party:rival"}), 401, "UNAUTHORIZED")
    problem(
        client.post(
            url, json={"kind": "party", "value": "party:rival"}, headers=world.auth("party:acme")
        ),
        403,
        "FORBIDDEN",
    )
    impact = f"/v1/impact?allegation={ident}"
    assert client.get(impact, headers=cbp).get_json()["shipments"] == []
    linked = client.post(url, json={"kind": "party", "value": "party:rival"}, headers=cbp)
    assert linked.status_code == 201, linked.get_data(as_text=True)
    assert linked.get_json()["links"][0]["linked_by"] == "party:cbp"
    found = client.get(impact, headers=cbp).get_json()["shipments"]
    assert [s["entry_number"] for s in found] == ["GLX-7654321-0"]
    client.post(url, json={"kind": "facility", "value": "facility:gin"}, headers=cbp)
    client.post(url, json={"kind": "facility", "value": "facility:gin"}, headers=cbp)  # twice
    found = client.get(impact, headers=cbp).get_json()["shipments"]
    assert [s["entry_number"] for s in found] == ["ACM-1234567-8", "GLX-7654321-0"]
    assert len(AllegationStore(world.ledger).links(ident)) == 2
    for link, status, code in (
        ({"kind": "party", "value": "party:nobody"}, 404, "NOT_FOUND"),
        ({"kind": "region", "value": "Xinjiang"}, 400, "MALFORMED"),
        ({"kind": "vessel", "value": "x"}, 400, "MALFORMED"),
        ({"party": "party:rival"}, 400, "MALFORMED"),
    ):
        problem(client.post(url, json=link, headers=cbp), status, code)
    missing = "/v1/allegations/alg_" + "0" * 24 + "/links"
    link = {"kind": "region", "value": "CN-XJ"}
    problem(client.post(missing, json=link, headers=cbp), 404, "NOT_FOUND")
    region = AllegationStore(world.ledger)
    other = _submit(client, body(), address="192.0.2.81").get_json()["allegation"]
    region.link(other, "region", "CN-65", by=None, now=T0)  # CN-XJ by its other code
    assert [s["entry_number"] for s in region.impact(other)] == ["GLX-7654321-0"]


def test_tampering_with_a_stored_allegation_shows(world: World) -> None:
    receipt = _submit(world.client(), body(), address="192.0.2.90").get_json()
    stored = AllegationStore(world.ledger).get(receipt["allegation"])
    salt = base64.b64decode(receipt["salt"])
    entry = world.ledger.store.find(stored.attestation)
    assert entry is not None and check_stored(stored.content, salt, entry.envelope)
    forged = stored.content.replace(b"Kashgar Cotton Co.", b"Someone Else Ltd.")
    assert not check_stored(forged, salt, entry.envelope)


# -- the command line --------------------------------------------------------------------


def test_cli_submit_list_link_verify_impact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(tmp_path)
    world.ledger.store.close()
    home = str(tmp_path / "home")
    monkeypatch.setenv("LOTCHAIN_PASSPHRASE", PASSPHRASE.decode())
    file = tmp_path / "allegation.json"
    file.write_bytes(body())
    receipt_file = tmp_path / "receipt.json"
    code, out, err = run_cli(
        capsys, "allegation", "submit", "--home", home, "--file", str(file),
        "--receipt", str(receipt_file), "--json",
    )  # fmt: skip
    assert code == 0, err
    ident = json.loads(out)["allegation"]
    code, out, _ = run_cli(
        capsys, "allegation", "verify", str(receipt_file), "--allegation", str(file),
        "--trust-root", f"{home}/keys/trust-root.json", "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["status"] == "pass"
    file.write_bytes(body(statement=ALLEGATION["statement"] + "!"))
    code, _, err = run_cli(
        capsys, "allegation", "verify", str(receipt_file), "--allegation", str(file),
        "--trust-root", f"{home}/keys/trust-root.json",
    )  # fmt: skip
    assert code == 1 and "LOG_INCLUSION" in err
    code, out, _ = run_cli(capsys, "allegation", "list", "--home", home, "--json")
    assert code == 0 and [a["id"] for a in json.loads(out)["allegations"]] == [ident]
    code, out, err = run_cli(
        capsys, "allegation", "link", ident, "--home", home, "--party", "party:rival"
    )
    assert code == 0, err
    code, out, _ = run_cli(capsys, "impact", "--home", home, "--allegation", ident, "--json")
    assert code == 0 and [s["entry_number"] for s in json.loads(out)["shipments"]] == [
        "GLX-7654321-0"
    ]
    code, out, err = run_cli(
        capsys, "allegation", "submit", "--home", home, "--name", "Kashgar Cotton Co.",
        "--merchandise", "cotton lint", "--hs", "5201.00", "--region", "CN-XJ",
        "--indicator", "debt-bondage", "--statement", "Workers owe recruitment fees they "
        "cannot repay.", "--evidence", str(receipt_file), "--json",
    )  # fmt: skip
    assert code == 0, err
    code, _, err = run_cli(
        capsys, "allegation", "submit", "--home", home, "--name", "X", "--merchandise", "y",
        "--statement", "too short",
    )  # fmt: skip
    assert code == 2 and "SCHEMA" in err
    audit = audit_log(*_open(home))
    assert audit.ok, audit.to_json()


def _open(home: str) -> tuple[Any, Any]:
    from ledger.home import Home

    ledger = Home(Path(home)).open_ledger(None)
    return ledger.store, ledger.trust


def test_the_cli_indicators_are_the_schemas() -> None:
    from ledger import schemas
    from ledger.allegation import INDICATORS

    schema = schemas.validator("allegation").schema
    assert tuple(schema["properties"]["indicators"]["items"]["enum"]) == INDICATORS


def test_limits_come_from_the_environment(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTCHAIN_ALLEGATION_RATE", "1")
    client = _client(world)
    assert _submit(client, body(), address="192.0.2.200").status_code == 201
    problem(_submit(client, body(), address="192.0.2.200"), 429, "RATE_LIMITED")
    monkeypatch.setenv("LOTCHAIN_ALLEGATION_RATE", "lots")
    with pytest.raises(LedgerError) as raised:
        _client(world)
    assert raised.value.code == "CONFIG"


def test_bundles_still_verify_offline_with_receipts_in_the_log(world: World) -> None:
    from ledger.verify import verify_bundle

    _submit(world.client(), body(), address="192.0.2.210")
    response = world.client().get(
        "/v1/shipments/GLX-7654321-0/bundle", headers=world.auth("party:cbp")
    )
    verdict = verify_bundle(response.get_data(), world.ledger.trust)
    codes = {f.code for f in verdict.findings}
    assert not codes & {"LOG_INCLUSION", "LOG_CHAIN", "SIGNATURE", "KEY_INVALID", "SCHEMA"}
    assert "REGION_HIGH_RISK" in codes  # the verdict itself is unchanged: Xinjiang cotton


def test_an_allegation_edited_in_the_database_is_no_longer_intact(tmp_path: Path) -> None:
    import sqlite3

    w = build_world(tmp_path)
    receipt = _submit(w.client(), body()).get_json()
    url = f"/v1/allegations/{receipt['allegation']}"
    assert w.client().get(url, headers=w.auth("party:cbp")).get_json()["intact"] is True
    w.ledger.store.close()
    with sqlite3.connect(tmp_path / "home" / "lotchain.db") as db:
        db.execute('DROP TRIGGER "allegation_no_update"')  # an operator going around the rules
        db.execute(
            "UPDATE allegation SET content = CAST(replace(content, 'Kashgar', 'Urumqi') AS BLOB) "
            "WHERE id = ?",
            (receipt["allegation"],),
        )
    from ledger.home import Home

    ledger = Home(tmp_path / "home").open_ledger(PASSPHRASE)
    try:
        tokens = {"Authorization": f"Bearer {w.tokens['party:cbp']}"}
        client = create_app(ledger=ledger).test_client()
        whole = client.get(url, headers=tokens).get_json()
        assert whole["intact"] is False
        with pytest.raises(LedgerError):
            verify_allegation_receipt(
                receipt, ledger.trust, json.dumps(whole["allegation"]).encode()
            )
    finally:
        ledger.store.close()


def test_concurrent_submissions_each_get_their_own_entry(world: World) -> None:
    from concurrent.futures import ThreadPoolExecutor

    store = AllegationStore(world.ledger)
    allegation = parse_allegation(body())
    before = world.ledger.size()
    with ThreadPoolExecutor(6) as pool:
        receipts = list(pool.map(lambda _: store.submit(allegation), range(12)))
    assert sorted(r.entry.index for r in receipts) == list(range(before, before + 12))
    for receipt in receipts:
        verify_allegation_receipt(receipt.to_json(), world.ledger.trust, body())
    assert len({r.salt for r in receipts}) == 12  # the same allegation, 12 commitments
    assert audit_log(world.ledger.store, world.ledger.trust).ok
