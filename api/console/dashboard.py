"""CBP's metrics dashboard: the figures of ``lotchain report metrics`` drawn as bar charts.

Every number comes from :func:`ledger.metrics.report`, the one computation behind the
CLI's report and ``GET /v1/reports/metrics``; this module only lays the figures out as
server-rendered SVG (bars with their labels and values written out) beside a table of
the same figures. Only CBP sees the page; to anyone else it is "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask import Response, redirect, render_template, request, url_for

from api import params
from api.access import state
from api.console.base import bp, cbp_only
from api.queries import sql_store
from ledger import metrics
from ledger.errors import LedgerError, MalformedError

PERIODS = ("fiscal-year", "quarter", "month")
MEASURES = ("shipments", "value")
#: The dashboard's charts: (dimension, heading); the period chart uses the chosen period.
CHARTS = (
    ("period", "By period of entry"),
    ("country", "By country of origin"),
    ("industry", "By industry (HS section)"),
    ("status", "By enforcement status"),
    ("legal-basis", "By legal basis of the detention"),
)
FIELDS = ("period", "from", "to", "measure")
PERIOD_WORDS = {"fiscal-year": "fiscal year", "quarter": "fiscal quarter", "month": "month"}

# The chart's geometry (SVG user units; the picture scales to the page's width).
WIDTH = 480
BAR_SPACE = WIDTH  # the longest bar; the label and figures are written above each bar
ROW = 46
BAR_HEIGHT = 18
LABEL_CHARS = 34  # longer labels are cut in the picture (whole in its table and tooltip)


@dataclass(frozen=True)
class Segment:
    """One coloured part of a bar."""

    css: str
    x: float
    width: float
    words: str


@dataclass(frozen=True)
class Bar:
    """One group of a chart: its label, its bar's segments and its figures in words."""

    label: str
    short: str
    y: int
    segments: tuple[Segment, ...]
    end: float
    figures: str


def _micro(usd: str) -> int:
    return int(Decimal(usd) * metrics.MICRO)


@bp.app_template_filter("usd")
def _money(usd: str) -> str:
    """``$1,234,567.00`` from the report's exact decimal text."""
    return f"${Decimal(usd):,.2f}"


def _label(by: str, group: dict[str, Any]) -> str:
    key = str(group[by])
    if by == "industry":
        return f"{key}: {group.get('title', '')}"
    if by in ("status", "legal-basis") and key == "none":
        return "never detained"
    return key


def _segments(group: dict[str, Any], measure: str) -> list[tuple[str, int, str]]:
    """(css class, size, words) of each part of a bar, before scaling."""
    if measure == "value":
        stopped = _micro(group["value_stopped_usd"])
        rest = _micro(group["value_usd"]) - stopped
        return [
            ("seg-stopped", stopped, f"{_money(group['value_stopped_usd'])} stopped"),
            ("seg-rest", rest, "not stopped"),
        ]
    rest = int(group["shipments"]) - int(group["stopped"])
    return [
        ("seg-released", int(group["released"]), f"{group['released']} released"),
        ("seg-denied", int(group["denied"]), f"{group['denied']} denied"),
        ("seg-pending", int(group["pending"]), f"{group['pending']} pending"),
        ("seg-rest", rest, f"{rest} not stopped"),
    ]


def chart(report: dict[str, Any], measure: str) -> list[Bar]:
    """The bars of one report: each group's length by ``measure``, split by CBP's result."""
    by = report["query"]["by"]
    groups: list[dict[str, Any]] = report["groups"]

    def size(group: dict[str, Any]) -> int:
        return _micro(group["value_usd"]) if measure == "value" else int(group["shipments"])

    largest = max((size(g) for g in groups), default=0)
    scale = BAR_SPACE / largest if largest else 0.0
    bars = []
    for i, group in enumerate(groups):
        x = 0.0
        parts = []
        for css, amount, words in _segments(group, measure):
            if amount > 0:
                width = round(amount * scale, 2)
                parts.append(Segment(css, round(x, 2), width, words))
                x += width
        if measure == "value":
            figures = f"{_money(group['value_usd'])}, {_money(group['value_stopped_usd'])} stopped"
        else:
            n = int(group["shipments"])
            figures = f"{n} shipment{'' if n == 1 else 's'}, {group['stopped']} stopped"
        label = _label(by, group)
        short = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "\u2026"
        bars.append(Bar(label, short, i * ROW, tuple(parts), round(x, 2), figures))
    return bars


def _reports(period: str, date_from: str | None, date_to: str | None) -> list[dict[str, Any]]:
    store = sql_store(state().ledger)
    out = []
    for dimension, heading in CHARTS:
        by = period if dimension == "period" else dimension
        report = metrics.report(store, by, date_from, date_to)
        out.append({"by": by, "heading": heading, "report": report})
    return out


@bp.get("/metrics")
def dashboard() -> Response | tuple[str, int]:
    """The dashboard: the period, dates and measure come from a GET form, as the API's query."""
    cbp_only()
    given = {k: v for k, v in request.args.items(multi=False)}
    if any(v == "" for v in given.values()):  # an empty form field is no filter
        kept = {k: v for k, v in given.items() if v != ""}
        return redirect(url_for("console.dashboard") + ("?" + urlencode(kept) if kept else ""))  # type: ignore[return-value]
    error = None
    charts: list[dict[str, Any]] = []
    period, measure = "fiscal-year", "shipments"
    try:
        unknown = sorted(set(given) - set(FIELDS))
        if unknown:
            raise MalformedError(f"unknown filter {unknown[0]!r}")
        period = params.choice("period", PERIODS) or period
        measure = params.choice("measure", MEASURES) or measure
        date_from, date_to = params.date("from"), params.date("to")
        if date_from and date_to and date_from > date_to:
            raise MalformedError("the 'from' date is after the 'to' date")
        charts = _reports(period, date_from, date_to)
    except LedgerError as e:
        error = e.message
    for item in charts:
        item["bars"] = chart(item["report"], measure)
        item["height"] = max(1, len(item["bars"])) * ROW
    total = charts[0]["report"]["total"] if charts else None
    return render_template(
        "metrics.html", charts=charts, total=total, filters=given, error=error,
        period=period, measure=measure, periods=PERIODS, period_words=PERIOD_WORDS,
        columns=metrics.COLUMNS, width=WIDTH, bar_space=BAR_SPACE, bar_height=BAR_HEIGHT,
    ), (400 if error else 200)
