"""The judgement rules of verification, loaded from the JSON files in ``ledger/rules``.

Yields, high-risk regions, certificate requirements and unit conversions are data so
that a compliance team can change them with a reviewed diff, not a code change. Every
verdict names the rules version (the files' own version plus their SHA-256), so two
verdicts can only be compared when they were reached under the same rules.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from ledger.canonical import parse_json
from ledger.errors import ConfigError, LedgerError
from ledger.geo import Boundary, parse_boundary
from ledger.materials import MaterialRules, parse_material_rules
from ledger.places import Places, parse_places
from ledger.verify.order_rules import OrderRules, parse_order_rules

RULE_FILES = (
    "yields",
    "regions",
    "certificates",
    "units",
    "materials",
    "processes",
    "orders",
    "screening",
)


@dataclass(frozen=True)
class ProductCap:
    """A cap on the mass of the outputs of some material classes, per unit of mass of
    the inputs of the classes they are made ``of`` (so padding a process with inputs
    it does not transform raises nothing)."""

    classes: frozenset[str]
    of: frozenset[str]
    max_yield: Decimal


@dataclass(frozen=True)
class CountCap:
    """At most ``max_pieces`` output pieces of ``classes`` per ``per_pieces`` input
    pieces of the classes they are made ``of`` (cells per wafer, modules per cell)."""

    classes: frozenset[str]
    of: frozenset[str]
    max_pieces: Decimal
    per_pieces: Decimal


@dataclass(frozen=True)
class YieldRule:
    process: str
    max_yield: Decimal | None
    products: tuple[ProductCap, ...]
    counts: tuple[CountCap, ...] = ()


@dataclass(frozen=True)
class Rules:
    """All judgement rules, immutable once loaded."""

    version: str
    yields: dict[str, YieldRule]
    high_risk_regions: dict[str, str]
    region_aliases: dict[str, str]
    region_required: frozenset[str]
    certificate_required: frozenset[str]
    generic_scopes: frozenset[str]
    failing_audit_results: frozenset[str]
    to_kg: dict[str, Decimal]
    pieces: dict[str, Decimal]
    materials: MaterialRules
    boundaries: dict[str, Boundary]
    places: Places
    orders: OrderRules  # steps 16 and 18: list age, derived goods, modifications, places

    def region_of(self, region: str) -> str:
        """The current code of ``region`` (``CN-65`` -> ``CN-XJ``)."""
        return self.region_aliases.get(region, region)

    def yield_rule(self, process: str) -> YieldRule:
        """The rule of ``process``; an unknown process gets mass conservation (1.0)."""
        return self.yields.get(process) or YieldRule(process, Decimal(1), ())

    def piece_count(self, amount: Decimal, unit: str) -> Decimal | None:
        factor = self.pieces.get(unit)
        return None if factor is None else amount * factor

    def same_region(self, region: str) -> list[str]:
        """``region`` and every code naming the same region (e.g. CN-XJ and CN-65)."""
        canonical = self.region_aliases.get(region, region)
        others = [old for old, new in self.region_aliases.items() if new == canonical]
        return list(dict.fromkeys([region, canonical, *others]))

    def mass_kg(self, amount: Decimal, unit: str) -> Decimal | None:
        factor = self.to_kg.get(unit)
        return None if factor is None else amount * factor


def _decimal(value: object, where: str) -> Decimal:
    if not isinstance(value, str):
        raise ConfigError(f"rules: {where} must be a decimal string")
    try:
        out = Decimal(value)
    except InvalidOperation as e:
        raise ConfigError(f"rules: {where} is not a decimal: {value!r}") from e
    if not out.is_finite() or out <= 0:
        raise ConfigError(f"rules: {where} must be a positive decimal")
    return out


def _strings(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"rules: {where} must be a list of strings")
    return list(value)


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"rules: {where} must be an object")
    return value


def _classes(item: dict[str, Any], key: str, where: str) -> frozenset[str]:
    found = _strings(item.get(key), f"{where}.{key}")
    if not found:
        raise ConfigError(f"rules: {where}.{key} must name material classes")
    return frozenset(found)


def _yields(data: dict[str, Any]) -> dict[str, YieldRule]:
    out: dict[str, YieldRule] = {}
    for process, raw in _object(data.get("processes"), "yields.processes").items():
        rule = _object(raw, f"yields.{process}")
        cap = rule.get("max_yield")
        where = f"yields.{process}"
        products = tuple(
            ProductCap(
                _classes(p, "classes", where),
                _classes(p, "of", where),
                _decimal(p.get("max_yield"), f"{where} product max_yield"),
            )
            for p in (_object(x, f"{where} product") for x in rule.get("products", []))
        )
        counts = tuple(
            CountCap(
                _classes(c, "classes", where),
                _classes(c, "of", where),
                _decimal(c.get("max_pieces"), f"{where} count max_pieces"),
                _decimal(c.get("per_pieces"), f"{where} count per_pieces"),
            )
            for c in (_object(x, f"{where} count") for x in rule.get("counts", []))
        )
        out[process] = YieldRule(
            process, None if cap is None else _decimal(cap, where), products, counts
        )
    return out


def _read(name: str) -> bytes:
    try:
        return resources.files("ledger.rules").joinpath(f"{name}.json").read_bytes()
    except OSError as e:
        raise ConfigError(f"rules file {name}.json cannot be read: {e}") from e


def parse_rules(files: dict[str, bytes]) -> Rules:
    """Build :class:`Rules` from the raw bytes of each rules file."""
    try:
        data = {name: _object(parse_json(raw), name) for name, raw in files.items()}
    except LedgerError as e:
        raise ConfigError(f"rules files are not valid JSON: {e.message}") from e
    missing = [n for n in RULE_FILES if n not in data]
    if missing:
        raise ConfigError(f"rules files missing: {', '.join(missing)}")
    digest = hashlib.sha256()
    for name in RULE_FILES:
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    versions = sorted({str(data[n].get("version", "?")) for n in RULE_FILES})
    regions, certs = data["regions"], data["certificates"]
    return Rules(
        version=f"{'+'.join(versions)}/{digest.hexdigest()[:16]}",
        yields=_yields(data["yields"]),
        high_risk_regions={
            str(k): str(v) for k, v in _object(regions.get("high_risk"), "high_risk").items()
        },
        region_aliases={
            str(k): str(v) for k, v in _object(regions.get("aliases", {}), "aliases").items()
        },
        region_required=frozenset(_object(regions.get("region_required", {}), "region_required")),
        certificate_required=frozenset(_strings(certs.get("required_for"), "required_for")),
        generic_scopes=frozenset(_strings(certs.get("generic_scopes", []), "generic_scopes")),
        failing_audit_results=frozenset(
            _strings(certs.get("failing_audit_results", ["fail"]), "failing_audit_results")
        ),
        to_kg={
            unit: _decimal(v, f"units.{unit}")
            for unit, v in _object(data["units"].get("to_kg"), "to_kg").items()
        },
        pieces={
            unit: _decimal(v, f"units.pieces.{unit}")
            for unit, v in _object(data["units"].get("pieces", {}), "pieces").items()
        },
        materials=parse_material_rules(files),
        boundaries={
            str(k): parse_boundary(v, f"boundaries.{k}")
            for k, v in _object(regions.get("boundaries", {}), "boundaries").items()
        },
        places=parse_places(regions),
        orders=parse_order_rules(data["orders"], data["screening"]),
    )


@cache
def default_rules() -> Rules:
    """The rules shipped with lotchain (read once per process)."""
    return parse_rules({name: _read(name) for name in RULE_FILES})
