"""The ledger: admission, the hash-chained Merkle log, checkpoints, proofs, receipts.

``Ledger`` is the one write path. It parses and checks envelopes before taking the
write lock (signature checks are the costly part), then, holding it, judges each
entry against the state plus the entries before it in the same batch, builds leaves,
Merkle nodes and a signed checkpoint, and commits them together.

The part before the lock needs no state; with a :class:`~ledger.pool.PreparePool` it
runs in worker processes for large batches, streamed chunk by chunk, so the
sequencer's core judges and writes one chunk while the workers prepare the next.
Single appends are integrated in batches: one integration (one commit, one signed
checkpoint) takes every append waiting for it, and an append waits at most
``integrate_every`` for the others then being admitted to join it.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger import merkle
from ledger.admission import admit, state_request
from ledger.attestation import Attestation, parse_attestation
from ledger.checkpoint import Checkpoint, sign_checkpoint, verify_checkpoint
from ledger.dsse import Envelope
from ledger.encoding import b64decode, b64encode
from ledger.errors import (
    BatchRefusedError,
    InclusionError,
    LedgerError,
    MalformedError,
    NotFoundError,
    StorageError,
    TooLargeError,
)
from ledger.keys import Signer, key_id
from ledger.leaf import ZERO_HASH, Leaf, parse_leaf
from ledger.pool import PreparePool, Verified, WorkerDied, key_ids, workers_setting
from ledger.state import AttestationRecord, Overlay
from ledger.storage.base import AppendBatch, PendingEntry, Store, StoredCheckpoint, StoredEntry
from ledger.trustroot import TrustRoot

MAX_BATCH = 1000

#: How long an append waits, at most, for appends then being admitted to share its
#: integration (one commit, one checkpoint); 0 integrates at once (group commit only).
INTEGRATE_EVERY = 0.05

#: Batches of at least this many envelopes are prepared in the worker pool.
POOL_THRESHOLD = 32

#: Bodies of the latest appended entries kept in memory (later entries consume them).
RECENT_BODIES = 4096

#: Public keys remembered by id (a key id is the hash of its key, so never stale).
MAX_KNOWN_KEYS = 100_000

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Receipt:
    """What an append returns: enough to prove the entry is in the log, offline."""

    attestation: str
    index: int
    leaf: bytes
    checkpoint: bytes
    inclusion: merkle.InclusionProof

    def to_json(self) -> dict[str, Any]:
        return {
            "attestation": self.attestation,
            "index": self.index,
            "leaf": b64encode(self.leaf),
            "checkpoint": self.checkpoint.decode("utf-8"),
            "inclusion": self.inclusion.to_json(),
        }


def verify_receipt(
    obj: object, vkey: str, attestation_id: str | None = None
) -> merkle.InclusionProof:
    """Check a receipt received from a server: raise, or return its verified proof.

    The checkpoint must be signed by the log key of the trust root, the inclusion proof
    must lead from the receipt's leaf to that checkpoint's root, and the leaf must name
    the entry's index and (when given) the attestation that was submitted.
    """
    fields = {"attestation", "index", "leaf", "checkpoint", "inclusion"}
    if not isinstance(obj, dict) or not fields <= set(obj):
        raise MalformedError("a receipt needs attestation, index, leaf, checkpoint, inclusion")
    if not isinstance(obj["checkpoint"], str):
        raise MalformedError("the receipt's checkpoint must be the signed note text")
    checkpoint = verify_checkpoint(obj["checkpoint"].encode("utf-8"), vkey)
    proof = merkle.InclusionProof.from_json(obj["inclusion"])
    leaf_bytes = b64decode(obj["leaf"], what="receipt leaf")
    leaf = parse_leaf(leaf_bytes)
    if merkle.leaf_hash(leaf_bytes) != proof.leaf_hash or proof.tree_size != checkpoint.size:
        raise InclusionError("the receipt's proof is not for its leaf and checkpoint")
    proof.verify(checkpoint.root)
    if (leaf.index, leaf.attestation) != (obj["index"], obj["attestation"]) or (
        attestation_id is not None and leaf.attestation != attestation_id
    ):
        raise InclusionError("the receipt's leaf is not the entry that was submitted")
    return proof


class _Nodes:
    """Stored nodes plus those of a batch being written (a NodeReader).

    Stored nodes are immutable, so those read once (for the receipts of a batch, which
    share most of their proof paths) are kept for the rest of the batch.
    """

    def __init__(self, store: Store, extra: Mapping[merkle.NodeKey, bytes]) -> None:
        self.store = store
        self.known = dict(extra)

    def get_nodes(self, keys: Sequence[merkle.NodeKey]) -> Mapping[merkle.NodeKey, bytes]:
        rest = [k for k in keys if k not in self.known]
        if rest:
            self.known.update(self.store.get_nodes(rest))
        return {k: self.known[k] for k in keys}


#: An envelope ready for the sequencer: parsed, with the signatures already verified.
Prepared = tuple[Attestation, Verified]


@dataclass
class _Slot:
    """One caller's prepared envelope waiting for an integration, and its result."""

    prepared: Prepared
    arrived: float
    result: Receipt | LedgerError | None = None
    done: bool = False


@dataclass(frozen=True)
class _Tail:
    """What the next append needs of the log's end: its size and root (to check the
    cache is current), the last leaf hash (``prev``), the last integration time, and
    the perfect subtrees on the right edge (the only old nodes an append reads)."""

    size: int
    root: bytes
    prev_hash: str
    integrated_at: datetime | None
    frontier: Mapping[merkle.NodeKey, bytes]


class Ledger:
    """The append-only log of attestations over a :class:`Store`."""

    def __init__(
        self,
        store: Store,
        trust: TrustRoot,
        log_signer: Signer | None = None,
        *,
        clock: Clock = utc_now,
        pool_workers: int | str | None = None,
        integrate_every: float = INTEGRATE_EVERY,
    ) -> None:
        """``pool_workers``: 0 or ``off`` prepares in this process, ``auto`` uses one worker
        per extra core, None reads ``LOTCHAIN_POOL_WORKERS`` (default ``off``); the
        workers start on first use. ``integrate_every``: seconds an append waits, at
        most, for concurrent appends to share its integration."""
        if not 0 <= integrate_every <= 10:
            raise MalformedError("integrate_every is 0 to 10 seconds")
        self.store = store
        self.trust = trust
        self.log_signer = log_signer
        self.clock = clock
        self.origin = trust.log_origin
        self.integrate_every = integrate_every
        workers = workers_setting(pool_workers) if log_signer is not None else 0
        self.pool = PreparePool(workers) if workers else None
        if self.pool is not None:
            weakref.finalize(self, self.pool.close)
        self._keys: dict[str, bytes] = {r.key_id: r.public_key for r in trust.registrars}
        log_key = trust.log_verifier.public_key
        self._keys[key_id(log_key)] = log_key
        self._tail_cache: _Tail | None = None
        self._group = threading.Condition()
        self._queue: list[_Slot] = []
        self._leading = False
        self._admitting = 0
        self._recent: dict[str, dict[str, Any]] = {}

    def configure(
        self, *, pool_workers: int | str | None = None, integrate_every: float | None = None
    ) -> None:
        """Change the pool's size (``off``, ``auto`` or a number) or the cadence (seconds)."""
        if integrate_every is not None:
            if not 0 <= integrate_every <= 10:
                raise MalformedError("integrate_every is 0 to 10 seconds")
            self.integrate_every = integrate_every
        if pool_workers is not None:
            workers = workers_setting(pool_workers) if self.log_signer is not None else 0
            self.close()
            self.pool = PreparePool(workers) if workers else None
            if self.pool is not None:
                weakref.finalize(self, self.pool.close)

    def close(self) -> None:
        """Stop the worker pool, if one was started (the store is closed by its owner)."""
        if self.pool is not None:
            self.pool.close()

    # -- writing -----------------------------------------------------------------------

    def append(self, envelope: Envelope | bytes | dict[str, Any]) -> Receipt:
        """Append one envelope; raise the coded error of the first rule it breaks.

        Group commit on a short cadence: the envelope is prepared (parsed and
        schema-checked in this process: for one envelope the pool's round trip costs
        more than it saves), then waits for the next integration, which takes every
        append waiting by then and commits them with one signed checkpoint. The
        integration starts as soon as no other append is still being prepared, or when
        the first waiting append has waited ``integrate_every``. Each append is durable
        when its call returns, exactly as if it had been committed alone.
        """
        if self.log_signer is None:
            raise MalformedError("this ledger was opened read-only (no log key)")
        with self._group:
            self._admitting += 1
        try:
            ready = self._prepare([envelope])[0]
        finally:
            with self._group:
                self._admitting -= 1
                self._group.notify_all()
        if isinstance(ready, LedgerError):
            raise ready
        slot = _Slot(ready, time.monotonic())
        with self._group:
            self._queue.append(slot)
            while not slot.done:
                if self._leading:
                    self._group.wait()
                    continue
                self._leading = True
                self._gather()
                batch = self._queue[:MAX_BATCH]
                del self._queue[: len(batch)]
                self._group.release()
                try:
                    results: list[Receipt | LedgerError] = self._integrate(
                        [[item.prepared for item in batch]]
                    )
                except LedgerError as e:
                    results = [e] * len(batch)
                except BaseException as e:
                    results = [StorageError(f"the append failed: {e}")] * len(batch)
                    raise
                finally:
                    self._group.acquire()
                    for item, result in zip(batch, results, strict=False):
                        item.result, item.done = result, True
                    for item in batch:
                        item.done = True
                    self._leading = False
                    self._group.notify_all()
        if isinstance(slot.result, Receipt):
            return slot.result
        if isinstance(slot.result, LedgerError):
            raise slot.result
        raise StorageError("the append was interrupted before it finished")

    def _gather(self) -> None:
        """Hold the integration (lock held) while appends still being prepared may join:
        until none is, the batch is full, or the first waiting one waited long enough."""
        deadline = self._queue[0].arrived + self.integrate_every
        while self._admitting > 0 and len(self._queue) < MAX_BATCH:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._group.wait(left)

    @staticmethod
    def _prepare(
        envelopes: Sequence[Envelope | bytes | dict[str, Any]],
    ) -> list[Prepared | LedgerError]:
        """Parse and schema-check each envelope in this process (signatures are checked
        by the sequencer); refusals keep their place."""
        out: list[Prepared | LedgerError] = []
        for env in envelopes:
            try:
                out.append((parse_attestation(env), frozenset()))
            except LedgerError as e:
                out.append(e)
        return out

    def _known_keys(
        self, envelopes: Sequence[Envelope | bytes | dict[str, Any]]
    ) -> dict[str, bytes]:
        """The public keys the envelopes' signatures name, as far as the log knows them.

        Read without the write lock: a key id is the hash of its key, so a key once
        found never changes; a key admitted later (or in the same batch) is verified by
        the sequencer itself."""
        wanted: set[str] = set()
        for env in envelopes:
            wanted.update(key_ids(env))
        missing = [k for k in wanted if k not in self._keys]
        for kid in missing:
            record = self.store.key(kid)
            if record is not None and len(self._keys) < MAX_KNOWN_KEYS:
                self._keys[kid] = record.public_key
        return {k: self._keys[k] for k in wanted if k in self._keys}

    def _bodies(self, batch: dict[str, dict[str, Any]]) -> Callable[[str], dict[str, Any] | None]:
        """The body of a logged (or just accepted) attestation, read from its stored envelope
        (verified when it was appended), for the material rules of admission."""

        read: dict[str, dict[str, Any] | None] = {}

        def body(att_id: str) -> dict[str, Any] | None:
            if att_id in batch:
                return batch[att_id]
            if att_id not in read:
                read[att_id] = self._stored_body(att_id)
            return read[att_id]

        return body

    def _stored_body(self, att_id: str) -> dict[str, Any] | None:
        """A logged body: from the bodies this process appended last, else read back.

        Logged envelopes were parsed strictly when they were appended and are never
        changed, so a plain ``json.loads`` reads them back."""
        known = self._recent.get(att_id)
        if known is not None:
            return known
        entry = self.store.find(att_id)
        if entry is None:
            return None
        try:
            payload = json.loads(base64.b64decode(json.loads(entry.envelope)["payload"]))
        except (ValueError, KeyError, TypeError):
            return None
        found = payload.get("body") if isinstance(payload, dict) else None
        return found if isinstance(found, dict) else None

    def _remember(self, bodies: Mapping[str, dict[str, Any]]) -> None:
        """Keep the bodies of a committed integration for the entries that consume them."""
        self._recent.update(bodies)
        while len(self._recent) > RECENT_BODIES:
            del self._recent[next(iter(self._recent))]

    def append_batch(
        self, envelopes: Sequence[Envelope | bytes | dict[str, Any]], *, atomic: bool = False
    ) -> list[Receipt | LedgerError]:
        """Append many envelopes in one commit; each is accepted or refused on its own,
        or, with ``atomic``, all are appended or none (the others then answer
        ``BATCH_REFUSED``), so a caller whose later envelopes build on earlier ones never
        leaves half a batch in the log."""
        if self.log_signer is None:
            raise MalformedError("this ledger was opened read-only (no log key)")
        if len(envelopes) > MAX_BATCH:
            raise TooLargeError(f"a batch holds at most {MAX_BATCH} envelopes")
        if self.pool is not None and len(envelopes) >= POOL_THRESHOLD:
            stream = self.pool.stream(envelopes, self._known_keys(envelopes))
            try:
                return self._integrate(stream, atomic=atomic)
            except WorkerDied as e:  # nothing was written: the transaction rolled back
                return [e] * len(envelopes)
        return self._integrate([self._prepare(envelopes)], atomic=atomic)

    def _integrate(
        self, chunks: Iterable[Sequence[Prepared | LedgerError]], *, atomic: bool = False
    ) -> list[Receipt | LedgerError]:
        """Judge prepared envelopes in order and commit the accepted ones with one signed
        checkpoint (one transaction); refusals keep their place in the result.

        ``chunks`` may be a stream from the pool: the first chunk is awaited before the
        write lock is taken, and each later one is judged as it arrives, while the
        workers still prepare those after it."""
        if self.log_signer is None:
            raise MalformedError("this ledger was opened read-only (no log key)")
        stream = iter(chunks)
        first = next(stream, [])
        results: list[Receipt | LedgerError | None] = []
        accepted: list[tuple[int, PendingEntry]] = []
        with self.store.writer():
            head = self.store.head()
            size = 0 if head is None else head.size
            tail = self._tail(head)
            prev_hash, last_time = tail.prev_hash, tail.integrated_at
            now = max(self.clock(), last_time) if last_time else self.clock()
            overlay = Overlay(self.store)
            batch: dict[str, dict[str, Any]] = {}
            bodies = self._bodies(batch)
            judged = self._judged(itertools.chain([first], stream), results, overlay)
            for i, att, verified in judged:
                try:
                    delta = admit(
                        att, overlay, self.trust, now=now, bodies=bodies, verified=verified
                    )
                except LedgerError as e:
                    results[i] = e
                    continue
                index = size + len(accepted)
                leaf = Leaf(index, now, att.issuer, att.id, att.envelope.digest, prev_hash)
                leaf_bytes = leaf.to_bytes()
                leaf_hash = merkle.leaf_hash(leaf_bytes)
                entry = StoredEntry(
                    index,
                    att.id,
                    att.type,
                    att.issuer,
                    now,
                    leaf_bytes,
                    leaf_hash,
                    att.envelope.canonical,
                )
                overlay.add(AttestationRecord(att.id, index, att.type, att.issuer), delta)
                batch[att.id] = att.body
                accepted.append((i, PendingEntry(entry, delta)))
                prev_hash = leaf_hash.hex()
            if not accepted:
                return [r for r in results if r is not None]
            if atomic and len(accepted) < len(results):
                refused = BatchRefusedError(
                    "not appended: another envelope of this all-or-nothing batch was refused"
                )
                return [refused if r is None else r for r in results]
            leaf_hashes = [p.entry.leaf_hash for _, p in accepted]
            reader = _Nodes(self.store, tail.frontier)
            new_nodes = merkle.nodes_to_store_batch(size, leaf_hashes, reader)
            reader.known.update(new_nodes)
            new_size = size + len(accepted)
            root = merkle.root_hash(new_size, reader)
            checkpoint = sign_checkpoint(self.origin, new_size, root, self.log_signer.signing_key)
            self.store.append(
                AppendBatch(
                    [p for _, p in accepted],
                    new_nodes,
                    StoredCheckpoint(new_size, root, checkpoint.note),
                )
            )
            for i, pending in accepted:
                proof = merkle.inclusion_proof(pending.entry.index, new_size, reader)
                results[i] = Receipt(
                    pending.entry.attestation_id,
                    pending.entry.index,
                    pending.entry.leaf,
                    checkpoint.note,
                    merkle.InclusionProof(
                        pending.entry.index, new_size, pending.entry.leaf_hash, tuple(proof)
                    ),
                )
        self._remember(batch)
        last = accepted[-1][1].entry
        frontier_keys = merkle.frontier_keys(new_size)
        self._tail_cache = _Tail(
            new_size, root, last.leaf_hash.hex(), now, reader.get_nodes(frontier_keys)
        )
        return [r for r in results if r is not None]

    @staticmethod
    def _judged(
        chunks: Iterable[Sequence[Prepared | LedgerError]],
        results: list[Receipt | LedgerError | None],
        overlay: Overlay,
    ) -> Iterator[tuple[int, Attestation, Verified]]:
        """Each parsed attestation with its place, chunk by chunk, once the state its
        chunk asks about is prefetched; refusals go straight into ``results``."""
        for chunk in chunks:
            base = len(results)
            results.extend(item if isinstance(item, LedgerError) else None for item in chunk)
            parsed = [(base + j, item) for j, item in enumerate(chunk) if isinstance(item, tuple)]
            overlay.prefetch(state_request(item[0] for _, item in parsed))
            for i, (att, verified) in parsed:
                yield i, att, verified

    def _tail(self, head: StoredCheckpoint | None) -> _Tail:
        """The log's last leaf hash, time and right-edge nodes: cached while nobody else
        appended (same size and root at the head), else read from storage."""
        cached = self._tail_cache
        if head is None:
            return _Tail(0, merkle.EMPTY_ROOT, ZERO_HASH, None, {})
        if cached is not None and (cached.size, cached.root) == (head.size, head.root):
            return cached
        last = self.store.get(head.size - 1)
        keys = merkle.frontier_keys(head.size)
        return _Tail(
            head.size,
            head.root,
            last.leaf_hash.hex(),
            parse_leaf(last.leaf).integrated_at,
            self.store.get_nodes(keys),
        )

    # -- reading -----------------------------------------------------------------------

    def size(self) -> int:
        head = self.store.head()
        return 0 if head is None else head.size

    def checkpoint(self) -> Checkpoint:
        """The latest signed checkpoint, verified against the trust root's log key."""
        head = self.store.head()
        if head is None:
            raise NotFoundError("the log is empty: no checkpoint has been signed yet")
        return verify_checkpoint(head.note, self.trust.log_vkey)

    def entry(self, ref: str | int) -> StoredEntry:
        """An entry by index, or by attestation id."""
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            return self.store.get(int(ref))
        found = self.store.find(ref)
        if found is None:
            raise NotFoundError(f"no attestation {ref} in the log")
        return found

    def _tree_size(self, tree_size: int | None) -> int:
        size = self.size()
        if tree_size is None:
            return size
        if tree_size < 1 or tree_size > size:
            raise MalformedError(f"tree_size must be between 1 and the log size {size}")
        if self.store.checkpoint(tree_size) is None:
            raise NotFoundError(f"the log signed no checkpoint at size {tree_size}")
        return tree_size

    def inclusion_proof(
        self, ref: str | int, tree_size: int | None = None
    ) -> merkle.InclusionProof:
        entry = self.entry(ref)
        size = self._tree_size(tree_size)
        if entry.index >= size:
            raise MalformedError(f"entry {entry.index} is not in a tree of size {size}")
        hashes = merkle.inclusion_proof(entry.index, size, self.store)
        return merkle.InclusionProof(entry.index, size, entry.leaf_hash, tuple(hashes))

    def consistency_proof(
        self, old_size: int, new_size: int | None = None
    ) -> merkle.ConsistencyProof:
        new = self._tree_size(new_size)
        if old_size < 1 or old_size > new:
            raise MalformedError(f"old size must be between 1 and {new}")
        hashes = merkle.consistency_proof(old_size, new, self.store)
        return merkle.ConsistencyProof(old_size, new, tuple(hashes))
