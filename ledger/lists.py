"""Screening list versions of both kinds: entity lists and WRO/Findings lists.

An entity list (``kind`` ``entity``, :mod:`ledger.screening`) names parties; a
WRO/Findings list (``kind`` ``wro``, :mod:`ledger.orders`) names orders under 19 U.S.C.
1307. Both are recorded the same way (exact bytes, SHA-256, load time, kind), applied by
the verifier at their latest version, and carried byte for byte in evidence bundles.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger.errors import MalformedError, UsageError
from ledger.orders import OrderList, orders_from_bundle, parse_orders, read_orders_file
from ledger.screening import ScreeningList, from_bundle, parse_list, read_list_file
from ledger.storage.base import Store
from ledger.storage.lookup import Lookups, StoredList

KINDS = ("entity", "wro")
AppliedList = ScreeningList | OrderList


def parse_version(
    data: bytes, *, kind: str, name: str, loaded_at: datetime, source: str | None = None
) -> AppliedList:
    """Parse list bytes of ``kind`` (``entity`` or ``wro``) or raise a coded error."""
    if kind == "entity":
        try:
            return parse_list(data, name=name, loaded_at=loaded_at, source=source)
        except MalformedError as e:
            _hint_wro(data, e)
            raise
    if kind == "wro":
        return parse_orders(data, name=name, loaded_at=loaded_at, source=source)
    raise UsageError(f"unknown list kind {kind!r}; expected one of {', '.join(KINDS)}")


def _hint_wro(data: bytes, error: MalformedError) -> None:
    """Say so when an entity list that does not parse is a WRO/Findings list."""
    header = data[:2048].split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    if {"id", "action", "issued_on"} <= {c.strip() for c in header.split(",")}:
        raise UsageError(
            "this looks like a WRO/Findings list, not an entity list: add --kind wro"
        ) from error


def detect_kind(path: Path) -> str:
    """``wro`` for a WRO/Findings list (its id, action and issued_on columns or fields),
    else ``entity``: the kind of a list file, read from its first bytes."""
    try:
        with path.open("rb") as f:
            head = f.read(1 << 16)
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from e
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if text.startswith(("{", "[")):
        return "wro" if '"issued_on"' in text and '"action"' in text else "entity"
    header = text.split("\n", 1)[0].lower()
    return (
        "wro"
        if {"id", "action", "issued_on"} <= {c.strip() for c in header.split(",")}
        else ("entity")
    )


def read_file(path: Path, *, kind: str, name: str | None, loaded_at: datetime) -> AppliedList:
    if kind == "wro":
        return read_orders_file(path, name=name, loaded_at=loaded_at)
    if kind == "entity":
        try:
            return read_list_file(path, name=name, loaded_at=loaded_at)
        except MalformedError as e:
            with path.open("rb") as f:
                _hint_wro(f.read(2048), e)
            raise
    raise UsageError(f"unknown list kind {kind!r}; expected one of {', '.join(KINDS)}")


def record_version(
    store: Store, data: bytes, *, kind: str, name: str, source: str | None, now: datetime
) -> tuple[AppliedList, bool]:
    """Record a list version; ``(list, False)`` when these bytes are already its latest."""
    parsed = parse_version(data, kind=kind, name=name, loaded_at=now, source=source)
    added = Lookups(store).add_list(StoredList(parsed.name, parsed.sha256, now, source, data, kind))
    if added:
        return parsed, True
    current = next(x for x in loaded_versions(store) if x.name == parsed.name)
    return current, False


@functools.lru_cache(maxsize=64)
def _parsed(
    data: bytes, kind: str, name: str, loaded_at: datetime, source: str | None
) -> AppliedList:
    return parse_version(data, kind=kind, name=name, loaded_at=loaded_at, source=source)


def loaded_versions(store: Store, *, all_versions: bool = False) -> list[AppliedList]:
    """Every list recorded, of both kinds: the latest version of each name by default."""
    return [
        _parsed(x.data, x.kind, x.name, x.loaded_at, x.source)
        for x in Lookups(store).lists(all_versions=all_versions)
    ]


def order_lists(lists: Sequence[AppliedList]) -> list[OrderList]:
    return [x for x in lists if isinstance(x, OrderList)]


def entity_lists(lists: Sequence[AppliedList]) -> list[ScreeningList]:
    return [x for x in lists if isinstance(x, ScreeningList)]


def version_from_bundle(item: dict[str, Any]) -> AppliedList:
    """A list carried in an evidence bundle (no ``kind``: an entity list, as before kinds)."""
    kind = item.get("kind", "entity")
    if kind == "wro":
        return orders_from_bundle(item)
    if kind == "entity":
        return from_bundle(item)
    raise MalformedError(f"bundle list {item.get('name')!r} has unknown kind {kind!r}")
