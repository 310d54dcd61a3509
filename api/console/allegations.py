"""CBP's allegations inbox: what the public reported, whether it still matches the log,
and CBP's links to parties, facilities and regions (with the shipments they touch).

The same store and checks as ``/v1/allegations`` (:class:`~ledger.storage.allegations.
AllegationStore` through :func:`api.allegations.allegation_store`): a listing shows
the summary the API lists, the page one allegation whole, as ``GET
/v1/allegations/<id>`` gives it; the link form does what ``POST .../links`` does. Only
CBP sees these pages; to anyone else they are "not found", like a page that does not
exist, and an allegation that does not exist reads the same.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Response, redirect, render_template, request, url_for

from api import params
from api.access import state
from api.allegations import ALLEGATION_ID, allegation_store
from api.console.base import bp, cbp_only
from ledger.allegation import INDICATORS
from ledger.errors import LedgerError, MalformedError, NotFoundError
from ledger.storage.allegations import LINK_KINDS, StoredAllegation

PAGE = 50
MAX_LINK_VALUE = 136


def _row(item: StoredAllegation) -> dict[str, Any]:
    """A listing row: the API's summary, with the content hash and the integrity check."""
    summary = item.summary()
    return {
        **summary,
        "content_sha256": item.content_sha256,
        "intact": item.intact,
        "state": "linked" if summary["links"] else "new",
    }


@bp.get("/allegations")
def allegations() -> Response | tuple[str, int]:
    cbp_only()
    if request.args.get("cursor") == "":
        return redirect(url_for("console.allegations"))  # type: ignore[return-value]
    error = None
    rows: list[dict[str, Any]] = []
    more = None
    try:
        unknown = sorted(set(request.args) - {"cursor"})
        if unknown:
            raise MalformedError(f"unknown filter {unknown[0]!r}")
        items, cursor = allegation_store().page(after=params.index_cursor(), limit=PAGE)
        rows = [_row(item) for item in items]
        if cursor >= 0:
            more = url_for("console.allegations") + "?" + urlencode({"cursor": cursor})
    except LedgerError as e:
        error = e.message
    return render_template(
        "allegations.html", rows=rows, more=more, error=error
    ), (400 if error else 200)


def _stored(ident: str) -> StoredAllegation:
    """The allegation, or the one "not found" of a page that does not exist."""
    try:
        params.check(ident, ALLEGATION_ID, "the allegation id")
        return allegation_store().get(ident)
    except (MalformedError, NotFoundError) as e:
        raise NotFoundError(f"no page {request.path} that you may see") from e


def _page(ident: str, *, error: str | None = None, kind: str = "", value: str = "") -> str:
    item = _stored(ident)
    return render_template(
        "allegation.html",
        item=_row(item),
        whole=item.to_json(),
        impact=allegation_store().impact(item.id),
        kinds=LINK_KINDS,
        indicators=INDICATORS,
        error=error,
        kind=kind,
        value=value,
    )


@bp.get("/allegations/<ident>")
def allegation(ident: str) -> str:
    cbp_only()
    return _page(ident)


@bp.post("/allegations/<ident>/links")
def allegation_link(ident: str) -> Response | tuple[str, int]:
    """Link the allegation, as ``POST /v1/allegations/<id>/links``; then back to its page."""
    who = cbp_only()
    item = _stored(ident)
    kind = request.form.get("kind", "")
    value = request.form.get("value", "").strip()
    try:
        if len(value) > MAX_LINK_VALUE:
            raise MalformedError(f"a linked id is at most {MAX_LINK_VALUE} characters")
        allegation_store().link(item.id, kind, value, by=who.party, now=state().ledger.clock())
    except LedgerError as e:
        return _page(ident, error=e.message, kind=kind[:20], value=value[:MAX_LINK_VALUE]), 400
    target = url_for("console.allegation", ident=item.id) + "#links"
    return redirect(target, 303)  # type: ignore[return-value]
