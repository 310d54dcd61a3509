"""The public face of the log: checkpoints, Merkle proofs and raw leaves.

These reads are public: leaves hold hashes only, so anyone may mirror and witness the
log (recompute roots, check consistency between checkpoints) without seeing a single
supply-chain fact.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app

from api import params
from api.access import state
from api.queries import find_entry
from ledger.encoding import b64encode
from ledger.errors import MalformedError, NotFoundError

bp = Blueprint("log", __name__)


@bp.get("/v1/checkpoint")
def checkpoint() -> Response:
    """The latest signed checkpoint, or the one signed at ``size``, as a C2SP signed note."""
    ledger = state().ledger
    size = params.integer("size", minimum=1)
    if size is None:
        note = ledger.checkpoint().note
    else:
        stored = ledger.store.checkpoint(size)
        if stored is None:
            raise NotFoundError(f"the log signed no checkpoint at size {size}")
        note = stored.note
    return Response(note, mimetype="text/plain", headers={"Cache-Control": "no-cache"})


def _reached(size: int | None) -> int | None:
    """A tree size the log has reached; a larger one is not found (yet)."""
    if size is not None and size > state().ledger.size():
        raise NotFoundError(f"the log has not reached size {size}")
    return size


@bp.get("/v1/proofs/inclusion")
def inclusion() -> dict[str, Any]:
    """Inclusion proof of an entry (attestation id or index) in the tree of ``tree_size``."""
    ledger = state().ledger
    ref = params.text("id", params.ATTESTATION_OR_INDEX, required=True)
    assert ref is not None
    tree_size = _reached(params.integer("tree_size", minimum=1))
    entry = find_entry(ledger, ref)
    return ledger.inclusion_proof(entry.index, tree_size).to_json()


@bp.get("/v1/proofs/consistency")
def consistency() -> dict[str, Any]:
    """Consistency proof from the tree of size ``old`` to ``new`` (default: the latest)."""
    ledger = state().ledger
    old = params.integer("old", required=True, minimum=1)
    assert old is not None
    new = _reached(params.integer("new", minimum=1))
    return ledger.consistency_proof(old, new).to_json()


@bp.get("/v1/log/leaves")
def leaves() -> dict[str, Any]:
    """Leaves ``[start, end)`` that exist; fewer than asked means: ask again from there."""
    ledger = state().ledger
    start = params.integer("start", required=True)
    end = params.integer("end", required=True, minimum=1)
    assert start is not None and end is not None
    if end < start:
        raise MalformedError(f"end ({end}) is before start ({start}); end is exclusive")
    page = int(current_app.config["LOTCHAIN_PAGE_SIZE"])
    entries = ledger.store.range(start, min(end, start + page))
    return {"leaves": [{"index": e.index, "leaf": b64encode(e.leaf)} for e in entries]}
