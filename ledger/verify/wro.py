"""Step 18 (WRO, FINDING): Withhold Release Orders and Findings under 19 U.S.C. 1307.

Admissibility is decided at importation, so an order is judged on the shipment's entry
(arrival) date: in force from its ``issued_on``, until a revocation or a lift recorded
for it (``ledger/rules/orders.json``), whenever the goods were made.

An order's **subject goods** are lots of the chain under its HS prefixes (any lot when it
has none) that were made or sold by its producer (legal name or alias, normalised as on
the entity list; for a vessel order also the vessel's name, IMO number or operator), or
that were produced in its region (an origin or processing step there) or have their
raw-material origin in its country. The order reaches the shipment when the subject
goods do: through trade, and through processing that keeps them under the order's HS
prefixes; for an order that follows derived goods (rules data: Hoshine, XPCC, the
Xinjiang region-wide order, ...) through any processing, anywhere.

A Finding governs the goods it shares with a WRO: only the FINDING is reported then.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from ledger import geo
from ledger.encoding import parse_date
from ledger.errors import LedgerError
from ledger.orders import Order
from ledger.screening import name_key, name_tokens
from ledger.verify.engine import Node, Verifier, event_time
from ledger.verify.locations import declared_after_entry, placements, shipment_entry
from ledger.verify.order_rules import Modification

MAKERS = ("origin", "transformation")
SHIPMENT_LINE = "#line"


# -- step 18: orders ------------------------------------------------------------------------


@dataclass
class Subject:
    """A lot of the chain that an order names, and why."""

    node: Node
    position: int
    why: str

    @property
    def ref(self) -> str:
        if self.node.type == "shipment":
            return f"{self.node.id}{SHIPMENT_LINE}{self.position}"
        return f"{self.node.id}#{self.position}"

    def goods(self) -> tuple[str, str, str]:
        """``(label, what, HS code)`` of the subject goods: a lot, or an entry line."""
        if self.node.type == "shipment":
            line = self.node.body["hts_lines"][self.position]
            entry = self.node.body["entry_number"]
            return f"entry {entry} line {self.position + 1}", line["description"], line["hts_code"]
        lot = self.node.body["outputs"][self.position]
        return f"lot {lot['lot']!r}", lot["material"]["name"], lot["material"]["hs_code"]


@dataclass
class Caught:
    order: Order
    subjects: list[Subject] = field(default_factory=list)
    note: str = ""


class _Chain:
    """The chain as the order rules read it: who made each lot, where, and what follows."""

    def __init__(self, v: Verifier) -> None:
        self.v = v
        self.entry = shipment_entry(v)  # facility declarations logged after it do not count
        self.consumers: dict[str, list[Node]] = {}
        for node in v.chain.values():
            for item in node.body.get("inputs", []):
                self.consumers.setdefault(str(item["ref"]), []).append(node)
        self._names: dict[tuple[str, str], list[str]] = {}
        self._makers: dict[str, list[tuple[str, str]]] = {}
        self._places: dict[str, tuple[dict[str, str], set[str]]] = {}
        self._by_key: dict[bool, dict[str, set[str]]] = {}
        self._by_imo: dict[str, set[str]] | None = None
        #: upstream first, so a finding names the earliest goods an order reaches
        self.ordered = sorted(v.chain.values(), key=lambda n: (-v.tiers[n.id], n.index))

    def names(self, kind: str, subject: str) -> list[str]:
        """Every name and alias ``subject`` (a party or facility) was declared with."""
        if (kind, subject) not in self._names:
            key = "legal_name" if kind == "party" else "name"
            names: list[str] = []
            for version in self.v.related_nodes(kind, subject):
                if version.type == kind:
                    names += [version.body[key], *version.body.get("aliases", [])]
            self._names[kind, subject] = list(dict.fromkeys(names))
        return self._names[kind, subject]

    def facilities(self, facility: str) -> list[Node]:
        return [n for n in self.v.related_nodes("facility", facility) if n.type == "facility"]

    def makers(self, node: Node) -> list[tuple[str, str]]:
        """``(what, name)`` of everyone who made (or, for a transfer, sold) ``node``'s lots;
        for the shipment, its declared manufacturer (as on the entry)."""
        if node.id not in self._makers:
            self._makers[node.id] = self._find_makers(node)
        return self._makers[node.id]

    def _find_makers(self, node: Node) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        body = node.body
        if node.type == "transfer":
            return [(f"seller {body['from']}", n) for n in self.names("party", body["from"])]
        if node.type == "shipment":
            maker = body["manufacturer"]
            return [(f"manufacturer {maker} on the entry", n) for n in self.names("party", maker)]
        if node.att is not None:
            out += [(f"party {node.att.issuer}", n) for n in self.names("party", node.att.issuer)]
        site = body.get("facility")
        if site:
            out += [(f"facility {site}", n) for n in self.names("facility", site)]
            operators = {f.body["operator"] for f in self.facilities(site)}
            for operator in sorted(operators - {node.att.issuer if node.att else ""}):
                what = f"operator {operator} of {site}"
                out += [(what, n) for n in self.names("party", operator)]
            for version in self.facilities(site):
                vessel = version.body.get("vessel") or {}
                if vessel.get("name"):
                    out.append((f"vessel of {site}", str(vessel["name"])))
        return out

    def named_by(self, order: Order) -> tuple[set[str], set[str]]:
        """Ids of the nodes some maker of which has a name the order lists (the only
        ones :func:`_match` can match), and of the non-shipment nodes whose vessel has
        an IMO number it lists: an index per chain, not a scan per order."""
        vessel = order.scope == "vessel"
        if vessel not in self._by_key:
            index: dict[str, set[str]] = {}
            for node in self.ordered:
                if node.att is not None:
                    for _, name in self.makers(node):
                        index.setdefault(_key(name, vessel), set()).add(node.id)
            self._by_key[vessel] = index
        if self._by_imo is None:
            self._by_imo = {}
            for node in self.ordered:
                if node.att is not None and node.type != "shipment":
                    for number in self.vessel_imos(node):
                        self._by_imo.setdefault(number, set()).add(node.id)
        by_key, named, imo = self._by_key[vessel], set[str](), set[str]()
        for key in _order_keys(order.names, vessel):
            named |= by_key.get(key, set())
        for number in order.imo_numbers:
            imo |= self._by_imo.get(number, set())
        return named, imo

    def vessel_imos(self, node: Node) -> set[str]:
        site = node.body.get("facility")
        if not site:
            return set()
        return {
            str(f.body["vessel"]["imo"])
            for f in self.facilities(site)
            if (f.body.get("vessel") or {}).get("imo")
        }

    def places(self, node: Node) -> tuple[dict[str, str], set[str]]:
        """Regions ``node`` took place in (current codes, each with its evidence) by every
        location any version of its facility declares (region, address, place names, geo;
        as step 19 reads them) and an origin's plot; and the facility's countries."""
        if node.id not in self._places:
            self._places[node.id] = self._find_places(node)
        return self._places[node.id]

    def _find_places(self, node: Node) -> tuple[dict[str, str], set[str]]:
        site = node.body.get("facility")
        regions: dict[str, str] = {}
        countries: set[str] = set()
        for version in self.facilities(site) if site else []:
            if declared_after_entry(version, self.entry):
                continue  # step 19 reports it, as a dated warning
            countries.add(version.body["country"])
            for region, evidence in placements(self.v.rules, version.body).items():
                regions.setdefault(region, f"facility {site}: {evidence[0][1]}")
        plot = node.body.get("plot") or {}
        if node.type == "origin" and "geo" in plot:
            for region, boundary in sorted(self.v.rules.boundaries.items()):
                if geo.inside(plot["geo"], boundary):
                    regions.setdefault(region, f"its plot {plot.get('name', '')!r} is in {region}")
        return regions, countries

    def made_in(self, node: Node) -> set[str]:
        """Countries where ``node``'s goods were made: its facility's, or for a transfer,
        those of the steps that made what it sells (back through further transfers)."""
        seen: set[str] = set()
        stack, countries = [node], set()
        while stack:
            current = stack.pop()
            if current.id in seen:
                continue
            seen.add(current.id)
            if current.type in MAKERS:
                countries |= self.places(current)[1]
                continue
            for item in current.body.get("inputs", []):
                producer = self.v.chain.get(str(item["ref"]).split("#", 1)[0])
                if producer is not None:
                    stack.append(producer)
        return countries

    def reaches_shipment(self, ref: str, order: Order, derived: bool) -> bool:
        """Whether the lot ``ref`` flows into the shipment as goods the order still names."""
        if SHIPMENT_LINE in ref:
            return True  # the imported goods themselves
        stack, seen = [ref], {ref}
        while stack:
            for consumer in self.consumers.get(stack.pop(), []):
                if consumer.type == "shipment":
                    return True
                for position, out in enumerate(consumer.body.get("outputs", [])):
                    hs = str(out["material"]["hs_code"])
                    if consumer.type == "transformation" and not (derived or order.covers_hs(hs)):
                        continue  # processed into goods the order does not name
                    nxt = f"{consumer.id}#{position}"
                    if nxt not in seen:
                        seen.add(nxt)
                        stack.append(nxt)
        return False


#: Words a vessel's name may carry or drop: "F/V", "M/V", "No." ("Tunago No. 61", "TUNAGO 61").
VESSEL_WORDS = frozenset({"fv", "mv", "no", "nr", "number"})


@functools.lru_cache(maxsize=65536)
def _key(name: str, vessel: bool) -> str:
    """The matching key of a name (names repeat across orders and nodes: computed once)."""
    if not vessel:
        return name_key(name)
    return "".join(t for t in name_tokens(name) if t not in VESSEL_WORDS)


@functools.lru_cache(maxsize=1024)
def _order_keys(names: tuple[str, ...], vessel: bool) -> dict[str, str]:
    return {_key(n, vessel): n for n in names}


def _match(order: Order, makers: list[tuple[str, str]]) -> str | None:
    vessel = order.scope == "vessel"
    keys = _order_keys(order.names, vessel)
    main = order.names[0] if order.names else ""
    for what, name in makers:
        listed = keys.get(_key(name, vessel))
        if listed is not None:
            alias = "" if listed == main else f" (an alias of {main!r})"
            return f"{what} {name!r} matches the listed name {listed!r}{alias}"
    return None


def _region_reason(v: Verifier, order: Order, c: _Chain, node: Node) -> str | None:
    regions, countries = c.places(node)
    site = node.body.get("facility")
    if order.region:
        return regions.get(v.rules.region_of(order.region))
    mapped = v.rules.orders.places.get(order.id)
    if mapped:
        hit = sorted(set(regions) & set(mapped))
        if hit:
            return regions[hit[0]]
        if order.country in countries and not regions:
            return (
                f"facility {site} in {order.country} declares no region, so the order's place "
                f"({', '.join(mapped)}) cannot be ruled out"
            )
        return None
    if order.country in countries:
        return (
            f"facility {site} is in {order.country}; the order names a place there that has "
            "no ISO 3166-2 code, so it cannot be ruled out"
        )
    return None


def subjects_of(v: Verifier, order: Order, c: _Chain) -> list[Subject]:
    """The chain's lots that ``order`` names (before its dates are judged)."""
    out: list[Subject] = []
    by_name = order.scope in ("entity", "vessel")
    named, by_imo = c.named_by(order) if by_name else (set(), set())
    local = order.id in v.rules.orders.made_in_country
    for node in c.ordered:
        if node.att is None:
            continue
        if by_name and node.id not in named and node.id not in by_imo:
            continue  # no name or vessel the order lists: nothing below can match
        if node.type == "shipment":
            elsewhere = local and node.body["country_of_origin"] != order.country
            if order.scope in ("entity", "vessel") and not elsewhere:
                out += _entry_lines(order, node, _match(order, c.makers(node)))
            continue
        why: str | None = None
        if order.scope in ("entity", "vessel"):
            why = _match(order, c.makers(node))
            if why is None and order.imo_numbers & c.vessel_imos(node):
                why = f"vessel of {node.body.get('facility')} has IMO number listed by the order"
        elif order.scope == "region" and node.type in MAKERS:
            why = _region_reason(v, order, c, node)
        elif order.scope == "country" and node.type == "origin":
            countries = c.places(node)[1]
            if order.country in countries:
                site = node.body["facility"]
                why = f"raw material originates at facility {site} in {order.country}"
        if why is None:
            continue
        if local and order.country not in c.made_in(node):
            continue  # made at the producer's plant in another country: not named by the order
        for position, lot in enumerate(node.body.get("outputs", [])):
            if order.covers_hs(str(lot["material"]["hs_code"])):
                out.append(Subject(node, position, why))
    return out


def _entry_lines(order: Order, shipment: Node, why: str | None) -> list[Subject]:
    """The entry's lines under the order's prefixes, when its manufacturer is the producer."""
    if why is None:
        return []
    return [
        Subject(shipment, i, why)
        for i, line in enumerate(shipment.body["hts_lines"])
        if order.covers_hs(str(line["hts_code"]))
    ]


def _produced(node: Node) -> date | None:
    when = event_time(node)
    return when.at.date() if when else None


def _chain_party_keys(v: Verifier, c: _Chain) -> dict[str, str]:
    keys: dict[str, str] = {}
    for node in v.chain.values():
        body = node.body
        parties = [node.att.issuer] if node.att else []
        parties += [body[k] for k in ("from", "to", "exporter", "manufacturer") if k in body]
        for party in dict.fromkeys(parties):
            for name in c.names("party", party):
                keys.setdefault(name_key(name), name)
    return keys


def in_force(
    v: Verifier, order: Order, entry: date, produced: date | None, party_keys: dict[str, str]
) -> tuple[bool, str]:
    """Whether ``order`` applies to goods entered on ``entry``; and what to say of its terms."""
    if entry < order.issued_on:
        return False, ""
    mods: tuple[Modification, ...] = v.rules.orders.modifications.get(order.id, ())
    if order.status == "active":
        return True, ""
    notes: list[str] = []
    if order.revoked_on is not None and entry >= order.revoked_on:
        keyed = next((m for m in mods if m.effect == "lift" and m.produced_after), None)
        after = keyed.produced_after if keyed is not None else None
        if after is not None and (produced is None or produced <= after):
            return True, (
                f"revoked {order.revoked_on} only for goods produced after "
                f"{after}; these were produced "
                f"{produced.isoformat() if produced else 'on no known date'}"
            )
        return False, ""
    if not mods:
        if order.modified_on is not None and entry >= order.modified_on:
            notes.append(
                f"modified {order.modified_on}, but the terms are not recorded in "
                "ledger/rules/orders.json, so it is treated as still in force"
            )
        return True, "; ".join(notes)
    for mod in mods:
        on = mod.on or order.modified_on or order.revoked_on
        if on is None or entry < on:
            continue
        matched = [party_keys[name_key(p)] for p in mod.parties if name_key(p) in party_keys]
        if mod.effect == "carve-out" and mod.parties and not matched:
            continue
        if mod.effect == "lift" and mod.produced_after is not None:
            if produced is not None and produced > mod.produced_after:
                return False, ""
            notes.append(
                f"lifted {on} only for goods produced after {mod.produced_after}; these were "
                f"produced {produced.isoformat() if produced else 'on no known date'}"
            )
            continue
        if mod.condition:
            who = f" for {', '.join(matched)}" if matched else ""
            notes.append(
                f"{mod.effect} from {on}{who} only for {mod.condition}, which the ledger "
                "cannot check, so the order is treated as still in force"
            )
            continue
        return False, ""
    return True, "; ".join(notes)


def _dates(order: Order) -> str:
    parts = [f"issued {order.issued_on}"]
    if order.modified_on:
        parts.append(f"modified {order.modified_on}")
    if order.revoked_on:
        parts.append(f"revoked {order.revoked_on}")
    return ", ".join(parts)


def _who(v: Verifier, node: Node) -> str:
    """The party that made or sold a lot, by legal name, and the date of that event."""
    body = node.body
    party = (
        body["from"]
        if node.type == "transfer"
        else body["manufacturer"]
        if node.type == "shipment"
        else node.att.issuer
        if node.att
        else "?"
    )
    declared = v.party_at(party, node.index)
    name = f"{declared.body['legal_name']} ({party})" if declared else party
    when = event_time(node)
    event = "arrival" if node.type == "shipment" else body.get("process", node.type)
    return f"{name}, {event} of {when.label() if when else 'no known date'}"


def _message(v: Verifier, caught: Caught, entry: date, also: Iterable[str]) -> str:
    order, first = caught.order, caught.subjects[0]
    label, what, hs = first.goods()
    made = {"transfer": "sold", "shipment": "entered"}.get(first.node.type, "made")
    prefixes = ", ".join(order.hs_prefixes) or "any"
    merchandise = order.merchandise or "the named merchandise"
    if len(merchandise) > 200:
        merchandise = merchandise[:197] + "..."
    text = (
        f"{order.action} {order.id} ({_dates(order)}; in force on the entry date "
        f"{entry.isoformat()}) covers {label} ({what}, HS {hs}) {made} by "
        f"{_who(v, first.node)}: {first.why}. "
        f"The order covers {merchandise!r} (HS {prefixes})"
    )
    if order.id in v.rules.orders.derived_goods:
        text += " and goods derived from it wherever made"
    others = len({s.ref for s in caught.subjects}) - 1
    if others > 0:
        text += f"; {others} more lot(s) of the chain fall under it"
    if caught.note:
        text += f"; {caught.note}"
    superseded = list(also)
    if superseded:
        text += f"; the same goods are under {', '.join(superseded)}, which this Finding governs"
    return text


def check_orders(v: Verifier) -> None:
    """Step 18 (WRO, FINDING): no merchandise of the chain under an order in force at entry."""
    shipment = next((n for n in v.chain.values() if n.type == "shipment"), None)
    if shipment is None or not v.order_lists:
        return
    try:
        entry = parse_date(shipment.body["arrival_date"]).date()
    except LedgerError:
        return  # not a real date: the schema step reports it
    orders: dict[str, Order] = {}
    for order_list in v.order_lists:
        for order in order_list.orders:
            orders.setdefault(order.id, order)
    c = _Chain(v)
    party_keys: dict[str, str] | None = None
    caught: list[Caught] = []
    for order in orders.values():
        if entry < order.issued_on:
            continue  # not yet issued when the goods entered
        derived = order.id in v.rules.orders.derived_goods
        found = Caught(order)
        notes: list[str] = []
        for subject in subjects_of(v, order, c):
            if not c.reaches_shipment(subject.ref, order, derived):
                continue
            if party_keys is None:
                party_keys = _chain_party_keys(v, c)
            applies, note = in_force(v, order, entry, _produced(subject.node), party_keys)
            if applies:
                found.subjects.append(subject)
                if note and note not in notes:
                    notes.append(note)
        if found.subjects:
            found.note = "; ".join(notes)
            caught.append(found)
    findings = [c_ for c_ in caught if c_.order.action == "Finding"]
    finding_refs = {s.ref for f in findings for s in f.subjects}
    for item in caught:
        refs = {s.ref for s in item.subjects}
        if item.order.action == "WRO" and refs & finding_refs:
            continue  # a Finding governs the same goods
        also = (
            [
                w.order.id
                for w in caught
                if w.order.action == "WRO" and {s.ref for s in w.subjects} & refs
            ]
            if item.order.action == "Finding"
            else []
        )
        code = "FINDING" if item.order.action == "Finding" else "WRO"
        item.subjects[0].node.flag(code, _message(v, item, entry, also))
