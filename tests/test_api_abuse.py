"""The API probed as a hostile party: oracles, refusals that disclose, entry numbers.

A read the caller may not make must look exactly like a read of something absent; a
refused write must not name what its signer may not read; an entry number is one
entry however it is written, and only its importer (by filer code) may declare it.
The front servers' own limits are in ``test_api_front.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import pg
from api_fixtures import DAY, World, add_allegation, build_world, problem
from conftest import BACKENDS, T0
from ledger.entrynumber import normalise, spellings
from ledger.errors import SchemaError
from ledger.scenario import doc_hash, output

README = Path(__file__).resolve().parents[1] / "README.md"
ATTESTATION = re.compile(r"sha256:[0-9a-f]{64}")


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    db = None if request.param == "sqlite" else pg.fresh_schema()
    w = build_world(tmp_path_factory.mktemp("abuse"), db)
    add_allegation(w)
    yield w
    w.ledger.store.close()


@pytest.fixture
def client(world: World) -> FlaskClient:
    return world.client()


def _shape(response: TestResponse, ref: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, body and headers with the asked-for reference blanked out."""
    named = re.compile(rf"(?<![\w:-]){re.escape(ref)}(?![\w-])")
    body = {
        k: named.sub("<ref>", v) if isinstance(v, str) else v
        for k, v in response.get_json().items()
    }
    headers = {k: named.sub("<ref>", v) for k, v in response.headers.items()}
    headers.pop("Content-Length", None)  # the reference's own length, nothing else
    return response.status_code, body, headers


# -- existence and type oracles -----------------------------------------------------


def _refs(world: World) -> dict[str, str]:
    """References of every kind: existing (each type), made up, out of range."""
    return {
        "Acme's shipment by entry number": "ACM-1234567-8",
        "Acme's shipment without dashes": "ACM12345678",
        "Acme's shipment by id": world.ids["shipment"],
        "Acme's shipment by index": world.ids["shipment_index"],
        "a made-up entry number": "ACM-9999999-9",
        "an eleven-digit value": "00000000013",
        "another eleven-digit value": "12345678901",
        "a transfer by index": str(world.ledger.store.find(world.ids["to_gin"]).index),  # type: ignore[union-attr]
        "a party entry by index": "1",
        "the registrar's entry": "0",
        "an index past the end": "99999",
        "a transfer by id": world.ids["to_gin"],
        "a certificate by id": world.ids["cert:FLA-GIN-2025"],
        "a made-up id": "sha256:" + "ab" * 32,
    }


PROTECTED = (
    "/v1/shipments/{ref}",
    "/v1/shipments/{ref}/verification",
    "/v1/shipments/{ref}/bundle",
    "/v1/shipments/{ref}/graph",
    "/v1/entries/{ref}",
)


@pytest.mark.parametrize("template", PROTECTED)
def test_without_a_token_every_reference_gets_the_same_401(
    world: World, client: FlaskClient, template: str
) -> None:
    """401 before any lookup: nothing about the thing named can be read off the answer."""
    shapes = set()
    for ref in _refs(world).values():
        if template.startswith("/v1/entries/") and not re.fullmatch(r"sha256:.*|\d{1,11}", ref):
            continue  # not an entry reference at all (400 for everyone, token or not)
        response = client.get(template.format(ref=ref))
        problem(response, 401, "UNAUTHORIZED")
        status, body, headers = _shape(response, ref)
        shapes.add((status, repr(sorted(body.items())), repr(sorted(headers.items()))))
    assert len(shapes) == 1, shapes


@pytest.mark.parametrize("template", PROTECTED[:4])
@pytest.mark.parametrize("caller", ["party:globex", "party:rival", "party:farm"])
def test_a_shipment_the_caller_may_not_read_looks_missing(
    world: World, client: FlaskClient, template: str, caller: str
) -> None:
    """Another importer's shipment, a non-shipment entry and nothing at all: one 404."""
    shapes = set()
    for name, ref in _refs(world).items():
        response = client.get(template.format(ref=ref), headers=world.auth(caller))
        problem(response, 404, "NOT_FOUND")
        status, body, headers = _shape(response, ref)
        shapes.add((status, repr(sorted(body.items())), repr(sorted(headers.items()))))
        assert "transfer" not in body["detail"] and "party" not in body["detail"], name
    assert len(shapes) == 1, shapes


def test_for_cbp_an_index_of_another_type_is_a_missing_shipment(
    world: World, client: FlaskClient
) -> None:
    """CBP reads everything, yet a shipment route never says what type an entry is."""
    cbp = world.auth("party:cbp")
    refs = _refs(world)
    shapes = set()
    for name in (
        "a made-up entry number",
        "an eleven-digit value",
        "another eleven-digit value",
        "a transfer by index",
        "a party entry by index",
        "an index past the end",
        "a transfer by id",
        "a made-up id",
    ):
        ref = refs[name]
        response = client.get(f"/v1/shipments/{ref}", headers=cbp)
        problem(response, 404, "NOT_FOUND")
        status, body, headers = _shape(response, ref)
        shapes.add((status, repr(sorted(body.items())), repr(sorted(headers.items()))))
    assert len(shapes) == 1, shapes
    for name in (
        "Acme's shipment by entry number",
        "Acme's shipment without dashes",
        "Acme's shipment by id",
        "Acme's shipment by index",
    ):
        got = client.get(f"/v1/shipments/{refs[name]}", headers=cbp)
        assert got.status_code == 200 and got.get_json()["attestation"] == world.ids["shipment"]


@pytest.mark.parametrize("caller", ["party:globex", "party:rival", "party:auditor"])
def test_an_entry_the_caller_may_not_read_looks_missing(
    world: World, client: FlaskClient, caller: str
) -> None:
    refs = [world.ids["origin"], world.ids["to_gin"], world.ids["shipment"], "sha256:" + "cd" * 32]
    refs += [world.ids["shipment_index"], "99999"]
    if caller == "party:auditor":  # its audit of the gin is in Acme's chain, not the farm's
        refs.remove(world.ids["origin"])
    shapes = set()
    for ref in refs:
        response = client.get(f"/v1/entries/{ref}", headers=world.auth(caller))
        problem(response, 404, "NOT_FOUND")
        status, body, headers = _shape(response, ref)
        shapes.add((status, repr(sorted(body.items())), repr(sorted(headers.items()))))
    assert len(shapes) == 1, shapes


# -- the README's access table, route by route ----------------------------------------

#: A concrete request for every GET route of the README's table (by its first column).
SAMPLES = {
    "GET /v1/entries/<id or index>": [
        "/v1/entries/0",
        "/v1/entries/@cert:FLA-GIN-2025",
        "/v1/entries/@origin",
    ],
    "GET /v1/checkpoint": ["/v1/checkpoint"],
    "GET /v1/proofs/inclusion?id=&tree_size=": ["/v1/proofs/inclusion?id=@origin"],
    "GET /v1/proofs/consistency?old=&new=": ["/v1/proofs/consistency?old=2"],
    "GET /v1/log/leaves?start=&end=": ["/v1/log/leaves?start=0&end=5"],
    "GET /v1/shipments": ["/v1/shipments"],
    "GET /v1/shipments/<id or entry number>": [
        "/v1/shipments/ACM-1234567-8",
        "/v1/shipments/ACM-1234567-8/verification",
        "/v1/shipments/ACM-1234567-8/bundle",
        "/v1/shipments/ACM-1234567-8/graph",
    ],
    "GET /v1/parties`, `/v1/parties/<id>": ["/v1/parties", "/v1/parties/party:acme"],
    "GET /v1/parties/<id>/lots": ["/v1/parties/party:acme/lots"],
    "GET /v1/keys/<key id>": ["/v1/keys/@gin_key"],
    "GET /v1/certificates`, `/v1/certificates/<id or number>": [
        "/v1/certificates",
        "/v1/certificates/FLA-GIN-2025",
    ],
    "GET /v1/impact?party=&facility=&region=&lot=&allegation=": [
        "/v1/impact?party=party:gin",
        "/v1/impact?allegation=@allegation",
    ],
    "GET /v1/reports/metrics?by=&from=&to=": ["/v1/reports/metrics?by=country"],
    "GET /v1/allegations`, `/v1/allegations/<id>": [
        "/v1/allegations",
        "/v1/allegations/@allegation",
    ],
    "GET /healthz`, `GET /openapi.json": ["/healthz", "/openapi.json"],
}


def _readme_table() -> dict[str, str]:
    rows = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        found = re.fullmatch(r"\| `(GET [^|]*?)` \| ([^|]+?) \|.*", line)
        if found:
            rows[found.group(1)] = found.group(2).strip()
    return rows


def test_the_readme_access_table_is_what_is_enforced(world: World, client: FlaskClient) -> None:
    table = _readme_table()
    assert set(table) == set(SAMPLES), "every GET route of the README's table has a sample"
    for route, who in table.items():
        for sample in SAMPLES[route]:
            url = re.sub(r"@([\w:.-]+)", lambda m: world.ids[m.group(1)], sample)
            anonymous = client.get(url)
            cbp = client.get(url, headers=world.auth("party:cbp"))
            rival = client.get(url, headers=world.auth("party:rival"))
            acme = client.get(url, headers=world.auth("party:acme"))
            assert cbp.status_code == 200, (route, sample)
            if who == "public":
                assert anonymous.status_code == 200, (route, sample)
                continue
            problem(anonymous, 401, "UNAUTHORIZED")
            if who == "token":
                assert acme.status_code == 200, (route, sample)
                expected = 404 if sample.endswith("@origin") else 200  # the farm's own entry
                assert rival.status_code == expected, (route, sample)
            elif who == "CBP":
                problem(acme, 403, "FORBIDDEN")
                problem(rival, 403, "FORBIDDEN")
            elif who in ("CBP, importer", "the party itself, CBP"):  # Acme's own samples
                assert acme.status_code == 200, (route, sample)
                problem(rival, 404, "NOT_FOUND")
            else:
                raise AssertionError(f"unknown access {who!r} for {route}")


# -- refusals that would disclose ------------------------------------------------------


def _post(
    client: FlaskClient, world: World, type_: str, issuer: str, body: dict[str, Any]
) -> dict[str, Any]:
    envelope = world.scenario.sign(type_, issuer, body, T0).envelope.canonical
    response = client.post("/v1/entries", data=envelope)
    assert response.status_code >= 400, response.get_data(as_text=True)
    value: dict[str, Any] = response.get_json()
    return value


def _transfer(seller: str, buyer: str, ref: str, lot: str = "X-1") -> dict[str, Any]:
    return {
        "from": seller,
        "to": buyer,
        "event_time": "2025-02-27T00:00:00Z",
        "inputs": [{"ref": ref, "amount": "1"}],
        "outputs": [output(lot, "cotton lint", "5201.00", "1")],
        "documents": [{"kind": "invoice", "number": "INV-Z", "sha256": doc_hash("INV-Z")}],
    }


def test_custody_refusal_names_neither_holder_nor_lot(world: World, client: FlaskClient) -> None:
    """Any admitted party may try to spend any output of the public leaves: it learns nothing."""
    answers = []
    for ref in (
        world.ids["lint"] + "#0",  # held by the gin (its label LINT-1)
        world.ids["to_acme"] + "#0",  # held by Acme
        world.ids["lint"] + "#7",  # no such output of an existing attestation
        world.ids["cert:FLA-GIN-2025"] + "#0",  # a certificate has no outputs at all
    ):
        refused = _post(
            client, world, "transfer", "party:rival", _transfer("party:rival", "party:globex", ref)
        )
        assert refused["code"] == "CUSTODY" and refused["status"] == 422
        answers.append(refused["detail"])
        for secret in ("party:gin", "party:acme", "party:factory", "LINT-1", "TS-1", "held by p"):
            assert secret not in refused["detail"]
    assert set(answers) == {"inputs[0] is not held by the issuer party:rival"}


def test_facility_refusals_do_not_name_the_operator(world: World, client: FlaskClient) -> None:
    claim = {
        "facility_id": "facility:gin",
        "name": "Rajkot Gin",
        "operator": "party:rival",
        "country": "IN",
        "processes": ["ginning"],
        "address": {"street": "1 Mill Road", "locality": "Rajkot", "country": "IN"},
    }
    refused = _post(client, world, "facility", "party:rival", claim)
    assert refused["code"] == "CUSTODY" and "party:gin" not in refused["detail"]
    origin = {
        "facility": "facility:farm",
        "material": {"name": "seed cotton", "hs_code": "5201.00"},
        "produced_on": "2025-02-01",
        "outputs": [output("SC-Z", "seed cotton", "5201.00", "1")],
    }
    refused = _post(client, world, "origin", "party:rival", origin)
    assert refused["code"] == "CUSTODY" and "party:farm" not in refused["detail"]


def test_revocation_refusal_does_not_name_the_target_issuer(
    world: World, client: FlaskClient
) -> None:
    body = {
        "target": world.ids["lint"],
        "reason": "probing",
        "effective_at": "2025-02-27T00:00:00Z",
    }
    refused = _post(client, world, "revocation", "party:rival", body)
    assert refused["code"] == "ROLE" and "party:gin" not in refused["detail"]


def _shipment(entry_number: str, ref: str) -> dict[str, Any]:
    return {
        "entry_number": entry_number,
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
        "arrival_date": "2025-02-26",
        "inputs": [{"ref": ref, "amount": "1"}],
    }


# -- entry numbers ---------------------------------------------------------------------


def test_entry_numbers_have_one_normal_form() -> None:
    assert normalise("AAP25041017") == normalise("AAP-2504101-7") == "AAP-2504101-7"
    assert normalise("AAP-25041017") == normalise("AAP2504101-7") == "AAP-2504101-7"
    assert set(spellings("AAP-2504101-7")) == {
        "AAP-2504101-7",
        "AAP25041017",
        "AAP-25041017",
        "AAP2504101-7",
    }
    with pytest.raises(SchemaError):
        normalise("AAP-250410-17")


@pytest.mark.parametrize("written", ["ACM12345678", "ACM-12345678", "ACM1234567-8"])
def test_a_duplicate_entry_number_is_refused_however_written(
    world: World, client: FlaskClient, written: str
) -> None:
    refused = _post(
        client, world, "shipment", "party:acme", _shipment(written, world.ids["to_acme"] + "#0")
    )
    assert refused["code"] == "REPLAY" and refused["status"] == 409
    assert "ACM-1234567-8" in refused["detail"]
    assert not ATTESTATION.search(refused["detail"])  # never the other shipment's id


def test_an_importer_files_only_under_its_own_filer_codes(
    world: World, client: FlaskClient
) -> None:
    """Globex cannot squat Acme's next entry number; the refusal says what to fix."""
    refused = _post(
        client,
        world,
        "shipment",
        "party:globex",
        _shipment("ACM-1234568-0", world.ids["rival_sale"] + "#0"),
    )
    assert refused["code"] == "ROLE" and refused["status"] == 403
    assert "filer code ACM" in refused["detail"] and "(GLX)" in refused["detail"]
    assert "--filer-code ACM" in refused["detail"]
    # nor the number Acme already holds: the filer code is judged before uniqueness
    refused = _post(
        client,
        world,
        "shipment",
        "party:globex",
        _shipment("ACM-1234567-8", world.ids["rival_sale"] + "#0"),
    )
    assert refused["code"] == "ROLE"


def test_a_new_entry_number_is_stored_in_normal_form(tmp_path: Path) -> None:
    world = build_world(tmp_path)
    try:
        s = world.scenario
        lot = [output("SC-9", "seed cotton", "5201.00", "100")]
        origin = s.origin(
            "party:farm", "facility:farm", "seed cotton", "5201.00", lot, "2025-02-01", T0
        )
        sale = s.transfer(
            "party:farm", "party:acme", [(origin.attestation + "#0", "100")], lot, T0 - DAY, T0
        )
        shipment = s.shipment(
            "party:acme",
            "ACM76543219",
            [(sale.attestation + "#0", "100")],
            "party:farm",
            "party:farm",
            "IN",
            "2025-02-28",
            T0,
        )
        assert world.ledger.store.shipment_by_entry("ACM-7654321-9") == shipment.attestation
        assert world.ledger.store.shipment_by_entry("ACM76543219") is None
        client = world.client()
        for ref in ("ACM-7654321-9", "ACM76543219", "ACM-76543219"):
            got = client.get(f"/v1/shipments/{ref}", headers=world.auth("party:acme"))
            assert got.status_code == 200 and got.get_json()["attestation"] == shipment.attestation
            assert got.get_json()["entry_number"] == "ACM76543219"  # as signed
        party = client.get("/v1/parties/party:acme").get_json()
        assert party["filer_codes"] == ["ACM"]
    finally:
        world.ledger.store.close()


def test_an_importer_without_filer_codes_cannot_declare_entries(
    world: World, client: FlaskClient
) -> None:
    world.scenario.party("party:newco", "Newco Imports Inc.", "US", ["importer"], T0)
    refused = _post(
        client,
        world,
        "shipment",
        "party:newco",
        _shipment("NEW-0000001-5", world.ids["rival_sale"] + "#0"),
    )
    assert refused["code"] == "ROLE" and "(none)" in refused["detail"]
