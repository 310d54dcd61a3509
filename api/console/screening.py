"""CBP's screening page: load a new list version and see which shipments it now catches.

The same code as ``lotchain screening load --impact`` (:func:`ledger.screening.record_list`,
:func:`ledger.verify.impacted_by_list`). Only CBP sees the page; to anyone else it is
"not found", like a page that does not exist.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from api.access import state
from api.console.base import bp, cbp_only
from ledger import verify
from ledger.errors import LedgerError, MalformedError
from ledger.screening import loaded_lists, record_list

MAX_NAME = 64


@bp.get("/screening")
def screening() -> str:
    cbp_only()
    return render_template(
        "screening.html", lists=loaded_lists(state().ledger.store), result=None, error=None
    )


@bp.post("/screening")
def screening_load() -> tuple[str, int]:
    cbp_only()
    ledger = state().ledger
    upload = request.files.get("list")
    name = request.form.get("name", "").strip()
    result: dict[str, Any] | None = None
    error = None
    try:
        if upload is None or not upload.filename:
            raise MalformedError("choose a list file (CSV) to load")
        if not name:
            name = upload.filename.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if len(name) > MAX_NAME:
            raise MalformedError(f"a list name is at most {MAX_NAME} characters")
        data = upload.read()
        recorded, added = record_list(
            ledger.store, data, name=name, source=upload.filename, now=ledger.clock()
        )
        result = {
            "list": recorded.summary(),
            "added": added,
            "impacted": verify.impacted_by_list(ledger, recorded),
        }
    except LedgerError as e:
        error = e.message
    return render_template(
        "screening.html", lists=loaded_lists(ledger.store), result=result, error=error
    ), (400 if error else 200)
