"""Step 17: entity lists, judged on the shipment's entry (arrival) date.

Admissibility is decided at importation: a listing in force on the entry date bars the
goods even if they were made before it took effect (``ENTITY_LISTED``), and a listing
removed before the entry date no longer does. A listing that was in force on the date
of an event of the chain but removed before entry is still worth the importer's due
diligence (``ENTITY_FORMERLY_LISTED``, a warning).

Every party and facility the chain involves is screened by every name and alias any of
its declarations gave. One fault is one finding: the matches of one list are grouped so
that a listed entity found through a party and its facility, or through several names,
is reported once, against the first entry of the chain (in log order) in which the
party acts or the facility is used; the same evidence always gives the same finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.screening import Listing, Match, ScreeningList
from ledger.verify.compliance import names_of, subjects
from ledger.verify.engine import Node, Verifier, event_time
from ledger.verify.words import event_words, facility_label, joined, party_label

Subject = tuple[str, str]  # ("party" | "facility", id)


@dataclass(frozen=True)
class Hit:
    """A subject of the chain matching a listing; ``seen`` is the event it was in force at."""

    subject: Subject
    match: Match
    seen: Node | None = None


def entry_day(shipment: Node) -> tuple[date, str]:
    """The day lists are judged on and how a finding names it."""
    when = event_time(shipment)
    if when is not None:
        return when.at.date(), f"entry date {when.at.date().isoformat()}"
    logged = shipment.integrated_at.date() if shipment.integrated_at else date.min
    return logged, f"log date {logged.isoformat()} (the shipment has no valid arrival date)"


def appearances(v: Verifier) -> dict[Subject, list[Node]]:
    """Each party and facility of the chain with the entries that involve it, the one a
    finding attaches to first: the first (in log order) in which it acts (issues it, or
    it is the event's facility or that facility's operator), else the first naming it."""
    acting: dict[Subject, list[Node]] = {}
    named: dict[Subject, list[Node]] = {}
    for node in sorted(v.chain.values(), key=lambda n: n.index):
        if node.att is None:
            continue
        parties, facilities = subjects(v, node)
        site = node.body.get("facility")
        declared = v.facility_at(site, node.index) if site else None
        doers = {node.att.issuer, declared.body["operator"] if declared else None}
        for kind, ids in (("party", parties), ("facility", facilities)):
            for subject in ids:
                key = (kind, subject)
                named.setdefault(key, []).append(node)
                if subject in doers or subject == site:
                    acting.setdefault(key, []).append(node)
    out: dict[Subject, list[Node]] = {}
    for key, nodes in named.items():
        first = acting.get(key, [])
        acts = {id(f) for f in first}
        out[key] = first + [n for n in nodes if id(n) not in acts]
    return out


def _event_days(nodes: list[Node]) -> list[tuple[date, Node]]:
    days = []
    for node in nodes:
        when = event_time(node) if node.type != "shipment" else None
        if when is not None:
            days.append((when.at.date(), node))
    return sorted(days, key=lambda pair: (pair[0], pair[1].index))


def _hits(
    v: Verifier, screening: ScreeningList, seen: dict[Subject, list[Node]], entry: date
) -> tuple[list[Hit], list[Hit]]:
    """Matches in force on the entry date, and those in force at an event of the chain
    (preferably one of the subject's own) but removed before entry, for subjects not
    listed on the entry date."""
    chain_days = _event_days(list(v.chain.values()))
    now: list[Hit] = []
    before: list[Hit] = []
    for subject, nodes in seen.items():
        rows: set[int] = set()
        days = _event_days(nodes) + chain_days
        for name in names_of(v, *subject):
            for match in screening.matches([name]):
                if match.listing.row in rows:
                    continue
                rows.add(match.listing.row)
                listing = match.listing
                if listing.in_force(entry):
                    now.append(Hit(subject, match))
                elif listing.removed is not None and listing.removed <= entry:
                    at = next((n for d, n in days if listing.in_force(d)), None)
                    if at is not None:
                        before.append(Hit(subject, match, at))
    listed = {hit.subject for hit in now}
    return now, [hit for hit in before if hit.subject not in listed]


def _groups(hits: list[Hit]) -> list[list[Hit]]:
    """Hits sharing a subject or a listing, together: one fault each."""
    parent: dict[object, object] = {}

    def root(key: object) -> object:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    for hit in hits:
        parent[root(("row", hit.match.listing.row))] = root(hit.subject)
    groups: dict[object, list[Hit]] = {}
    for hit in hits:
        groups.setdefault(root(hit.subject), []).append(hit)
    return list(groups.values())


def _subject_words(v: Verifier, hit: Hit, index: int) -> str:
    kind, subject = hit.subject
    if kind == "party":
        label = f"party {party_label(v, subject, index)}"
        current = v.party_at(subject, index) or v.party_at(subject, 2**62)
        own = current.body["legal_name"] if current else None
    else:
        label = f"facility {facility_label(v, subject, index)}"
        current = v.facility_at(subject, index) or v.facility_at(subject, 2**62)
        own = current.body["name"] if current else None
    return label if hit.match.name == own else f'{label}, by the name "{hit.match.name}"'


def _listing_words(screening: ScreeningList, hits: list[Hit]) -> str:
    listing: Listing = hits[0].match.listing
    text = f'on the list "{screening.name}" as "{listing.name}"'
    aliases = sorted({h.match.listed_name for h in hits} - {listing.name})
    if aliases:
        quoted = joined([f'"{alias}"' for alias in aliases])
        text += (
            f" (matched through its listed {'alias' if len(aliases) == 1 else 'aliases'} {quoted})"
        )
    text += (
        f"; listing effective {listing.effective.isoformat()}"
        if listing.effective
        else "; listing with no stated effective date"
    )
    if listing.removed:
        text += f", removed {listing.removed.isoformat()}"
    if listing.section:
        text += f", section {listing.section}"
    return text + f", row {listing.row}"


def _report(
    v: Verifier,
    screening: ScreeningList,
    group: list[Hit],
    seen: dict[Subject, list[Node]],
    *,
    past: bool = False,
) -> tuple[Node, str]:
    anchor = min((seen[h.subject][0] for h in group), key=lambda n: n.index)
    names = list(dict.fromkeys(_subject_words(v, h, anchor.index) for h in group))
    verb = ("was", "were") if past else ("is", "are")
    listed = f"{verb[len(names) > 1]} listed {_listing_words(screening, group)}"
    return anchor, f"{joined(names)} {listed}"


def check_entity_lists(v: Verifier) -> None:
    """Step 17 (ENTITY_LISTED, ENTITY_FORMERLY_LISTED) over the walked chain."""
    shipment = next((n for n in v.chain.values() if n.type == "shipment"), None)
    if shipment is None or shipment.att is None or not v.lists:
        return
    entry, entry_words = entry_day(shipment)
    seen = appearances(v)
    for screening in v.lists:
        if getattr(screening, "kind", "entity") != "entity":
            continue  # WRO and Findings lists are judged by their own step (18)
        now, before = _hits(v, screening, seen, entry)
        for group in _groups(now):
            anchor, text = _report(v, screening, group, seen)
            anchor.flag(
                "ENTITY_LISTED",
                f"{text}; in force on the {entry_words}, when admissibility is decided, so "
                f"goods made before the listing are barred too; first seen in the chain in "
                f"{event_words(v, anchor)}",
            )
        for group in _groups(before):
            anchor, text = _report(v, screening, group, seen, past=True)
            at = next(h.seen for h in group if h.seen is not None)
            anchor.flag(
                "ENTITY_FORMERLY_LISTED",
                f"{text}; the listing was in force at {event_words(v, at)}, but was removed "
                f"before the {entry_words}, when admissibility is decided: not a bar to "
                "entry, a matter for due diligence",
            )
