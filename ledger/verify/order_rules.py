"""The rules data of steps 16 and 18: list age, derived goods, modifications, places.

Read from ``ledger/rules/screening.json`` and ``ledger/rules/orders.json`` (see their
``about``); part of :class:`ledger.verify.rules.Rules` and of its version hash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.errors import ConfigError

MAX_AGE_DAYS = 3650
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Modification:
    """One modification or revocation of an order, with the terms the list gives in words."""

    effect: str  # lift | carve-out
    on: date | None  # None: the list's modified_on / revoked_on
    produced_after: date | None = None
    parties: tuple[str, ...] = ()
    condition: str = ""
    source: str = ""
    note: str = ""


@dataclass(frozen=True)
class OrderRules:
    derived_goods: dict[str, str]  # order id -> the words that make it follow derived goods
    made_in_country: dict[str, str]  # order id -> the words limiting it to its country
    modifications: dict[str, tuple[Modification, ...]]
    places: dict[str, tuple[str, ...]]  # order id -> ISO 3166-2 subdivisions
    max_list_age_days: int
    required_kinds: dict[str, str]


def _obj(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"rules: {where} must be an object")
    return value


def _day(value: object, where: str) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE.match(value):
        raise ConfigError(f"rules: {where} must be a date like 2025-03-01")
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise ConfigError(f"rules: {where} is not a real date: {value}") from e


def _text(value: object, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"rules: {where} must be a string")
    return value


def _modification(raw: object, where: str) -> Modification:
    item = _obj(raw, where)
    effect = item.get("effect")
    if effect not in ("lift", "carve-out"):
        raise ConfigError(f"rules: {where}.effect must be 'lift' or 'carve-out'")
    parties = item.get("parties", [])
    if not isinstance(parties, list) or not all(isinstance(p, str) and p for p in parties):
        raise ConfigError(f"rules: {where}.parties must be a list of names")
    if effect == "carve-out" and not parties and not item.get("condition"):
        raise ConfigError(f"rules: {where}: a carve-out needs parties or a condition")
    return Modification(
        effect=str(effect),
        on=_day(item.get("on"), f"{where}.on"),
        produced_after=_day(item.get("produced_after"), f"{where}.produced_after"),
        parties=tuple(parties),
        condition=_text(item.get("condition"), f"{where}.condition"),
        source=_text(item.get("source"), f"{where}.source"),
        note=_text(item.get("note"), f"{where}.note"),
    )


def parse_order_rules(orders: dict[str, Any], screening: dict[str, Any]) -> OrderRules:
    derived = {
        str(k): _text(_obj(v, f"derived_goods.{k}").get("words"), f"derived_goods.{k}.words")
        for k, v in _obj(orders.get("derived_goods", {}), "derived_goods").items()
    }
    made_in = {
        str(k): _text(v, f"made_in_country.{k}")
        for k, v in _obj(orders.get("made_in_country", {}), "made_in_country").items()
    }
    modifications: dict[str, tuple[Modification, ...]] = {}
    for oid, raw in _obj(orders.get("modifications", {}), "modifications").items():
        if not isinstance(raw, list):
            raise ConfigError(f"rules: modifications.{oid} must be a list")
        modifications[str(oid)] = tuple(
            _modification(m, f"modifications.{oid}[{i}]") for i, m in enumerate(raw)
        )
    places: dict[str, tuple[str, ...]] = {}
    for oid, raw in _obj(orders.get("places", {}), "places").items():
        regions = _obj(raw, f"places.{oid}").get("regions")
        if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
            raise ConfigError(f"rules: places.{oid}.regions must be a list of codes")
        places[str(oid)] = tuple(regions)
    age = screening.get("max_list_age_days")
    if not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= MAX_AGE_DAYS:
        raise ConfigError(f"rules: max_list_age_days must be a whole number 0-{MAX_AGE_DAYS}")
    kinds = {
        str(k): _text(v, f"required_kinds.{k}")
        for k, v in _obj(screening.get("required_kinds", {}), "required_kinds").items()
    }
    return OrderRules(derived, made_in, modifications, places, age, kinds)
