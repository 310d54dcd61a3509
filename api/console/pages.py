"""Home, sign-in and the shipment pages: thin over the API's own queries and policy."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Response, jsonify, redirect, render_template, request, session, url_for

from api import params
from api.access import reader, state
from api.console.base import bp, local_path, sign_in
from api.console.graph import layout
from api.queries import body_of, lookup_shipment, shipment_summary
from api.shipments import enforcement_json, search
from ledger import enforcement, verify
from ledger.errors import LedgerError, MalformedError, UnauthorizedError
from ledger.log import Ledger
from ledger.storage.base import StoredEntry
from ledger.verify.verdict import STEPS

PAGE = 50
FILTERS = (
    "party", "facility", "country", "region", "hs", "arrived_from", "arrived_to", "status",
    "enforcement",
)
STEP_TITLES = {number: title for number, title, _ in STEPS}
STATUS_WORDS = {"pass": "Pass", "review": "Review", "fail": "Fail"}
#: A shipment's enforcement status (ledger.enforcement.STATUSES) as an officer says it.
ENFORCEMENT_WORDS = {
    "none": "Not detained",
    "detained": "Detained",
    "submitted": "Submission received",
    "released": "Released",
    "excluded": "Excluded",
    "seized": "Seized",
    "re-exported": "Re-exported",
}


@bp.get("/")
def home() -> str:
    return render_template("home.html")


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Response | tuple[str, int] | str:
    target = local_path(request.values.get("next"))
    if request.method == "GET":
        return render_template("signin.html", next=target, error=None)
    try:
        sign_in(request.form.get("token", ""))
    except UnauthorizedError as e:
        return render_template("signin.html", next=target, error=e.message), 401
    return redirect(target, 303)  # type: ignore[return-value]


@bp.post("/signout")
def signout() -> Response:
    session.clear()
    return redirect(url_for("console.home"), 303)  # type: ignore[return-value]


@bp.get("/shipments")
def shipments() -> Response | tuple[str, int] | str:
    """The API's search (same filters, same policy), each shipment with its verdict."""
    who = reader()
    given = {k: v for k, v in request.args.items(multi=False)}
    if any(v == "" for v in given.values()):  # an empty form field is no filter
        kept = {k: v for k, v in given.items() if v != ""}
        return redirect(url_for("console.shipments") + ("?" + urlencode(kept) if kept else ""))  # type: ignore[return-value]
    unknown = sorted(set(given) - set(FILTERS) - {"cursor"})
    error = None
    found: list[dict[str, Any]] = []
    next_cursor = None
    try:
        if unknown:
            raise MalformedError(f"unknown filter {unknown[0]!r}")
        found, next_cursor = search(who, limit=PAGE, cursor=params.index_cursor(),
                                    with_status=True)
    except LedgerError as e:
        error = e.message
    more = None
    if next_cursor is not None:
        more = url_for("console.shipments") + "?" + urlencode({**given, "cursor": next_cursor})
    return render_template(
        "shipments.html", shipments=found, filters=given, error=error, more=more,
        statuses=STATUS_WORDS, enforcement_words=ENFORCEMENT_WORDS,
    ), (400 if error else 200)


def _readable_shipment(ref: str) -> StoredEntry:
    """The API's rule: 401 first, then one 'not found' for missing and not-yours alike."""
    who = reader()
    params.check(ref, params.SHIPMENT_REF, "a shipment")
    st = state()
    return st.policy.readable_shipment(who, lookup_shipment(st.ledger, ref), ref)


def _by_tier(verdict: dict[str, Any]) -> list[tuple[dict[str, Any] | None, list[dict[str, Any]]]]:
    """Findings under the tier of the attestation they name; the rest under the shipment."""
    tiers: list[dict[str, Any]] = verdict["summary"].get("tiers", [])
    at = {t["attestation"]: t for t in tiers}
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for finding in verdict["findings"]:
        key = finding.get("attestation") if finding.get("attestation") in at else None
        groups.setdefault(key, []).append(finding)
    out: list[tuple[dict[str, Any] | None, list[dict[str, Any]]]] = []
    if None in groups:
        out.append((None, groups[None]))
    out += [(at[k], v) for k, v in groups.items() if k is not None]
    out.sort(key=lambda item: -1 if item[0] is None else int(item[0]["tier"]))
    return out


@bp.get("/shipments/<ref>")
def shipment(ref: str) -> str:
    entry = _readable_shipment(ref)
    ledger = state().ledger
    body = body_of(entry)
    verdict = verify.verify_shipment_online(ledger, entry.attestation_id).to_json()
    graph = verify.shipment_graph(ledger, entry.attestation_id)
    summary = verdict["summary"]
    origins = _origins(summary.get("tiers", []))
    return render_template(
        "shipment.html",
        entry=entry,
        body=body,
        item=shipment_summary(entry, body),
        verdict=verdict,
        groups=_by_tier(verdict),
        step_titles=STEP_TITLES,
        statuses=STATUS_WORDS,
        picture=layout(graph, verdict["findings"]),
        origins=origins,
        held=enforcement_history(ledger, entry.attestation_id),
        enforcement_words=ENFORCEMENT_WORDS,
    )


def enforcement_history(ledger: Ledger, shipment_id: str) -> dict[str, Any]:
    """The API's enforcement status and history (``enforcement_json``), each step with
    who signed it and the legal basis in words."""
    held = enforcement_json(ledger, shipment_id)
    if held["status"] == "none":
        return held
    held["basis_title"] = enforcement.rules()["bases"][held["authority"]]["title"]
    for step in held["history"]:
        found = ledger.store.find(step["attestation"])
        signer = None if found is None else found.issuer
        party = None if signer is None else ledger.store.party(signer)
        step["signer"] = signer
        step["signer_name"] = None if party is None else party.legal_name
    return held


def _origins(tiers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chain's origins (raw material) by country and region, with their facilities."""
    places: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for tier in tiers:
        if tier.get("type") == "origin":
            key = (str(tier.get("country") or "?"), str(tier.get("region") or ""))
            places.setdefault(key, []).append(tier)
    return [
        {"country": c, "region": r, "tiers": rows} for (c, r), rows in sorted(places.items())
    ]


@bp.get("/shipments/<ref>/evidence")
def evidence(ref: str) -> Response:
    """The API's evidence bundle, as a download (the same bytes as /v1/.../bundle)."""
    entry = _readable_shipment(ref)
    response = jsonify(verify.build_bundle(state().ledger, entry.attestation_id))
    name = body_of(entry)["entry_number"].replace("-", "")
    response.headers["Content-Disposition"] = f'attachment; filename="bundle-{name}.json"'
    return response


@bp.app_template_filter("short")
def short(value: str | None) -> str:
    """``sha256:1c58a8f7…`` for an attestation id."""
    if not value:
        return ""
    return value[:15] + "\u2026" if value.startswith("sha256:") else value
