"""The log, checkable by anyone, and the API explorer.

The log page shows the latest checkpoint and the log's verifier key; its script
(``static/logcheck.js``) fetches the public proof routes and checks, in the visitor's
own browser, the checkpoint's Ed25519 signature (Web Crypto) and an entry's RFC 9162
inclusion proof against the signed root: the server is not trusted for either.
"""

from __future__ import annotations

from typing import Any

from flask import g, render_template, request

from api import params
from api.access import state
from api.console.base import bp
from api.openapi import current_document
from api.queries import lookup_entry
from ledger.encoding import format_timestamp


@bp.get("/log")
def log() -> str:
    ledger = state().ledger
    ref = request.args.get("entry", "").strip() or None
    entry_view: dict[str, Any] | None = None
    if ref is not None:
        params.check(ref, params.ATTESTATION_OR_INDEX, "an entry")
        found = lookup_entry(ledger, ref)
        who = g.get("principal")
        readable = (
            found is not None and who is not None and state().policy.can_read(who, found)
        ) or (found is not None and state().policy.is_public(found))
        entry_view = {"ref": ref, "found": found is not None, "readable": readable}
        if found is not None:
            entry_view["index"] = found.index
        if found is not None and readable:
            entry_view.update(
                attestation=found.attestation_id,
                type=found.type,
                issuer=found.issuer,
                integrated_at=format_timestamp(found.integrated_at, micro=True),
            )
    checkpoint = ledger.checkpoint()
    return render_template(
        "log.html",
        note=checkpoint.note.decode("utf-8"),
        size=checkpoint.size,
        vkey=ledger.trust.log_vkey,
        origin=ledger.origin,
        entry=entry_view,
    )


@bp.get("/log/selftest")
def log_selftest() -> str:
    """Runs the in-browser checks on the Merkle test vectors given to it (tests use it)."""
    return render_template("selftest.html")


@bp.get("/explorer")
def explorer() -> str:
    """Every route of /openapi.json with its parameters, and a form to try GET routes."""
    doc = current_document()
    routes = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "delete", "patch"):
                continue
            routes.append(
                {
                    "path": path,
                    "method": method.upper(),
                    "id": op.get("operationId", f"{method}-{path}"),
                    "summary": op.get("summary") or op.get("description", ""),
                    "parameters": op.get("parameters", []),
                    "secured": bool(op.get("security")),
                }
            )
    return render_template("explorer.html", routes=routes, info=doc.get("info", {}))
