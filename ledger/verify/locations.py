"""Step 19 (REGION_HIGH_RISK, LOCATION_CONFLICT): every location a facility declares.

A facility is placed by its ``region``, its address (``address.region``; a region code,
a place name or a postal code of a high-risk region in any field of an address in that
region's country, :mod:`ledger.places`) and its ``geo`` point or polygon (against the
region's boundary, rules data). Any of them in a high-risk region, in any version of the
facility logged before the shipment or on or before its entry (arrival) date makes it
high-risk: a facility cannot leave Xinjiang by re-declaring itself. A version logged
after both cannot change what was known when the goods were entered: it is reported as
a warning (review), with its declaration date, not silently turned into a failure.
LOCATION_CONFLICT warns when the declaration in force at an event disagrees with
itself (region, address region and country, place names, geo point). Each fault is
reported once per facility, on the first event of the chain there, naming every event
of the chain at that facility.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger import geo
from ledger.places import region_code
from ledger.verify.engine import Node, Verifier, event_time
from ledger.verify.rules import Rules
from ledger.verify.words import event_words, facility_label, plural

DECLARED, LOCATED = "declared", "located"
_FIELDS = (("street", "street"), ("locality", "locality"), ("region_name", "region name"))


def _address_placements(
    rules: Rules, address: dict[str, Any], country: str, declared_codes: list[str]
) -> dict[str, list[tuple[str, str]]]:
    """Regions an address's free text places it in: place names and postal codes."""
    out: dict[str, list[tuple[str, str]]] = {}
    places = rules.places
    postal = str(address.get("postal_code", ""))
    postal_region, postal_shaped = (
        places.postal_region(postal, country) if postal else (None, False)
    )
    for region, known in places.regions.items():
        if known.country != country:
            continue
        found: list[tuple[str, str]] = []
        unique_name_field: set[str] = set()
        for key, what in _FIELDS:
            text = address.get(key)
            if not isinstance(text, str):
                continue
            name = places.named(text, known.names)
            if name:
                unique_name_field.add(key)
                found.append((LOCATED, f"its address {what} {text!r} is in {region}"))
        if postal_region == region:
            found.append((LOCATED, f"its address postal code {postal} is a {region} postal code"))
        # a shared name counts only when nothing in the address names another province
        elsewhere = (
            any(rules.region_of(c) != region for c in declared_codes)
            or ("region_name" in address and "region_name" not in unique_name_field)
            or (postal_shaped and postal_region != region)
        )
        if not found and not elsewhere:
            for key, what in _FIELDS:
                text = address.get(key)
                name = places.named(text, known.ambiguous) if isinstance(text, str) else None
                if name:
                    found.append(
                        (
                            LOCATED,
                            f"its address {what} {text!r} is in {region}, "
                            "as no other province is declared",
                        )
                    )
        if found:
            out[region] = found
    return out


def placements(rules: Rules, body: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Each region (current code) a facility declaration places it in, with the evidence:
    ``(DECLARED, ...)`` for a region code, ``(LOCATED, ...)`` for a place name, postal
    code or geo."""
    out: dict[str, list[tuple[str, str]]] = {}
    address = body.get("address") or {}
    codes: list[str] = []
    if "region" in body:
        codes.append(body["region"])
        out.setdefault(rules.region_of(body["region"]), []).append(
            (DECLARED, f"its region is {body['region']}")
        )
    if "region" in address:
        codes.append(address["region"])
        out.setdefault(rules.region_of(address["region"]), []).append(
            (DECLARED, f"its address gives region {address['region']}")
        )
    named_code = region_code(str(address.get("region_name", "")))
    if named_code:
        codes.append(named_code)
        out.setdefault(rules.region_of(named_code), []).append(
            (LOCATED, f"its address region name is {address['region_name']!r}")
        )
    country = str(address.get("country", body.get("country")))
    for region, found in _address_placements(rules, address, country, codes).items():
        out.setdefault(region, []).extend(found)
    if "geo" in body:
        for region, boundary in rules.boundaries.items():
            if geo.inside(body["geo"], boundary):
                out.setdefault(region, []).append(
                    (LOCATED, f"its {geo.describe(body['geo'])} is in {region}")
                )
    return out


def _region_in(code: str, country: str) -> bool:
    """An ISO 3166-2 code lies in ``country``: its prefix, or a territory with its own
    alpha-2 code listed as a subdivision (CN-HK is Hong Kong, HK; US-PR is Puerto Rico)."""
    return code.startswith(f"{country}-") or code.endswith(f"-{country}")


def conflicts(rules: Rules, body: dict[str, Any]) -> list[str]:
    """Where one facility declaration disagrees with itself."""
    out = []
    address = body.get("address") or {}
    country, region = body.get("country"), body.get("region")
    if address.get("country") and address["country"] != country:
        out.append(f"its country is {country} but its address is in {address['country']}")
    for what, code, in_country in (
        ("region", region, country),
        ("address region", address.get("region"), address.get("country", country)),
    ):
        if code and in_country and not _region_in(code, in_country):
            out.append(f"its {what} {code} is not in {in_country}")
    if (
        region
        and address.get("region")
        and rules.region_of(region) != rules.region_of(address["region"])
    ):
        out.append(f"its region is {region} but its address gives {address['region']}")
    declared = {rules.region_of(c) for c in (region, address.get("region")) if c}
    for placed, evidence in placements(rules, body).items():
        located = [text for kind, text in evidence if kind == LOCATED]
        if located and declared and placed not in declared:
            out.append(f"{'; '.join(located)}, not in {', '.join(sorted(declared))} as declared")
    if "geo" in body:
        for code in sorted(declared):
            boundary = rules.boundaries.get(code)
            if boundary is not None and not geo.inside(body["geo"], boundary):
                out.append(f"it declares {code} but its {geo.describe(body['geo'])} is outside it")
    return out


def _versions(v: Verifier, facility: str) -> list[Node]:
    return [n for n in v.related_nodes("facility", facility) if n.type == "facility"]


def shipment_entry(v: Verifier) -> tuple[date, int] | None:
    """The shipment's entry (arrival) date and log index: the time basis of the verdict."""
    for node_id, tier in v.tiers.items():
        node = v.chain.get(node_id)
        if tier == 0 and node is not None and node.type == "shipment":
            when = event_time(node)
            return (when.at.date(), node.index) if when else None
    return None


def declared_after_entry(version: Node, entry: tuple[date, int] | None) -> bool:
    """A facility declaration logged after the shipment itself and after its entry date
    (a ledger filled in after the fact logs everything after the dates it records): it
    cannot be what the goods were judged on at importation."""
    declared_on = version.integrated_at.date() if version.integrated_at else None
    return (
        entry is not None
        and declared_on is not None
        and declared_on > entry[0]
        and version.index > entry[1]
    )


def _events(v: Verifier, nodes: list[Node]) -> str:
    listed = "; ".join(event_words(v, n) for n in nodes)
    return f"{plural(len(nodes), 'event')} of the chain there: {listed}"


def _high_risk(
    v: Verifier, facility: str, nodes: list[Node], entry: tuple[date, int] | None
) -> bool:
    """REGION_HIGH_RISK once for ``facility``, on the first of ``nodes``; True if found."""
    rules, first = v.rules, nodes[0]
    known: dict[str, list[str]] = {}
    later: dict[str, list[str]] = {}
    for version in _versions(v, facility):
        declared_on = version.integrated_at.date() if version.integrated_at else None
        late = declared_after_entry(version, entry)
        for region, found in placements(rules, version.body).items():
            if region not in rules.high_risk_regions:
                continue
            note = ""
            if declared_on is not None and version.index > first.index:
                note = (
                    f", declared on {declared_on.isoformat()} (declaration date), after the event"
                )
                if late and entry is not None:
                    note += f" and after the entry date {entry[0]}"
            (later if late else known).setdefault(region, []).extend(
                text + note for _, text in found
            )
    where = facility_label(v, facility, first.index)
    for region in sorted(set(known) | set(later)):
        texts = list(dict.fromkeys(known.get(region, []) + later.get(region, [])))
        message = (
            f"{where} is in a high-risk region, {region} ({rules.high_risk_regions[region]}): "
            f"{'; '.join(texts)}. {_events(v, nodes)}"
        )
        if region in known:
            first.flag("REGION_HIGH_RISK", message)
        else:
            first.flag(
                "REGION_HIGH_RISK",
                message + ". Declared only after the entry date: review whether the site "
                "was there when the goods were made",
                severity="warning",
            )
    return bool(known or later)


def _declares_location(body: dict[str, Any]) -> bool:
    address = body.get("address") or {}
    return any(k in body for k in ("region", "geo")) or any(
        k in address for k in ("region", "region_name", "postal_code")
    )


def _unplaced(v: Verifier, facility: str, nodes: list[Node]) -> None:
    """REGION_HIGH_RISK (warning) when the declaration in force at an event, in a country
    that must declare a region, declares no location that rules a high-risk region out."""
    unplaced, countries = [], set()
    for node in nodes:
        version = v.facility_at(facility, node.index)
        if version is None:
            continue
        country = version.body.get("country")
        if country in v.rules.region_required and not _declares_location(version.body):
            unplaced.append(node)
            countries.add(str(country))
    if unplaced:
        unplaced[0].flag(
            "REGION_HIGH_RISK",
            f"{facility_label(v, facility, unplaced[0].index)}, in "
            f"{', '.join(sorted(countries))}, declares no region, address region, region "
            "name, postal code or geo point, so a high-risk region cannot be ruled out. "
            f"{_events(v, unplaced)}",
            severity="warning",
        )


def _conflicting(v: Verifier, facility: str, nodes: list[Node]) -> None:
    """LOCATION_CONFLICT once for ``facility``: the declarations in force at its events."""
    texts: dict[str, None] = {}
    concerned = []
    for node in nodes:
        declared = v.facility_at(facility, node.index)
        found = conflicts(v.rules, declared.body) if declared is not None else []
        if found:
            texts.update(dict.fromkeys(found))
            concerned.append(node)
    if concerned:
        concerned[0].flag(
            "LOCATION_CONFLICT",
            f"the declared locations of {facility_label(v, facility, concerned[0].index)} "
            f"disagree: {'; '.join(texts)}. {_events(v, concerned)}",
        )


def _plot(v: Verifier, node: Node) -> None:
    """An origin's plot is a declared location too: its geo in a high-risk region."""
    plot = node.body.get("plot") or {}
    if node.type != "origin" or "geo" not in plot:
        return
    where = facility_label(v, node.body["facility"], node.index)
    for region, boundary in sorted(v.rules.boundaries.items()):
        if region in v.rules.high_risk_regions and geo.inside(plot["geo"], boundary):
            node.flag(
                "REGION_HIGH_RISK",
                f"{event_words(v, node)} names plot {plot['name']!r} of {where}, whose "
                f"{geo.describe(plot['geo'])} is in a high-risk region, {region}: "
                f"{v.rules.high_risk_regions[region]}",
            )


def check_locations(v: Verifier) -> None:
    """Step 19 over the chain: each facility its events involve, once; origins' plots."""
    at: dict[str, list[Node]] = {}
    for node in sorted(v.chain.values(), key=lambda n: n.index):
        if node.att is None:
            continue
        _plot(v, node)
        body = node.body
        for key in ("facility", "ship_from", "ship_to"):
            if key in body and node not in at.setdefault(body[key], []):
                at[body[key]].append(node)
    entry = shipment_entry(v)
    for facility, nodes in at.items():
        if not _high_risk(v, facility, nodes, entry):
            _unplaced(v, facility, nodes)
        _conflicting(v, facility, nodes)
