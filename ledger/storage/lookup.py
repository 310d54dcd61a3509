"""Index queries for verification, impact queries and screening lists, on the SQL store.

Each method is one indexed query (or one per chunk of 500 keys), so the verifier's
cost is the number of things a chain relies on, never the size of the log. The
tables are the store's own (insert-only, guarded by triggers): ``lookup`` is filled
at append time from :func:`ledger.admission.lookup_rows`; ``screening_list`` keeps
every version of every list loaded, with its exact bytes.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import peewee as pw

from ledger.encoding import format_timestamp, parse_timestamp
from ledger.errors import ConfigError, StorageError, TooLargeError, UsageError
from ledger.state import OutputRecord
from ledger.storage.base import Store
from ledger.storage.bulk import OUTPUT_COLUMNS, OUTPUT_JOIN, output_record
from ledger.storage.ids import id_key, id_text, ref_key, ref_text

CHUNK = 500
T = TypeVar("T")


@dataclass(frozen=True)
class StoredList:
    name: str
    sha256: str
    loaded_at: datetime
    source: str | None
    data: bytes
    kind: str = "entity"


def _guard(what: str, fn: Callable[[], T]) -> T:
    try:
        return fn()
    except (pw.PeeweeException, sqlite3.Error) as e:
        raise StorageError(f"the database failed while {what}: {e}") from e


def _rows(query: Any) -> list[tuple[Any, ...]]:
    return list(query.tuples())


def _ids(what: str, query: Any) -> list[str]:
    """The first column of ``query``'s rows, as strings."""
    return _guard(what, lambda: [str(row[0]) for row in query.tuples()])


def _ids_raw(what: str, query: Any) -> list[Any]:
    """The first column of ``query``'s rows, as the database holds it."""
    return _guard(what, lambda: [row[0] for row in query.tuples()])


def _chunks(keys: Iterable[T]) -> list[list[T]]:
    unique = list(dict.fromkeys(keys))
    return [unique[i : i + CHUNK] for i in range(0, len(unique), CHUNK)]


#: One plain statement per kind (peewee's query building cost more than the queries).
_RELATED = {
    "party": 'SELECT attestation FROM "party_version" WHERE party_id = ? ORDER BY entry_idx',
    "facility": 'SELECT attestation FROM "facility_version" WHERE facility_id = ? '
    "ORDER BY entry_idx",
    "key": 'SELECT attestation FROM "key" WHERE key_id = ? '
    'UNION ALL SELECT attestation FROM "key_revocation" WHERE key_id = ?',
    "consumer": 'SELECT c.attestation_id FROM "spend" s JOIN "entry" o ON o.idx = s.out_idx '
    'JOIN "entry" c ON c.idx = s.consumer_idx WHERE o.attestation_id = ? AND s.out_pos = ? '
    "ORDER BY s.consumer_idx",
    "lookup": 'SELECT e.attestation_id FROM "lookup" l JOIN "entry" e ON e.idx = l.entry_idx '
    "WHERE l.kind = ? AND l.key = ? ORDER BY l.entry_idx",
}


class Lookups:
    """Read (and for screening lists, write) the index tables of a SQL store."""

    def __init__(self, store: Store) -> None:
        models = getattr(store, "m", None)
        if not isinstance(models, dict) or "lookup" not in models:
            raise ConfigError("verification indexes need the SQL store (SQLite or PostgreSQL)")
        self.store = store
        self.m: dict[str, Any] = models

    # -- what a chain relies on -----------------------------------------------------------

    def related(self, kind: str, key: str) -> list[str]:
        """Attestation ids found by ``(kind, key)``, in log order where the table knows it.

        Kinds: ``party`` and ``facility`` (their versions), ``key`` (the entry admitting
        the key, then its revocations), ``consumer`` (spends of an output ref), and the
        ``lookup`` kinds ``certificate``, ``audit``, ``event`` (by facility),
        ``revocation`` (by target) and ``declared`` (shipments by declared exporter or
        manufacturer).
        """
        return _guard(f"looking up {kind} {key}", lambda: self._related(kind, key))

    def _related(self, kind: str, key: str) -> list[str]:
        db = self.store.db  # type: ignore[attr-defined]
        sql = _RELATED.get(kind, _RELATED["lookup"]).replace("?", db.param)
        params: tuple[Any, ...]
        if kind == "consumer":
            ref = ref_key(key)
            if ref is None:
                return []
            params = ref
        else:
            params = (key, key) if kind == "key" else (key,) if kind in _RELATED else (kind, key)
        rows = db.execute_sql(sql, params).fetchall()
        return list(dict.fromkeys(id_text(row[0]) for row in rows))

    # -- impact queries ---------------------------------------------------------------------

    def issued_by(self, party: str, types: Sequence[str]) -> list[str]:
        e = self.m["entry"]
        query = e.select(e.attestation_id).where((e.issuer == party) & (e.type.in_(list(types))))
        return [id_text(i) for i in _ids_raw("listing entries", query)]

    def held_by(self, party: str) -> list[str]:
        """Attestations that created outputs now or once held by ``party``."""
        sql = (
            'SELECT DISTINCT e.attestation_id FROM "output" o '  # noqa: S608
            f'JOIN "entry" e ON e.idx = o.entry_idx WHERE o.holder = {self._p}'
        )
        return self._texts("listing outputs", sql, (party,))

    @property
    def _p(self) -> str:
        return str(self.store.db.param)  # type: ignore[attr-defined]

    def _query(self, what: str, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        db = self.store.db  # type: ignore[attr-defined]
        return _guard(what, lambda: list(db.execute_sql(sql, params).fetchall()))

    def _texts(self, what: str, sql: str, params: Sequence[Any]) -> list[str]:
        """The first column of ``sql``'s rows: attestation ids in their text form."""
        return [id_text(r[0]) for r in self._query(what, sql, params)]

    def facilities(
        self,
        *,
        operator: str | None = None,
        regions: Sequence[str] = (),
        countries: Sequence[str] = (),
    ) -> list[str]:
        """Facility ids by operator, else by declared region, else by country."""
        f = self.m["facility_version"]
        if operator is not None:
            clause = f.operator == operator
        elif regions:
            clause = f.region.in_(list(regions))
        else:
            clause = f.country.in_(list(countries))
        query = f.select(f.facility_id).where(clause).distinct()
        return _ids("listing facilities", query)

    def holdings(self, party: str, limit: int) -> list[tuple[OutputRecord, Decimal]]:
        """Every output ``party`` holds or held, with the amount consumed from it so far.

        Refuses more than ``limit`` outputs (a bound on one answer), as StorageError.
        """
        db = self.store.db  # type: ignore[attr-defined]
        p = self._p

        def read() -> list[tuple[OutputRecord, Decimal]]:
            rows = db.execute_sql(
                f"SELECT {OUTPUT_COLUMNS}, o.entry_idx FROM {OUTPUT_JOIN} "  # noqa: S608
                f"WHERE o.holder = {p} ORDER BY e.attestation_id, o.position LIMIT {p}",
                (party, limit + 1),
            ).fetchall()
            if len(rows) > limit:
                raise TooLargeError(f"{party} holds more than {limit} outputs")
            spent: dict[tuple[int, int], Decimal] = {}
            for chunk in _chunks(sorted({int(r[-1]) for r in rows})):
                sql = 'SELECT out_idx, out_pos, amount FROM "spend" WHERE out_idx IN ({})'.format(  # noqa: S608
                    ", ".join([p] * len(chunk))
                )
                for idx, pos, amount in db.execute_sql(sql, chunk):
                    key = (int(idx), int(pos))
                    spent[key] = spent.get(key, Decimal(0)) + Decimal(amount)
            return [
                (output_record(r[:-1]), spent.get((int(r[-1]), int(r[1])), Decimal(0)))
                for r in rows
            ]

        return _guard("listing holdings", read)

    def refs_with_lot(self, lot: str) -> list[str]:
        sql = (
            'SELECT e.attestation_id, o.position FROM "output" o '  # noqa: S608
            f'JOIN "entry" e ON e.idx = o.entry_idx WHERE o.lot = {self._p}'
        )
        return [ref_text(a, pos) for a, pos in self._query("listing lots", sql, (lot,))]

    def refs_of(self, attestations: Iterable[str]) -> list[str]:
        out: list[str] = []
        keys = [key for a in attestations if (key := id_key(a)) is not None]
        for chunk in _chunks(keys):
            sql = (
                'SELECT e.attestation_id, o.position FROM "output" o '  # noqa: S608
                'JOIN "entry" e ON e.idx = o.entry_idx '
                f"WHERE e.attestation_id IN ({', '.join([self._p] * len(chunk))})"
            )
            rows = self._query("listing outputs", sql, chunk)
            out += [ref_text(a, pos) for a, pos in rows]
        return out

    def consumers_of(self, refs: Iterable[str]) -> list[str]:
        wanted = {key for r in refs if (key := ref_key(r)) is not None}
        out: list[str] = []
        for chunk in _chunks(sorted({digest for digest, _ in wanted})):
            sql = (
                'SELECT o.attestation_id, s.out_pos, c.attestation_id FROM "spend" s '  # noqa: S608
                'JOIN "entry" o ON o.idx = s.out_idx JOIN "entry" c ON c.idx = s.consumer_idx '
                f"WHERE o.attestation_id IN ({', '.join([self._p] * len(chunk))})"
            )
            rows = self._query("listing spends", sql, chunk)
            out += [id_text(c) for a, pos, c in rows if (bytes(a), int(pos)) in wanted]
        return list(dict.fromkeys(out))

    def shipments_among(self, attestations: Iterable[str]) -> dict[str, str]:
        """``{attestation id: entry number}`` of the shipments among ``attestations``."""
        s = self.m["shipment"]
        out: dict[str, str] = {}
        for chunk in _chunks(attestations):
            query = s.select(s.attestation, s.entry_number).where(s.attestation.in_(chunk))
            rows = _guard("listing shipments", functools.partial(_rows, query))
            out.update({str(a): str(n) for a, n in rows})
        return out

    def names(self) -> list[tuple[str, str, str, str]]:
        """``(kind, id, name, attestation)`` for every party and facility version."""
        p, f = self.m["party_version"], self.m["facility_version"]

        def read() -> list[tuple[str, str, str, str]]:
            out = [
                ("party", str(i), str(n), str(a))
                for i, n, a in p.select(p.party_id, p.legal_name, p.attestation).tuples()
            ]
            out += [
                ("facility", str(i), str(n), str(a))
                for i, n, a in f.select(f.facility_id, f.name, f.attestation).tuples()
            ]
            return out

        return _guard("listing names", read)

    # -- screening lists ------------------------------------------------------------------

    def add_list(self, item: StoredList) -> bool:
        """Record a list version; False when the same bytes are already its latest.

        A name keeps its kind: an entity list and a WRO/Findings list never share one.
        """
        current = next((x for x in self.lists() if x.name == item.name), None)
        if current is not None and current.kind != item.kind:
            raise UsageError(
                f"{item.name!r} is already the name of a {current.kind} list; "
                f"give this {item.kind} list another name (--name)"
            )
        if current is not None and current.sha256 == item.sha256:
            return False
        table = self.m["screening_list"]
        row = {
            "name": item.name,
            "sha256": item.sha256,
            "loaded_at": format_timestamp(item.loaded_at, micro=True),
            "source": item.source,
            "data": item.data,
            "kind": item.kind,
        }
        _guard("recording the list", lambda: table.insert(**row).execute())
        return True

    def lists(self, *, all_versions: bool = False) -> list[StoredList]:
        """Loaded lists: the latest version of each name (or every version), by name."""
        table = self.m["screening_list"]

        def read() -> list[StoredList]:
            rows = list(table.select().order_by(table.name, table.id).iterator())
            out: dict[str, StoredList] = {}
            versions = []
            for r in rows:
                item = StoredList(
                    r.name,
                    r.sha256,
                    parse_timestamp(r.loaded_at),
                    r.source,
                    bytes(r.data),
                    str(r.kind or "entity"),
                )
                out[r.name] = item
                versions.append(item)
            return versions if all_versions else list(out.values())

        return _guard("reading screening lists", read)
