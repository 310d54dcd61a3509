"""Enforcement metrics, after CBP's UFLPA statistics: shipments and value by dimension.

Each shipment gets one summary row when it is appended (same transaction): its entry
date and U.S. fiscal period, country of origin, HS heading and section of its principal
line (the line of highest declared value, the first on a tie), and declared value. Its
enforcement status comes from the enforcement steps. A report groups those rows; it
never re-verifies a chain, so the verdict is not a dimension.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from ledger.errors import ConfigError

DIMENSIONS = (
    "month",
    "quarter",
    "fiscal-year",
    "country",
    "industry",
    "hs4",
    "status",
    "legal-basis",
)
FORMATS = ("table", "csv", "json")
MICRO = Decimal(1_000_000)
#: CBP's exam results (uflpa-statistics.md): stopped = released + denied + pending.
RESULTS = ("released", "denied", "pending")
DENIED = ("excluded", "seized", "re-exported")
PENDING = ("detained", "submitted")


@dataclass(frozen=True)
class MetricRow:
    """The summary row of one shipment."""

    shipment: str
    importer: str
    entry_date: str
    month: str  # 2025-03
    quarter: str  # FY2025-Q2 (U.S. fiscal quarters: Q1 is October to December)
    fiscal_year: str  # FY2025 (October 2024 to September 2025)
    country: str
    hs4: str
    section: str
    value_micro: int  # declared value in millionths of a U.S. dollar


def fiscal_year(day: date) -> int:
    """The U.S. Government fiscal year: October to September, named by its end."""
    return day.year + 1 if day.month >= 10 else day.year


def fiscal_quarter(day: date) -> int:
    return (day.month - 10) % 12 // 3 + 1


@cache
def _sections() -> list[tuple[int, int, str]]:
    raw = resources.files("ledger.rules").joinpath("hs-sections.json").read_bytes()
    data = json.loads(raw)
    return [(s["chapters"][0], s["chapters"][1], s["section"]) for s in data["sections"]]


@cache
def section_titles() -> dict[str, str]:
    raw = resources.files("ledger.rules").joinpath("hs-sections.json").read_bytes()
    return {s["section"]: s["title"] for s in json.loads(raw)["sections"]}


def hs_section(hts_code: str) -> str:
    """The HS section of an HTS code (``6109.10.0012`` -> ``XI``); ``?`` when unknown."""
    digits = hts_code.replace(".", "")
    chapter = int(digits[:2]) if digits[:2].isdigit() else -1
    return next((s for lo, hi, s in _sections() if lo <= chapter <= hi), "?")


def metric_row(shipment: str, importer: str, body: dict[str, Any]) -> MetricRow:
    lines = body["hts_lines"]
    values = [Decimal(line.get("value_usd", "0")) for line in lines]
    principal = lines[values.index(max(values))]
    day = date.fromisoformat(body["arrival_date"])
    fy = fiscal_year(day)
    code = principal["hts_code"]
    return MetricRow(
        shipment=shipment,
        importer=importer,
        entry_date=body["arrival_date"],
        month=body["arrival_date"][:7],
        quarter=f"FY{fy}-Q{fiscal_quarter(day)}",
        fiscal_year=f"FY{fy}",
        country=body["country_of_origin"],
        hs4=code.replace(".", "")[:4],
        section=hs_section(code),
        value_micro=int(sum(values, Decimal(0)) * MICRO),
    )


@dataclass(frozen=True)
class Group:
    """One line of a report: a dimension's value and what falls in it."""

    key: str
    shipments: int
    value_micro: int
    stopped: int
    released: int
    denied: int
    pending: int
    value_stopped_micro: int


def _usd(micro: int) -> str:
    return str((Decimal(micro) / MICRO).quantize(Decimal("0.01")))


def report(
    store: object, by: str, date_from: str | None = None, date_to: str | None = None
) -> dict[str, Any]:
    """The metrics report of a SQL store: the one computation behind the CLI, the API
    and the console's dashboard (``store.metric_groups``, then :func:`report_json`)."""
    groups_of = getattr(store, "metric_groups", None)
    if groups_of is None:
        raise ConfigError("metrics need the SQL store (SQLite or PostgreSQL)")
    query = {k: v for k, v in (("from", date_from), ("to", date_to)) if v is not None}
    groups: list[Group] = groups_of(by, date_from, date_to)
    return report_json(by, groups, query)


def report_json(by: str, groups: list[Group], query: dict[str, Any]) -> dict[str, Any]:
    total = Group(
        "total",
        *(sum(getattr(g, f) for g in groups) for f in Group.__dataclass_fields__ if f != "key"),
    )
    rows = []
    for g in [*groups, total]:
        item: dict[str, Any] = {
            by if g is not total else "total": g.key,
            "shipments": g.shipments,
            "value_usd": _usd(g.value_micro),
            "stopped": g.stopped,
            "value_stopped_usd": _usd(g.value_stopped_micro),
            "released": g.released,
            "denied": g.denied,
            "pending": g.pending,
        }
        if by == "industry" and g is not total:
            item["title"] = section_titles().get(g.key, "unknown")
        rows.append(item)
    return {"query": {"by": by, **query}, "groups": rows[:-1], "total": rows[-1]}


COLUMNS = (
    "shipments",
    "value_usd",
    "stopped",
    "value_stopped_usd",
    "released",
    "denied",
    "pending",
)


def render(report: dict[str, Any], fmt: str) -> str:
    """The report as a table or CSV (JSON is :func:`report_json` itself)."""
    by = report["query"]["by"]
    rows = [[str(g[by]), *(str(g[c]) for c in COLUMNS)] for g in report["groups"]]
    rows.append(["total", *(str(report["total"][c]) for c in COLUMNS)])
    head = [by, *COLUMNS]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(head)
        writer.writerows(rows)
        return out.getvalue().rstrip("\n")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [head, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
