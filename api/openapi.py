"""``GET /openapi.json``: the OpenAPI 3.1 document of every route (built once per app)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from api import allegations, params
from api.queries import CERTIFICATE_STATUSES
from api.shipments import STATUSES
from api.spec import (
    JSON,
    file_components,
    integer,
    ok,
    op,
    own_components,
    path,
    problems,
    query,
    ref,
)
from ledger import __version__
from ledger.enforcement import STATUSES as ENFORCEMENT_STATUSES
from ledger.metrics import DIMENSIONS as METRIC_DIMENSIONS

bp = Blueprint("openapi", __name__)

_PAGE = "Pagination: pass the previous page's `next_cursor` as `cursor`."


def _page_params(page_size: int) -> list[dict[str, Any]]:
    return [
        query(
            "limit", integer(1, page_size), f"Items per page (default 100, at most {page_size})."
        ),
        query("cursor", params.CURSOR.schema(), _PAGE),
    ]


def _shipment_view(op_id: str, summary: str, schema: dict[str, Any], **extra: Any) -> Any:
    return {
        "get": op(
            op_id,
            "shipments",
            summary,
            {**ok(schema, summary), **problems(400, 401, 404, 503)},
            parameters=[path("ref", params.SHIPMENT_REF, "Attestation id, entry number or index.")],
            auth="required",
            description="Readable by CBP and by the importer of record; to anyone else, and for "
            "an entry that is not a shipment, the same 404 as for a shipment that does not exist.",
            **extra,
        )
    }


def paths(page_size: int, max_batch: int) -> dict[str, Any]:
    """Every route, in the order a reader meets them."""
    receipt = {
        "description": "Appended.",
        "content": {JSON: {"schema": ref("receipt")}},
        "headers": {"Location": {"schema": {"type": "string"}}},
    }
    append_refusals = problems(400, 403, 409, 413, 422, 503)
    shipment_filters = [
        query(
            "party",
            params.PARTY.schema(),
            "The importer, exporter or manufacturer, or a "
            "party whose attestations, lots or facilities the chain passes through.",
        ),
        query(
            "facility", params.FACILITY.schema(), "A facility where an event of the chain happened."
        ),
        query(
            "country",
            params.COUNTRY.schema(),
            "Declared country of origin, or the "
            "country of a facility where an event of the chain happened.",
        ),
        query(
            "region",
            params.REGION.schema(),
            "ISO 3166-2 region of a facility of the "
            "chain (aliases such as CN-65 for CN-XJ included).",
        ),
        query("hs", params.HS.schema(), "Prefix of an HTS line's code (dots ignored)."),
        query("arrived_from", {"type": "string", "format": "date"}, "Arrival on or after."),
        query("arrived_to", {"type": "string", "format": "date"}, "Arrival on or before."),
        query("status", {"enum": list(STATUSES)}, "Verdict status (verifies each candidate)."),
        query(
            "enforcement",
            {"enum": list(ENFORCEMENT_STATUSES)},
            "Enforcement status (none: never detained).",
        ),
        *_page_params(page_size),
    ]
    return {
        "/v1/entries": {
            "post": op(
                "appendEntry",
                "entries",
                "Append one DSSE envelope",
                {"201": receipt, **append_refusals},
                requestBody={"required": True, "content": {JSON: {"schema": ref("envelope")}}},
                description="No token: the envelope's signatures and the admission rules "
                "authorise it. The receipt carries the leaf, checkpoint and inclusion proof.",
            )
        },
        "/v1/entries:batch": {
            "post": op(
                "appendBatch",
                "entries",
                "Append a batch of envelopes, each on its own",
                {
                    **ok(ref("BatchResult"), "A result per envelope: a receipt or a problem."),
                    **problems(400, 413, 503),
                },
                requestBody={"required": True, "content": {JSON: {"schema": ref("BatchRequest")}}},
                description=f"At most {max_batch} envelopes, appended in one commit; each is "
                "accepted or refused on its own (all or nothing per envelope), or, with "
                '`"atomic": true`, all are appended or none.',
            )
        },
        "/v1/entries/{ref}": {
            "get": op(
                "getEntry",
                "entries",
                "An entry with its envelope and inclusion proof",
                {**ok(ref("Entry"), "The entry."), **problems(400, 401, 404, 503)},
                parameters=[path("ref", params.ATTESTATION_OR_INDEX, "Attestation id or index.")],
                auth="required",
                description="Party, key and certificate entries (and revocations of "
                "certificates) are readable with any party's token; CBP reads all; an importer "
                "reads the upstream chains of its shipments; any party reads what it issued or "
                "was transferred to it. What the token may not read is answered with the same "
                "404 as an entry that does not exist.",
            )
        },
        "/v1/checkpoint": {
            "get": op(
                "getCheckpoint",
                "log",
                "The signed checkpoint (C2SP signed note)",
                {**ok({"type": "string"}, "The note.", "text/plain"), **problems(400, 404, 503)},
                parameters=[
                    query(
                        "size",
                        integer(1),
                        "A checkpoint the log signed at this size (default: the latest).",
                    )
                ],
            )
        },
        "/v1/proofs/inclusion": {
            "get": op(
                "getInclusionProof",
                "log",
                "Inclusion proof of an entry",
                {**ok(ref("proof.inclusion"), "The proof."), **problems(400, 404, 503)},
                parameters=[
                    query(
                        "id",
                        params.ATTESTATION_OR_INDEX.schema(),
                        "Attestation id or index.",
                        required=True,
                    ),
                    query("tree_size", integer(1), "Tree size (default: the latest)."),
                ],
            )
        },
        "/v1/proofs/consistency": {
            "get": op(
                "getConsistencyProof",
                "log",
                "Consistency proof between two tree sizes",
                {**ok(ref("proof.consistency"), "The proof."), **problems(400, 404, 503)},
                parameters=[
                    query("old", integer(1), "Older tree size.", required=True),
                    query("new", integer(1), "Newer tree size (default: the latest)."),
                ],
            )
        },
        "/v1/log/leaves": {
            "get": op(
                "getLeaves",
                "log",
                "Raw leaves [start, end)",
                {
                    **ok(ref("Leaves"), "Leaves that exist in the range, at most a page."),
                    **problems(400, 503),
                },
                parameters=[
                    query("start", integer(0), "First index.", required=True),
                    query("end", integer(1), "End index (exclusive).", required=True),
                ],
                description=f"At most {page_size} leaves per response: fewer than asked means "
                "ask again from the next index.",
            )
        },
        "/v1/shipments": {
            "get": op(
                "listShipments",
                "shipments",
                "Search shipments",
                {**ok(ref("ShipmentPage"), "A page of shipments."), **problems(400, 401, 503)},
                parameters=shipment_filters,
                auth="required",
                description="CBP sees every shipment; any other party its own.",
            )
        },
        "/v1/shipments/{ref}": _shipment_view("getShipment", "One shipment", ref("Shipment")),
        "/v1/shipments/{ref}/verification": _shipment_view(
            "getVerification", "The verdict on the shipment's chain", ref("verdict")
        ),
        "/v1/shipments/{ref}/bundle": _shipment_view(
            "getBundle", "The evidence bundle (offline re-verification)", ref("bundle")
        ),
        "/v1/shipments/{ref}/graph": _shipment_view(
            "getGraph", "The provenance graph", ref("Graph")
        ),
        "/v1/parties": {
            "get": op(
                "listParties",
                "parties",
                "The party directory",
                {**ok(ref("PartyPage"), "A page of parties."), **problems(400, 503)},
                parameters=[
                    query("role", {"enum": list(params.ROLES)}, "Only parties with this role."),
                    query("country", params.COUNTRY.schema(), "Only parties of this country."),
                    query("limit", integer(1, page_size), "Items per page."),
                    query("cursor", params.PARTY.schema(), _PAGE),
                ],
            )
        },
        "/v1/parties/{party_id}": {
            "get": op(
                "getParty",
                "parties",
                "One party, with its address and keys",
                {**ok(ref("PartyDetail"), "The party."), **problems(400, 404, 503)},
                parameters=[path("party_id", params.PARTY, "The party id.")],
            )
        },
        "/v1/parties/{party_id}/lots": {
            "get": op(
                "getPartyLots",
                "parties",
                "What a party holds, lot by lot, with the amount left",
                {**ok(ref("PartyLots"), "The party's open lots."), **problems(400, 401, 404, 503)},
                parameters=[path("party_id", params.PARTY, "The party id.")],
                auth="required",
                description="Readable by the party itself and by CBP; asked by any other token, "
                "the same 404 as for a party that does not exist.",
            )
        },
        "/v1/keys/{key_id}": {
            "get": op(
                "getKey",
                "parties",
                "One admitted key: its party, public key and validity",
                {**ok(ref("Key"), "The key."), **problems(400, 404, 503)},
                parameters=[path("key_id", params.KEY, "The key id.")],
            )
        },
        "/v1/certificates": {
            "get": op(
                "listCertificates",
                "certificates",
                "Search published certificates",
                {**ok(ref("CertificatePage"), "A page of certificates."), **problems(400, 503)},
                parameters=[
                    query("facility", params.FACILITY.schema(), "Certified facility."),
                    query("scheme", params.SCHEME.schema(), "Scheme (case-insensitive)."),
                    query("auditor", params.PARTY.schema(), "Issuing auditor."),
                    query("status", {"enum": list(CERTIFICATE_STATUSES)}, "Status now."),
                    *_page_params(page_size),
                ],
            )
        },
        "/v1/certificates/{ref}": {
            "get": op(
                "getCertificate",
                "certificates",
                "One certificate and its status",
                {**ok(ref("Certificate"), "The certificate."), **problems(400, 404, 503)},
                parameters=[path("ref", params.CERTIFICATE_REF, "Attestation id or number.")],
            )
        },
        "/v1/impact": {
            "get": op(
                "getImpact",
                "impact",
                "Shipments whose chain touches a party, facility, region, lot or allegation",
                {**ok(ref("Impact"), "Affected shipments."), **problems(400, 401, 403, 404, 503)},
                parameters=[
                    query("party", params.PARTY.schema(), "A party (e.g. newly entity-listed)."),
                    query("facility", params.FACILITY.schema(), "A facility."),
                    query("region", params.REGION.schema(), "An ISO 3166-2 region."),
                    query("lot", params.LOT.schema(), "A lot label or output reference."),
                    query(
                        "allegation",
                        allegations.ALLEGATION_ID.schema(),
                        "An allegation: the parties, facilities and regions CBP linked it to.",
                    ),
                ],
                auth="required",
                description="CBP only. At least one of the parameters is needed; an "
                "allegation alone (404 when there is no such allegation).",
            )
        },
        **allegations.paths(page_size),
        "/v1/reports/metrics": {
            "get": op(
                "getMetrics",
                "reports",
                "Enforcement metrics: shipments and declared value by a dimension",
                {**ok(ref("Metrics"), "Groups and their total."), **problems(400, 401, 403, 503)},
                parameters=[
                    query("by", {"enum": list(METRIC_DIMENSIONS)}, "Dimension (fiscal-year)."),
                    query("from", {"type": "string", "format": "date"}, "Entry on or after."),
                    query("to", {"type": "string", "format": "date"}, "Entry on or before."),
                ],
                auth="required",
                description="CBP only. Released, denied and pending as CBP counts them; "
                "U.S. fiscal years run October to September.",
            )
        },
        "/healthz": {
            "get": op(
                "health",
                "service",
                "Liveness and log size",
                {**ok(ref("Health"), "The service is up."), **problems(503)},
            )
        },
        "/openapi.json": {
            "get": op(
                "openapi",
                "service",
                "This document",
                ok({"type": "object"}, "OpenAPI 3.1."),
            )
        },
    }


def document(page_size: int = 1000, max_batch: int = 500) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "lotchain",
            "version": __version__,
            "summary": "A traceability ledger for forced-labor enforcement (UFLPA).",
            "description": "Signed DSSE attestations in an append-only RFC 6962 Merkle log. "
            "Errors are RFC 9457 application/problem+json with a stable `code`.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths(page_size, max_batch),
        "components": {
            "schemas": {
                **file_components(),
                **own_components(page_size, max_batch),
                **allegations.components(),
            },
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `lotchain token issue --party ID`.",
                }
            },
        },
    }


def current_document() -> dict[str, Any]:
    """The document of the current app, built on first use."""
    cached: dict[str, Any] | None = current_app.extensions.get("lotchain.openapi")
    if cached is None:
        cached = document(
            int(current_app.config["LOTCHAIN_PAGE_SIZE"]),
            int(current_app.config["LOTCHAIN_MAX_BATCH"]),
        )
        current_app.extensions["lotchain.openapi"] = cached
    return cached


def query_parameters(rule: str, method: str) -> set[str]:
    """Names of the query parameters the document gives a Flask rule and method."""
    template = rule.replace("<path:", "{").replace("<", "{").replace(">", "}")
    item = current_document()["paths"].get(template, {})
    operation = item.get(method.lower()) or item.get("get", {})  # HEAD is GET's twin
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


@bp.get("/openapi.json")
def openapi() -> dict[str, Any]:
    return current_document()
