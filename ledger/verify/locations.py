"""Step 19 (REGION_HIGH_RISK, LOCATION_CONFLICT): every location a facility declares.

A facility is placed by its ``region``, its address (``address.region``, and the place
names of a high-risk region in its locality or region name, for an address in that
region's country) and its ``geo`` point or polygon (against the region's boundary,
rules data). Any of them in a high-risk region, in any version of the facility ever
declared, makes it high-risk: a facility cannot leave Xinjiang by re-declaring itself.
LOCATION_CONFLICT warns when the declaration in force at an event disagrees with
itself (region, address region and country, place names, geo point).
"""

from __future__ import annotations

import re
from typing import Any

from ledger import geo
from ledger.verify.engine import Node, Verifier
from ledger.verify.identity import event_label, facility_name
from ledger.verify.rules import Rules

_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _named(text: str, names: tuple[str, ...]) -> str | None:
    """The first place name of ``names`` in ``text``, as whole words (or CJK substring)."""
    words = _words(text)
    folded = text.casefold()
    for name in names:
        parts = _words(name)
        if not parts:
            continue
        if not name.isascii():
            if name in folded:
                return name
            continue
        n = len(parts)
        if any(words[i : i + n] == parts for i in range(len(words) - n + 1)):
            return name
    return None


DECLARED, LOCATED = "declared", "located"


def placements(rules: Rules, body: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Each region (current code) a facility declaration places it in, with the evidence:
    ``(DECLARED, ...)`` for a region code, ``(LOCATED, ...)`` for a place name or geo."""
    out: dict[str, list[tuple[str, str]]] = {}
    address = body.get("address") or {}
    if "region" in body:
        out.setdefault(rules.region_of(body["region"]), []).append(
            (DECLARED, f"its region is {body['region']}")
        )
    if "region" in address:
        out.setdefault(rules.region_of(address["region"]), []).append(
            (DECLARED, f"its address gives region {address['region']}")
        )
    country = address.get("country", body.get("country"))
    for region, by_country in rules.localities.items():
        names = by_country.get(str(country), ())
        for key in ("locality", "region_name"):
            found = _named(str(address.get(key, "")), names) if key in address else None
            if found:
                what = "locality" if key == "locality" else "region name"
                out.setdefault(region, []).append(
                    (LOCATED, f"its address {what} {address[key]!r} is in {region}")
                )
                break
    if "geo" in body:
        for region, boundary in rules.boundaries.items():
            if geo.inside(body["geo"], boundary):
                out.setdefault(region, []).append(
                    (LOCATED, f"its {geo.describe(body['geo'])} is in {region}")
                )
    return out


def _versions(v: Verifier, facility: str) -> list[Node]:
    return [n for n in v.related_nodes("facility", facility) if n.type == "facility"]


def _high_risk(v: Verifier, node: Node, facility: str) -> None:
    rules = v.rules
    evidence: dict[str, list[str]] = {}
    for version in _versions(v, facility):
        for region, found in placements(rules, version.body).items():
            if region in rules.high_risk_regions:
                evidence.setdefault(region, []).extend(text for _, text in found)
    where = facility_name(v, facility, node.index)
    for region, texts in sorted(evidence.items()):
        node.flag(
            "REGION_HIGH_RISK",
            f"{event_label(node)} was at {where}, in a high-risk region, {region}: "
            f"{'; '.join(dict.fromkeys(texts))} ({rules.high_risk_regions[region]})",
        )
    if evidence:
        return
    versions = _versions(v, facility)
    placed = any(
        "region" in n.body or "region" in (n.body.get("address") or {}) or "geo" in n.body
        for n in versions
    )
    countries = {n.body["country"] for n in versions} & rules.region_required
    if not placed and countries:
        node.flag(
            "REGION_HIGH_RISK",
            f"{event_label(node)} was at {where} in {', '.join(sorted(countries))}, which "
            "declares no region, address region or geo point, so a high-risk region cannot "
            "be ruled out",
            severity="warning",
        )


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


def _plot(v: Verifier, node: Node) -> None:
    """An origin's plot is a declared location too: its geo in a high-risk region."""
    plot = node.body.get("plot") or {}
    if node.type != "origin" or "geo" not in plot:
        return
    where = facility_name(v, node.body["facility"], node.index)
    for region, boundary in sorted(v.rules.boundaries.items()):
        if region in v.rules.high_risk_regions and geo.inside(plot["geo"], boundary):
            node.flag(
                "REGION_HIGH_RISK",
                f"{event_label(node)} at {where} names plot {plot['name']!r}, whose "
                f"{geo.describe(plot['geo'])} is in a high-risk region, {region} "
                f"({v.rules.high_risk_regions[region]})",
            )


def check_locations(v: Verifier, node: Node) -> None:
    """Step 19 for every facility the event involves, and an origin's plot."""
    _plot(v, node)
    body = node.body
    sites = [body[k] for k in ("facility", "ship_from", "ship_to") if k in body]
    for facility in dict.fromkeys(sites):
        _high_risk(v, node, facility)
        declared = v.facility_at(facility, node.index)
        if declared is None:
            continue
        found = conflicts(v.rules, declared.body)
        if found:
            node.flag(
                "LOCATION_CONFLICT",
                f"{event_label(node)} was at {facility_name(v, facility, node.index)}, whose "
                f"declared locations disagree: {'; '.join(dict.fromkeys(found))}",
            )
