"""Liveness and readiness: the database answers and the log's head is readable."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api.access import state
from ledger import __version__

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, Any]:
    ledger = state().ledger
    return {
        "status": "ok",
        "version": __version__,
        "origin": ledger.origin,
        "log_size": ledger.size(),
        "writable": ledger.log_signer is not None,
    }
