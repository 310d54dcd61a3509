"""Findings in plain words: parties and facilities by name and id, lots by label, dates
with what kind of date they are ("event time", "arrival date"), and grammar
("an audit", "1 output", "2 outputs").

A finding is read by a customs officer or an importer, not only by a program: it names
things as a person does and says which date it judged on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.verify.engine import Node, Verifier


def article(word: str) -> str:
    """``word`` with "a" or "an" before it ("an audit", "a transfer")."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 output``, ``2 outputs``."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def joined(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) < 3:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def party_label(v: Verifier, party: str, index: int | None = None) -> str:
    """``Legal Name (party:id)`` as declared before entry ``index`` (else as last declared)."""
    found = v.party_at(party, index if index is not None else 2**62)
    if found is None and index is not None:
        found = v.party_at(party, 2**62)
    return f"{found.body['legal_name']} ({party})" if found is not None else party


def facility_label(v: Verifier, facility: str, index: int | None = None) -> str:
    """``Name (facility:id)`` as declared before entry ``index``."""
    found = v.facility_at(facility, index if index is not None else 2**62)
    if found is None and index is not None:
        found = v.facility_at(facility, 2**62)
    return f"{found.body['name']} ({facility})" if found is not None else facility


def lots(outputs: list[dict[str, Any]]) -> str:
    labels = [str(o["lot"]) for o in outputs]
    return f"lot {labels[0]}" if len(labels) == 1 else f"lots {joined(labels)}"


def date_kind(node: Node) -> str:
    """What kind of date a material entry's own date is."""
    if node.type == "shipment":
        return "arrival date"
    if node.type == "origin":
        return "production date"
    return "event date"


def when_words(node: Node) -> str:
    """``event time 2025-03-12T10:00:00Z``, ``arrival date 2025-04-18``."""
    from ledger.verify.engine import event_time

    when = event_time(node)
    if when is None:
        return f"no valid {date_kind(node)}"
    kind = date_kind(node).replace("date", "time") if not when.is_date else date_kind(node)
    return f"{kind} {when.label()}"


def event_words(v: Verifier, node: Node) -> str:
    """What a material entry did, where, and when, in a phrase."""
    body = node.body
    where = ""
    if "facility" in body:
        where = f" at {facility_label(v, body['facility'], node.index)}"
    if node.type == "shipment":
        return f"entry {body.get('entry_number', '?')}, {when_words(node)}"
    made = f" of {lots(body['outputs'])}" if body.get("outputs") else ""
    if node.type == "transfer":
        return (
            f"the transfer{made} from {party_label(v, body['from'], node.index)} to "
            f"{party_label(v, body['to'], node.index)}, {when_words(node)}"
        )
    what = body.get("process", node.type)
    return f"{what}{made}{where}, {when_words(node)}"
