"""Lineage: what a lot is, from the route that made it.

An HS code and name can leave several material classes possible (HS 5201 holds seed
cotton and lint; 2804 both grades of silicon). The producer settles it: an origin
yields what its facility's origin processes produce, a transformation what its process
makes from its inputs, a transfer what it consumed. Both the log (at append) and the
verifier resolve lots with this one class, each reading its own store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.materials import MaterialRules


@dataclass(frozen=True)
class Produced:
    """What a lot's producer says about it: its type, body, the refs it consumes, and
    the processes of its facility (origins and transformations)."""

    kind: str
    body: dict[str, Any]
    inputs: tuple[str, ...]
    processes: tuple[str, ...] = ()


Fetch = Callable[[str], "Produced | None"]
MAX_LINEAGE = 200  # producers followed to resolve one ambiguous lot


class Lineage:
    """Resolves the class of a lot whose HS code and name leave several possible from
    the route that produced it: a lot a gin makes under HS 5201 is lint, a farm's is
    seed cotton, and a transfer passes on what it consumed (so renaming a lot in a
    transfer, "seed cotton" to "raw cotton", keeps it seed cotton)."""

    def __init__(self, rules: MaterialRules, fetch: Fetch) -> None:
        self.rules = rules
        self.fetch = fetch
        self.memo: dict[str, frozenset[str]] = {}

    def classes(self, ref: str, depth: int = 0) -> frozenset[str]:
        """The classes of the output ``ref`` (``att#position``); empty when unknown."""
        if ref in self.memo:
            return self.memo[ref]
        producer = self.fetch(ref)
        if producer is None:
            return frozenset()
        position = int(ref.partition("#")[2])
        outputs = producer.body.get("outputs", [])
        if position >= len(outputs):
            return frozenset()
        declared = self.rules.classify(outputs[position]["material"])
        found = declared
        if len(declared) > 1 and depth < MAX_LINEAGE:
            sources = [self.classes(r, depth + 1) for r in producer.inputs]
            found = resolve(self.rules, producer, declared, sources)
        self.memo[ref] = found
        return found


def resolve(
    rules: MaterialRules,
    producer: Produced,
    declared: frozenset[str],
    sources: Sequence[frozenset[str]],
) -> frozenset[str]:
    """Narrow ``declared`` (several possible classes) to what ``producer`` can yield."""
    consumed = frozenset().union(*sources) if sources else frozenset()
    if producer.kind == "origin":
        return (declared & rules.originable(producer.processes)) or declared
    if producer.kind == "transfer":
        return (declared & consumed) or declared
    if producer.kind == "transformation":
        made = declared & rules.makeable(str(producer.body.get("process", "")), sources)
        return made or (declared & consumed) or declared
    return declared
