"""Impact: which shipments touch a party, facility, region, lot or allegation (CBP only).

The question CBP asks when an entity is newly listed or a region is named: every
shipment whose upstream chain reaches it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api import params
from api.access import require_cbp, state
from api.allegations import ALLEGATION_ID, allegation_store
from ledger import verify
from ledger.errors import MalformedError

bp = Blueprint("impact", __name__)


@bp.get("/v1/impact")
def impact() -> dict[str, Any]:
    require_cbp()
    query = {
        "party": params.text("party", params.PARTY),
        "facility": params.text("facility", params.FACILITY),
        "region": params.text("region", params.REGION),
        "lot": params.text("lot", params.LOT),
    }
    allegation = params.text("allegation", ALLEGATION_ID)
    if allegation is not None:
        if any(value is not None for value in query.values()):
            raise MalformedError("give an allegation alone, or party, facility, region or lot")
        found = allegation_store().impact(allegation)
        return {"query": {"allegation": allegation}, "shipments": found}
    if all(value is None for value in query.values()):
        raise MalformedError("give at least one of party, facility, region, lot or allegation")
    shipments = verify.impact(state().ledger, **query)
    return {"query": {k: v for k, v in query.items() if v is not None}, "shipments": shipments}
