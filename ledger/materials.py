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
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from ledger.canonical import parse_json
from ledger.errors import ConfigError, LedgerError
from ledger.quantities import quantity_mass, three_places

MATERIAL_FILES = ("materials", "processes")
_CLASSIFIED_MAX = 4096  # distinct (code, name) pairs remembered per rules object
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

    _classified: dict[tuple[str, str], frozenset[str]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def classify(self, material: dict[str, Any]) -> frozenset[str]:
        """The classes ``material`` may belong to (empty when its code is unknown);
        remembered per code and name, since one event may name a material many times."""
        key = (str(material.get("hs_code", "")), str(material.get("name", "")))
        found = self._classified.get(key)
        if found is None:
            if len(self._classified) >= _CLASSIFIED_MAX:
                self._classified.clear()
            found = self._classified[key] = self._classify(*key)
        return found

    def _classify(self, hs_code: str, name: str) -> frozenset[str]:
        digits = hs_digits(hs_code)
        best, found = 0, []
        for cls in self.classes.values():
            length = max((_match(digits, p) for p in cls.prefixes), default=0)
            if length > best:
                best, found = length, [cls]
            elif length and length == best:
                found.append(cls)
        if len(found) > 1:
            words = _words(name)
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

    def makeable(self, process: str, sources: Iterable[frozenset[str]]) -> frozenset[str]:
        """Every class ``process`` can make from one of ``sources``."""
        out: set[str] = set()
        for source in sources:
            for route in self.routes.get(self.process(process), ()):
                if source & route.sources:
                    out |= route.products
        return frozenset(out)

    def consumed_by(self, process: str) -> frozenset[str]:
        """Every class some route of ``process`` consumes."""
        out: set[str] = set()
        for route in self.routes.get(self.process(process), ()):
            out |= route.sources
        return frozenset(out)

    def made_by(self, process: str) -> frozenset[str]:
        """Every class some route of ``process`` makes."""
        out: set[str] = set()
        for route in self.routes.get(self.process(process), ()):
            out |= route.products
        return frozenset(out)


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


@cache
def default_piece_units() -> dict[str, Decimal]:
    """Pieces per countable unit (``units.json``: a dozen is 12), for counting in a transfer."""
    data = _obj(parse_json(read_rules_file("units")), "units")
    return {str(k): Decimal(str(v)) for k, v in _obj(data.get("pieces", {}), "pieces").items()}


# -- judgement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Consumed:
    """One input of an event: the output it consumes, how much of it, and the classes
    its lineage resolves it to (None: as its own code and name say)."""

    output: dict[str, Any]
    amount: Decimal
    classes: frozenset[str] | None = None


@dataclass(frozen=True)
class Problem:
    """One fault found: its code (MATERIAL, or UNIT when amounts cannot be compared)."""

    code: str
    text: str


def describe(material: dict[str, Any]) -> str:
    return f"{material['name']} (HS {material['hs_code']})"


def consumed_classes(rules: MaterialRules, c: Consumed) -> frozenset[str]:
    return c.classes if c.classes is not None else rules.classify(c.output["material"])


def _passes_as(rules: MaterialRules, c: Consumed, material: dict[str, Any]) -> bool:
    """``material`` is what ``c`` is: same heading, and, where both are classified, no
    class the input is not (an output cannot be more than its input may be)."""
    head = heading(c.output["material"]["hs_code"])
    return _passes_as_known(rules, head, consumed_classes(rules, c), material)


def _passes_as_known(
    rules: MaterialRules, head: str, have: frozenset[str], material: dict[str, Any]
) -> bool:
    if head != heading(material["hs_code"]):
        return False
    claim = rules.classify(material)
    return not have or not claim or bool(claim & have)


def _consumed_words(rules: MaterialRules, inputs: Sequence[Consumed]) -> str:
    """The lots consumed; where a lot's code and name leave several classes and the
    route that made it settles one, that one too."""
    words = []
    for c in inputs:
        text = f"{describe(c.output['material'])} (lot {c.output['lot']})"
        declared = rules.classify(c.output["material"])
        if c.classes is not None and c.classes and c.classes < declared:
            names = " or ".join(sorted(k.replace("-", " ") for k in c.classes))
            text += f", which the route that made it shows to be {names}"
        words.append(text)
    return ", ".join(dict.fromkeys(words))


def _units_words(to_kg: dict[str, Decimal]) -> str:
    return ", ".join(sorted(to_kg))


def transfer_problems(
    rules: MaterialRules,
    inputs: Sequence[Consumed],
    outputs: Sequence[dict[str, Any]],
    to_kg: dict[str, Decimal],
    pieces: dict[str, Decimal] | None = None,
) -> list[Problem]:
    """Why a transfer's outputs are not the material it consumes, or more of it.

    Amounts in one unit are compared exactly; otherwise by mass (mass units converted
    exactly, other units by their ``mass_kg``), allowing each figure the rounding of
    the precision it is written in. Amounts that cannot be compared at all are UNIT."""
    problems = []
    groups: dict[frozenset[int], list[int]] = {}
    # each input's heading and classes once: a transfer may move hundreds of lots
    consumed = [
        (heading(c.output["material"]["hs_code"]), consumed_classes(rules, c)) for c in inputs
    ]
    for i, out in enumerate(outputs):
        sources = frozenset(
            j
            for j, (head, have) in enumerate(consumed)
            if _passes_as_known(rules, head, have, out["material"])
        )
        if sources:
            groups.setdefault(sources, []).append(i)
            continue
        problems.append(
            Problem(
                "MATERIAL",
                f"output {i} (lot {out['lot']}) is {describe(out['material'])}, but the "
                f"transfer consumes only {_consumed_words(rules, inputs)}: a transfer moves goods "
                "and cannot change them; only a transformation by a process that can make "
                "it may",
            )
        )
    for group, outs in groups.items():
        problem = _more_than_consumed(
            [outputs[i] for i in outs], [inputs[j] for j in sorted(group)], to_kg, pieces or {}
        )
        if problem is not None:
            problems.append(problem)
    return problems


def _more_than_consumed(
    given: Sequence[dict[str, Any]],
    taken: Sequence[Consumed],
    to_kg: dict[str, Decimal],
    pieces: dict[str, Decimal],
) -> Problem | None:
    what = describe(given[0]["material"])
    units = {o["quantity"]["unit"] for o in given} | {c.output["quantity"]["unit"] for c in taken}
    counted = len(units) == 1 or units <= set(pieces)
    if counted:  # in one unit, or in countable units (pcs, dozen): exactly
        one = len(units) == 1
        unit = next(iter(units)) if one else "pcs"
        factor = {u: Decimal(1) if one else pieces[u] for u in units}
        out_total = sum(
            (Decimal(o["quantity"]["amount"]) * factor[o["quantity"]["unit"]] for o in given),
            Decimal(0),
        )
        in_total = sum((c.amount * factor[c.output["quantity"]["unit"]] for c in taken), Decimal(0))
        if out_total > in_total:
            return Problem(
                "MATERIAL",
                f"the transfer passes on {out_total.normalize():f} {unit} of {what} but "
                f"consumes only {in_total.normalize():f} {unit} of it",
            )
    out_mass = [
        quantity_mass(o["quantity"], o.get("mass_kg"), to_kg, Decimal(o["quantity"]["amount"]))
        for o in given
    ]
    in_mass = [
        quantity_mass(c.output["quantity"], c.output.get("mass_kg"), to_kg, c.amount) for c in taken
    ]
    known_out = [m for m in out_mass if m is not None]
    known_in = [m for m in in_mass if m is not None]
    if len(known_out) < len(out_mass) or len(known_in) < len(in_mass):
        if counted:
            return None  # counted, and that suffices
        return Problem(
            "UNIT",
            f"the transfer passes on {what} in {' and '.join(sorted(units))}, which cannot "
            f"be compared: a transfer keeps the unit of what it moves, converts between "
            f"mass units ({_units_words(to_kg)}) or countable units "
            f"({_units_words(pieces)}), or declares mass_kg on both sides",
        )
    out_kg = sum((m.kg for m in known_out), Decimal(0))
    in_kg = sum((m.kg for m in known_in), Decimal(0))
    # each figure stands for the half-open interval it rounds; the outputs are more
    # than consumed when no value within them can be within the inputs
    slack = sum((m.slack for m in (*known_out, *known_in)), Decimal(0))
    if out_kg - in_kg >= slack and out_kg > in_kg:
        return Problem(
            "MATERIAL",
            f"the transfer passes on {three_places(out_kg)} kg of {what} but consumes only "
            f"{three_places(in_kg)} kg of it",
        )
    return None


def transformation_problems(
    rules: MaterialRules,
    process: str,
    inputs: Sequence[Consumed],
    outputs: Sequence[dict[str, Any]],
) -> list[str]:
    """Why ``process`` cannot have made an output from these inputs."""
    problems = []
    sources = [consumed_classes(rules, c) for c in inputs]
    for i, out in enumerate(outputs):
        material = out["material"]
        if any(_passes_as(rules, c, material) for c in inputs):
            continue  # passed through unchanged
        product = rules.classify(material)
        if rules.can_make(process, sources, product):
            continue
        consumed = _consumed_words(rules, inputs)
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


def process_problems(
    rules: MaterialRules,
    process: str,
    facility: str,
    facility_processes: Sequence[str],
    inputs: Sequence[Consumed],
    outputs: Sequence[dict[str, Any]],
) -> list[str]:
    """Why a transformation's facility cannot have made its outputs: what a process
    changes (an output not passed through) must be something a process the facility
    declares can make from these inputs, whatever name the event gives its process
    (refining at a plant declaring polysilicon production is the same work)."""
    if not rules.made_by(process):
        return []  # changes nothing, or unknown: transformation_problems says so
    declared = {rules.process(p) for p in facility_processes}
    if rules.process(process) in declared:
        return []
    sources = [consumed_classes(rules, c) for c in inputs]
    for out in outputs:
        if any(_passes_as(rules, c, out["material"]) for c in inputs):
            continue
        product = rules.classify(out["material"])
        if not any(rules.can_make(p, sources, product) for p in declared):
            return [
                f"{facility} declares the processes {', '.join(facility_processes)}, not "
                f"{process}, and none of them makes lot {out['lot']} "
                f"({describe(out['material'])}): a facility transforms material only by a "
                "process it declares"
            ]
    return []


def origin_problems(
    rules: MaterialRules, body: dict[str, Any], facility_processes: Sequence[str]
) -> list[str]:
    """Why an origin declares something other than a raw material its facility produces.

    A raw material its own other processes make (comber noil at a spinning mill, seed
    at a gin) must be declared as their output; and what is collected for recycling
    cannot be of a class its own processing consumes, so that a mill cannot re-originate
    its feedstock and cut off where it came from."""
    problems = []
    allowed = rules.originable(facility_processes)
    runs = rules.origin_processes(facility_processes)
    transforms = [p for p in facility_processes if rules.process(p) not in rules.origins]
    made_here = frozenset().union(*(rules.made_by(p) for p in transforms))
    consumed_here = frozenset().union(*(rules.consumed_by(p) for p in transforms))
    recycled = rules.originable(p for p in runs if rules.process(p) == "recycling")
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
        resolved = classes & allowed
        processes = ", ".join(facility_processes)
        if resolved and not resolved <= made_here:
            if not (resolved <= recycled and resolved & consumed_here):
                continue
            why = (
                f"the facility also runs {', '.join(transforms)}, which consumes it: "
                "recycled material it collects cannot be its own feedstock"
            )
        elif resolved:
            why = (
                f"the facility also runs {', '.join(transforms)}, which makes it: it must "
                "be declared as the output of that process, with the inputs it was made from"
            )
        elif not runs:
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
