"""Steps 8-11, 13 and 14: the material rules of a chain (references, custody, amounts,
units, yields and time order; step 12 is :mod:`ledger.verify.identity`), judged on
every material entry of the walked chain.

Amounts are decimals, never floats. Input masses come from the producing output's
``mass_kg`` (pro rata) or from an exact unit conversion of the rules data; a quantity
with neither cannot be balanced and is reported once, against the entry that made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ledger import quantities
from ledger.admission import CLOCK_SKEW
from ledger.encoding import format_timestamp as ts
from ledger.lineage import Lineage, Produced
from ledger.quantities import three_places
from ledger.verify.engine import Node, Verifier, When, event_time, is_before
from ledger.verify.rules import CountCap, YieldRule
from ledger.verify.words import (
    article,
    event_words,
    facility_label,
    joined,
    party_label,
    plural,
    when_words,
)

OUTPUT_TYPES = ("origin", "transformation", "transfer")


@dataclass(frozen=True)
class Input:
    """One input of a chain entry, resolved to the output it consumes (if it can be)."""

    position: int
    ref: str
    amount: Decimal
    producer: Node | None
    output: dict[str, Any] | None

    @property
    def lot(self) -> str:
        return str(self.output["lot"]) if self.output else self.ref

    @property
    def unit(self) -> str:
        return str(self.output["quantity"]["unit"]) if self.output else "?"


def holder(producer: Node) -> str:
    """Who holds the outputs of ``producer``: the buyer of a transfer, else its issuer."""
    if producer.type == "transfer":
        return str(producer.body["to"])
    return producer.att.issuer if producer.att else ""


def lineage(v: Verifier) -> Lineage:
    """The lineage of the chain's lots (what an ambiguous lot is, from what made it)."""
    if v.lineage is None:

        def fetch(ref: str) -> Produced | None:
            node = v.use(ref.partition("#")[0])
            if node is None or node.att is None or node.type not in OUTPUT_TYPES:
                return None
            processes: tuple[str, ...] = ()
            if "facility" in node.body:
                facility = v.facility_at(node.body["facility"], node.index)
                processes = tuple(facility.body["processes"]) if facility is not None else ()
            refs = tuple(str(item["ref"]) for item in node.body.get("inputs", []))
            return Produced(str(node.type), node.body, refs, processes)

        v.lineage = Lineage(v.rules.materials, fetch)
    return v.lineage


def _when(node: Node) -> When | None:
    found = event_time(node)
    if found is None and node.integrated_at is not None:
        return When(node.integrated_at, False)
    return found


def resolve_inputs(v: Verifier, node: Node) -> list[Input]:
    """Step 8 (REF_MISSING) for the inputs of ``node``, returning what resolved."""
    out = []
    when = _when(node)
    for i, item in enumerate(node.body.get("inputs", [])):
        ref = str(item["ref"])
        producer_id, _, pos_text = ref.partition("#")
        amount, position = Decimal(item["amount"]), int(pos_text)
        producer = v.use(producer_id)
        output = None
        if producer is None:
            node.flag("REF_MISSING", f"input {i} refers to {ref}, which is not in the log")
        elif producer.att is None:
            pass  # the producer's own findings say why it cannot be read
        elif producer.type not in OUTPUT_TYPES:
            node.flag(
                "REF_MISSING",
                f"input {i} refers to {article(producer.type)} ({producer_id}), "
                "which has no outputs",
            )
        elif position >= len(producer.body["outputs"]):
            node.flag(
                "REF_MISSING",
                f"input {i} refers to output #{position} of {producer_id}, "
                f"which has only {plural(len(producer.body['outputs']), 'output')}",
            )
        elif producer.index >= node.index:
            node.flag("REF_MISSING", f"input {i} refers to {producer_id}, logged after this entry")
        else:
            output = producer.body["outputs"][position]
            for effective, rev in v.revocations(producer):
                if when is not None and not is_before(when, When(effective, False)):
                    node.flag(
                        "REF_MISSING",
                        f"input {i} (lot {output['lot']}) comes from {producer_id}, "
                        f"revoked effective {ts(effective)} (revocation time, by {rev.id}), "
                        f"before this {node.type or 'entry'} ({when_words(node)})",
                    )
                    break
        out.append(Input(i, ref, amount, producer, output))
    return out


def check_references(v: Verifier, node: Node) -> None:
    """Step 8 (REF_MISSING) for the facilities and parties ``node`` names."""
    body = node.body
    for key in ("facility", "ship_from", "ship_to"):
        if key in body and v.facility_at(body[key], node.index) is None:
            node.flag(
                "REF_MISSING",
                f"{key} {body[key]} was not declared before this {node.type} was logged",
            )
    for key in ("to", "exporter", "manufacturer"):
        if key in body and v.party_at(body[key], node.index) is None:
            node.flag(
                "REF_MISSING",
                f"{key} {body[key]} was not admitted as a party before this {node.type} was logged",
            )


def check_custody(v: Verifier, node: Node, inputs: list[Input]) -> None:
    """Step 9 (CUSTODY): the issuer holds what it consumes and runs its facility."""
    issuer = node.att.issuer if node.att else ""
    for inp in inputs:
        if inp.producer is not None and inp.output is not None and holder(inp.producer) != issuer:
            node.flag(
                "CUSTODY",
                f"input {inp.position} (lot {inp.lot}) is held by "
                f"{party_label(v, holder(inp.producer), node.index)}, not by the issuer "
                f"{party_label(v, issuer, node.index)}",
            )
    if node.type in ("origin", "transformation"):
        facility = v.facility_at(node.body["facility"], node.index)
        if facility is not None and facility.body["operator"] != issuer:
            node.flag(
                "CUSTODY",
                f"facility {facility_label(v, node.body['facility'], node.index)} is "
                f"operated by {party_label(v, facility.body['operator'], node.index)}, "
                f"not by the issuer {party_label(v, issuer, node.index)}",
            )
    if node.type == "transfer" and node.body["from"] != issuer:
        node.flag(
            "CUSTODY",
            f"a transfer is issued by its seller; the seller is "
            f"{party_label(v, node.body['from'], node.index)}, the issuer "
            f"{party_label(v, issuer, node.index)}",
        )


def check_consumption(v: Verifier, inputs_of: dict[str, list[Input]]) -> None:
    """Step 10 (OVERCONSUMED): all consumers of an output together stay within it."""
    consumers_of: dict[str, list[Node]] = {}
    outputs: dict[str, Input] = {}
    for node_id, inputs in inputs_of.items():
        for inp in inputs:
            if inp.output is not None:
                consumers_of.setdefault(inp.ref, []).append(v.chain[node_id])
                outputs.setdefault(inp.ref, inp)
    for ref, chain_consumers in consumers_of.items():
        inp = outputs[ref]
        assert inp.output is not None
        available = Decimal(inp.output["quantity"]["amount"])
        ids = dict.fromkeys([*v.source.related("consumer", ref), *(n.id for n in chain_consumers)])
        taken: list[tuple[Node, Decimal]] = []
        for consumer_id in ids:
            consumer = v.peek(consumer_id)
            if consumer is None or consumer.att is None:
                continue
            amounts = [
                Decimal(x["amount"]) for x in consumer.body.get("inputs", []) if x["ref"] == ref
            ]
            if amounts:
                taken.append((consumer, sum(amounts, Decimal(0))))
        total = sum((a for _, a in taken), Decimal(0))
        if total <= available:
            continue
        taken.sort(key=lambda pair: pair[0].index)
        for consumer, _ in taken:
            v.use(consumer.id)
        detail = joined([f"{a} {inp.unit} by {_consumer_words(v, c)}" for c, a in taken])
        # one fault, one finding: on the last entry of this chain that takes from the lot
        last = max(chain_consumers, key=lambda n: n.index)
        last.flag(
            "OVERCONSUMED",
            f"lot {inp.lot} ({ref}) holds {available} {inp.unit} but is consumed "
            f"{total} {inp.unit} in all: {detail}",
        )


def _consumer_words(v: Verifier, consumer: Node) -> str:
    issuer = consumer.att.issuer if consumer.att else "?"
    return (
        f"{article(consumer.type or 'entry')} of {party_label(v, issuer, consumer.index)} "
        f"({consumer.id}, {when_words(consumer)})"
    )


def _input_mass(v: Verifier, inp: Input) -> Decimal | None:
    """The mass consumed: by its mass unit, else pro rata of its lot's ``mass_kg``."""
    assert inp.output is not None
    found = quantities.quantity_mass(
        inp.output["quantity"], inp.output.get("mass_kg"), v.rules.to_kg, inp.amount
    )
    return None if found is None else found.kg


def _output_mass(v: Verifier, output: dict[str, Any]) -> Decimal | None:
    quantity = output["quantity"]
    found = quantities.quantity_mass(
        quantity, output.get("mass_kg"), v.rules.to_kg, Decimal(quantity["amount"])
    )
    return None if found is None else found.kg


def check_declared_masses(v: Verifier, node: Node) -> None:
    """Step 11 (UNIT): a ``mass_kg`` agrees with an amount in a mass unit, within the
    precision both are written in; mass balance then goes by the amount."""
    if node.type not in OUTPUT_TYPES:
        return
    for output in node.body.get("outputs", []):
        conflict = quantities.mass_conflict(output, v.rules.to_kg)
        if conflict is not None:
            node.flag(
                "UNIT",
                f"{conflict}; mass balance goes by the amount in {output['quantity']['unit']}",
            )


def _masses(
    v: Verifier, node: Node, inputs: list[Input], unit_flagged: set[str]
) -> tuple[list[Decimal], list[Decimal]] | None:
    """Step 11 (UNIT): each input's and each output's mass, in kg, or None."""
    outputs = node.body["outputs"]
    in_masses = [_input_mass(v, i) for i in inputs]
    out_masses = [_output_mass(v, o) for o in outputs]
    for inp, mass in zip(inputs, in_masses, strict=True):
        if mass is None and inp.ref not in unit_flagged and inp.producer is not None:
            unit_flagged.add(inp.ref)
            inp.producer.flag(
                "UNIT",
                f"lot {inp.lot} ({inp.ref}) is measured in {inp.unit} with no mass_kg, so "
                f"the {node.body.get('process', node.type)} that consumes it ({node.id}) "
                "cannot be mass-balanced",
            )
    for i, (out, mass) in enumerate(zip(outputs, out_masses, strict=True)):
        if mass is None:
            node.flag(
                "UNIT",
                f"lot {out['lot']} (output {i}) is measured in {out['quantity']['unit']} "
                f"with no mass_kg, so this {node.type} cannot be mass-balanced",
            )
    known_in = [m for m in in_masses if m is not None]
    known_out = [m for m in out_masses if m is not None]
    if len(known_in) < len(in_masses) or len(known_out) < len(out_masses):
        return None
    return known_in, known_out


def _class_words(v: Verifier, classes: frozenset[str]) -> str:
    return " or ".join(sorted(c.replace("-", " ") for c in classes))


def _count_problem(
    v: Verifier,
    cap: CountCap,
    inputs: list[Input],
    in_classes: list[frozenset[str]],
    outputs: list[dict[str, Any]],
    out_classes: list[frozenset[str]],
) -> str | None:
    """Too many pieces of ``cap.classes`` for the pieces they are made of, or None."""
    made = [
        v.rules.piece_count(Decimal(o["quantity"]["amount"]), o["quantity"]["unit"])
        for o, c in zip(outputs, out_classes, strict=True)
        if c & cap.classes
    ]
    used = [
        v.rules.piece_count(i.amount, i.unit)
        for i, c in zip(inputs, in_classes, strict=True)
        if c & cap.of
    ]
    if not made or not used or any(n is None for n in (*made, *used)):
        return None  # not counted in pieces: the mass caps judge it
    out_n = sum((n for n in made if n is not None), Decimal(0))
    in_n = sum((n for n in used if n is not None), Decimal(0))
    if out_n * cap.per_pieces <= in_n * cap.max_pieces:
        return None
    per = (
        f"{cap.max_pieces.normalize():f} for each piece consumed"
        if cap.per_pieces == 1
        else f"{cap.max_pieces.normalize():f} for every {cap.per_pieces.normalize():f} "
        "pieces consumed"
    )
    return (
        f"makes {out_n.normalize():f} pieces of {_class_words(v, cap.classes)} from "
        f"{in_n.normalize():f} pieces of {_class_words(v, cap.of)}, more than {per}"
    )


def _transformation_balance(
    v: Verifier, node: Node, inputs: list[Input], flagged: set[str]
) -> None:
    """Step 13 (YIELD): outputs within the inputs the process transforms, times its
    maximum yield, and each product class within its own cap (mass or pieces)."""
    rule = v.rules.yield_rule(node.body["process"])
    if rule.max_yield is None and not rule.products and not rule.counts:
        return
    outputs = node.body["outputs"]
    lots = lineage(v)
    in_classes = [lots.classes(i.ref) for i in inputs]
    out_classes = [lots.classes(f"{node.id}#{k}") for k in range(len(outputs))]
    problems = [
        p
        for p in (
            _count_problem(v, cap, inputs, in_classes, outputs, out_classes) for cap in rule.counts
        )
        if p is not None
    ]
    masses = _masses(v, node, inputs, flagged)
    if masses is not None:
        problems += _mass_problems(v, node, rule, masses, in_classes, out_classes)
    if problems:  # one fault (too much output), one finding
        node.flag("YIELD", f"{event_words(v, node)} {'; and '.join(problems)}")


def _mass_problems(
    v: Verifier,
    node: Node,
    rule: YieldRule,
    masses: tuple[list[Decimal], list[Decimal]],
    in_classes: list[frozenset[str]],
    out_classes: list[frozenset[str]],
) -> list[str]:
    in_masses, out_masses = masses
    problems = []
    if rule.max_yield is not None:
        # the inputs the process transforms or passes on: padding it with inputs it
        # does not use raises nothing
        usable = v.rules.materials.consumed_by(node.body["process"]).union(*out_classes)
        base = [m for m, c in zip(in_masses, in_classes, strict=True) if c & usable]
        total_in = sum(base or in_masses, Decimal(0))
        total_out = sum(out_masses, Decimal(0))
        if total_out > total_in * rule.max_yield:
            problems.append(
                f"yields {three_places(total_out)} kg from {three_places(total_in)} kg of "
                f"inputs it transforms, above the maximum yield {rule.max_yield} of {rule.process}"
            )
    exceeded: list[frozenset[str]] = []
    for cap in rule.products:
        if any(done <= cap.classes for done in exceeded):
            continue  # a cap on fewer of these classes already says it
        product = sum(
            (m for m, c in zip(out_masses, out_classes, strict=True) if c & cap.classes),
            Decimal(0),
        )
        base_in = sum(
            (m for m, c in zip(in_masses, in_classes, strict=True) if c & cap.of), Decimal(0)
        )
        passed = sum(  # the same classes passed through: at most what came in
            (
                m
                for m, c in zip(in_masses, in_classes, strict=True)
                if c & cap.classes and not c & cap.of
            ),
            Decimal(0),
        )
        if not base_in and not passed:
            continue  # made from nothing it can be made of: MATERIAL says so
        if product > base_in * cap.max_yield + passed:
            exceeded.append(cap.classes)
            problems.append(
                f"yields {three_places(product)} kg of {_class_words(v, cap.classes)} from "
                f"{three_places(base_in)} kg of {_class_words(v, cap.of)}, above the maximum "
                f"yield {cap.max_yield}"
            )
    return problems


def check_mass(v: Verifier, node: Node, inputs: list[Input], flagged: set[str]) -> None:
    """Steps 11 (UNIT) and 13 (YIELD); skipped when an input did not resolve. A
    transfer's amounts are judged with its material (step 12, MATERIAL)."""
    check_declared_masses(v, node)
    if any(i.output is None for i in inputs):
        return
    if node.type == "transformation":
        _transformation_balance(v, node, inputs, flagged)


def _not_after(moment: datetime, when: When) -> bool:
    """True when ``when`` is not later than ``moment`` (plus the allowed clock skew)."""
    return not is_before(When(moment + CLOCK_SKEW, False), when)


def check_time(v: Verifier, node: Node, inputs: list[Input]) -> None:
    """Step 14 (TIME_ORDER): after what it consumes, and not in the future."""
    att = node.att
    when = event_time(node)
    if att is None:
        return
    if node.integrated_at is not None and att.issued_at > node.integrated_at + CLOCK_SKEW:
        node.flag(
            "TIME_ORDER",
            f"issued_at {ts(att.issued_at)} (issue time) is after the entry was "
            f"logged at {ts(node.integrated_at)} (log time)",
        )
    if when is None:
        return
    earlier: set[str] = set()
    for inp in inputs:
        before = event_time(inp.producer) if inp.producer is not None else None
        if inp.producer is None or inp.output is None or before is None:
            continue
        if is_before(when, before) and inp.producer.id not in earlier:
            earlier.add(inp.producer.id)
            node.flag(
                "TIME_ORDER",
                f"this {node.type} ({when_words(node)}) comes before the "
                f"{inp.producer.type} it takes lot {inp.lot} from "
                f"({inp.producer.id}, {when_words(inp.producer)})",
            )
    if node.type == "shipment":
        return  # an entry is filed before its goods arrive
    if node.integrated_at is not None and not _not_after(node.integrated_at, when):
        node.flag(
            "TIME_ORDER",
            f"the {when_words(node)} is after the entry was logged at "
            f"{ts(node.integrated_at)} (log time)",
        )
    elif not _not_after(v.now, when):
        node.flag("TIME_ORDER", f"the {when_words(node)} is in the future")


def check_material(v: Verifier) -> dict[str, list[Input]]:
    """Steps 8-14 over the chain, in chain order; returns each entry's resolved inputs."""
    inputs_of: dict[str, list[Input]] = {}
    for node in v.chain.values():
        if node.att is None:
            continue
        inputs_of[node.id] = resolve_inputs(v, node)
        check_references(v, node)
        check_custody(v, node, inputs_of[node.id])
    check_consumption(v, inputs_of)
    unit_flagged: set[str] = set()
    for node_id, inputs in inputs_of.items():
        node = v.chain[node_id]
        check_mass(v, node, inputs, unit_flagged)
        check_time(v, node, inputs)
    return inputs_of
