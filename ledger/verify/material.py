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

from ledger.admission import CLOCK_SKEW
from ledger.encoding import format_timestamp as ts
from ledger.verify.engine import Node, Verifier, When, event_time, is_before
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
    assert inp.output is not None
    quantity = Decimal(inp.output["quantity"]["amount"])
    if "mass_kg" in inp.output:
        return inp.amount * Decimal(inp.output["mass_kg"]) / quantity if quantity else None
    return v.rules.mass_kg(inp.amount, inp.unit)


def _output_mass(v: Verifier, output: dict[str, Any]) -> Decimal | None:
    if "mass_kg" in output:
        return Decimal(output["mass_kg"])
    return v.rules.mass_kg(Decimal(output["quantity"]["amount"]), output["quantity"]["unit"])


def _fmt(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.001')).normalize():f}"


def _masses(
    v: Verifier, node: Node, inputs: list[Input], unit_flagged: set[str]
) -> tuple[Decimal, list[Decimal]] | None:
    """Step 11 (UNIT): total input mass and each output's mass, in kg, or None."""
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
    return sum(known_in, Decimal(0)), known_out


def _transfer_balance(v: Verifier, node: Node, inputs: list[Input], flagged: set[str]) -> None:
    """A transfer passes on at most what it consumes (in one unit, or by mass)."""
    limit = v.rules.yield_rule("transfer").max_yield
    if limit is None:
        return
    outputs = node.body["outputs"]
    units = {i.unit for i in inputs} | {o["quantity"]["unit"] for o in outputs}
    if len(units) == 1:
        got = sum((Decimal(o["quantity"]["amount"]) for o in outputs), Decimal(0))
        used = sum((i.amount for i in inputs), Decimal(0))
        unit = units.pop()
        if got > used * limit:
            node.flag(
                "YIELD",
                f"{event_words(v, node)} passes on {got} {unit} but consumes {used} {unit}",
            )
            return
        in_kg = [m for m in (_input_mass(v, i) for i in inputs) if m is not None]
        out_kg = [m for m in (_output_mass(v, o) for o in outputs) if m is not None]
        mass_in, mass_out = sum(in_kg, Decimal(0)), sum(out_kg, Decimal(0))
        complete = len(in_kg) == len(inputs) and len(out_kg) == len(outputs)
        if complete and mass_out > mass_in * limit:
            node.flag(
                "YIELD",
                f"{event_words(v, node)} passes on {_fmt(mass_out)} kg but consumes "
                f"{_fmt(mass_in)} kg",
            )
        return
    masses = _masses(v, node, inputs, flagged)
    if masses is not None and sum(masses[1], Decimal(0)) > masses[0] * limit:
        node.flag(
            "YIELD",
            f"{event_words(v, node)} passes on {_fmt(sum(masses[1], Decimal(0)))} kg but "
            f"consumes {_fmt(masses[0])} kg",
        )


def _transformation_balance(
    v: Verifier, node: Node, inputs: list[Input], flagged: set[str]
) -> None:
    """Step 13 (YIELD): output mass within input mass times the process's maximum."""
    rule = v.rules.yield_rule(node.body["process"])
    if rule.max_yield is None and not rule.products:
        return
    masses = _masses(v, node, inputs, flagged)
    if masses is None:
        return
    total_in, out_masses = masses
    outputs = node.body["outputs"]
    what = event_words(v, node)
    total_out = sum(out_masses, Decimal(0))
    problems: list[str] = []
    if rule.max_yield is not None and total_out > total_in * rule.max_yield:
        problems.append(
            f"yields {_fmt(total_out)} kg from {_fmt(total_in)} kg of inputs, above the "
            f"maximum yield {rule.max_yield} of {rule.process}"
        )
    for cap in rule.products:
        product = sum(
            (
                m
                for o, m in zip(outputs, out_masses, strict=True)
                if cap.matches(o["material"]["name"])
            ),
            Decimal(0),
        )
        if product > total_in * cap.max_yield:
            problems.append(
                f"yields {_fmt(product)} kg of {'/'.join(sorted(cap.words))} from "
                f"{_fmt(total_in)} kg of inputs, above the maximum yield {cap.max_yield}"
            )
    if problems:  # one fault (too much output), one finding
        node.flag("YIELD", f"{what} {'; and '.join(problems)}")


def check_mass(v: Verifier, node: Node, inputs: list[Input], flagged: set[str]) -> None:
    """Steps 11 (UNIT) and 13 (YIELD); skipped when an input did not resolve."""
    if any(i.output is None for i in inputs):
        return
    if node.type == "transfer":
        _transfer_balance(v, node, inputs, flagged)
    elif node.type == "transformation":
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
