"""JSON Schema files in schemas/: well-formed, bounded, and they accept/refuse what they should.

EXAMPLE_BODIES below is a reference set of realistic bodies (one cotton-to-T-shirt chain), one per
attestation type; other modules and tests may read it.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
BASE = "https://lotchain.dev/schemas/"
BODY_TYPES = [
    "party", "key", "facility", "origin", "transformation",
    "transfer", "audit", "certificate", "revocation", "shipment",
    "detention", "admissibility", "determination",
]


# ----------------------------------------------------------------------------- helpers (examples)
def sha(label: str) -> str:
    """A deterministic stand-in SHA-256 hex digest."""
    return hashlib.sha256(label.encode()).hexdigest()


def att_id(label: str) -> str:
    return "sha256:" + sha(label)


def pubkey(label: str) -> tuple[str, str]:
    """(key_id, public_key) for a stand-in 32-byte Ed25519 public key."""
    raw = hashlib.sha256(b"pk:" + label.encode()).digest()
    return "ed25519:" + hashlib.sha256(raw).hexdigest(), base64.b64encode(raw).decode()


ORIGIN = att_id("origin: Patel farm seed cotton, kharif 2024")
GINNING = att_id("transformation: ginning at Shree gin")
TRANSFER = att_id("transfer: Shree gin -> Saigon Spinning")
SPINNING = att_id("transformation: spinning at Binh Duong")
SEWING = att_id("transformation: cut-and-sew at Gazipur")
AUDIT = att_id("audit: Gazipur SA8000 2024")
CERT = att_id("certificate: Gazipur SA8000")

KEY_DHAKA_ID, KEY_DHAKA_PUB = pubkey("dhaka-apparel 2024")
KEY_SAIGON_ID, KEY_SAIGON_PUB = pubkey("saigon-spinning 2025")
KEY_SAIGON_OLD_ID, _ = pubkey("saigon-spinning 2023")

SEED_COTTON = {"name": "seed cotton", "hs_code": "5201.00",
               "description": "Unginned Shankar-6 seed cotton, hand picked"}
LINT = {"name": "cotton lint", "hs_code": "5201.00", "description": "Ginned lint, 29 mm staple"}

EXAMPLE_BODIES: dict[str, dict[str, Any]] = {
    "party": {
        "party_id": "party:dhaka-apparel-ltd",
        "legal_name": "Dhaka Apparel Limited",
        "aliases": ["DAL Knitwear", "Dhaka Apparels Ltd."],
        "country": "BD",
        "address": {"street": "Plot 14, BSCIC Industrial Estate, Konabari", "locality": "Gazipur",
                    "region_name": "Dhaka Division", "region": "BD-18", "postal_code": "1751",
                    "country": "BD"},
        "roles": ["supplier"],
        "keys": [{"key_id": KEY_DHAKA_ID, "public_key": KEY_DHAKA_PUB,
                  "valid_from": "2024-01-15T09:00:00Z"}],
        "identifiers": [{"scheme": "cbp-mid", "value": "BDDHAAPP14GAZ"},
                        {"scheme": "duns", "value": "731234567"}],
    },
    "key": {
        "party": "party:saigon-spinning",
        "action": "add",
        "key_id": KEY_SAIGON_ID,
        "public_key": KEY_SAIGON_PUB,
        "effective_at": "2025-01-02T00:00:00Z",
        "reason": "Scheduled annual rotation",
        "replaces": KEY_SAIGON_OLD_ID,
    },
    "facility": {
        "facility_id": "facility:saigon-spinning-binh-duong",
        "name": "Saigon Spinning Mill No. 2",
        "operator": "party:saigon-spinning",
        "address": {"street": "Lot C-7, VSIP II Industrial Park", "locality": "Thu Dau Mot",
                    "region_name": "Binh Duong", "region": "VN-57", "country": "VN"},
        "country": "VN",
        "region": "VN-57",
        "geo": {"type": "Point", "coordinates": [106.6712, 11.0563]},
        "processes": ["spinning", "packing"],
        "identifiers": [{"scheme": "gln", "value": "8930000123452"}],
    },
    "origin": {
        "facility": "facility:patel-farm-rajkot",
        "material": SEED_COTTON,
        "produced_on": "2024-11-20",
        "plot": {"name": "Survey no. 112/2, Gondal taluka",
                 "description": "Rain-fed Bt cotton, family-operated 4.2 ha",
                 "area_ha": "4.2",
                 "geo": {"type": "Polygon", "coordinates": [[
                     [70.7912, 21.9601], [70.7951, 21.9601], [70.7951, 21.9634],
                     [70.7912, 21.9634], [70.7912, 21.9601]]]}},
        "outputs": [{"lot": "RJK-2024-SC-017", "material": SEED_COTTON,
                     "quantity": {"amount": "12000", "unit": "kg"}}],
        "documents": [{"kind": "production-record", "number": "APMC-GDL-2024-5531",
                       "sha256": sha("apmc receipt"), "issued_on": "2024-11-22"}],
    },
    "transformation": {
        "facility": "facility:shree-gin-rajkot",
        "process": "ginning",
        "event_time": "2024-12-03T16:30:00Z",
        "inputs": [{"ref": ORIGIN + "#0", "amount": "12000"}],
        "outputs": [
            {"lot": "SG-B-24-0881..0904", "material": LINT,
             "quantity": {"amount": "24", "unit": "bales"}, "mass_kg": "4080"},
            {"lot": "SG-CS-24-0881", "material": {"name": "cotton seed", "hs_code": "1207.21"},
             "quantity": {"amount": "7320.5", "unit": "kg"}},
        ],
        "documents": [{"kind": "ginning-record", "number": "GR-2024-1203-02",
                       "sha256": sha("ginning record")}],
    },
    "transfer": {
        "from": "party:shree-ginning",
        "to": "party:saigon-spinning",
        "event_time": "2025-01-10T08:00:00Z",
        "inputs": [{"ref": GINNING + "#0", "amount": "24"}],
        "outputs": [{"lot": "SSM-IN-25-0042", "material": LINT,
                     "quantity": {"amount": "24", "unit": "bales"}, "mass_kg": "4080"}],
        "documents": [
            {"kind": "invoice", "number": "SG/EXP/2024-25/117", "sha256": sha("invoice"),
             "issued_on": "2024-12-20"},
            {"kind": "bill-of-lading", "number": "MAEU241896553", "sha256": sha("b/l"),
             "issued_on": "2024-12-24"},
            {"kind": "packing-list", "number": "PL-117", "sha256": sha("packing list")},
        ],
        "incoterms": "CIF",
        "ship_from": "facility:shree-gin-rajkot",
        "ship_to": "facility:saigon-spinning-binh-duong",
    },
    "audit": {
        "facility": "facility:dhaka-apparel-gazipur",
        "scheme": "SA8000",
        "audit_date": "2024-02-14",
        "audit_type": "semi-announced",
        "result": "pass",
        "topics": ["retention-of-identity-documents", "withholding-of-wages", "debt-bondage",
                   "restriction-of-movement", "excessive-overtime", "intimidation-and-threats"],
        "findings": [{"topic": "excessive-overtime", "severity": "minor",
                      "description": "Overtime above 12 h/week on 3 of 52 sampled timecards in "
                                     "peak season; corrective plan agreed."}],
        "evidence_sha256": sha("audit report pdf"),
        "audit_ref": "SAAS-BD-2024-0193",
        "lead_auditor": "Farhana Rahman",
    },
    "certificate": {
        "certificate_id": "SA8000-BD-2024/0193",
        "facility": "facility:dhaka-apparel-gazipur",
        "scheme": "SA8000",
        "scope": {"processes": ["cut-and-sew", "packing"],
                  "materials": ["knitted cotton T-shirts", "6109.10"]},
        "valid_from": "2024-03-01",
        "valid_until": "2027-02-28",
        "audits": [AUDIT],
    },
    "revocation": {
        "target": att_id("transfer: duplicate entry sent by mistake"),
        "reason": "Duplicate of an earlier transfer; quantities were entered twice.",
        "effective_at": "2025-01-11T10:15:00Z",
    },
    "shipment": {
        "entry_number": "ABC-1234567-8",
        "hts_lines": [{"hts_code": "6109.10.0012",
                       "description": "Men's T-shirts, knitted, of cotton, all white, short hemmed",
                       "quantity": {"amount": "1200", "unit": "dozen"},
                       "value_usd": "38400.00"}],
        "exporter": "party:dhaka-apparel-ltd",
        "manufacturer": "party:dhaka-apparel-ltd",
        "country_of_origin": "BD",
        "arrival_date": "2025-04-18",
        "port_of_entry": "2704",
        "bill_of_lading": "ONEYDAC5120876",
        "inputs": [{"ref": SEWING + "#0", "amount": "1200"}],
        "documents": [{"kind": "invoice", "number": "DAL-2025-0311", "sha256": sha("ci")}],
    },
    "detention": {
        "shipment": "sha256:" + sha("shipment"),
        "legal_basis": "uflpa",
        "entered_on": "2025-03-20",
        "presented_on": "2025-03-21",
        "detained_on": "2025-03-24",
        "notice_date": "2025-03-26",
        "merchandise": [{"description": "Men's cotton T-shirts", "hts_code": "6109.10"}],
        "reason": "Cotton apparel: the supply chain may include cotton from the XUAR",
        "requested": ["applicability-review", "exception-request"],
        "respond_by": "2025-04-25",
        "port_of_entry": "2704",
    },
    "admissibility": {
        "shipment": "sha256:" + sha("shipment"),
        "detention": "sha256:" + sha("detention"),
        "kind": "applicability-review",
        "bundle_sha256": sha("bundle"),
        "documents": [{"kind": "detailed-statement", "sha256": sha("statement"),
                       "description": "Tracing from the bale to the garment"}],
        "statement": "Cotton from Texas, ginned in Lubbock, spun in Viet Nam",
        "contact": "Customs broker, entry desk",
    },
    "determination": {
        "shipment": "sha256:" + sha("shipment"),
        "detention": "sha256:" + sha("detention"),
        "outcome": "released",
        "decided_on": "2025-04-18",
        "reasons": "Applicability review: no input from the XUAR or a listed entity",
        "rested_on": ["sha256:" + sha("admissibility")],
    },
}


# ----------------------------------------------------------------------------- fixtures
def _load_all() -> dict[str, dict[str, Any]]:
    return {p.name.removesuffix(".schema.json"): json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(SCHEMA_DIR.glob("*.schema.json"))}


SCHEMAS = _load_all()
REGISTRY: Registry = Registry().with_resources(
    (s["$id"], Resource.from_contents(s)) for s in SCHEMAS.values())


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(SCHEMAS[name], registry=REGISTRY)


def is_valid(name: str, instance: Any) -> bool:
    return validator(name).is_valid(instance)


def errors(name: str, instance: Any) -> list[str]:
    return [e.message for e in validator(name).iter_errors(instance)]


# ----------------------------------------------------------------------------- well-formedness
def test_all_expected_files_exist() -> None:
    expected = {*BODY_TYPES, "defs", "payload", "envelope", "leaf", "proof", "receipt",
                "verdict", "bundle"}
    assert expected <= set(SCHEMAS)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_is_valid_2020_12(name: str) -> None:
    schema = SCHEMAS[name]
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{BASE}{name}.schema.json"
    assert schema["title"] and schema["description"]


OPEN_OBJECTS = {"extensions", "summary", "body"}  # deliberately open objects, by property name


def _walk(node: Any, where: str, key: str = "") -> Iterator[tuple[str, str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, key, node
        for k, v in node.items():
            if k == "not":  # a negated subschema (e.g. "no newline") accepts nothing by itself
                continue
            if k == "properties" and isinstance(v, dict):
                for pk, pv in v.items():
                    yield from _walk(pv, f"{where}/properties/{pk}", pk)
            elif k == "$defs" and isinstance(v, dict):
                for dk, dv in v.items():
                    yield from _walk(dv, f"{where}/$defs/{dk}", dk)
            else:
                yield from _walk(v, f"{where}/{k}", key)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{where}/{i}", key)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_is_bounded_and_described(name: str) -> None:
    problems = []
    for where, key, node in _walk(SCHEMAS[name], name):
        types = node.get("type")
        types = types if isinstance(types, list) else [types]
        if "string" in types and "maxLength" not in node:
            problems.append(f"{where}: string without maxLength")
        if "array" in types and "maxItems" not in node:
            problems.append(f"{where}: array without maxItems")
        if "object" in types and node.get("additionalProperties") is not False \
                and key not in OPEN_OBJECTS:
            problems.append(f"{where}: object without additionalProperties: false")
        for pk, pv in (node.get("properties") or {}).items():
            if not (isinstance(pv, dict) and pv.get("description")):
                problems.append(f"{where}/properties/{pk}: no description")
    assert not problems, "\n".join(problems)


# ----------------------------------------------------------------------------- bodies: valid
@pytest.mark.parametrize("body_type", BODY_TYPES)
def test_example_body_is_valid(body_type: str) -> None:
    assert errors(body_type, EXAMPLE_BODIES[body_type]) == []


def test_extensions_are_allowed() -> None:
    body = copy.deepcopy(EXAMPLE_BODIES["transformation"])
    body["extensions"] = {"untp.dte.biz_step": "commissioning", "org.example.shift": 2}
    assert is_valid("transformation", body)
    body["extensions"] = {"Bad Key": 1}
    assert not is_valid("transformation", body)


def test_key_revoke_needs_no_public_key() -> None:
    body = copy.deepcopy(EXAMPLE_BODIES["key"])
    body.update(action="revoke", reason="Laptop stolen; key compromised")
    del body["public_key"], body["replaces"]
    assert is_valid("key", body)


# ----------------------------------------------------------------------------- bodies: invalid
REQUIRED_CASES = [(t, f) for t in BODY_TYPES for f in SCHEMAS[t]["required"]]


@pytest.mark.parametrize(("body_type", "field"), REQUIRED_CASES)
def test_missing_required_field_fails(body_type: str, field: str) -> None:
    body = copy.deepcopy(EXAMPLE_BODIES[body_type])
    del body[field]
    assert not is_valid(body_type, body)


@pytest.mark.parametrize("body_type", BODY_TYPES)
def test_extra_field_fails(body_type: str) -> None:
    body = copy.deepcopy(EXAMPLE_BODIES[body_type])
    body["unexpected"] = "x"
    assert not is_valid(body_type, body)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Mutator setting a dotted path (list indices as numbers) to value; value DEL deletes."""
    def mutate(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = body
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        k: Any = int(last) if last.isdigit() else last
        if value is DEL:
            del node[k]
        else:
            node[k] = value
    return mutate


DEL = object()

INVALID_CASES: list[tuple[str, str, Callable[[dict[str, Any]], None]]] = [
    ("party", "party id uppercase", _set("party_id", "party:Dhaka-Apparel")),
    ("party", "party id trailing newline", _set("party_id", "party:dhaka-apparel-ltd\n")),
    ("party", "no roles", _set("roles", [])),
    ("party", "unknown role", _set("roles", ["owner"])),
    ("party", "duplicate roles", _set("roles", ["supplier", "supplier"])),
    ("party", "no keys", _set("keys", [])),
    ("party", "key id not hex", _set("keys.0.key_id", "ed25519:" + "G" * 64)),
    ("party", "public key too short", _set("keys.0.public_key", "AAAA")),
    ("party", "alpha-3 country", _set("country", "BGD")),
    ("party", "name too long", _set("legal_name", "A" * 257)),
    ("party", "name with control char", _set("legal_name", "Dhaka\x07Apparel")),
    ("party", "address without country", _set("address.country", DEL)),
    ("party", "unknown id scheme", _set("identifiers.0.scheme", "ein")),
    ("key", "add without public key", _set("public_key", DEL)),
    ("key", "bad key id", _set("key_id", "ed25519:xyz")),
    ("key", "timestamp not UTC", _set("effective_at", "2025-01-02T00:00:00+07:00")),
    ("key", "unknown action", _set("action", "rotate")),
    ("facility", "party id as facility id", _set("facility_id", "party:saigon-spinning")),
    ("facility", "bad region", _set("region", "VN57")),
    ("facility", "latitude out of range", _set("geo.coordinates", [106.67, 95.0])),
    ("facility", "point with 3 numbers", _set("geo.coordinates", [106.67, 11.05, 20.0])),
    ("facility", "unknown geometry", _set("geo", {"type": "LineString", "coordinates": []})),
    ("facility", "no processes", _set("processes", [])),
    ("origin", "slashed date", _set("produced_on", "2024/11/20")),
    ("origin", "float amount", _set("outputs.0.quantity.amount", 12000.0)),
    ("origin", "negative amount", _set("outputs.0.quantity.amount", "-1")),
    ("origin", "exponent amount", _set("outputs.0.quantity.amount", "1e4")),
    ("origin", "leading zero amount", _set("outputs.0.quantity.amount", "012000")),
    ("origin", "unknown unit", _set("outputs.0.quantity.unit", "kgs")),
    ("origin", "bad hs code", _set("material.hs_code", "52A1")),
    ("origin", "output without lot", _set("outputs.0.lot", DEL)),
    ("origin", "no outputs", _set("outputs", [])),
    ("origin", "too many outputs", lambda b: b.update(outputs=b["outputs"] * 257)),
    ("origin", "open polygon ring", _set("plot.geo.coordinates", [[[70.79, 21.96]]])),
    ("transformation", "unknown process", _set("process", "bleaching")),
    ("transformation", "ref without index", _set("inputs.0.ref", ORIGIN)),
    ("transformation", "ref index leading zero", _set("inputs.0.ref", ORIGIN + "#01")),
    ("transformation", "no inputs", _set("inputs", [])),
    ("transformation", "input without amount", _set("inputs.0.amount", DEL)),
    ("transformation", "float mass", _set("outputs.0.mass_kg", 4080)),
    ("transfer", "no documents", _set("documents", [])),
    ("transfer", "uppercase document hash", _set("documents.0.sha256", sha("x").upper())),
    ("transfer", "unknown document kind", _set("documents.0.kind", "receipt")),
    ("transfer", "free-text incoterms", _set("incoterms", "FOB Shanghai")),
    ("transfer", "from not a party id", _set("from", "shree-ginning")),
    ("transfer", "ship_to a party", _set("ship_to", "party:saigon-spinning")),
    ("audit", "unknown result", _set("result", "passed")),
    ("audit", "unknown topic", _set("topics", ["child-labour"])),
    ("audit", "no topics", _set("topics", [])),
    ("audit", "unknown severity", _set("findings.0.severity", "high")),
    ("audit", "short evidence hash", _set("evidence_sha256", "abc123")),
    ("audit", "finding extra field", _set("findings.0.status", "closed")),
    ("certificate", "no audits", _set("audits", [])),
    ("certificate", "audit is an output ref", _set("audits", [AUDIT + "#0"])),
    ("certificate", "unpadded date", _set("valid_until", "2027-2-28")),
    ("certificate", "scope extra field", _set("scope.regions", ["BD-18"])),
    ("certificate", "scope without processes", _set("scope.processes", [])),
    ("revocation", "target is an output ref", _set("target", CERT + "#0")),
    ("revocation", "timestamp without zone", _set("effective_at", "2025-01-11T10:15:00")),
    ("revocation", "empty reason", _set("reason", "")),
    ("shipment", "short filer code", _set("entry_number", "AB-1234567-8")),
    ("shipment", "hts without dots", _set("hts_lines.0.hts_code", "6109100012")),
    ("shipment", "country name", _set("country_of_origin", "Bangladesh")),
    ("shipment", "port name", _set("port_of_entry", "LA")),
    ("shipment", "no hts lines", _set("hts_lines", [])),
    ("shipment", "value as number", _set("hts_lines.0.value_usd", 38400)),
    ("shipment", "no inputs", _set("inputs", [])),
    ("detention", "basis not an order id", _set("legal_basis", "WRO 2021 Hoshine")),
    ("detention", "basis uppercase", _set("legal_basis", "UFLPA")),
    ("detention", "month 13", _set("detained_on", "2025-13-01")),
    ("detention", "unknown submission kind", _set("requested", ["appeal"])),
    ("detention", "empty reason", _set("reason", "")),
    ("admissibility", "bundle digest with prefix", _set("bundle_sha256", "sha256:" + "a" * 64)),
    ("admissibility", "unknown kind", _set("kind", "protest")),
    ("admissibility", "document kind with spaces", _set("documents.0.kind", "Detailed Statement")),
    ("admissibility", "detention not an id", _set("detention", "detention-1")),
    ("determination", "unknown outcome", _set("outcome", "destroyed")),
    ("determination", "no reasons", _set("reasons", "")),
    ("determination", "time instead of date", _set("decided_on", "2025-04-18T10:00:00Z")),
]


def test_every_type_has_specific_invalid_cases() -> None:
    assert {t for t, _, _ in INVALID_CASES} == set(BODY_TYPES)


@pytest.mark.parametrize(("body_type", "label", "mutate"), INVALID_CASES,
                         ids=[f"{t}-{label}" for t, label, _ in INVALID_CASES])
def test_invalid_body_fails(body_type: str, label: str,
                            mutate: Callable[[dict[str, Any]], None]) -> None:
    body = copy.deepcopy(EXAMPLE_BODIES[body_type])
    mutate(body)
    assert not is_valid(body_type, body), label


# ----------------------------------------------------------------------------- wire formats
def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


PAYLOAD = {"v": 1, "type": "shipment", "issuer": "party:acme-imports",
           "issued_at": "2025-04-19T12:00:00.250Z", "nonce": sha("nonce")[:32],
           "body": EXAMPLE_BODIES["shipment"]}
PAYLOAD_BYTES = rfc8785.dumps(PAYLOAD)
SHIPMENT = "sha256:" + hashlib.sha256(PAYLOAD_BYTES).hexdigest()
ENVELOPE = {"payloadType": "application/vnd.lotchain.attestation.v1+json",
            "payload": b64(PAYLOAD_BYTES),
            "signatures": [{"keyid": KEY_DHAKA_ID, "sig": b64(bytes(range(64)))}]}
LEAF = {"v": 1, "index": 41, "integrated_at": "2025-04-19T12:00:01.123456Z",
        "issuer": "party:acme-imports", "attestation": SHIPMENT,
        "envelope": "sha256:" + hashlib.sha256(rfc8785.dumps(ENVELOPE)).hexdigest(),
        "prev": sha("leaf 40")}
LEAF_B64 = b64(rfc8785.dumps(LEAF))
HASHES = [b64(hashlib.sha256(str(i).encode()).digest()) for i in range(6)]
INCLUSION = {"index": 41, "tree_size": 42,
             "leaf_hash": b64(hashlib.sha256(b"\x00" + rfc8785.dumps(LEAF)).digest()),
             "hashes": HASHES}
CONSISTENCY = {"old_size": 40, "new_size": 42, "hashes": HASHES[:3]}
CHECKPOINT = (f"lotchain.dev/log\n42\n{HASHES[0]}\n\n"
              f"— lotchain.dev/log {b64(bytes(4) + bytes(range(64)))}\n")
RECEIPT = {"attestation": SHIPMENT, "index": 41, "leaf": LEAF_B64, "checkpoint": CHECKPOINT,
           "inclusion": INCLUSION}
VERDICT = {"shipment": SHIPMENT, "status": "review", "checkpoint": CHECKPOINT,
           "findings": [
               {"code": "CERT_MISSING", "severity": "warning", "attestation": SPINNING,
                "message": "facility:saigon-spinning-binh-duong had no certificate valid at "
                           "2025-02-01T00:00:00Z", "step": 3},
               {"code": "LOG_CONSISTENCY", "severity": "warning", "attestation": None,
                "message": "no earlier checkpoint to compare"}],
           "summary": {"attestations": 6, "origins": ["IN-GJ"], "countries": ["IN", "VN", "BD"]}}
BUNDLE = {"v": 1, "kind": "lotchain.bundle", "shipment": SHIPMENT, "checkpoint": CHECKPOINT,
          "log_origin": "lotchain.dev/log",
          "entries": [{"index": 41, "leaf": LEAF_B64, "envelope": ENVELOPE,
                       "inclusion": INCLUSION}],
          "screening_lists": [{"name": "UFLPA Entity List", "sha256": sha("csv"),
                               "loaded_at": "2025-04-01T00:00:00Z", "effective_on": "2025-01-15",
                               "csv": "name,aliases,effective_on\nExample Co.,,2022-06-21\n"}],
          "created_at": "2025-04-20T08:00:00Z"}

WIRE_VALID = [
    ("payload", PAYLOAD), ("envelope", ENVELOPE), ("leaf", LEAF), ("proof", INCLUSION),
    ("proof", CONSISTENCY), ("receipt", RECEIPT), ("verdict", VERDICT), ("bundle", BUNDLE),
]


@pytest.mark.parametrize(("name", "instance"), WIRE_VALID,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(WIRE_VALID)])
def test_wire_example_is_valid(name: str, instance: Any) -> None:
    assert errors(name, instance) == []


def _with(instance: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(instance)
    for k, v in changes.items():
        if v is DEL:
            del out[k]
        else:
            out[k] = v
    return out


WIRE_INVALID = [
    ("payload", _with(PAYLOAD, v=2)),
    ("payload", _with(PAYLOAD, type="invoice")),
    ("payload", _with(PAYLOAD, nonce="abc")),
    ("payload", _with(PAYLOAD, extra=1)),
    ("payload", _with(PAYLOAD, body=DEL)),
    ("envelope", _with(ENVELOPE, payloadType="application/json")),
    ("envelope", _with(ENVELOPE, payload="not base64!")),
    ("envelope", _with(ENVELOPE, signatures=[])),
    ("envelope", _with(ENVELOPE, signatures=[{"keyid": KEY_DHAKA_ID, "sig": b64(bytes(32))}])),
    ("envelope", _with(ENVELOPE, signatures=ENVELOPE["signatures"] * 9)),
    ("leaf", _with(LEAF, integrated_at="2025-04-19T12:00:01.123Z")),
    ("leaf", _with(LEAF, index=-1)),
    ("leaf", _with(LEAF, prev="0" * 63)),
    ("proof", _with(INCLUSION, old_size=1)),
    ("proof", _with(INCLUSION, hashes=HASHES * 11)),
    ("proof", _with(CONSISTENCY, hashes=["not a hash"])),
    ("receipt", _with(RECEIPT, inclusion=CONSISTENCY)),
    ("verdict", _with(VERDICT, status="ok")),
    ("verdict", _with(VERDICT, findings=[{"code": "NOPE", "severity": "error",
                                          "attestation": None, "message": "x"}])),
    ("bundle", _with(BUNDLE, kind="bundle")),
    ("bundle", _with(BUNDLE, entries=[{"index": 0, "leaf": LEAF_B64, "envelope": {},
                                       "inclusion": INCLUSION}])),
]


@pytest.mark.parametrize(("name", "instance"), WIRE_INVALID,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(WIRE_INVALID)])
def test_wire_invalid_fails(name: str, instance: Any) -> None:
    assert not is_valid(name, instance)
