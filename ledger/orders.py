"""Withhold Release Orders and Findings under 19 U.S.C. 1307: the list, parsed.

The list is CSV with a header row (the columns of ``data/wro-findings.csv``): ``id``,
``action`` (WRO or Finding), ``status`` (active, modified, revoked), ``issued_on``,
``modified_on``, ``revoked_on``, ``country``, ``producer``, ``aliases`` and
``hs_prefixes`` (both separated by `` | ``), ``merchandise``, ``scope`` (entity, vessel,
region, country), ``region``, ``source`` and ``notes``. A version is kept like an entity
list version: its exact bytes, their SHA-256 and when it was loaded.

Producer names are matched as on the entity list (:func:`ledger.screening.name_key`).
What the CSV writes in words around names is read here, once: "X and its subsidiaries"
names X; "(fishing vessel)", "(co-named)", "(former name)" are notes, not names; aliases
that describe rather than name ("subsidiaries and joint ventures", "parent company:
...", "fleet of vessels ...") match nothing.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar

from ledger.encoding import parse_timestamp
from ledger.errors import LedgerError, MalformedError, TooLargeError, UsageError
from ledger.screening import (
    check_bundled_hash,
    name_key,
    read_capped,
    version_bundle,
    version_summary,
)

MAX_ORDER_BYTES = 4_000_000
MAX_ORDERS = 10_000
MAX_FIELD = 8_192
SEPARATOR = "|"
ACTIONS = {"wro": "WRO", "finding": "Finding"}
STATUSES = frozenset({"active", "modified", "revoked"})
SCOPES = frozenset({"entity", "vessel", "region", "country"})
REQUIRED = ("id", "action", "status", "issued_on", "scope")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_REGION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_HS = re.compile(r"^[0-9]{2,10}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: "X and its subsidiaries": the order names X (the subsidiaries are matched by alias).
_GROUP_SUFFIX = re.compile(
    r"\s*,?\s+and\s+(?:its|their)\s+(?:wholly\s+owned\s+)?subsidiaries\s*$", re.IGNORECASE
)
#: Words that make a parenthesis a note rather than a name: "(fishing vessel)", "(co-named)".
_NOTE_WORDS = re.compile(
    r"\b(?:vessels?|named|names?|former|formerly|subsidiary|owned|per|group\s+of)\b",
    re.IGNORECASE,
)
_TRAILING_PAREN = re.compile(r"\s*\(([^()]*)\)\s*$")
#: Aliases that describe a class of companies instead of naming one.
_DESCRIPTIVE = re.compile(
    r"^(?:subsidiaries|subordinate|affiliated|affiliates|joint\s+ventures|fleet\s+of|"
    r"parent\s+company|vessels\s+owned)\b",
    re.IGNORECASE,
)
_IMO = re.compile(r"^IMO\s*(?:no\.?\s*)?(\d{7})$", re.IGNORECASE)


def names_in(text: str) -> list[str]:
    """The names a producer or alias field gives, without the CSV's notes around them.

    "X and its subsidiaries" gives X; a trailing "(XPCC)" is a further name, a trailing
    "(fishing vessel)" a note; a parenthesis inside a name ("Laglove (M) Sdn. Bhd.") stays.
    """
    text = _GROUP_SUFFIX.sub("", text.strip())
    extra: list[str] = []
    while match := _TRAILING_PAREN.search(text):
        inner = match.group(1).strip()
        if not _NOTE_WORDS.search(inner) and len(name_key(inner)) >= 3:
            extra.append(inner)
        text = text[: match.start()].strip(" ,;")
    return [n for n in (text, *extra) if name_key(n)]


@dataclass(frozen=True)
class Order:
    """One WRO or Finding: who and what it covers, and when it is in force."""

    row: int
    id: str
    action: str
    status: str
    issued_on: date
    modified_on: date | None
    revoked_on: date | None
    country: str
    producer: str
    aliases: tuple[str, ...]
    merchandise: str
    hs_prefixes: tuple[str, ...]
    scope: str
    region: str
    source: tuple[str, ...]
    notes: str

    @functools.cached_property
    def names(self) -> tuple[str, ...]:
        """The producer and alias names that can match a party, facility or vessel."""
        out = names_in(self.producer) if self.producer else []
        for alias in self.aliases:
            if not _DESCRIPTIVE.match(alias) and not _IMO.match(alias):
                out += names_in(alias)
        return tuple(dict.fromkeys(out))

    @functools.cached_property
    def imo_numbers(self) -> frozenset[str]:
        """IMO ship numbers given as aliases ("IMO 1234567")."""
        return frozenset(m.group(1) for a in self.aliases if (m := _IMO.match(a)))

    def covers_hs(self, hs_code: str) -> bool:
        """Whether ``hs_code`` falls under the order's prefixes (no prefixes: everything)."""
        digits = hs_code.replace(".", "")
        return not self.hs_prefixes or any(digits.startswith(p) for p in self.hs_prefixes)

    def label(self) -> str:
        who = (names_in(self.producer) or [""])[0] or self.region or self.country
        return f"{self.action} {self.id} ({who})"


@dataclass(frozen=True)
class OrderList:
    """A parsed WRO/Findings list version: exact bytes, SHA-256, orders."""

    kind: ClassVar[str] = "wro"
    name: str
    sha256: str
    loaded_at: datetime
    data: bytes
    orders: tuple[Order, ...]
    source: str | None = None

    def summary(self) -> dict[str, Any]:
        """What a verdict says of the list it applied (never its contents)."""
        return version_summary(self.name, self.kind, self.sha256, self.loaded_at, self.orders)

    def to_bundle(self) -> dict[str, Any]:
        dates = [o.issued_on for o in self.orders]
        return version_bundle(
            self.name, self.kind, self.sha256, self.loaded_at, self.data, dates, self.source
        )


def _bad(line: int, message: str) -> MalformedError:
    return MalformedError(f"WRO/Findings list line {line}: {message}")


def _date(value: str, line: int, column: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    if not _DATE.match(value):
        raise _bad(line, f"{column} {value!r} is not a date (expected YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise _bad(line, f"{column} {value} is not a real date (expected YYYY-MM-DD)") from e


def _split(value: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in value.split(SEPARATOR) if x.strip())


def _order(row: dict[str, str], line: int, seen: set[str]) -> Order:
    for column, value in row.items():
        if len(value) > MAX_FIELD:
            raise _bad(line, f"{column} is longer than {MAX_FIELD} characters")
    get = {k: (v or "").strip() for k, v in row.items()}
    oid = get["id"]
    if not _ID.match(oid):
        raise _bad(line, f"id {oid!r} must be 1-128 lower-case letters, digits, '.', '_', '-'")
    if oid in seen:
        raise _bad(line, f"id {oid} appears twice")
    action = ACTIONS.get(get["action"].lower())
    if action is None:
        raise _bad(line, f"action {get['action']!r} must be WRO or Finding")
    status = get["status"].lower()
    if status not in STATUSES:
        raise _bad(line, f"status {get['status']!r} must be one of {sorted(STATUSES)}")
    scope = get["scope"].lower()
    if scope not in SCOPES:
        raise _bad(line, f"scope {get['scope']!r} must be one of {sorted(SCOPES)}")
    issued = _date(get["issued_on"], line, "issued_on")
    if issued is None:
        raise _bad(line, "issued_on is empty; an order is in force from its date")
    modified = _date(get.get("modified_on", ""), line, "modified_on")
    revoked = _date(get.get("revoked_on", ""), line, "revoked_on")
    if status == "modified" and modified is None:
        raise _bad(line, "status is modified but modified_on is empty")
    if status == "revoked" and revoked is None:
        raise _bad(line, "status is revoked but revoked_on is empty")
    for column, when in (("modified_on", modified), ("revoked_on", revoked)):
        if when is not None and when < issued:
            raise _bad(line, f"{column} {when} is before issued_on {issued}")
    country = get.get("country", "").upper()
    if country and not _COUNTRY.match(country):
        raise _bad(line, f"country {country!r} must be an ISO 3166-1 alpha-2 code")
    region = get.get("region", "").upper()
    if region and not _REGION.match(region):
        raise _bad(line, f"region {region!r} must be an ISO 3166-2 code such as CN-XJ")
    prefixes = tuple(p.replace(".", "") for p in _split(get.get("hs_prefixes", "")))
    for prefix in prefixes:
        if not _HS.match(prefix):
            raise _bad(line, f"hs_prefixes entry {prefix!r} must be 2 to 10 digits")
    producer = get.get("producer", "")
    order = Order(
        row=line,
        id=oid,
        action=action,
        status=status,
        issued_on=issued,
        modified_on=modified,
        revoked_on=revoked,
        country=country,
        producer=producer,
        aliases=_split(get.get("aliases", "")),
        merchandise=get.get("merchandise", ""),
        hs_prefixes=prefixes,
        scope=scope,
        region=region,
        source=_split(get.get("source", "")),
        notes=get.get("notes", ""),
    )
    if scope in ("entity", "vessel") and not order.names:
        raise _bad(line, f"a {scope} order needs a producer name")
    if scope == "country" and not country:
        raise _bad(line, "a country-wide order needs a country")
    if scope == "region" and not (region or country):
        raise _bad(line, "a region-wide order needs a region or at least a country")
    return order


def parse_orders(
    data: bytes, *, name: str, loaded_at: datetime, source: str | None = None
) -> OrderList:
    """Parse WRO/Findings list bytes (UTF-8 CSV with a header row) or raise a coded error."""
    if not name.strip() or len(name) > 128 or any(ord(c) < 0x20 for c in name):
        raise UsageError("a WRO/Findings list needs a name of 1 to 128 printable characters")
    if len(data) > MAX_ORDER_BYTES:
        raise TooLargeError(
            f"WRO/Findings list is {len(data)} bytes; the limit is {MAX_ORDER_BYTES}"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise MalformedError(f"WRO/Findings list is not UTF-8 (byte {e.start})") from e
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames or []
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise MalformedError(
                f"WRO/Findings list line 1: the header lacks {', '.join(missing)} "
                f"(columns: {', '.join(REQUIRED)}, producer, aliases, merchandise, "
                "hs_prefixes, country, region, modified_on, revoked_on, source, notes)"
            )
        orders: list[Order] = []
        seen: set[str] = set()
        for row in reader:
            line = reader.line_num
            if len(orders) >= MAX_ORDERS:
                raise TooLargeError(f"WRO/Findings list has more than {MAX_ORDERS} orders")
            if None in row:
                raise _bad(line, "the row has more fields than the header")
            order = _order({k: v or "" for k, v in row.items()}, line, seen)
            seen.add(order.id)
            orders.append(order)
    except csv.Error as e:
        raise MalformedError(
            f"WRO/Findings list line {reader.line_num}: not valid CSV: {e}"
        ) from e
    if not orders:
        raise MalformedError("WRO/Findings list has a header but no orders")
    return OrderList(
        name=name.strip(),
        sha256=hashlib.sha256(data).hexdigest(),
        loaded_at=loaded_at,
        data=data,
        orders=tuple(orders),
        source=source,
    )


def read_orders_file(path: Path, *, name: str | None, loaded_at: datetime) -> OrderList:
    data = read_capped(path, MAX_ORDER_BYTES)
    return parse_orders(data, name=name or path.stem, loaded_at=loaded_at, source=path.name)


def orders_from_bundle(item: dict[str, Any]) -> OrderList:
    """A WRO/Findings list carried in a bundle; its bytes must hash to its stated SHA-256."""
    try:
        when = parse_timestamp(item["loaded_at"], what="loaded_at")
    except LedgerError as e:
        raise MalformedError(f"list {item['name']!r}: {e.message}") from e
    parsed = parse_orders(
        str(item["csv"]).encode("utf-8"), name=str(item["name"]), loaded_at=when,
        source=item.get("source"),
    )
    check_bundled_hash("WRO/Findings list", item, parsed.sha256)
    return parsed
