"""CBP's console pages (metrics dashboard, allegations inbox) and enforcement in the console.

Only CBP sees the dashboard and the inbox: to any other party they read exactly like a
page that does not exist, and anyone signed out is sent to sign in, as for every page
that is not public. The dashboard's figures are those of the one metrics report (the
CLI's and the API's); the inbox shows what ``/v1/allegations`` shows and links through a
CSRF-protected form; shipments carry their enforcement status and history.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient
from test_console import _Form, csrf_of, signed_in

import pg
from api_fixtures import World, add_allegation, add_enforcement, build_world
from conftest import BACKENDS
from ledger import metrics

MISSING_ALLEGATION = "alg_" + "0" * 24
OTHERS = ("party:acme", "party:farm", "party:auditor")


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    db = None if request.param == "sqlite" else pg.fresh_schema()
    w = build_world(tmp_path_factory.mktemp("console-cbp"), db)
    add_enforcement(w)
    add_allegation(w)
    yield w
    w.ledger.store.close()


def _page(client: FlaskClient, path: str) -> tuple[int, str]:
    response = client.get(path)
    return response.status_code, response.get_data(as_text=True).replace(path, "PATH")


def test_cbp_pages_read_like_missing_ones_to_everyone_else(world: World) -> None:
    real = f"/allegations/{world.ids['allegation']}"
    pages = ("/metrics", "/metrics?period=month", "/allegations", real)
    cbp = signed_in(world, "party:cbp")
    for path in pages:
        assert cbp.get(path).status_code == 200, path
    home = cbp.get("/").get_data(as_text=True)
    assert 'href="/metrics"' in home and 'href="/allegations"' in home
    for party in OTHERS:
        client = signed_in(world, party)
        missing = _page(client, f"/allegations/{MISSING_ALLEGATION}")
        assert missing[0] == 404
        for path in pages:
            assert _page(client, path.split("?")[0]) == missing, (party, path)
        home = client.get("/").get_data(as_text=True)
        assert 'href="/metrics"' not in home and 'href="/allegations"' not in home
        # a link posted by anyone else is refused the same way and changes nothing
        response = client.post(
            real + "/links", data={"csrf": csrf_of(client, "/"), "kind": "region",
                                   "value": "CN-XJ"},
        )
        assert response.status_code == 404
    assert cbp.get(f"/allegations/{MISSING_ALLEGATION}").status_code == 404
    assert cbp.get("/allegations/not-an-id").status_code == 404
    # signed out: sent to sign in, as for a missing shipment
    anonymous = world.client()
    for path in (*pages, f"/allegations/{MISSING_ALLEGATION}", "/shipments/ACM-0000000-0"):
        response = anonymous.get(path)
        assert response.status_code == 302 and "/signin?next=" in response.headers["Location"]
    api = world.client().get(
        f"/v1/allegations/{world.ids['allegation']}", headers=world.auth("party:cbp")
    ).get_json()
    assert api["links"] == []


class _Figures(HTMLParser):
    """The dashboard's figure tables: {dimension: {row key: {column: text}}}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, dict[str, str]]] = {}
        self._by: str | None = None
        self._key: str | None = None
        self._col: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("data-by"):
            self._by = str(a["data-by"])
            self.tables[self._by] = {}
        elif self._by and tag == "th" and a.get("data-key"):
            self._key = str(a["data-key"])
            self.tables[self._by][self._key] = {}
        elif self._by and self._key and tag == "td" and a.get("data-col"):
            self._col = str(a["data-col"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._by = None
        elif tag == "td":
            self._col = None

    def handle_data(self, data: str) -> None:
        if self._by and self._key and self._col:
            self.tables[self._by][self._key][self._col] = data.strip()


def _expected(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    by = report["query"]["by"]
    rows = {str(g[by]): g for g in report["groups"]} | {"total": report["total"]}
    return {k: {c: str(g[c]) for c in metrics.COLUMNS} for k, g in rows.items()}


@pytest.mark.parametrize(
    ("query", "period", "dates"),
    [
        ("", "fiscal-year", (None, None)),
        ("?period=month&measure=value", "month", (None, None)),
        ("?period=quarter&from=2025-02-21&to=2025-12-31", "quarter", ("2025-02-21", "2025-12-31")),
    ],
    ids=["default", "month-value", "quarter-dates"],
)
def test_the_dashboard_shows_the_figures_of_the_metrics_report(
    world: World, query: str, period: str, dates: tuple[str | None, str | None]
) -> None:
    cbp = signed_in(world, "party:cbp")
    response = cbp.get("/metrics" + query)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    parser = _Figures()
    parser.feed(page)
    dimensions = [period, "country", "industry", "status", "legal-basis"]
    assert list(parser.tables) == dimensions
    for by in dimensions:
        core = metrics.report(world.ledger.store, by, *dates)
        api_query = "&".join(
            f"{k}={v}" for k, v in (("by", by), ("from", dates[0]), ("to", dates[1])) if v
        )
        api = world.client().get(
            "/v1/reports/metrics?" + api_query, headers=world.auth("party:cbp")
        ).get_json()
        assert api == core
        assert parser.tables[by] == _expected(core), by
        # one bar per group, each with its figures written out
        chart = page.split(f'id="chart-{by}"')[1].split("</section>")[0]
        assert chart.count('<g class="bar">') == len(core["groups"]) > 0
        for group in core["groups"]:
            n = group["shipments"]
            words = f"{n} shipment{'' if n == 1 else 's'}, {group['stopped']} stopped"
            if "measure=value" in query:
                words = f"${Decimal(group['value_usd']):,.2f}"
            assert words in chart, (by, words)
    if dates[0] is not None:  # Acme's entry (2025-02-20) falls before the range
        assert parser.tables["status"]["total"]["shipments"] == "1"
    else:
        assert parser.tables["status"]["submitted"]["pending"] == "1"
        assert parser.tables["status"]["excluded"]["denied"] == "1"


def test_the_dashboard_refuses_bad_filters_saying_why(world: World) -> None:
    cbp = signed_in(world, "party:cbp")
    for query, words in (
        ("?from=2025-03-01&to=2025-01-01", "after the"),
        ("?period=week", "one of fiscal-year"),
        ("?from=2025-02-30", "from"),
        ("?by=country", "unknown filter"),
    ):
        response = cbp.get("/metrics" + query)
        page = response.get_data(as_text=True)
        assert response.status_code == 400, query
        assert 'role="alert"' in page and words in page, (query, page)
    empty = cbp.get("/metrics?period=month&from=&to=")
    assert empty.status_code == 302 and empty.headers["Location"] == "/metrics?period=month"


def test_the_inbox_lists_what_the_api_lists(world: World) -> None:
    cbp = signed_in(world, "party:cbp")
    api = world.client().get("/v1/allegations", headers=world.auth("party:cbp")).get_json()
    page = cbp.get("/allegations").get_data(as_text=True)
    assert len(api["allegations"]) == 1
    for item in api["allegations"]:
        whole = world.client().get(
            f"/v1/allegations/{item['id']}", headers=world.auth("party:cbp")
        ).get_json()
        row = page.split(f">{item['id']}</a>")[1].split("</tr>")[0]
        assert item["received_at"] in row and item["merchandise"] in row
        assert whole["content_sha256"][:15] in row and "Intact" in row and "New" in row
        detail = cbp.get(f"/allegations/{item['id']}").get_data(as_text=True)
        assert whole["content_sha256"] in detail
        assert f"log index {whole['receipt_entry']['index']}" in detail
        assert whole["allegation"]["statement"] in detail
        assert "restriction of movement" in detail and "anonymous" in detail
    assert 'href="/allegations?cursor=' not in page  # one page only


def test_cbp_links_an_allegation_through_a_csrf_form(world: World) -> None:
    ident = world.ids["allegation"]
    path = f"/allegations/{ident}"
    cbp = signed_in(world, "party:cbp")
    for data in ({}, {"csrf": "forged"}):
        refused = cbp.post(path + "/links", data={**data, "kind": "party", "value": "party:rival"})
        assert refused.status_code == 403
    bad = cbp.post(
        path + "/links", data={"csrf": csrf_of(cbp, path), "kind": "party", "value": "nobody"}
    )
    assert bad.status_code == 400 and 'role="alert"' in bad.get_data(as_text=True)
    unknown = cbp.post(
        path + "/links", data={"csrf": csrf_of(cbp, path), "kind": "party",
                               "value": "party:nobody"},
    )
    assert unknown.status_code == 400 and "not admitted" in unknown.get_data(as_text=True)
    api = world.client().get(f"/v1/allegations/{ident}", headers=world.auth("party:cbp"))
    assert api.get_json()["links"] == []
    done = cbp.post(
        path + "/links", data={"csrf": csrf_of(cbp, path), "kind": "party", "value": "party:rival"}
    )
    assert done.status_code == 303 and done.headers["Location"] == path + "#links"
    links = world.client().get(
        f"/v1/allegations/{ident}", headers=world.auth("party:cbp")
    ).get_json()["links"]
    assert [(k["kind"], k["value"], k["linked_by"]) for k in links] == [
        ("party", "party:rival", "party:cbp")
    ]
    page = cbp.get(path).get_data(as_text=True)
    impact = page.split('id="impact"')[1]
    assert "GLX-7654321-0" in impact and "ACM-1234567-8" not in impact
    assert "Linked" in page
    assert "Linked" in cbp.get("/allegations").get_data(as_text=True)


def test_shipments_show_their_enforcement_status_and_history(world: World) -> None:
    cbp = signed_in(world, "party:cbp")
    listing = cbp.get("/shipments").get_data(as_text=True)
    badges = dict(re.findall(
        r">([A-Z]{3}-[0-9]{7}-[0-9])</a>.*?badge enf-([a-z-]+)", listing, flags=re.S
    ))
    assert badges == {"ACM-1234567-8": "submitted", "GLX-7654321-0": "excluded"}
    for status in ("excluded", "submitted", "none"):
        api = world.client().get(
            f"/v1/shipments?enforcement={status}", headers=world.auth("party:cbp")
        ).get_json()
        page = cbp.get(f"/shipments?enforcement={status}").get_data(as_text=True)
        shown = set(re.findall(r">([A-Z]{3}-[0-9]{7}-[0-9])</a>", page))
        assert shown == {s["entry_number"] for s in api["shipments"]}, status
    page = " ".join(cbp.get("/shipments/GLX-7654321-0").get_data(as_text=True).split())
    history = page.split('id="enforcement-history"')[1].split("</ol>")[0]
    assert "2025-02-26</strong>: CBP detained the shipment under" in history
    assert "Reason: Cotton produced in the XUAR" in history
    assert "2025-02-28</strong>: CBP decided: excluded" in history
    assert history.count("legal basis: wro-2021-01-13-xinjiang-cotton-tomato") == 2
    assert history.count("signed by U.S. Customs and Border Protection (party:cbp)") == 2
    assert "Withhold Release Order" in page and "statistics count it as <strong>denied" in page
    # the importer of record reads CBP's steps on its own shipment, and its own answer
    acme = signed_in(world, "party:acme")
    own = " ".join(acme.get("/shipments/ACM-1234567-8").get_data(as_text=True).split())
    assert "badge enf-submitted" in own
    assert "The importer submitted applicability review" in own
    assert "signed by Acme Apparel Inc. (party:acme)" in own
    assert "UFLPA rebuttable presumption" in own


def test_the_new_forms_are_labelled(world: World) -> None:
    client = signed_in(world, "party:cbp")
    for path in ("/metrics", f"/allegations/{world.ids['allegation']}", "/shipments"):
        parser = _Form()
        parser.feed(client.get(path).get_data(as_text=True))
        unlabelled = [f for f in parser.fields if f not in parser.labels]
        assert parser.fields and not unlabelled, (path, unlabelled)
