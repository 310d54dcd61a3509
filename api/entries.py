"""Entries: append one envelope, append a batch, read an entry back with its proof.

Appends need no token: the envelope's signatures and the admission rules decide. An
entry is read back with its envelope, leaf and inclusion proof under the latest
checkpoint, so the reader can check it without trusting the server.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request

from api import params
from api.access import reader, state
from api.errors import ReadOnlyError, problem_body
from api.queries import entry_json, lookup_entry
from ledger.canonical import parse_json
from ledger.errors import LedgerError, MalformedError, TooLargeError
from ledger.log import Ledger

bp = Blueprint("entries", __name__)


def _writable() -> Ledger:
    ledger = state().ledger
    if ledger.log_signer is None:
        raise ReadOnlyError("this server was started without the log key and cannot append")
    return ledger


@bp.post("/v1/entries")
def append_entry() -> tuple[Response, int]:
    """Append one DSSE envelope; 201 with the receipt, or the problem of the rule it broke."""
    ledger = _writable()
    receipt = ledger.append(request.get_data(cache=False))
    response = Response(_compact(receipt.to_json()), 201, mimetype="application/json")
    response.headers["Location"] = f"/v1/entries/{receipt.attestation}"
    return response, 201


def _compact(value: object) -> bytes:
    """JSON as jsonify writes it outside debug mode, without its per-call machinery."""
    return (json.dumps(value, separators=(",", ":")) + "\n").encode("ascii")


@bp.post("/v1/entries:batch")
def append_batch() -> tuple[Response, int]:
    """Append many envelopes in one commit; each is accepted or refused on its own."""
    ledger = _writable()
    limit = int(current_app.config["LOTCHAIN_MAX_BATCH_BYTES"])
    request.max_content_length = limit
    value = parse_json(request.get_data(cache=False), max_bytes=limit)
    if not isinstance(value, dict) or not {"envelopes"} <= set(value) <= {"envelopes", "atomic"}:
        raise MalformedError(
            'a batch is a JSON object {"envelopes": [envelope, ...], "atomic": false}'
        )
    atomic = value.get("atomic", False)
    if not isinstance(atomic, bool):
        raise MalformedError("atomic must be true or false")
    envelopes = value["envelopes"]
    if not isinstance(envelopes, list) or not envelopes:
        raise MalformedError("envelopes must be a non-empty list")
    most = int(current_app.config["LOTCHAIN_MAX_BATCH"])
    if len(envelopes) > most:
        raise TooLargeError(f"a batch holds at most {most} envelopes, not {len(envelopes)}")
    results: list[dict[str, Any]] = []
    for result in ledger.append_batch(envelopes, atomic=atomic):
        if isinstance(result, LedgerError):
            results.append({"status": result.http_status, "problem": problem_body(result)})
        else:
            results.append({"status": 201, "receipt": result.to_json()})
    accepted = sum(1 for r in results if r["status"] == 201)
    body = {"accepted": accepted, "refused": len(results) - accepted, "results": results}
    return Response(_compact(body), 200, mimetype="application/json"), 200


@bp.get("/v1/entries/<ref>")
def get_entry(ref: str) -> dict[str, Any]:
    """An entry by attestation id or index, if the caller may read it (else a plain 404)."""
    who = reader()
    st = state()
    params.check(ref, params.ATTESTATION_OR_INDEX, "an entry")
    entry = st.policy.readable_entry(who, lookup_entry(st.ledger, ref), ref)
    return entry_json(st.ledger, entry)
