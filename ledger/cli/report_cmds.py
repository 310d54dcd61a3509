"""``lotchain report metrics``: shipments and value by period, country, industry, status."""

from __future__ import annotations

import json
from typing import Any

import click

from ledger import metrics
from ledger.cli.common import Options, home_options, remote_options
from ledger.cli.main import cli
from ledger.encoding import parse_date


@cli.group()
def report() -> None:
    """Reports for CBP computed from the ledger."""


@report.command("metrics")
@home_options
@remote_options
@click.option("--from", "date_from", default=None, help="Entry (arrival) date on or after.")
@click.option("--to", "date_to", default=None, help="Entry (arrival) date on or before.")
@click.option(
    "--by",
    type=click.Choice(metrics.DIMENSIONS),
    default="fiscal-year",
    show_default=True,
    help="Group by U.S. fiscal period (October to September), country of origin, industry "
    "(HS section), HS heading, enforcement status or legal basis.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(metrics.FORMATS),
    default="table",
    show_default=True,
    help="Output format (--json is --format json).",
)
def report_metrics(
    opts: Options, date_from: str | None, date_to: str | None, by: str, fmt: str
) -> int:
    """Shipments and declared value, with CBP's released / denied / pending counts.

    \b
    Example:
      lotchain report metrics --from 2024-10-01 --to 2025-09-30 --by country --format csv
    """
    for name, given in (("--from", date_from), ("--to", date_to)):
        if given is not None:
            parse_date(given, what=name)
    if opts.remote:
        from ledger.client import Client

        query = {k: v for k, v in (("by", by), ("from", date_from), ("to", date_to)) if v}
        value: dict[str, Any] = Client(opts.remote, token=opts.token).get_json(
            "/v1/reports/metrics", **query
        )
    else:
        ledger = opts.ledger()
        try:
            value = metrics.report(ledger.store, by, date_from, date_to)
        finally:
            ledger.store.close()
    if opts.json or fmt == "json":
        click.echo(json.dumps(value))
    else:
        click.echo(metrics.render(value, fmt))
    return 0
