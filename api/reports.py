"""Reports: enforcement metrics for CBP (shipments and value by a dimension).

Computed from the shipments' summary rows and enforcement steps, which the append
writes in the same transaction; nothing is verified per request.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api import params
from api.access import require_cbp, state
from api.queries import sql_store
from ledger import metrics

bp = Blueprint("reports", __name__)


@bp.get("/v1/reports/metrics")
def metrics_report() -> dict[str, Any]:
    """Shipments and declared value by ``by``, with CBP's released / denied / pending."""
    require_cbp()
    by = params.choice("by", metrics.DIMENSIONS) or "fiscal-year"
    date_from, date_to = params.date("from"), params.date("to")
    return metrics.report(sql_store(state().ledger), by, date_from, date_to)
