"""Allegations: anyone submits (anonymous allowed), only CBP reads and links them.

``POST /v1/allegations`` is rate-limited per client address (:mod:`api.ratelimit`),
bounded in size, validated against ``schemas/allegation.schema.json``, stored in its own
table and acknowledged with a receipt: the allegation id, its content hash, the salt,
and the log entry (leaf, checkpoint, inclusion proof) that commits to it by hash only.
Reads and links are CBP's (401 without a token, 403 for any other party, before any
lookup), like every CBP-only route.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState

from api import params
from api.access import require_cbp, state
from api.errors import ReadOnlyError
from api.ratelimit import RateLimiter, client_key
from api.spec import INT, JSON, TIME, obj, ok, op, path, problems, query, ref
from ledger.allegation import ID_PREFIX, MAX_ALLEGATION_BYTES, parse_allegation
from ledger.canonical import parse_json
from ledger.errors import ConfigError, MalformedError, RateLimitedError
from ledger.storage.allegations import LINK_KINDS, AllegationStore

bp = Blueprint("allegations", __name__)

ALLEGATION_ID = params.Shape(ID_PREFIX + r"[0-9a-f]{24}", 28, "an allegation id (alg_ + 24 hex)")
#: Defaults, each overridable in the app's config or by the environment variable of its name.
DEFAULTS: dict[str, int] = {
    "LOTCHAIN_ALLEGATION_MAX_BYTES": MAX_ALLEGATION_BYTES,  # one submission, uploads included
    "LOTCHAIN_ALLEGATION_RATE": 10,  # submissions per client address per window
    "LOTCHAIN_ALLEGATION_WINDOW": 3600,  # seconds
    "LOTCHAIN_TRUSTED_PROXIES": 0,  # reverse proxies whose X-Forwarded-For is believed
}
_EXT = "lotchain.allegations"


@bp.record_once
def _setup(setup: BlueprintSetupState) -> None:
    app = setup.app
    for key, value in DEFAULTS.items():  # the app's config, else the environment
        app.config.setdefault(key, _from_environment(key, value))
    limiter = RateLimiter(
        int(app.config["LOTCHAIN_ALLEGATION_RATE"]),
        float(app.config["LOTCHAIN_ALLEGATION_WINDOW"]),
    )
    app.extensions[_EXT] = (limiter, AllegationStore(app.extensions["lotchain"].ledger))


def _from_environment(key: str, default: int) -> int:
    raw = os.environ.get(key)
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 12 or (key != "LOTCHAIN_TRUSTED_PROXIES" and raw == "0"):
        raise ConfigError(f"{key} must be a positive whole number, not {raw[:20]!r}")
    return int(raw)


def _parts() -> tuple[RateLimiter, AllegationStore]:
    value: tuple[RateLimiter, AllegationStore] = current_app.extensions[_EXT]
    return value


def allegation_store() -> AllegationStore:
    return _parts()[1]


def _throttle(limiter: RateLimiter) -> None:
    client = client_key(
        request.remote_addr,
        request.headers.get("X-Forwarded-For"),
        int(current_app.config["LOTCHAIN_TRUSTED_PROXIES"]),
    )
    wait = limiter.hit(client)
    if wait is not None:
        raise RateLimitedError(
            f"too many allegations from this address: at most {limiter.limit} per "
            f"{int(limiter.window)} seconds; retry in {wait} seconds",
            retry_after=wait,
        )


@bp.post("/v1/allegations")
def submit() -> tuple[Response, int]:
    """Take an allegation from anyone; 201 with the receipt the submitter keeps."""
    limiter, store = _parts()
    _throttle(limiter)
    if state().ledger.log_signer is None:
        raise ReadOnlyError("this server was started without the log key and cannot take it")
    limit = int(current_app.config["LOTCHAIN_ALLEGATION_MAX_BYTES"])
    request.max_content_length = limit
    allegation = parse_allegation(request.get_data(cache=False), max_bytes=limit)
    receipt = store.submit(allegation)
    response = jsonify(receipt.to_json())
    response.headers["Location"] = f"/v1/allegations/{receipt.allegation}"
    return response, 201


@bp.get("/v1/allegations")
def list_allegations() -> dict[str, Any]:
    require_cbp()
    page_size = int(current_app.config["LOTCHAIN_PAGE_SIZE"])
    items, cursor = _parts()[1].page(after=params.index_cursor(), limit=params.limit(page_size))
    return {
        "allegations": [item.summary() for item in items],
        "next_cursor": None if cursor < 0 else str(cursor),
    }


@bp.get("/v1/allegations/<ident>")
def get_allegation(ident: str) -> dict[str, Any]:
    require_cbp()
    params.check(ident, ALLEGATION_ID, "the allegation id")
    return _parts()[1].get(ident).to_json()


@bp.post("/v1/allegations/<ident>/links")
def link_allegation(ident: str) -> tuple[dict[str, Any], int]:
    who = require_cbp()
    params.check(ident, ALLEGATION_ID, "the allegation id")
    body = parse_json(request.get_data(cache=False), max_bytes=4096)
    if not isinstance(body, dict) or set(body) != {"kind", "value"}:
        raise MalformedError('a link is {"kind": "party" | "facility" | "region", "value": ID}')
    kind, value = body["kind"], body["value"]
    if not isinstance(kind, str) or not isinstance(value, str):
        raise MalformedError("kind and value are strings")
    store = _parts()[1]
    store.link(ident, kind, value, by=who.party, now=state().ledger.clock())
    return {"allegation": ident, "links": [k.to_json() for k in store.links(ident)]}, 201


# -- the OpenAPI document ------------------------------------------------------------------


def components() -> dict[str, Any]:
    link = obj(
        {
            "kind": {"enum": list(LINK_KINDS)},
            "value": {"type": "string", "maxLength": 136},
            "linked_by": {"type": ["string", "null"]},
            "linked_at": TIME,
        }
    )
    summary = {
        "id": ALLEGATION_ID.schema(),
        "received_at": TIME,
        "alleged": {"type": "array", "items": {"type": "string"}},
        "merchandise": {"type": "string"},
        "country": {"type": ["string", "null"]},
        "region": {"type": ["string", "null"]},
        "indicators": {"type": "array", "items": {"type": "string"}},
        "evidence": INT,
        "anonymous": {"type": "boolean"},
        "links": {"type": "array", "items": link},
    }
    return {
        "AllegationLink": link,
        "AllegationLinkRequest": obj(
            {
                "kind": {"enum": list(LINK_KINDS)},
                "value": {
                    "type": "string",
                    "maxLength": 136,
                    "description": "A party id, a facility id or an ISO 3166-2 region.",
                },
            }
        ),
        "AllegationLinks": obj(
            {"allegation": ALLEGATION_ID.schema(), "links": {"type": "array", "items": link}}
        ),
        "AllegationReceipt": obj(
            {
                "allegation": ALLEGATION_ID.schema(),
                "content_sha256": ref("defs.attestationId"),
                "salt": ref("defs.base64"),
                "commitment": ref("defs.attestationId"),
                "received_at": TIME,
                "envelope": ref("envelope"),
                "attestation": ref("defs.attestationId"),
                "index": INT,
                "leaf": ref("defs.base64"),
                "checkpoint": {"type": "string"},
                "inclusion": ref("proof.inclusion"),
            },
            description="Keep it: `lotchain allegation verify RECEIPT --allegation FILE` "
            "proves what was submitted, and when, against the trust root.",
        ),
        "AllegationSummary": obj(summary),
        "AllegationPage": obj(
            {
                "allegations": {"type": "array", "items": ref("AllegationSummary")},
                "next_cursor": {"type": ["string", "null"]},
            }
        ),
        "Allegation": obj(
            {
                **summary,
                "allegation": ref("allegation"),
                "content_sha256": ref("defs.attestationId"),
                "receipt_entry": obj({"attestation": ref("defs.attestationId"), "index": INT}),
                "intact": {
                    "type": "boolean",
                    "description": "The stored bytes still match the logged commitment.",
                },
            }
        ),
    }


def paths(page_size: int) -> dict[str, Any]:
    ident = path("ident", ALLEGATION_ID, "The allegation id from the receipt.")
    cbp = problems(400, 401, 403, 503)
    return {
        "/v1/allegations": {
            "post": op(
                "submitAllegation",
                "allegations",
                "Submit a forced-labor allegation (anyone; anonymous allowed)",
                {
                    "201": {
                        "description": "Received: the receipt to keep.",
                        "content": {JSON: {"schema": ref("AllegationReceipt")}},
                        "headers": {"Location": {"schema": {"type": "string"}}},
                    },
                    **problems(400, 413, 422, 429, 503),
                },
                requestBody={"required": True, "content": {JSON: {"schema": ref("allegation")}}},
                description="No token. At most LOTCHAIN_ALLEGATION_MAX_BYTES (1 MiB) per "
                "submission, uploads included (512 KiB per file), and "
                "LOTCHAIN_ALLEGATION_RATE submissions (10) per client address per "
                "LOTCHAIN_ALLEGATION_WINDOW seconds (3600): past it, 429 RATE_LIMITED with "
                "Retry-After. Stored confidentially; the log holds only a salted hash.",
            ),
            "get": op(
                "listAllegations",
                "allegations",
                "Allegations received (CBP only)",
                {**ok(ref("AllegationPage"), "A page, oldest first."), **cbp},
                parameters=[
                    query("limit", {"type": "integer", "minimum": 1, "maximum": page_size}, ""),
                    query("cursor", params.CURSOR.schema(), "The previous page's next_cursor."),
                ],
                auth="required",
                description="CBP only. Summaries without the reporter's contact.",
            ),
        },
        "/v1/allegations/{ident}": {
            "get": op(
                "getAllegation",
                "allegations",
                "One allegation, whole (CBP only)",
                {**ok(ref("Allegation"), "The allegation."), **problems(400, 401, 403, 404, 503)},
                parameters=[ident],
                auth="required",
                description="CBP only; `intact` says whether it still matches its logged hash.",
            )
        },
        "/v1/allegations/{ident}/links": {
            "post": op(
                "linkAllegation",
                "allegations",
                "Link an allegation to a party, facility or region (CBP only)",
                {
                    "201": {
                        "description": "Linked (linking twice keeps the first link).",
                        "content": {JSON: {"schema": ref("AllegationLinks")}},
                    },
                    **problems(400, 401, 403, 404, 503),
                },
                parameters=[ident],
                requestBody={
                    "required": True,
                    "content": {JSON: {"schema": ref("AllegationLinkRequest")}},
                },
                auth="required",
                description="`/v1/impact?allegation=ID` then names the shipments it touches.",
            )
        },
    }
