"""``lotchain demo``: build the demo ledger, verify its shipments, serve it with a guide."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ledger.cli.common import Options, get_passphrase, home_options
from ledger.cli.main import cli
from ledger.demo import SCREENING_EXCERPT, WRO_EXCERPT, build_demo
from ledger.errors import ConfigError, UsageError
from ledger.home import init_home
from ledger.keys import load_private_key
from ledger.lists import record_version
from ledger.scenario import Scenario
from ledger.screening import record_list
from ledger.tokens import TokenStore
from ledger.verify import verify_shipment_online

SHARED_LIST = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "uflpa-entity-list.csv"
)
#: The WRO/Findings list vendored with the project (U.S. Government data, see data/).
WRO_LIST = Path(__file__).resolve().parents[2] / "data" / "wro-findings.csv"


def _screening_list(path: Path | None) -> tuple[bytes, str]:
    """The UFLPA Entity List: the given file, the shared copy, or the demo's excerpt."""
    for candidate in (path, SHARED_LIST):
        if candidate is not None and candidate.is_file():
            return candidate.read_bytes(), candidate.name
    if path is not None:
        raise UsageError(f"no screening list at {path}")
    return SCREENING_EXCERPT.encode(), "uflpa-entity-list-excerpt.csv"


def _wro_list() -> tuple[bytes, str]:
    """CBP's WRO/Findings list: the project's data/ copy, else the demo's excerpt."""
    if WRO_LIST.is_file():
        return WRO_LIST.read_bytes(), WRO_LIST.name
    return WRO_EXCERPT.encode(), "wro-findings-excerpt.csv"


def _fresh(home: Path) -> None:
    if not home.exists():
        return
    if not (home / "config.json").is_file():
        raise UsageError(f"{home} exists and is not a lotchain home; refusing to delete it")
    shutil.rmtree(home)


def build(home: Path, passphrase: bytes, screening: Path | None) -> dict[str, Any]:
    """Create the demo home and return its summary (shipments with verdicts, tokens)."""
    now = datetime.now(UTC)
    init_home(home, passphrase, now=now, origin="demo.lotchain.example/log")
    from ledger.home import Home

    install = Home(home)
    ledger = install.open_ledger(passphrase)
    try:
        registrar = load_private_key(install.registrar_key_path, passphrase)
        scenario = Scenario(ledger, "party:registrar", {"party:registrar": registrar})
        demo = build_demo(scenario, now)
        data, source = _screening_list(screening)
        listed, _ = record_list(
            ledger.store, data, name="uflpa-entity-list", source=source, now=now
        )
        wro_data, wro_source = _wro_list()
        orders, _ = record_version(
            ledger.store, wro_data, kind="wro", name="wro-findings", source=wro_source, now=now
        )
        for shipment in demo.shipments:
            verdict = verify_shipment_online(ledger, shipment["id"])
            shipment["status"] = verdict.status
            shipment["codes"] = sorted({f.code for f in verdict.findings})
        tokens = TokenStore(ledger.store)
        cbp = tokens.issue("party:us-cbp", now=now, label="demo: CBP")
        importer = tokens.issue("party:acme-apparel", now=now, label="demo: Acme Apparel")
        return {
            "home": str(home),
            "size": ledger.size(),
            "checkpoint": ledger.checkpoint().note.decode(),
            "screening_list": {
                "name": listed.name,
                "sha256": listed.sha256,
                "listings": len(listed.listings),
            },
            "wro_list": {
                "name": orders.name,
                "sha256": orders.sha256,
                "orders": orders.summary()["listings"],
            },
            "shipments": demo.shipments,
            "refused_at_append": demo.refused,
            "parties": demo.parties,
            "tokens": {"cbp": cbp.token, "importer": importer.token},
        }
    finally:
        ledger.store.close()


def guide(summary: dict[str, Any], url: str) -> str:
    """A short, pasteable tour of the served demo ledger."""
    cbp = summary["tokens"]["cbp"]
    me = sys.argv[0] if Path(sys.argv[0]).name == "lotchain" else "lotchain"
    lines = [
        f"lotchain demo ledger: {summary['size']} entries in {summary['home']}",
        "",
        "Shipments (verified now):",
    ]
    for s in summary["shipments"]:
        codes = f"  [{', '.join(s['codes'])}]" if s["codes"] else ""
        lines.append(f"  {s['status']:<6} {s['entry_number']}  {s['label']}{codes}")
    for refused in summary["refused_at_append"]:
        lines.append(f"  refused at append: {refused['what']} [{refused['code']}]")
    first = summary["shipments"][0]
    failing = next(s for s in summary["shipments"] if s["status"] == "fail")
    lines += [
        "",
        f"API:        {url}   (OpenAPI document: {url}/openapi.json)",
        f"CBP token:  {cbp}",
        "",
        "Try:",
        f"  curl -s {url}/v1/checkpoint",
        f"  curl -s {url}/v1/parties",
        f"  curl -s -H 'Authorization: Bearer {cbp}' {url}/v1/shipments",
        f"  curl -s -H 'Authorization: Bearer {cbp}' "
        f"{url}/v1/shipments/{failing['entry_number']}/verification",
        f"  curl -s -H 'Authorization: Bearer {cbp}' '{url}/v1/impact?region=CN-XJ'",
        f"  curl -s -H 'Authorization: Bearer {cbp}' "
        f"{url}/v1/shipments/{first['entry_number']}/bundle -o bundle.json",
        f"  {me} verify bundle bundle.json --trust-root {summary['home']}/keys/trust-root.json",
        f"  {me} verify shipment {failing['entry_number']} --remote {url} --token {cbp} "
        f"--home {summary['home']}",
        f"  {me} checkpoint --remote {url} --home {summary['home']} --remember",
        f"  {me} audit --home {summary['home']}",
    ]
    return "\n".join(lines)


@cli.command()
@home_options
@click.option(
    "--fresh",
    is_flag=True,
    help="Delete an existing demo home first (only if it is a lotchain home).",
)
@click.option(
    "--serve/--no-serve",
    "do_serve",
    default=True,
    show_default=True,
    help="Serve the ledger after building it.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to serve on.",
)
@click.option(
    "--screening-list",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="UFLPA Entity List CSV (default: ../shared/data/uflpa-entity-list.csv, "
    "else a built-in excerpt).",
)
def demo(
    opts: Options, fresh: bool, do_serve: bool, host: str, port: int, screening_list: Path | None
) -> None:
    """Build a realistic demo ledger in --home and serve it on http://127.0.0.1:8080.

    Cotton apparel and polysilicon solar chains across eight countries, with
    registrars, suppliers, accredited auditors and certificates, importers and CBP.
    Some shipments pass, one needs review, some fail; a double spend is refused at
    append. Prints the verdicts, a CBP token and example commands.
    """
    if fresh:
        _fresh(opts.home)
    elif (opts.home / "config.json").exists():
        raise ConfigError(f"{opts.home} already holds a ledger; use --fresh to rebuild it")
    passphrase = get_passphrase("Passphrase for the demo keys", confirm=True)
    summary = build(opts.home, passphrase, screening_list)
    url = f"http://{host}:{port}"
    if opts.json:
        click.echo(json.dumps(summary | {"url": url}))
    else:
        click.echo(guide(summary, url))
    if do_serve:
        from api.serve import serve

        if not opts.json:
            click.echo(f"\nserving on {url} (Ctrl-C to stop)", err=True)
        serve(opts.home, host, port, passphrase=passphrase, db=opts.db)
