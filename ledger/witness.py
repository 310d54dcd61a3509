"""Rollback and fork detection: remember the last checkpoint seen, prove the next extends it.

A client that keeps the last checkpoint it verified can tell when a server (or a file
restored from an old backup) presents an older or a different log: the new checkpoint
must be at least as large and a consistency proof must link the two roots.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ledger.checkpoint import Checkpoint, verify_checkpoint
from ledger.errors import ConsistencyError, LedgerError
from ledger.merkle import ConsistencyProof, verify_consistency

ProofSource = Callable[[int, int], ConsistencyProof]


def check_extends(old: Checkpoint, new: Checkpoint, proofs: ProofSource) -> None:
    """Return None if ``new`` extends ``old``; raise :class:`ConsistencyError` otherwise."""
    if old.origin != new.origin:
        raise ConsistencyError(f"the log origin changed from {old.origin!r} to {new.origin!r}")
    if new.size < old.size:
        raise ConsistencyError(
            f"the log presents size {new.size}, smaller than size {old.size} seen before: "
            "it was rolled back (or restored from an older copy)",
            index=new.size,
        )
    if new.size == old.size:
        if new.root != old.root:
            raise ConsistencyError(
                f"two different roots were signed for size {new.size}: the log forked",
                index=new.size - 1,
            )
        return
    if old.size == 0:
        return
    proof = proofs(old.size, new.size)
    if (proof.old_size, proof.new_size) != (old.size, new.size):
        raise ConsistencyError("the consistency proof is for other sizes than asked")
    try:
        verify_consistency(old.size, new.size, proof.hashes, old.root, new.root)
    except ConsistencyError as e:
        raise ConsistencyError(
            f"the log at size {new.size} does not extend the log seen at size {old.size}: "
            f"its history was rewritten ({e.message})",
            index=old.size - 1,
        ) from e


class Remembered:
    """The last verified checkpoint, kept in a file (written atomically)."""

    def __init__(self, path: Path, vkey: str) -> None:
        self.path = path
        self.vkey = vkey

    def load(self) -> Checkpoint | None:
        try:
            note = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise LedgerError(f"cannot read the remembered checkpoint {self.path}: {e}") from e
        return verify_checkpoint(note, self.vkey)

    def save(self, checkpoint: Checkpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_bytes(checkpoint.note)
        tmp.replace(self.path)
