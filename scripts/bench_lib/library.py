"""The ledger under test, grown size by size, and what is measured on it as a library.

Growing the log is the long part of a large run: envelopes are signed ahead in a pool
of worker processes (a bounded window of tasks in flight) while this process appends
them in batches of 1000 through ``Ledger.append_batch``, the real write path.
"""

from __future__ import annotations

import os
import random
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import Any

from bench_lib.chains import build_chain, load_screening_lists, register_chain_parties
from bench_lib.measure import each_ms, timed
from bench_lib.workload import register_lanes, scenario, sign_units
from ledger import merkle
from ledger.errors import LedgerError
from ledger.home import Home, init_home
from ledger.keys import load_private_key
from ledger.log import MAX_BATCH, Ledger
from ledger.scenario import Scenario
from ledger.verify import build_bundle, verify_shipment_online

PASSPHRASE = "lotchain benchmark passphrase"
UNIT = 3  # envelopes per workload unit
FIXED_CHAIN = 10  # attestations in the fixed shipment verified at every size


class Signing:
    """Worker processes that sign workload units ahead of the appends."""

    def __init__(self, workers: int | None = None) -> None:
        count = workers or max(1, (os.cpu_count() or 2) - 1)
        self.pool: Pool = get_context("fork").Pool(count)
        self.workers = count

    def now(self, first: int, units: int) -> list[bytes]:
        """Sign ``units`` units at once, in parallel (before a timed window)."""
        step = max(1, -(-units // (self.workers * 4)))
        tasks = [(u, min(step, first + units - u)) for u in range(first, first + units, step)]
        out: list[bytes] = []
        for chunk in self.pool.starmap(sign_units, tasks):
            out.extend(chunk)
        return out

    def stream(self, first: int, units: int, per_task: int) -> Iterator[list[bytes]]:
        """Envelopes of ``units`` units, ``per_task`` units at a time, in order.

        At most ``4 * workers`` tasks are in flight, so memory stays bounded however
        far ahead the signers are of the appends.
        """
        pending: deque[AsyncResult[list[bytes]]] = deque()
        position, end = first, first + units
        while position < end or pending:
            while position < end and len(pending) < 4 * self.workers:
                count = min(per_task, end - position)
                pending.append(self.pool.apply_async(sign_units, (position, count)))
                position += count
            yield pending.popleft().get(timeout=600)

    def close(self) -> None:
        self.pool.close()
        self.pool.join()


def _check(results: list[Any]) -> int:
    """Count receipts; a refusal means the workload is wrong: raise it."""
    for r in results:
        if isinstance(r, LedgerError):
            raise RuntimeError(f"the benchmark workload was refused: {r.code}: {r.message}")
    return len(results)


@dataclass
class LogBench:
    """One ledger (SQLite or PostgreSQL) that grows through the sizes of the run."""

    home: Home
    ledger: Ledger
    scenario: Scenario
    fixed_shipment: str
    next_unit: int = 0
    build_curve: list[dict[str, float]] = field(default_factory=list)

    @classmethod
    def create(cls, root: Path, db: str | None = None) -> LogBench:
        """A fresh home with the workload's parties and the fixed shipment's chain."""
        now = datetime.now(UTC)
        home = init_home(root, PASSPHRASE.encode(), now=now, db=db)
        ledger = home.open_ledger(PASSPHRASE.encode())
        load_screening_lists(ledger, now)
        registrar = load_private_key(home.registrar_key_path, PASSPHRASE.encode())
        s = scenario(ledger, registrar)
        register_lanes(s, now)
        register_chain_parties(s, now)
        fixed = build_chain(ledger, s, FIXED_CHAIN, "FIXED")
        return cls(home, ledger, s, fixed)

    def size(self) -> int:
        return self.ledger.size()

    def _units(self, entries: int) -> tuple[int, int]:
        units = max(1, -(-entries // UNIT))
        first = self.next_unit
        self.next_unit += units
        return first, units

    def grow_to(self, target: int, signing: Signing) -> dict[str, float]:
        """Append batches of (about) 1000 until the log holds ``target`` entries."""
        size = self.size()
        if size >= target:
            return {"entries": 0, "seconds": 0.0, "rate": 0.0}
        first, units = self._units(target - size)
        per_task = MAX_BATCH // UNIT
        start = time.perf_counter()
        mark, mark_size, current = start, size, size
        step = max(MAX_BATCH, (target - size) // 25)
        for envelopes in signing.stream(first, units, per_task):
            current += _check(self.ledger.append_batch(envelopes))
            if current - mark_size >= step:
                now = time.perf_counter()
                self.build_curve.append(
                    {"size": current, "rate": (current - mark_size) / (now - mark)}
                )
                mark, mark_size = now, current
        appended = current - size
        seconds = time.perf_counter() - start
        return {"entries": appended, "seconds": seconds, "rate": appended / seconds}

    def append_batched(self, entries: int, batch: int, signing: Signing) -> dict[str, float]:
        """Timed: ``entries`` pre-signed envelopes in batches of ``batch`` (one commit each)."""
        envelopes = signing.now(*self._units(entries))

        def work() -> int:
            return sum(
                _check(self.ledger.append_batch(envelopes[i : i + batch]))
                for i in range(0, len(envelopes), batch)
            )

        seconds, done = timed(work)
        return {"entries": done, "seconds": seconds, "rate": done / seconds, "batch": batch}

    def append_batched_pool(
        self, entries: int, batch: int, signing: Signing, workers: int = 1
    ) -> dict[str, float]:
        """As :meth:`append_batched`, with the admission pool on (``workers`` processes,
        started before the clock runs): the second core parses and checks signatures
        while the sequencer judges and writes."""
        self.ledger.configure(pool_workers=workers)
        try:
            assert self.ledger.pool is not None
            self.ledger.pool.start()
            result = self.append_batched(entries, batch, signing)
        finally:
            self.ledger.configure(pool_workers="off")
        return {**result, "pool_workers": workers}

    def append_single(self, entries: int, signing: Signing) -> dict[str, float]:
        """Timed: one ``Ledger.append`` (one durable commit) per envelope."""
        envelopes = signing.now(*self._units(entries))

        def work() -> int:
            for envelope in envelopes:
                self.ledger.append(envelope)
            return len(envelopes)

        seconds, done = timed(work)
        return {"entries": done, "seconds": seconds, "rate": done / seconds}

    def proofs(self, count: int, seed: int) -> dict[str, float]:
        """Inclusion and consistency proofs at random places, generated then verified (medians)."""
        rng = random.Random(seed)
        ledger = self.ledger
        checkpoint = ledger.checkpoint()
        size = checkpoint.size
        indices = [rng.randrange(size) for _ in range(count)]
        olds = [rng.randrange(1, size) for _ in range(count)]
        old_roots = [merkle.root_hash(old, ledger.store) for old in olds]
        out: dict[str, float] = {"count": count}
        out["inclusion_gen_ms"], out["inclusion_gen_mean_ms"], inclusion = each_ms(
            ledger.inclusion_proof, indices
        )
        out["inclusion_verify_ms"], out["inclusion_verify_mean_ms"], _ = each_ms(
            lambda p: p.verify(checkpoint.root), inclusion
        )
        out["consistency_gen_ms"], out["consistency_gen_mean_ms"], consistency = each_ms(
            ledger.consistency_proof, olds
        )
        out["consistency_verify_ms"], out["consistency_verify_mean_ms"], _ = each_ms(
            lambda pair: pair[0].verify(pair[1], checkpoint.root),
            list(zip(consistency, old_roots, strict=True)),
        )
        return out

    def fixed_verification(self, repeat: int) -> dict[str, float]:
        """The same 10-attestation shipment verified online (and its bundle built): medians."""
        ledger, ref = self.ledger, self.fixed_shipment
        verdict = verify_shipment_online(ledger, ref)
        if verdict.status != "pass":
            raise RuntimeError(f"the fixed shipment does not pass: {verdict.findings[:2]}")
        online, online_mean, _ = each_ms(
            lambda _: verify_shipment_online(ledger, ref), range(repeat)
        )
        bundle, bundle_mean, _ = each_ms(lambda _: build_bundle(ledger, ref), range(repeat))
        chain = int(verdict.summary["counts"]["chain"])
        return {
            "chain": chain,
            "relied_on": int(verdict.summary["counts"]["relied_on"]),
            "online_ms": online,
            "online_mean_ms": online_mean,
            "bundle_ms": bundle,
            "bundle_mean_ms": bundle_mean,
            "rate": chain * 1000 / online,
        }

    def storage(self) -> dict[str, float]:
        """Database bytes per entry (after a WAL checkpoint) against envelope bytes."""
        store: Any = self.ledger.store
        db = store.db
        if store.is_postgres:
            schema = db.execute_sql("SELECT current_schema()").fetchone()[0]
            total = db.execute_sql(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind = 'r'",
                (schema,),
            ).fetchone()[0]
        else:
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            path = Path(db.database)
            total = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
        count, envelope_bytes = db.execute_sql(
            'SELECT COUNT(*), SUM(LENGTH(envelope)) FROM "entry"'
        ).fetchone()
        per_entry = int(total) / int(count)
        per_envelope = int(envelope_bytes) / int(count)
        return {
            "entries": int(count),
            "database_bytes": int(total),
            "bytes_per_entry": per_entry,
            "envelope_bytes_per_entry": per_envelope,
            "ratio": per_entry / per_envelope,
        }

    def wal_per_entry(self, signing: Signing, entries: int = 500) -> dict[str, float] | None:
        """SQLite only: WAL bytes one batch commit writes per entry (write amplification).

        Each entry adds rows to several indexes keyed by hashes; once an index outgrows
        a batch's locality every entry dirties its own page in it, so this grows with
        the log until it saturates. Measured after a checkpoint that empties the WAL.
        """
        store: Any = self.ledger.store
        if store.is_postgres:
            return None
        envelopes = signing.now(*self._units(entries))
        store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        wal = Path(f"{store.db.database}-wal")
        seconds, done = timed(lambda: _check(self.ledger.append_batch(envelopes)))
        written = wal.stat().st_size if wal.exists() else 0
        return {
            "entries": done,
            "wal_bytes": written,
            "wal_bytes_per_entry": written / done,
            "seconds": seconds,
        }

    def breakdown(self) -> dict[str, float] | None:
        """SQLite only: bytes per entry of each table and index (the dbstat table)."""
        store: Any = self.ledger.store
        if store.is_postgres:
            return None
        try:
            rows = store.db.execute_sql(
                "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
            ).fetchall()
        except Exception:  # SQLite built without the dbstat virtual table
            return None
        count = store.db.execute_sql('SELECT COUNT(*) FROM "entry"').fetchone()[0]
        return {str(name): int(size) / int(count) for name, size in rows if size}

    def close(self) -> None:
        self.ledger.store.close()
