"""The peers a user would reach for, measured on the same data in the same run.

* DSSE: securesystemslib's ``Envelope.from_dict`` + ``verify`` (Ed25519 through
  ``cryptography``) against ours, ``parse_envelope`` + ``verify_signature`` (PyNaCl),
  on the same envelope bytes and keys.
* Merkle log on SQLite: pymerkle's ``SqliteTree`` (stores leaves; computes subtree roots
  from them, with an in-memory cache) against ours: the same leaves through
  ``merkle.nodes_to_store_batch`` into the real ``SqlStore`` (entries, stored perfect
  subtree nodes and a signed checkpoint per commit), and proofs from stored nodes.
  Both with durable commits, one per batch and one per entry.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_lib.measure import best_rate, timed
from ledger import merkle
from ledger.checkpoint import sign_checkpoint
from ledger.dsse import parse_envelope
from ledger.keys import Signer, verify_signature
from ledger.state import StateDelta
from ledger.storage.base import AppendBatch, PendingEntry, StoredCheckpoint, StoredEntry
from ledger.storage.sql import SqlStore


def dsse(envelopes: Sequence[bytes], keys: Mapping[str, bytes], seconds: float) -> dict[str, Any]:
    """Envelopes verified per second by each library (parse + every signature)."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey  # type: ignore[attr-defined]

    sslib_keys = {
        kid: SSlibKey(kid, "ed25519", "ed25519", {"public": public.hex()})
        for kid, public in keys.items()
    }

    def ours() -> int:
        for data in envelopes:
            env = parse_envelope(data)
            message = env.signed_bytes()
            for sig in env.signatures:
                if not verify_signature(keys[sig.keyid], message, sig.sig):
                    raise RuntimeError("our DSSE verification failed")
        return len(envelopes)

    def theirs() -> int:
        for data in envelopes:
            env = Envelope.from_dict(json.loads(data))
            env.verify([sslib_keys[kid] for kid in env.signatures], 1)
        return len(envelopes)

    _both_refuse_a_forgery(envelopes[0], keys, sslib_keys)
    ours_rate = best_rate(ours, seconds=seconds)
    sslib_rate = best_rate(theirs, seconds=seconds)
    return {
        "envelopes": len(envelopes),
        "ours_per_s": ours_rate,
        "securesystemslib_per_s": sslib_rate,
        "ratio": ours_rate / sslib_rate,
    }


def _both_refuse_a_forgery(data: bytes, keys: Mapping[str, bytes], sslib_keys: Any) -> None:
    """Both verifiers really check: a payload changed after signing fails in each."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import VerificationError

    forged = json.loads(data)
    forged["payload"] = forged["payload"][:-4] + (
        "AAAA" if forged["payload"][-4:] != "AAAA" else "BBBB"
    )
    env = parse_envelope(forged)
    sig = env.signatures[0]
    if verify_signature(keys[sig.keyid], env.signed_bytes(), sig.sig):
        raise RuntimeError("our verification accepted a forged envelope")
    theirs = Envelope.from_dict(dict(forged, signatures=[dict(s) for s in forged["signatures"]]))
    try:
        theirs.verify([sslib_keys[kid] for kid in theirs.signatures], 1)
    except VerificationError:
        return
    raise RuntimeError("securesystemslib accepted a forged envelope")


class _Nodes:
    """Stored nodes plus those of the batch being written."""

    def __init__(self, store: SqlStore, extra: dict[merkle.NodeKey, bytes]) -> None:
        self.store, self.extra = store, extra

    def get_nodes(self, keys: Sequence[merkle.NodeKey]) -> Mapping[merkle.NodeKey, bytes]:
        found = {k: self.extra[k] for k in keys if k in self.extra}
        rest = [k for k in keys if k not in found]
        if rest:
            found.update(self.store.get_nodes(rest))
        return found


class OurTree:
    """Leaves appended to a ``SqlStore`` the way ``Ledger`` writes them, minus admission."""

    def __init__(self, path: Path) -> None:
        self.store = SqlStore.open(str(path))
        self.signer = Signer.generate()
        self.size = 0
        self.now = datetime.now(UTC)

    def append(self, leaves: Sequence[bytes]) -> None:
        with self.store.writer():
            hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
            nodes = merkle.nodes_to_store_batch(self.size, hashes, self.store)
            new_size = self.size + len(leaves)
            root = merkle.root_hash(new_size, _Nodes(self.store, dict(nodes)))
            note = sign_checkpoint("bench.example/log", new_size, root, self.signer.signing_key)
            entries = [
                PendingEntry(
                    StoredEntry(
                        self.size + i,
                        "sha256:" + hashlib.sha256(leaf).hexdigest(),
                        "leaf",
                        "party:bench",
                        self.now,
                        leaf,
                        h,
                        b"",
                    ),
                    StateDelta(),
                )
                for i, (leaf, h) in enumerate(zip(leaves, hashes, strict=True))
            ]
            self.store.append(
                AppendBatch(entries, nodes, StoredCheckpoint(new_size, root, note.note))
            )
            self.size = new_size

    def prove(self, index: int) -> list[bytes]:
        return merkle.inclusion_proof(index, self.size, self.store)

    def root(self) -> bytes:
        return merkle.root_hash(self.size, self.store)

    def close(self) -> None:
        self.store.close()


def _timings(
    append_many: Any,
    append_one: Any,
    leaves: Sequence[bytes],
    singles: Sequence[bytes],
    batch: int,
) -> dict[str, float]:
    batched, _ = timed(
        lambda: [append_many(leaves[i : i + batch]) for i in range(0, len(leaves), batch)]
    )
    single, _ = timed(lambda: [append_one(leaf) for leaf in singles])
    return {
        "append_batched_per_s": len(leaves) / batched,
        "append_single_per_s": len(singles) / single,
    }


def merkle_tree(
    workdir: Path,
    leaves: Sequence[bytes],
    singles: Sequence[bytes],
    proofs: int,
    seed: int,
    batch: int = 500,
) -> dict[str, Any]:
    """pymerkle's SqliteTree against ours on the same leaves: appends, then proofs."""
    from pymerkle import SqliteTree, verify_inclusion

    workdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    size = len(leaves) + len(singles)
    picks = [rng.randrange(size) for _ in range(proofs)]

    ours = OurTree(workdir / "ours.db")
    ours_t = _timings(ours.append, lambda leaf: ours.append([leaf]), leaves, singles, batch)
    root = ours.root()
    gen, made = timed(lambda: [ours.prove(i) for i in picks])
    base = {i: merkle.leaf_hash(_leaf(leaves, singles, i)) for i in picks}

    def verify_ours() -> None:
        for i, p in zip(picks, made, strict=True):
            merkle.verify_inclusion(base[i], i, size, p, root)

    ver, _ = timed(verify_ours)
    ours_t |= {"proof_gen_ms": gen * 1000 / proofs, "proof_verify_ms": ver * 1000 / proofs}
    ours.close()

    tree = SqliteTree(str(workdir / "pymerkle.db"))
    theirs_t = _timings(tree.append_entries, tree.append_entry, leaves, singles, batch)
    tree.close()
    tree = SqliteTree(str(workdir / "pymerkle.db"))  # a cold cache, as after a restart
    their_root = tree.get_root(size)
    gen, their_made = timed(lambda: [tree.prove_inclusion(i + 1, size) for i in picks])
    their_base = {i: tree.get_leaf(i + 1) for i in picks}

    def verify_theirs() -> None:
        for i, p in zip(picks, their_made, strict=True):
            verify_inclusion(their_base[i], their_root, p)

    ver, _ = timed(verify_theirs)
    theirs_t |= {"proof_gen_ms": gen * 1000 / proofs, "proof_verify_ms": ver * 1000 / proofs}
    tree.close()

    def cost(t: dict[str, float], key: str) -> float:
        """Seconds for one append plus one inclusion proof (generated and verified)."""
        return 1 / t[key] + (t["proof_gen_ms"] + t["proof_verify_ms"]) / 1000

    return {
        "leaves": size,
        "leaf_bytes_mean": sum(map(len, leaves)) / len(leaves),
        "ours": ours_t,
        "pymerkle": theirs_t,
        "ratio_batched": cost(theirs_t, "append_batched_per_s")
        / cost(ours_t, "append_batched_per_s"),
        "ratio_single": cost(theirs_t, "append_single_per_s") / cost(ours_t, "append_single_per_s"),
        "ratio_proof_gen": theirs_t["proof_gen_ms"] / ours_t["proof_gen_ms"],
    }


def _leaf(leaves: Sequence[bytes], singles: Sequence[bytes], index: int) -> bytes:
    return leaves[index] if index < len(leaves) else singles[index - len(leaves)]
