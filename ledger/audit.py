"""Re-verify a whole log from its first entry: ``lotchain audit``.

The audit trusts nothing stored. It re-reads every entry in index order and checks,
as numbered steps: (1) the leaf parses and names its own index, (2) the leaf hash is
the hash of the leaf bytes, (3) ``prev`` links to the previous leaf hash, (4) the
envelope hashes to the leaf's ``envelope`` and its payload to ``attestation``,
(5) the attestation passes every admission rule replayed against the state rebuilt
from the entries before it, at its own integration time, (6) every stored Merkle node
equals the one recomputed from the leaves, and (7) every signed checkpoint verifies
with the trust root's log key and its root equals the recomputed root at its size.
Memory grows with the state (parties, keys, outputs), not with the envelopes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ledger import merkle
from ledger.admission import admit
from ledger.attestation import parse_attestation
from ledger.checkpoint import Checkpoint, verify_checkpoint
from ledger.encoding import sha256_id
from ledger.errors import LedgerError, NotFoundError
from ledger.leaf import ZERO_HASH, parse_leaf
from ledger.state import (
    AttestationRecord,
    EnforcementStep,
    FacilityRecord,
    KeyRecord,
    OutputRecord,
    Overlay,
    PartyRecord,
)
from ledger.storage.base import Store, StoredCheckpoint, StoredEntry
from ledger.trustroot import TrustRoot
from ledger.witness import check_extends

Progress = Callable[[int], None]


@dataclass(frozen=True)
class AuditFinding:
    code: str
    index: int | None
    step: int
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "index": self.index, "step": self.step, "message": self.message}


@dataclass(frozen=True)
class AuditReport:
    size: int
    checkpoints: int
    findings: tuple[AuditFinding, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_bad_index(self) -> int | None:
        indices = [f.index for f in self.findings if f.index is not None]
        return min(indices) if indices else None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": "pass" if self.ok else "fail",
            "size": self.size,
            "checkpoints": self.checkpoints,
            "first_bad_index": self.first_bad_index,
            "findings": [f.to_json() for f in self.findings],
        }


class _Empty:
    """The state before the first entry."""

    def attestation(self, attestation_id: str) -> AttestationRecord | None:
        return None

    def party(self, party_id: str) -> PartyRecord | None:
        return None

    def key(self, key_id: str) -> KeyRecord | None:
        return None

    def key_revoked_at(self, key_id: str) -> datetime | None:
        return None

    def facility(self, facility_id: str) -> FacilityRecord | None:
        return None

    def output(self, ref: str) -> OutputRecord | None:
        return None

    def consumed(self, ref: str) -> Decimal:
        return Decimal(0)

    def shipment_by_entry(self, entry_number: str) -> str | None:
        return None

    def enforcement(self, shipment_id: str) -> tuple[EnforcementStep, ...]:
        return ()


class _Frontier:
    """Streaming RFC 6962 tree: O(log n) memory, yields each perfect node as it completes."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []  # (level, hash), levels strictly decreasing
        self.size = 0

    def push(self, leaf_hash: bytes) -> list[tuple[merkle.NodeKey, bytes]]:
        index = self.size
        completed = [((0, index), leaf_hash)]
        level, value = 0, leaf_hash
        while self.stack and self.stack[-1][0] == level:
            _, left = self.stack.pop()
            value = merkle.node_hash(left, value)
            level += 1
            completed.append(((level, index >> level), value))
        self.stack.append((level, value))
        self.size += 1
        return completed

    def root(self) -> bytes:
        if not self.stack:
            return merkle.EMPTY_ROOT
        value = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            value = merkle.node_hash(left, value)
        return value


def _entries(store: Store, findings: list[AuditFinding], page: int = 500) -> Iterator[StoredEntry]:
    """Entries in index order; a row that cannot even be read becomes a finding."""
    start, end = 0, store.size()  # one past the highest stored index
    while start < end:
        try:
            batch = store.range(start, start + page)
        except LedgerError:
            batch = _one_by_one(store, start, start + page, findings)
        yield from batch
        start += page


def _one_by_one(
    store: Store, start: int, end: int, findings: list[AuditFinding]
) -> list[StoredEntry]:
    out = []
    for index in range(start, end):
        try:
            out.append(store.get(index))
        except NotFoundError:
            continue
        except LedgerError as e:
            findings.append(AuditFinding(e.code, index, 1, e.message))
    return out


def audit_log(
    store: Store,
    trust: TrustRoot,
    *,
    progress: Progress | None = None,
    remembered: Checkpoint | None = None,
) -> AuditReport:
    """Re-verify every entry, node and checkpoint; collect findings instead of stopping.

    With ``remembered`` (a checkpoint seen earlier), also (8) prove the stored log
    extends it, which catches a database restored from an older copy or forked.
    """
    findings: list[AuditFinding] = []
    checkpoints = list(store.checkpoints())
    pending: Iterator[StoredCheckpoint] = iter(checkpoints)
    next_cp = next(pending, None)
    state = Overlay(_Empty())
    frontier = _Frontier()
    prev = ZERO_HASH
    expected_index = 0
    node_batch: list[tuple[merkle.NodeKey, bytes]] = []

    def flush_nodes() -> None:
        if not node_batch:
            return
        try:
            stored = store.stored_nodes([k for k, _ in node_batch])
        except LedgerError as e:
            findings.append(AuditFinding("LOG_CHAIN", node_batch[0][0][1], 6, e.message))
            node_batch.clear()
            return
        for key, value in node_batch:
            if stored.get(key) != value:
                completed_at = ((key[1] + 1) << key[0]) - 1  # the leaf that completed it
                findings.append(
                    AuditFinding(
                        "LOG_CHAIN",
                        completed_at,
                        6,
                        f"stored Merkle node {key} differs from the node recomputed from leaves",
                    )
                )
        node_batch.clear()

    for entry in _entries(store, findings):
        # 1. the leaf parses and names its own index; indices are contiguous
        if entry.index != expected_index:
            findings.append(
                AuditFinding(
                    "LOG_CHAIN",
                    expected_index,
                    1,
                    f"entry {expected_index} is missing (next stored is {entry.index})",
                )
            )
            expected_index = entry.index
        try:
            leaf = parse_leaf(entry.leaf)
        except LedgerError as e:
            findings.append(AuditFinding("LOG_CHAIN", entry.index, 1, f"leaf: {e.message}"))
            leaf = None
        if leaf is not None and leaf.index != entry.index:
            findings.append(
                AuditFinding(
                    "LOG_CHAIN",
                    entry.index,
                    1,
                    f"leaf at index {entry.index} says it is entry {leaf.index}",
                )
            )
        # 2. the leaf hash is the hash of the leaf bytes
        recomputed = merkle.leaf_hash(entry.leaf)
        if recomputed != entry.leaf_hash:
            findings.append(
                AuditFinding("LOG_CHAIN", entry.index, 2, "stored leaf hash is not H(0x00 || leaf)")
            )
        # 3. prev links to the previous leaf hash
        if leaf is not None and leaf.prev != prev:
            findings.append(
                AuditFinding(
                    "LOG_CHAIN", entry.index, 3, "prev does not equal the hash of the previous leaf"
                )
            )
        prev = recomputed.hex()
        # 4. the envelope and payload hash to what the leaf names
        att = None
        try:
            att = parse_attestation(entry.envelope)
        except LedgerError as e:
            findings.append(AuditFinding(e.code, entry.index, 4, f"envelope: {e.message}"))
        if leaf is not None and sha256_id(entry.envelope) != leaf.envelope:
            findings.append(
                AuditFinding(
                    "LOG_CHAIN",
                    entry.index,
                    4,
                    "envelope bytes do not hash to the leaf's envelope digest",
                )
            )
        if leaf is not None and (
            (entry.attestation_id, entry.issuer, entry.integrated_at)
            != (leaf.attestation, leaf.issuer, leaf.integrated_at)
            or (att is not None and att.type != entry.type)
        ):
            findings.append(
                AuditFinding(
                    "LOG_CHAIN",
                    entry.index,
                    4,
                    "the entry's index columns disagree with its leaf and envelope",
                )
            )
        if att is not None and leaf is not None and att.id != leaf.attestation:
            findings.append(
                AuditFinding(
                    "SIGNATURE",
                    entry.index,
                    4,
                    "payload bytes do not hash to the leaf's attestation id",
                )
            )
        # 5. the admission rules held at integration time
        if att is not None and leaf is not None:
            try:
                delta = admit(att, state, trust, now=leaf.integrated_at)
            except LedgerError as e:
                findings.append(AuditFinding(e.code, entry.index, 5, e.message))
            else:
                state.add(AttestationRecord(att.id, entry.index, att.type, att.issuer), delta)
        # 6. stored nodes equal the recomputed ones
        node_batch.extend(frontier.push(recomputed))
        if len(node_batch) >= 1000:
            flush_nodes()
        # 7. checkpoints at this size verify and commit to the recomputed root
        while next_cp is not None and next_cp.size <= frontier.size:
            flush_nodes()
            if next_cp.size == frontier.size:
                _check_checkpoint(next_cp, frontier.root(), trust, findings)
            next_cp = next(pending, None)
        expected_index += 1
        if progress is not None:
            progress(1)
    flush_nodes()
    while next_cp is not None:
        findings.append(
            AuditFinding(
                "LOG_CHAIN",
                frontier.size,
                7,
                f"a checkpoint is signed for size {next_cp.size} but the log holds "
                f"only {frontier.size} entries (entries were removed)",
            )
        )
        next_cp = next(pending, None)
    if not checkpoints and frontier.size:
        findings.append(
            AuditFinding("CHECKPOINT", None, 7, "the log holds entries but no signed checkpoint")
        )
    elif checkpoints and checkpoints[-1].size < frontier.size:
        findings.append(
            AuditFinding(
                "LOG_CHAIN",
                checkpoints[-1].size,
                7,
                f"entries from {checkpoints[-1].size} on are not covered by any signed checkpoint",
            )
        )
    if remembered is not None:
        _check_remembered(store, remembered, checkpoints, findings)
    return AuditReport(frontier.size, len(checkpoints), tuple(findings))


def _check_remembered(
    store: Store,
    remembered: Checkpoint,
    checkpoints: list[StoredCheckpoint],
    findings: list[AuditFinding],
) -> None:
    """8. the latest stored checkpoint extends the one remembered from before."""
    if not checkpoints:
        findings.append(AuditFinding("LOG_CONSISTENCY", 0, 8, "the log is empty now"))
        return
    latest = checkpoints[-1]
    current = Checkpoint(remembered.origin, latest.size, latest.root, latest.note)

    def proofs(old: int, new: int) -> merkle.ConsistencyProof:
        return merkle.ConsistencyProof(old, new, tuple(merkle.consistency_proof(old, new, store)))

    try:
        check_extends(remembered, current, proofs)
    except LedgerError as e:
        findings.append(AuditFinding(e.code, e.index, 8, e.message))


def _check_checkpoint(
    cp: StoredCheckpoint, root: bytes, trust: TrustRoot, findings: list[AuditFinding]
) -> None:
    try:
        verified = verify_checkpoint(cp.note, trust.log_vkey)
    except LedgerError as e:
        findings.append(
            AuditFinding("CHECKPOINT", cp.size - 1, 7, f"checkpoint {cp.size}: {e.message}")
        )
        return
    if verified.size != cp.size or verified.root != cp.root:
        findings.append(
            AuditFinding(
                "CHECKPOINT",
                cp.size - 1,
                7,
                f"stored checkpoint {cp.size} disagrees with its own signed note",
            )
        )
    if verified.root != root:
        findings.append(
            AuditFinding(
                "LOG_CHAIN",
                cp.size - 1,
                7,
                f"the signed root at size {cp.size} is not the root of the stored leaves",
            )
        )
