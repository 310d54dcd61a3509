"""The OpenAPI 3.1 document of the API.

Shapes of signed data (envelope, receipt, proofs, verdict, bundle, attestation bodies)
come from the project's own JSON Schemas in ``schemas/``, rewritten into
``components/schemas``; query parameter shapes come from :mod:`api.params`, the same
objects the routes check with. A test runs schemathesis over this document.
"""

from __future__ import annotations

import copy
from typing import Any

from api import params
from api.queries import CERTIFICATE_STATUSES
from ledger import schemas
from ledger.enforcement import STATUSES as ENFORCEMENT_STATUSES

PROBLEM = "application/problem+json"
JSON = "application/json"
_FILES = (
    "defs",
    "envelope",
    "payload",
    "leaf",
    "receipt",
    "proof",
    "verdict",
    "bundle",
    "allegation",
)
_SCHEMA_KEYS = {"type", "oneOf", "anyOf", "allOf", "$ref", "properties", "const", "enum"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _rewrite_ref(value: str, current: str) -> str:
    file_part, _, fragment = value.partition("#")
    name = file_part.removesuffix(".schema.json") if file_part else current
    if fragment.startswith("/$defs/"):
        name = f"{name}.{fragment.removeprefix('/$defs/')}"
    return f"#/components/schemas/{name}"


def _rewrite(node: Any, current: str) -> Any:
    if isinstance(node, dict):
        return {
            k: _rewrite_ref(v, current) if k == "$ref" else _rewrite(v, current)
            for k, v in node.items()
            if k not in ("$schema", "$id")
        }
    if isinstance(node, list):
        return [_rewrite(v, current) for v in node]
    return node


def file_components() -> dict[str, Any]:
    """Every project schema as components, its ``$defs`` as ``<file>.<def>``."""
    out: dict[str, Any] = {}
    for name in (*_FILES, *schemas.ATTESTATION_TYPES):
        source: Any = schemas.validator(name).schema
        schema: dict[str, Any] = copy.deepcopy(dict(source))
        for key, sub in schema.pop("$defs", {}).items():
            out[f"{name}.{key}"] = _rewrite(sub, name)
        if _SCHEMA_KEYS & set(schema):
            out[name] = _rewrite(schema, name)
    return out


def obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """A closed object schema; every property required unless ``required`` says which."""
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
        "additionalProperties": False,
        **extra,
    }


def page_of(item: str, key: str) -> dict[str, Any]:
    return obj(
        {
            key: {"type": "array", "items": ref(item)},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` to continue; null when the scan is complete. "
                "A page may hold fewer items than `limit` and still have a next cursor.",
            },
        }
    )


INT = {"type": "integer", "minimum": 0, "maximum": 9007199254740991}
TIME = ref("defs.timestamp")
NULLABLE_TEXT = {"type": ["string", "null"]}


def own_components(page_size: int, max_batch: int) -> dict[str, Any]:
    revocation = obj(
        {
            "attestation": ref("defs.attestationId"),
            "issuer": ref("defs.partyId"),
            "reason": {"type": "string"},
            "effective_at": TIME,
        }
    )
    summary = {
        "attestation": ref("defs.attestationId"),
        "index": INT,
        "entry_number": {"type": "string"},
        "importer": ref("defs.partyId"),
        "exporter": ref("defs.partyId"),
        "manufacturer": ref("defs.partyId"),
        "country_of_origin": ref("defs.country"),
        "arrival_date": ref("defs.date"),
        "hts_codes": {"type": "array", "items": {"type": "string"}},
        "integrated_at": TIME,
    }
    party = {
        "party_id": ref("defs.partyId"),
        "legal_name": {"type": "string"},
        "country": ref("defs.country"),
        "roles": {"type": "array", "items": {"enum": list(params.ROLES)}},
        "aliases": {"type": "array", "items": {"type": "string"}},
        "filer_codes": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z0-9]{3}$"}},
        "attestation": ref("defs.attestationId"),
    }
    key = {
        "type": "object",
        "required": ["key_id", "revoked_at"],
        "properties": {
            "key_id": ref("defs.keyId"),
            "revoked_at": {"anyOf": [TIME, {"type": "null"}]},
        },
    }
    return {
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details with lotchain's stable error code.",
            "required": ["type", "title", "status", "detail", "code"],
            "properties": {
                "type": {"type": "string", "format": "uri"},
                "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string"},
                "code": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"},
                "instance": {"type": "string"},
            },
        },
        "Entry": obj(
            {
                "index": INT,
                "attestation": ref("defs.attestationId"),
                "type": {"enum": list(schemas.ATTESTATION_TYPES)},
                "issuer": ref("defs.partyId"),
                "integrated_at": TIME,
                "leaf": ref("defs.base64"),
                "envelope": ref("envelope"),
                "checkpoint": {"type": "string"},
                "inclusion": ref("proof.inclusion"),
            },
            description="An entry with its envelope and its inclusion proof under `checkpoint`.",
        ),
        "Leaves": obj(
            {
                "leaves": {
                    "type": "array",
                    "maxItems": page_size,
                    "items": obj({"index": INT, "leaf": ref("defs.base64")}),
                }
            }
        ),
        "BatchRequest": obj(
            {
                "envelopes": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": max_batch,
                    "items": {
                        "description": "A DSSE envelope (schema `envelope`). Each item is "
                        "judged on its own: one that is not an envelope gets its own problem "
                        "result and does not stop the others."
                    },
                },
                "atomic": {
                    "type": "boolean",
                    "default": False,
                    "description": "All or nothing: when any envelope is refused, none is "
                    "appended and the others answer BATCH_REFUSED.",
                },
            },
            required=["envelopes"],
        ),
        "BatchResult": obj(
            {
                "accepted": INT,
                "refused": INT,
                "results": {
                    "type": "array",
                    "description": "One result per envelope, in order.",
                    "items": {
                        "oneOf": [
                            obj({"status": {"const": 201}, "receipt": ref("receipt")}),
                            obj(
                                {
                                    "status": {"type": "integer", "minimum": 400},
                                    "problem": ref("Problem"),
                                }
                            ),
                        ]
                    },
                },
            }
        ),
        "ShipmentSummary": obj(
            {
                **summary,
                "status": {"enum": ["pass", "review", "fail"]},
                "enforcement": {"enum": list(ENFORCEMENT_STATUSES)},
            },
            required=[*summary, "enforcement"],
        ),
        "ShipmentPage": page_of("ShipmentSummary", "shipments"),
        "Metrics": {
            "type": "object",
            "description": "Groups of shipments by one dimension, and their total.",
            "required": ["query", "groups", "total"],
            "properties": {
                "query": {"type": "object"},
                "groups": {"type": "array", "items": {"type": "object"}},
                "total": {"type": "object"},
            },
        },
        "Shipment": obj(
            {
                **summary,
                "enforcement": {
                    "type": "object",
                    "description": "Enforcement status (none, detained, submitted, released, "
                    "excluded, seized, re-exported), legal basis, due dates and history.",
                    "required": ["shipment", "status"],
                    "properties": {"status": {"enum": list(ENFORCEMENT_STATUSES)}},
                },
                "body": ref("shipment"),
                "links": obj(
                    {k: {"type": "string"} for k in ("entry", "verification", "bundle", "graph")}
                ),
            }
        ),
        "Graph": {
            "type": "object",
            "description": "The provenance graph: attestations by tier, and input edges.",
            "required": ["shipment", "nodes", "edges"],
            "properties": {
                "shipment": ref("defs.attestationId"),
                "nodes": {"type": "array", "items": {"type": "object"}},
                "edges": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["from", "to", "ref", "amount"],
                        "properties": {
                            "from": ref("defs.attestationId"),
                            "to": ref("defs.attestationId"),
                            "ref": ref("defs.outputRef"),
                            "amount": ref("defs.decimal"),
                        },
                    },
                },
            },
        },
        "Party": obj(party),
        "PartyPage": page_of("Party", "parties"),
        "PartyLots": obj(
            {
                "party": ref("defs.partyId"),
                "lots": {
                    "type": "array",
                    "items": obj(
                        {
                            "ref": ref("defs.outputRef"),
                            "lot": {"type": "string"},
                            "material": {"type": "string"},
                            "amount": {"type": "string"},
                            "left": {"type": "string"},
                            "unit": {"type": "string"},
                            "mass_kg": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                        }
                    ),
                },
            }
        ),
        "Key": obj(
            {
                "key_id": ref("defs.keyId"),
                "party": ref("defs.partyId"),
                "public_key": ref("defs.publicKey"),
                "valid_from": TIME,
                "revoked_at": {"anyOf": [TIME, {"type": "null"}]},
                "attestation": ref("defs.attestationId"),
            }
        ),
        "PartyDetail": obj(
            {
                **party,
                "index": INT,
                "address": {"anyOf": [ref("defs.address"), {"type": "null"}]},
                "keys": {"type": "array", "items": key},
            }
        ),
        "Certificate": obj(
            {
                "attestation": ref("defs.attestationId"),
                "index": INT,
                "certificate_id": {"type": "string"},
                "auditor": ref("defs.partyId"),
                "facility": ref("defs.facilityId"),
                "facility_name": {"type": ["string", "null"]},
                "operator": {"anyOf": [ref("defs.partyId"), {"type": "null"}]},
                "scheme": {"type": "string"},
                "scope": {"type": "object"},
                "valid_from": ref("defs.date"),
                "valid_until": ref("defs.date"),
                "audits": {"type": "array", "items": ref("defs.attestationId")},
                "status": {"enum": list(CERTIFICATE_STATUSES)},
                "reasons": {"type": "array", "items": {"type": "string"}},
                "revocation": {"anyOf": [revocation, {"type": "null"}]},
                "integrated_at": TIME,
            }
        ),
        "CertificatePage": page_of("Certificate", "certificates"),
        "Impact": obj(
            {
                "query": {"type": "object", "additionalProperties": {"type": "string"}},
                "shipments": {
                    "type": "array",
                    "items": obj(
                        {
                            "shipment": ref("defs.attestationId"),
                            "entry_number": {"type": "string"},
                            "entry_date": {"anyOf": [ref("defs.date"), {"type": "null"}]},
                        }
                    ),
                },
            }
        ),
        "Health": obj(
            {
                "status": {"const": "ok"},
                "version": {"type": "string"},
                "origin": {"type": "string"},
                "log_size": INT,
                "writable": {"type": "boolean"},
            }
        ),
    }


# -- operations ------------------------------------------------------------------------

_STATUS_TEXT = {
    400: "Malformed request (code MALFORMED or SCHEMA).",
    401: "A bearer token is needed, or the one given is unknown or revoked.",
    403: "The token's party lacks the role for this route (or, on append, for the type).",
    404: "Not found, or not readable with this token (the two are answered alike).",
    409: "Refused: a replay or a double spend.",
    413: "The body, or the batch, is over the limit.",
    414: "The query string or request target is over the limit.",
    422: "Refused by an admission rule (signature, key, schema, reference, custody...).",
    429: "Too many requests from this client address (code RATE_LIMITED); see Retry-After.",
    503: "The database is unavailable, or the server is read-only (code READ_ONLY).",
}


def problems(*statuses: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status in statuses:
        item: dict[str, Any] = {
            "description": _STATUS_TEXT[status],
            "content": {PROBLEM: {"schema": ref("Problem")}},
        }
        if status == 401:
            item["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        if status == 429:
            item["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
        out[str(status)] = item
    return out


def ok(schema: dict[str, Any], description: str, media: str = JSON) -> dict[str, Any]:
    return {"200": {"description": description, "content": {media: {"schema": schema}}}}


def query(name: str, schema: dict[str, Any], description: str, required: bool = False) -> Any:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def path(name: str, shape: params.Shape, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": shape.schema(),
    }


def integer(minimum: int = 0, maximum: int = params.MAX_INT) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


def op(
    op_id: str,
    tag: str,
    summary: str,
    responses: dict[str, Any],
    *,
    parameters: list[dict[str, Any]] | None = None,
    auth: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An operation; ``auth`` is "required", "optional" or None (public)."""
    out: dict[str, Any] = {"operationId": op_id, "tags": [tag], "summary": summary}
    if parameters:
        out["parameters"] = parameters
    if auth == "required":
        out["security"] = [{"bearer": []}]
    elif auth == "optional":
        out["security"] = [{}, {"bearer": []}]
    out.update(extra)
    out["responses"] = {**responses, **problems(414)}  # any URL may carry a long query
    return out
