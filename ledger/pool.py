"""Admission's state-free part in worker processes: parse, schema-check, verify signatures.

The sequencer (:class:`ledger.log.Ledger`) judges entries against the state and writes
them, one batch at a time, in one process. What comes before needs no state and costs
most of the CPU: parsing the envelope and payload, checking the schemas and verifying
Ed25519 signatures. A :class:`PreparePool` runs that part in worker processes, so a
second core does it while the sequencer writes.

Bytes go in (the envelope as received, plus the public keys its signatures name, as far
as the sequencer knows them) and a compact result comes back: the parsed
:class:`~ledger.attestation.Attestation` (its canonical envelope already built) and the
``(public key, signature)`` pairs that verified over its signed bytes. The sequencer
still runs every admission step in order and only skips the Ed25519 call for a pair a
worker verified, so an entry gets the same verdict and the same error either way.
A refused entry comes back as its error's class and fields and is raised as the same
coded error; a worker that dies gives each of its entries an ``INTERNAL`` error, and
the pool is started afresh for the next batch.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ledger import errors, schemas
from ledger.attestation import Attestation, attestation_id, parse_attestation
from ledger.dsse import PAYLOAD_TYPE, Envelope, Signature
from ledger.encoding import parse_timestamp
from ledger.errors import InternalError, LedgerError
from ledger.keys import verify_signature

#: Verified ``(public key, signature)`` pairs of one attestation.
Verified = frozenset[tuple[bytes, bytes]]

#: What a worker returns for one envelope: the payload, canonical envelope, signatures
#: and verified pairs (plain bytes and tuples, cheap to pickle; the sequencer rebuilds
#: the attestation from the checked payload with one ``json.loads``), or the refusal as
#: (error class name, message, attestation id, index, detail).
Accepted = tuple[bytes, bytes, tuple[tuple[str, bytes], ...], Verified]
Refused = tuple[str, str, str | None, int | None, dict[str, Any]]
Outcome = Accepted | Refused

#: The environment setting that sizes the pool where no size is given in code:
#: ``off`` (or 0), ``auto`` (one worker per core beyond the first) or a number.
POOL_ENV = "LOTCHAIN_POOL_WORKERS"

#: Off unless asked for: the pool pays only with a core to spare. It takes a fifth to a
#: quarter of the sequencer's CPU per entry off a large batch, but on a machine whose
#: cores are busy its workers wait for CPU and the sequencer waits for them
#: (docs/benchmarks/notes-write.md).
DEFAULT = "off"

#: How often a worker checks that the process owning its pool still runs.
WATCH_SECONDS = 0.5

#: At most this many worker processes, whatever the setting says.
MAX_WORKERS = 32

_KEY_ID = re.compile(rb'"ed25519:[0-9a-f]{64}"')


def workers_setting(value: str | int | None = None) -> int:
    """The number of workers a setting asks for: ``off``/0, ``auto`` or a number."""
    raw = os.environ.get(POOL_ENV, DEFAULT) if value is None else value
    if isinstance(raw, int):
        count = raw
    elif raw.strip().lower() == "auto":
        count = (os.cpu_count() or 1) - 1
    elif raw.strip().lower() in ("", "off", "no", "false"):
        count = 0
    else:
        try:
            count = int(raw)
        except ValueError as e:
            raise errors.ConfigError(
                f"{POOL_ENV} must be off, auto or a number of workers, not {raw!r}"
            ) from e
    if count < 0 or count > MAX_WORKERS:
        raise errors.ConfigError(f"the admission pool takes 0 to {MAX_WORKERS} workers")
    return count


def key_ids(envelope: Envelope | bytes | dict[str, Any]) -> set[str]:
    """The key ids an envelope's signatures name (a cheap scan; the worker parses)."""
    if isinstance(envelope, Envelope):
        return {s.keyid for s in envelope.signatures}
    if isinstance(envelope, (bytes, bytearray)):
        return {m[1:-1].decode("ascii") for m in _KEY_ID.findall(envelope)}
    sigs = envelope.get("signatures") if isinstance(envelope, dict) else None
    found: set[str] = set()
    for sig in sigs if isinstance(sigs, list) else ():
        keyid = sig.get("keyid") if isinstance(sig, dict) else None
        if isinstance(keyid, str):
            found.add(keyid)
    return found


def prepare(
    envelope: Envelope | bytes | dict[str, Any], keys: Mapping[str, bytes]
) -> tuple[Attestation, Verified]:
    """Parse and schema-check an envelope; verify the signatures whose keys are given."""
    att = parse_attestation(envelope)
    att.envelope.canonical  # built here, so the sequencer receives it ready  # noqa: B018
    message = att.envelope.signed_bytes()
    verified = frozenset(
        (keys[s.keyid], s.sig)
        for s in att.envelope.signatures
        if s.keyid in keys and verify_signature(keys[s.keyid], message, s.sig)
    )
    return att, verified


def _prepare_chunk(
    items: Sequence[tuple[Envelope | bytes | dict[str, Any], Mapping[str, bytes]]],
) -> list[Outcome]:
    """The worker's task: each envelope prepared, or its refusal as plain fields."""
    out: list[Outcome] = []
    for envelope, keys in items:
        try:
            att, verified = prepare(envelope, keys)
            env = att.envelope
            sigs = tuple((s.keyid, s.sig) for s in env.signatures)
            out.append((env.payload, env.canonical, sigs, verified))
        except LedgerError as e:
            out.append((type(e).__name__, e.message, e.attestation, e.index, e.detail))
    return out


def _error(name: str, message: str, att: str | None, index: int | None, detail: Any) -> LedgerError:
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, LedgerError)):
        return InternalError(f"an admission worker raised an unknown error {name}: {message}")
    return cls(message, attestation=att, index=index, **detail)


def _outcome(result: Outcome) -> tuple[Attestation, Verified] | LedgerError:
    if isinstance(result[0], bytes):
        payload, canonical, sigs, verified = result
        return _rebuild(payload, canonical, sigs), verified
    return _error(*result)


def _rebuild(payload: bytes, canonical: bytes, sigs: tuple[tuple[str, bytes], ...]) -> Attestation:
    """The attestation a worker parsed, from its payload (already checked to be canonical
    JSON that meets the schemas, so a plain ``json.loads`` gives the same value)."""
    value = json.loads(payload)
    env = Envelope(PAYLOAD_TYPE, payload, tuple(Signature(k, sig) for k, sig in sigs))
    env.__dict__["canonical"] = canonical  # the cached property, built by the worker
    return Attestation(
        id=attestation_id(payload),
        type=value["type"],
        issuer=value["issuer"],
        issued_at=parse_timestamp(value["issued_at"], what="issued_at"),
        nonce=value["nonce"],
        body=value["body"],
        envelope=env,
    )


class WorkerDied(InternalError):
    """A worker process failed (killed, or a fault): the batch it held is refused whole."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:  # a zombie is dead too
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return True


def _watch(parent: int) -> None:
    """End this worker once the process that owns the pool is gone (killed, say)."""
    while _alive(parent):
        time.sleep(WATCH_SECONDS)
    os._exit(0)


def _start_worker(parent: int) -> None:
    """A worker's start: build every schema's validator, watch the owner process."""
    _warm()
    threading.Thread(target=_watch, args=(parent,), name="lotchain-pool-watch", daemon=True).start()


def _warm() -> int:
    for name in schemas.documents():
        schemas._fast(name)
    return os.getpid()


class PreparePool:
    """Worker processes preparing envelopes for the sequencer; started on first use.

    Safe to share between threads. ``close`` stops the workers (and waits for them); a
    pool closed or broken by a dead worker is started afresh by the next call.
    """

    def __init__(self, workers: int, *, chunk: int = 64) -> None:
        if workers < 1:
            raise errors.ConfigError("a pool needs at least one worker")
        self.workers = workers
        self.chunk = chunk
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def _get(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                # forkserver: workers never inherit the threads or connections of a server
                methods = multiprocessing.get_all_start_methods()
                context = multiprocessing.get_context(
                    "forkserver" if "forkserver" in methods else "spawn"
                )
                if context.get_start_method() == "forkserver":
                    context.set_forkserver_preload(["ledger.pool"])
                self._executor = ProcessPoolExecutor(
                    self.workers,
                    mp_context=context,
                    initializer=_start_worker,
                    initargs=(os.getpid(),),
                )
            return self._executor

    def start(self) -> list[int]:
        """Start every worker now (not on first use); return their process ids."""
        executor = self._get()
        return sorted({f.result() for f in [executor.submit(_warm) for _ in range(self.workers)]})

    def _broken(self, executor: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=True, cancel_futures=True)

    def stream(
        self,
        envelopes: Sequence[Envelope | bytes | dict[str, Any]],
        keys: Mapping[str, bytes],
    ) -> Iterator[list[tuple[Attestation, Verified] | LedgerError]]:
        """Prepare envelopes in the workers; yield the results chunk by chunk, in order
        (refusals in place, not raised), so the caller judges one chunk while the workers
        prepare the next. Raise :class:`WorkerDied` if a worker fails."""
        items = [(e, {k: keys[k] for k in key_ids(e) if k in keys}) for e in envelopes]
        size = max(1, min(self.chunk, -(-len(items) // self.workers)))
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        executor = self._get()
        futures: list[Future[list[Outcome]]] = []
        try:
            futures.extend(executor.submit(_prepare_chunk, c) for c in chunks)
            for future in futures:
                yield [_outcome(r) for r in future.result()]
        except Exception as e:  # a dead worker (BrokenProcessPool) or a fault in one
            for future in futures:
                future.cancel()
            if isinstance(e, (BrokenProcessPool, RuntimeError)):
                self._broken(executor)
            raise WorkerDied(
                "an admission worker process failed before it finished "
                f"({type(e).__name__}); nothing was appended, send the entries again"
            ) from e

    def prepare(
        self,
        envelopes: Sequence[Envelope | bytes | dict[str, Any]],
        keys: Mapping[str, bytes],
    ) -> list[tuple[Attestation, Verified] | LedgerError]:
        """Prepare envelopes in the workers, in order; refusals are returned, not raised
        (a failed worker refuses them all with ``INTERNAL``)."""
        try:
            return [r for chunk in self.stream(envelopes, keys) for r in chunk]
        except WorkerDied as e:
            return [e] * len(envelopes)

    def close(self) -> None:
        """Stop the workers and wait for them to exit."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
