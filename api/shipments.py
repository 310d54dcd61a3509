"""Shipments: search, one shipment, its verdict, its evidence bundle and its graph.

Readable by CBP and by the importer of record only. A shipment is named by its
attestation id, its CBP entry number or its log index.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from api import params
from api.access import Principal, principal, reader, state
from api.queries import (
    body_of,
    chain_countries,
    entries_of_type,
    lookup_shipment,
    shipment_summary,
)
from ledger import verify
from ledger.log import Ledger
from ledger.storage.base import StoredEntry

bp = Blueprint("shipments", __name__)

STATUSES = ("pass", "review", "fail")


class _Filters:
    """The query of GET /v1/shipments, parsed and checked before any work is done.

    Party, facility and region use the impact index (downstream from the entries that
    involve them, as ``/v1/impact`` does); country also looks at the chain's facilities.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        party = params.text("party", params.PARTY)
        facility = params.text("facility", params.FACILITY)
        region = params.text("region", params.REGION)
        self.country = params.text("country", params.COUNTRY)
        hs = params.text("hs", params.HS)
        self.hs = None if hs is None else hs.replace(".", "")
        self.arrived_from = params.date("arrived_from")
        self.arrived_to = params.date("arrived_to")
        self.status = params.choice("status", STATUSES)
        self.party = party
        self.by_party = None if party is None else self._touching(party=party)
        self.by_place: set[str] | None = None
        if facility is not None:
            self.by_place = self._touching(facility=facility)
        if region is not None:
            in_region = self._touching(region=region)
            self.by_place = in_region if self.by_place is None else self.by_place & in_region

    def _touching(self, **query: str) -> set[str]:
        return {item["shipment"] for item in verify.impact(self.ledger, **query)}

    def match(self, entry: StoredEntry, body: dict[str, Any]) -> bool:
        if self.arrived_from is not None and body["arrival_date"] < self.arrived_from:
            return False
        if self.arrived_to is not None and body["arrival_date"] > self.arrived_to:
            return False
        if self.hs is not None:
            codes = [line["hts_code"].replace(".", "") for line in body["hts_lines"]]
            if not any(code.startswith(self.hs) for code in codes):
                return False
        if self.by_place is not None and entry.attestation_id not in self.by_place:
            return False
        if self.party is not None and self.by_party is not None:
            named = {entry.issuer, body["exporter"], body["manufacturer"]}
            if self.party not in named and entry.attestation_id not in self.by_party:
                return False
        if self.country is not None and self.country != body["country_of_origin"]:
            chain = state().policy.chain(entry.attestation_id)
            return self.country in chain_countries(self.ledger, chain)
        return True


@bp.get("/v1/shipments")
def list_shipments() -> dict[str, Any]:
    """Shipments the caller may read, filtered; ``next_cursor`` continues the scan."""
    who = principal(required=True)
    assert who is not None
    st = state()
    filters = _Filters(st.ledger)
    limit = params.limit(int(current_app.config["LOTCHAIN_PAGE_SIZE"]))
    cursor = params.index_cursor()
    budget = int(current_app.config["LOTCHAIN_SCAN_BUDGET"])
    issuer = None if who.is_cbp else who.party
    found: list[dict[str, Any]] = []
    verified = 0
    last = cursor
    done = True
    for examined, entry in enumerate(
        entries_of_type(st.ledger, "shipment", after=cursor, issuer=issuer), start=1
    ):
        last = entry.index
        item = _match(entry, filters)
        if item is not None and filters.status is not None:
            verified += 1
            status = verify.verify_shipment_online(st.ledger, entry.attestation_id).status
            item = item if status == filters.status else None
            if item is not None:
                item["status"] = status
        if item is not None:
            found.append(item)
        if len(found) >= limit or examined >= budget or verified >= limit:
            done = False
            break
    return {"shipments": found, "next_cursor": None if done else str(last)}


def _match(entry: StoredEntry, filters: _Filters) -> dict[str, Any] | None:
    body = body_of(entry)
    return shipment_summary(entry, body) if filters.match(entry, body) else None


def _shipment(ref: str) -> tuple[StoredEntry, Principal]:
    """The shipment ``ref`` names: 401 before any lookup, then one 404 for all it may not see."""
    who = reader()
    st = state()
    params.check(ref, params.SHIPMENT_REF, "a shipment")
    return st.policy.readable_shipment(who, lookup_shipment(st.ledger, ref), ref), who


@bp.get("/v1/shipments/<ref>")
def get_shipment(ref: str) -> dict[str, Any]:
    """One shipment: its summary, the signed body and links to its views."""
    entry, _ = _shipment(ref)
    body = body_of(entry)
    base = f"/v1/shipments/{entry.attestation_id}"
    return {
        **shipment_summary(entry, body),
        "body": body,
        "links": {
            "entry": f"/v1/entries/{entry.attestation_id}",
            "verification": base + "/verification",
            "bundle": base + "/bundle",
            "graph": base + "/graph",
        },
    }


@bp.get("/v1/shipments/<ref>/verification")
def verification(ref: str) -> dict[str, Any]:
    """The verdict on the shipment's whole upstream chain, with reasons."""
    entry, _ = _shipment(ref)
    verdict: dict[str, Any] = verify.verify_shipment_online(
        state().ledger, entry.attestation_id
    ).to_json()
    return verdict


@bp.get("/v1/shipments/<ref>/bundle")
def bundle(ref: str) -> Response:
    """The evidence bundle: everything needed to re-verify the verdict offline."""
    entry, _ = _shipment(ref)
    value = verify.build_bundle(state().ledger, entry.attestation_id)
    response = jsonify(value)
    name = body_of(entry)["entry_number"].replace("-", "")
    response.headers["Content-Disposition"] = f'attachment; filename="bundle-{name}.json"'
    return response


@bp.get("/v1/shipments/<ref>/graph")
def graph(ref: str) -> dict[str, Any]:
    """The provenance graph: attestations and lots from the origins to the shipment."""
    entry, _ = _shipment(ref)
    value: dict[str, Any] = verify.shipment_graph(state().ledger, entry.attestation_id)
    return value
