"""Evidence bundles: one JSON file from which anyone can recompute a verdict offline.

A bundle holds the signed checkpoint, and for every entry the online verdict relied on
its leaf, envelope and inclusion proof; the leaves just before those entries (so
``prev`` links can be checked); and the screening lists applied, byte for byte. It
holds nothing else: an output's other consumers are included only when they are what
makes the output overconsumed, so a bundle discloses no more of other parties' trade
than the verdict needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ledger import merkle, schemas
from ledger.canonical import parse_json
from ledger.encoding import b64encode, format_timestamp
from ledger.errors import CheckpointError, LedgerError, LogChainError
from ledger.lists import AppliedList, version_from_bundle
from ledger.log import Ledger, utc_now
from ledger.trustroot import TrustRoot
from ledger.verify.core import run
from ledger.verify.rules import Rules
from ledger.verify.source import BundleSource, ChainEntry, LedgerSource
from ledger.verify.verdict import Verdict

MAX_BUNDLE_BYTES = 256 << 20
KIND = "lotchain.bundle"


def _proof(entry: ChainEntry, what: str) -> dict[str, Any]:
    if entry.proof is None:
        raise LogChainError(f"the log cannot prove {what}; no bundle can be made from it")
    return entry.proof.to_json()


def bundle_from(
    ledger: Ledger,
    source: LedgerSource,
    shipment_id: str,
    used: list[str],
    lists: Sequence[AppliedList],
    now: datetime,
    *,
    multiproof: bool = False,
) -> dict[str, Any]:
    """Assemble the bundle of a verification that relied on ``used``.

    With ``multiproof``, one multi-proof of all the carried leaves replaces their
    per-leaf inclusion proofs (a smaller bundle, whose shared subtrees are hashed once).
    """
    entries: dict[int, dict[str, Any]] = {}
    for att_id in used:
        entry = source.entry(att_id)
        if entry is None or entry.envelope is None:
            continue
        entries[entry.index] = {
            "index": entry.index,
            "leaf": b64encode(entry.leaf),
            "envelope": parse_json(entry.envelope),
            "inclusion": _proof(entry, att_id),
        }
    leaves = []
    for index in sorted({i - 1 for i in entries if i > 0} - set(entries)):
        prev = source.leaf(index)
        if prev is not None:
            leaves.append(
                {
                    "index": index,
                    "leaf": b64encode(prev.leaf),
                    "inclusion": _proof(prev, f"leaf {index}"),
                }
            )
    bundle: dict[str, Any] = {
        "v": 1,
        "kind": KIND,
        "shipment": shipment_id,
        "checkpoint": source.checkpoint_note().decode("utf-8"),
        "log_origin": ledger.trust.log_origin,
        "entries": [entries[i] for i in sorted(entries)],
        "leaves": leaves,
        "screening_lists": [s.to_bundle() for s in lists],
        "created_at": format_timestamp(now),
    }
    if multiproof and entries:
        items = [*bundle["entries"], *leaves]
        for item in items:
            del item["inclusion"]
        try:
            hashes = merkle.multiproof([i["index"] for i in items], source.size, source)
        except LedgerError as e:
            raise LogChainError(f"the log cannot prove the bundle's leaves: {e.message}") from e
        bundle["multiproof"] = {
            "tree_size": source.size,
            "hashes": [b64encode(h) for h in hashes],
        }
    return bundle


def parse_bundle(data: bytes) -> dict[str, Any]:
    """Parse and schema-check bundle bytes; a coded error for anything else."""
    value = parse_json(data, max_bytes=MAX_BUNDLE_BYTES)
    schemas.validate("bundle", value, what="evidence bundle")
    assert isinstance(value, dict)
    return value


def verify_bundle_bytes(
    data: bytes, trust: TrustRoot, *, now: datetime | None = None, rules: Rules | None = None
) -> Verdict:
    """Recompute a bundle's verdict against ``trust`` alone: no server, no database.

    Lists are judged for age at ``now`` (default: the present), as online: a bundle's
    lists are frozen, and its ``created_at`` is not signed, so nothing else could be
    trusted to say when the verdict was reached.
    """
    bundle = parse_bundle(data)
    if bundle["log_origin"] != trust.log_origin:
        raise CheckpointError(
            f"the bundle is from log {bundle['log_origin']!r}; the trust root is for "
            f"{trust.log_origin!r}"
        )
    lists = [version_from_bundle(item) for item in bundle["screening_lists"]]
    source = BundleSource(bundle)
    verdict, _ = run(
        source,
        trust,
        bundle["shipment"],
        now=now or utc_now(),
        lists=lists,
        rules=rules,
        carried=source,
    )
    return verdict
