"""Material identity (MATERIAL): what a lot is, and which events may change it.

Pure judgement over attestation bodies and the rules data in ``ledger/rules``
(``materials.json``: material classes by HS code and name; ``processes.json``: what
each process can turn into what, and which raw materials an origin process yields).
The log refuses at append what these functions find, where it holds the data, and the
verifier judges every chain with the same functions, so a bundle written before a
rule existed is still judged.

A material is named by its HS code; where one heading holds several stages (seed
cotton and ginned lint are both HS 5201) a word of the material name tells them
apart. A code the rules do not know cannot be classified: a transfer still must keep
its heading, but a transformation into or out of it cannot be shown possible and is
reported, so that an unknown code is never a way around the rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from ledger.canonical import parse_json
from ledger.errors import ConfigError, LedgerError

MATERIAL_FILES = ("materials", "processes")
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.casefold()))


def hs_digits(code: str) -> str:
    """An HS code's digits (``5201.00`` -> ``520100``)."""
    return "".join(c for c in code if c.isdigit())


def heading(code: str) -> str:
    """The 4-digit HS heading of a code."""
    return hs_digits(code)[:4]


def _match(digits: str, prefix: str) -> int:
    """How closely a code matches a class prefix: the prefix's length when the code is
    within it; the code's length when a code of at least a heading is wider than the
    prefix (``2804`` may be ``2804.61`` or ``2804.69``); else 0."""
    if digits.startswith(prefix):
        return len(prefix)
    if len(digits) >= 4 and prefix.startswith(digits):
        return len(digits)
    return 0


@dataclass(frozen=True)
class MaterialClass:
    name: str
    prefixes: tuple[str, ...]
    names: tuple[tuple[str, ...], ...]
    raw: bool

    def named(self, words: tuple[str, ...]) -> bool:
        """True when a phrase of ``names`` occurs as whole words in ``words``."""
        for phrase in self.names:
            n = len(phrase)
            if any(words[i : i + n] == phrase for i in range(len(words) - n + 1)):
                return True
        return False


@dataclass(frozen=True)
class Route:
    sources: frozenset[str]
    products: frozenset[str]


@dataclass(frozen=True)
class MaterialRules:
    """Material classes, process routes and origin processes, immutable once loaded."""

    classes: dict[str, MaterialClass]
    routes: dict[str, tuple[Route, ...]]
    origins: dict[str, frozenset[str]]
    aliases: dict[str, str]

    def classify(self, material: dict[str, Any]) -> frozenset[str]:
        """The classes ``material`` may belong to (empty when its code is unknown)."""
        digits = hs_digits(str(material.get("hs_code", "")))
        best, found = 0, []
        for cls in self.classes.values():
            length = max((_match(digits, p) for p in cls.prefixes), default=0)
            if length > best:
                best, found = length, [cls]
            elif length and length == best:
                found.append(cls)
        if len(found) > 1:
            words = _words(str(material.get("name", "")))
            named = [c for c in found if c.named(words)]
            found = named or found
        return frozenset(c.name for c in found)

    def process(self, name: str) -> str:
        return self.aliases.get(name, name)

    def knows_process(self, name: str) -> bool:
        return name in self.routes

    def can_make(
        self, process: str, sources: Iterable[frozenset[str]], product: frozenset[str]
    ) -> bool:
        """True when ``process`` can make a ``product`` from one of ``sources``."""
        routes = self.routes.get(self.process(process), ())
        for source in sources:
            for route in routes:
                if source & route.sources and product & route.products:
                    return True
        return False

    def originable(self, processes: Iterable[str]) -> frozenset[str]:
        """Raw material classes a facility running ``processes`` may declare as origins."""
        out: set[str] = set()
        for p in processes:
            out |= self.origins.get(self.process(p), frozenset())
        return frozenset(out)

    def origin_processes(self, processes: Iterable[str]) -> list[str]:
        return [p for p in processes if self.process(p) in self.origins]


# -- loading -----------------------------------------------------------------------------


def _obj(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"rules: {where} must be an object")
    return value


def _strs(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"rules: {where} must be a list of non-empty strings")
    return list(value)


def parse_material_rules(files: dict[str, bytes]) -> MaterialRules:
    """Build :class:`MaterialRules` from the bytes of ``materials.json`` and ``processes.json``."""
    try:
        materials = _obj(parse_json(files["materials"]), "materials")
        processes = _obj(parse_json(files["processes"]), "processes")
    except LedgerError as e:
        raise ConfigError(f"material rules are not valid JSON: {e.message}") from e
    except KeyError as e:
        raise ConfigError(f"rules file missing: {e.args[0]}.json") from e
    classes = {}
    for name, raw in _obj(materials.get("classes"), "materials.classes").items():
        item = _obj(raw, f"materials.{name}")
        prefixes = tuple(_strs(item.get("hs"), f"materials.{name}.hs"))
        if not all(p.isdigit() and 2 <= len(p) <= 10 for p in prefixes):
            raise ConfigError(f"rules: materials.{name}.hs must be HS code prefixes (digits)")
        classes[name] = MaterialClass(
            name,
            prefixes,
            tuple(_words(n) for n in _strs(item.get("names", []), f"materials.{name}.names")),
            bool(item.get("raw", False)),
        )

    def known(names: list[str], where: str) -> frozenset[str]:
        unknown = [n for n in names if n not in classes]
        if unknown:
            raise ConfigError(f"rules: {where} names unknown material classes {unknown}")
        return frozenset(names)

    routes: dict[str, tuple[Route, ...]] = {}
    for proc, raw in _obj(processes.get("processes"), "processes.processes").items():
        item = _obj(raw, f"processes.{proc}")
        routes[proc] = tuple(
            Route(
                known(_strs(r.get("from"), f"{proc}.from"), f"processes.{proc}"),
                known(_strs(r.get("to"), f"{proc}.to"), f"processes.{proc}"),
            )
            for r in (_obj(x, f"processes.{proc} route") for x in item.get("routes", []))
        )
    origins = {
        proc: known(_strs(_obj(raw, proc).get("classes"), f"origins.{proc}"), f"origins.{proc}")
        for proc, raw in _obj(processes.get("origins"), "processes.origins").items()
    }
    aliases = {str(k): str(v) for k, v in _obj(processes.get("aliases", {}), "aliases").items()}
    return MaterialRules(classes, routes, origins, aliases)


def read_rules_file(name: str) -> bytes:
    try:
        return resources.files("ledger.rules").joinpath(f"{name}.json").read_bytes()
    except OSError as e:
        raise ConfigError(f"rules file {name}.json cannot be read: {e}") from e


@cache
def default_material_rules() -> MaterialRules:
    """The material rules shipped with lotchain (read once per process)."""
    return parse_material_rules({n: read_rules_file(n) for n in MATERIAL_FILES})


@cache
def default_mass_units() -> dict[str, Decimal]:
    """Exact kilograms per mass unit (``units.json``), for converting within a transfer."""
    data = _obj(parse_json(read_rules_file("units")), "units")
    return {str(k): Decimal(str(v)) for k, v in _obj(data.get("to_kg"), "units.to_kg").items()}


# -- judgement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Consumed:
    """One input of an event: the output it consumes and how much of it."""

    output: dict[str, Any]
    amount: Decimal


def describe(material: dict[str, Any]) -> str:
    return f"{material['name']} (HS {material['hs_code']})"


def _same(rules: MaterialRules, a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Same material: same heading and, where both are classified, a class in common."""
    if heading(a["hs_code"]) != heading(b["hs_code"]):
        return False
    ca, cb = rules.classify(a), rules.classify(b)
    return not ca or not cb or bool(ca & cb)


def _total(
    items: Sequence[tuple[Decimal, str]], to_kg: dict[str, Decimal]
) -> tuple[Decimal, str] | None:
    """The sum of ``(amount, unit)`` items in their one unit, or in kg when all are mass
    units (multiplying by exact factors only); None when they cannot be added exactly."""
    units = {unit for _, unit in items}
    if len(units) == 1:
        return sum((a for a, _ in items), Decimal(0)), units.pop()
    if units <= set(to_kg):
        return sum((a * to_kg[u] for a, u in items), Decimal(0)), "kg"
    return None


def transfer_problems(
    rules: MaterialRules,
    inputs: Sequence[Consumed],
    outputs: Sequence[dict[str, Any]],
    to_kg: dict[str, Decimal],
    *,
    check_amounts: bool = True,
) -> list[str]:
    """Why a transfer's outputs are not the material it consumes, or more of it."""
    problems = []
    groups: dict[frozenset[int], list[int]] = {}
    for i, out in enumerate(outputs):
        sources = frozenset(
            j
            for j, inp in enumerate(inputs)
            if _same(rules, inp.output["material"], out["material"])
        )
        if sources:
            groups.setdefault(sources, []).append(i)
            continue
        consumed = ", ".join(
            dict.fromkeys(
                f"{describe(c.output['material'])} (lot {c.output['lot']})" for c in inputs
            )
        )
        problems.append(
            f"output {i} (lot {out['lot']}) is {describe(out['material'])}, but the transfer "
            f"consumes only {consumed}: a transfer moves goods and cannot change them; only "
            "a transformation by a process that can make it may"
        )
    if not check_amounts:
        return problems
    # no more of each material than consumed, in one unit or exactly converted
    for group, outs in groups.items():
        what = describe(outputs[outs[0]]["material"])
        given = [
            (Decimal(outputs[i]["quantity"]["amount"]), outputs[i]["quantity"]["unit"])
            for i in outs
        ]
        taken = [(inputs[j].amount, inputs[j].output["quantity"]["unit"]) for j in sorted(group)]
        both = _total([*given, *taken], to_kg)
        out_total, in_total = _total(given, to_kg), _total(taken, to_kg)
        if both is None or out_total is None or in_total is None:
            units = sorted({u for _, u in (*given, *taken)})
            problems.append(
                f"the transfer passes on {what} in {' and '.join(units)}, which cannot be "
                "converted exactly into one another; a transfer keeps the unit of what it "
                "moves, or converts between mass units (kg, t, lb)"
            )
            continue
        unit = both[1]
        if unit != out_total[1]:  # mixed mass units: compare in kg
            out_total = _total([(a * to_kg[u], "kg") for a, u in given], to_kg)
            in_total = _total([(a * to_kg[u], "kg") for a, u in taken], to_kg)
            assert out_total is not None and in_total is not None
        elif unit != in_total[1]:
            in_total = _total([(a * to_kg[u], "kg") for a, u in taken], to_kg)
            assert in_total is not None
        if out_total[0] > in_total[0]:
            problems.append(
                f"the transfer passes on {_fmt(out_total[0])} {unit} of {what} but consumes "
                f"only {_fmt(in_total[0])} {unit} of it"
            )
    return problems


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


def transformation_problems(
    rules: MaterialRules,
    process: str,
    inputs: Sequence[Consumed],
    outputs: Sequence[dict[str, Any]],
) -> list[str]:
    """Why ``process`` cannot have made an output from these inputs."""
    problems = []
    sources = [rules.classify(c.output["material"]) for c in inputs]
    for i, out in enumerate(outputs):
        material = out["material"]
        if any(_same(rules, c.output["material"], material) for c in inputs):
            continue  # passed through unchanged
        product = rules.classify(material)
        if rules.can_make(process, sources, product):
            continue
        consumed = ", ".join(
            dict.fromkeys(
                f"{describe(c.output['material'])} (lot {c.output['lot']})" for c in inputs
            )
        )
        made = f"output {i} (lot {out['lot']}) is {describe(material)}"
        if not rules.knows_process(rules.process(process)):
            problems.append(f"{made}, but no rule says what {process} can make")
        elif not product:
            problems.append(
                f"{made}, which is not a material {process} makes (it consumes {consumed})"
            )
        else:
            problems.append(f"{made}, which {process} cannot make from {consumed}")
    return problems


def origin_problems(
    rules: MaterialRules, body: dict[str, Any], facility_processes: Sequence[str]
) -> list[str]:
    """Why an origin declares something other than a raw material its facility produces."""
    problems = []
    allowed = rules.originable(facility_processes)
    runs = rules.origin_processes(facility_processes)
    declared = [(f"lot {o['lot']}", o["material"]) for o in body["outputs"]] + [
        ("the material it declares", body["material"])
    ]
    seen: set[tuple[str, str]] = set()
    for what, material in declared:
        key = (str(material["name"]), hs_digits(str(material["hs_code"])))
        if key in seen:
            continue
        seen.add(key)
        classes = rules.classify(material)
        if classes & allowed:
            continue
        processes = ", ".join(facility_processes)
        if not runs:
            why = (
                f"the facility runs {processes}, no origin process (farming, mining, "
                "quarrying, fishing...); what it makes must come in as inputs"
            )
        elif classes and not any(rules.classes[c].raw for c in classes):
            why = "it is a processed good, made from inputs that must be traced"
        else:
            why = f"{', '.join(runs)} does not produce it"
        problems.append(
            f"{what} is {describe(material)}, not a raw material this facility produces: {why}"
        )
    return problems
