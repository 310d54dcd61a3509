"""``lotchain demo``: build the demo ledger, verify its shipments, serve it with a guide."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from ledger import enforcement
from ledger.allegation import parse_allegation
from ledger.cli.common import (
    Options,
    check_passphrase,
    check_port_free,
    get_passphrase,
    home_options,
    port_in_use_as_usage_error,
)
from ledger.cli.main import cli
from ledger.demo import build_demo
from ledger.demo.enforcement import add_enforcement
from ledger.errors import ConfigError, UsageError
from ledger.home import Home, init_home
from ledger.keys import load_private_key
from ledger.lists import record_version
from ledger.orders import read_orders_file
from ledger.scenario import Scenario
from ledger.screening import read_list_file, record_list
from ledger.storage import open_store
from ledger.storage.allegations import AllegationStore
from ledger.storage.base import display_url
from ledger.tokens import TokenStore
from ledger.verify import verify_shipment_online

#: The project's copy of the UFLPA Entity List (data/README.md).
ENTITY_LIST = Path(__file__).resolve().parents[2] / "data" / "uflpa-entity-list.csv"
#: The project's copy of CBP's Withhold Release Orders and Findings (data/README.md).
WRO_LIST = Path(__file__).resolve().parents[2] / "data" / "wro-findings.csv"

#: An anonymous allegation about the demo's Xinjiang grower, as a member of the public
#: would send it; CBP links it to the grower, and ``impact`` finds the shipment.
DEMO_ALLEGATION: dict[str, Any] = {
    "v": 1,
    "alleged": [
        {
            "name": "Aksu Prefecture Agricultural Cooperative",
            "role": "producer",
            "country": "CN",
            "address": {"locality": "Aksu", "region": "CN-XJ", "country": "CN"},
        }
    ],
    "merchandise": {
        "description": "Raw cotton lint, exported to the United States",
        "hs_codes": ["5201.00"],
    },
    "production": {"country": "CN", "region": "CN-XJ", "facility": "Aksu Cotton Fields"},
    "indicators": ["restriction-of-movement", "withholding-of-wages", "intimidation-and-threats"],
    "period": {"from": "2024-09-01", "to": "2024-10-31"},
    "statement": "Seasonal pickers were brought to the Aksu fields under a government labour "
    "transfer programme, housed in guarded dormitories, and told that leaving early would be "
    "reported to their home villages; wages were paid only after the harvest.",
}


def _allegation(ledger: Any, home: Path) -> dict[str, Any]:
    """Submit the demo allegation and link it, as CBP would, to the grower it names; the
    allegation and its receipt are left in the home, as the submitter would keep them."""
    store = AllegationStore(ledger)
    data = json.dumps(DEMO_ALLEGATION, indent=2).encode("utf-8")
    receipt = store.submit(parse_allegation(data))
    (home / "allegation.json").write_bytes(data)
    (home / "allegation-receipt.json").write_text(
        json.dumps(receipt.to_json(), indent=2) + "\n", encoding="utf-8"
    )
    store.link(
        receipt.allegation, "party", "party:aksu-agri", by="party:us-cbp", now=receipt.received_at
    )
    return {
        "id": receipt.allegation,
        "index": receipt.entry.index,
        "impact": [s["entry_number"] for s in store.impact(receipt.allegation)],
    }


#: Written into every home ``demo`` creates: ``--fresh`` deletes only a folder holding it.
MARKER = ".lotchain-demo"


@dataclass(frozen=True)
class Plan:
    """Every input of ``demo``, checked before anything on disk is touched."""

    home: Path
    delete_first: bool
    passphrase: bytes
    screening: bytes
    screening_source: str
    orders: bytes
    db: str | None


def _screening_list(path: Path | None) -> tuple[bytes, str]:
    """The UFLPA Entity List given, else the project's copy; parsed here so a bad file is
    refused before the disk is touched."""
    source = path or ENTITY_LIST
    if path is None and not source.is_file():
        raise ConfigError(
            f"the UFLPA Entity List is not at {ENTITY_LIST}; give one with --screening-list FILE"
        )
    data = read_list_file(source, name="uflpa-entity-list", loaded_at=datetime.now(UTC)).data
    return data, source.name


def _wro_list() -> bytes:
    """The project's copy of CBP's WRO/Findings list, parsed before the disk is touched."""
    if not WRO_LIST.is_file():
        raise ConfigError(f"CBP's WRO/Findings list is not at {WRO_LIST}")
    return read_orders_file(WRO_LIST, name="wro-findings", loaded_at=datetime.now(UTC)).data


def _home_to_replace(home: Path, fresh: bool, named_on_command_line: bool) -> bool:
    """Whether ``home`` is to be deleted first; refuses anything but an empty folder or,
    with ``--fresh``, a folder ``demo`` created itself."""
    if fresh and not named_on_command_line:
        raise UsageError(
            "--fresh deletes only a demo folder named with --home on the command line, never "
            f"the LOTCHAIN_HOME or default folder ({home}); run: lotchain demo --home DIR --fresh"
        )
    if home.is_symlink() or (home.exists() and not home.is_dir()):
        raise UsageError(f"{home} is not a folder; give a new folder with --home")
    if not home.exists() or not any(home.iterdir()):
        return False
    if not fresh:
        raise ConfigError(
            f"{home} already holds files; give a new folder with --home, "
            "or add --fresh to rebuild a home the demo created"
        )
    marker = home / MARKER
    if not marker.is_file() or marker.is_symlink():
        raise UsageError(
            f"{home} was not created by lotchain demo (no {MARKER} in it); --fresh deletes "
            "only demo homes: delete it yourself or give another --home"
        )
    return True


def _demo_database(db: str | None) -> str | None:
    """The database to build on, which must hold no log yet (``--fresh`` never empties one)."""
    if db is None:
        return None
    if "://" not in db:  # a SQLite file: absolute, so the home's config finds it again
        path = Path(db).expanduser().resolve()
        if path.is_dir():
            raise UsageError(f"--db {db} is a folder, not a database file")
        if not path.exists():
            return str(path)
        db = str(path)
    store = open_store(db)
    try:
        size = store.size()
    finally:
        store.close()
    if size:
        raise UsageError(
            f"the database given with --db already holds a log of {size} entries; the demo "
            "builds only on an empty database and never empties one"
        )
    return db


def plan(
    home: Path,
    *,
    fresh: bool,
    named_on_command_line: bool,
    db: str | None,
    screening: Path | None,
    serve_on: tuple[str, int] | None,
) -> Plan:
    """Check every input, in the order a user fixes them; nothing is written."""
    delete_first = _home_to_replace(home, fresh, named_on_command_line)
    data, source = _screening_list(screening)
    orders = _wro_list()
    if serve_on is not None:
        check_port_free(*serve_on)
    database = _demo_database(db)
    passphrase = get_passphrase("Passphrase for the demo keys", confirm=True)
    check_passphrase(passphrase)
    return Plan(home, delete_first, passphrase, data, source, orders, database)


def _create_home(home: Path, delete_first: bool) -> None:
    if delete_first:
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    (home / MARKER).write_text(
        f"Created by lotchain demo on {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}. "
        "`lotchain demo --home THIS-FOLDER --fresh` may delete this folder; "
        "remove this file to protect it.\n",
        encoding="utf-8",
    )


def build(checked: Plan) -> dict[str, Any]:
    """Create the demo home and return its summary (shipments with verdicts, tokens)."""
    home, passphrase = checked.home, checked.passphrase
    now = datetime.now(UTC)
    _create_home(home, checked.delete_first)
    init_home(home, passphrase, now=now, origin="demo.lotchain.example/log", db=checked.db)
    install = Home(home)
    ledger = install.open_ledger(passphrase)
    try:
        registrar = load_private_key(install.registrar_key_path, passphrase)
        scenario = Scenario(ledger, "party:registrar", {"party:registrar": registrar})
        demo = build_demo(scenario, now)
        listed, _ = record_list(
            ledger.store,
            checked.screening,
            name="uflpa-entity-list",
            source=checked.screening_source,
            now=now,
        )
        wro, _ = record_version(
            ledger.store, checked.orders, kind="wro", name="wro-findings",
            source=WRO_LIST.name, now=now,
        )
        for shipment in demo.shipments:
            verdict = verify_shipment_online(ledger, shipment["id"])
            shipment["status"] = verdict.status
            shipment["codes"] = sorted({f.code for f in verdict.findings})
        allegation = _allegation(ledger, home)
        enforced = add_enforcement(scenario, demo.shipments, home, now)
        for item in enforced:
            steps = ledger.store.enforcement(
                next(s["id"] for s in demo.shipments if s["label"] == item["label"])
            )
            item["status"] = enforcement.status(steps)
            item["history"] = [f"{s.kind} {s.on}" for s in steps]
        tokens = TokenStore(ledger.store)
        cbp = tokens.issue("party:us-cbp", now=now, label="demo: CBP")
        importer = tokens.issue("party:acme-apparel", now=now, label="demo: Acme Apparel")
        return {
            "home": str(home),
            "database": display_url(install.db_url()),
            "size": ledger.size(),
            "checkpoint": ledger.checkpoint().note.decode(),
            "screening_list": {
                "name": listed.name,
                "sha256": listed.sha256,
                "listings": len(listed.listings),
            },
            "wro_list": {
                "name": wro.name,
                "sha256": wro.sha256,
                "orders": wro.summary()["listings"],
            },
            "shipments": demo.shipments,
            "refused_at_append": demo.refused,
            "enforcement": enforced,
            "parties": demo.parties,
            "allegation": allegation,
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
    if summary.get("enforcement"):
        lines += ["", "Enforcement (detention to determination):"]
    for e in summary.get("enforcement", []):
        lines.append(
            f"  {e['status']:<9} {e['entry_number']}  under {e['basis']}: "
            + ", then ".join(e["history"])
        )
    first = summary["shipments"][0]
    failing = next(s for s in summary["shipments"] if s["status"] == "fail")
    lines += [
        "",
        f"Console:    {url}/   (sign in at {url}/signin: paste the CBP token below;",
        "            a token is typed into the sign-in form, never put in a URL)",
        f"API:        {url}   (OpenAPI document: {url}/openapi.json)",
        f"CBP token:  {cbp}",
        f"Importer:   {summary['tokens']['importer']}   (Acme Apparel, to compare)",
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
    allegation = summary.get("allegation")
    if allegation is not None:
        receipt = f"{summary['home']}/allegation-receipt.json"
        lines += [
            "",
            f"Allegation {allegation['id']} (anonymous; its salted hash is log entry "
            f"{allegation['index']}), linked by CBP to party:aksu-agri; it touches: "
            + (", ".join(allegation["impact"]) or "no shipment"),
            f"  curl -s -H 'Authorization: Bearer {cbp}' {url}/v1/allegations",
            f"  curl -s -H 'Authorization: Bearer {cbp}' '{url}/v1/impact?allegation="
            f"{allegation['id']}'",
            f"  {me} allegation verify {receipt} --allegation {summary['home']}/allegation.json "
            f"--trust-root {summary['home']}/keys/trust-root.json",
            f"  {me} allegation submit --remote {url} --name 'Some Producer Ltd.' "
            "--merchandise 'polysilicon' --region CN-XJ --indicator debt-bondage "
            "--statement 'Workers repay recruitment debts from their wages.' "
            "--receipt my-receipt.json",
        ]
    held = [e for e in summary.get("enforcement", []) if e.get("bundle")]
    if held:
        e = held[0]
        lines += [
            f"  curl -s -H 'Authorization: Bearer {cbp}' '{url}/v1/shipments?enforcement=released'",
            f"  {me} enforcement status {e['entry_number']} --home {summary['home']}",
            f"  {me} enforcement check-bundle {e['entry_number']} --bundle {e['bundle']} "
            f"--home {summary['home']}",
            f"  {me} report metrics --by status --home {summary['home']}",
            f"  curl -s -H 'Authorization: Bearer {cbp}' '{url}/v1/reports/metrics?by=fiscal-year'",
        ]
    return "\n".join(lines)


@cli.command()
@home_options
@click.option(
    "--fresh",
    is_flag=True,
    help=f"Delete the --home folder first, only if demo created it (it holds {MARKER}); "
    "never LOTCHAIN_HOME, never a database given with --db.",
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
    help="UFLPA Entity List CSV (default: the project's data/uflpa-entity-list.csv).",
)
def demo(
    opts: Options, fresh: bool, do_serve: bool, host: str, port: int, screening_list: Path | None
) -> None:
    """Build a realistic demo ledger in --home and serve it on http://127.0.0.1:8080.

    Cotton apparel and polysilicon solar chains across eight countries, with
    registrars, suppliers, accredited auditors and certificates, importers and CBP.
    Some shipments pass, one needs review, some fail; a double spend is refused at
    append. Prints the verdicts, a CBP token and example commands. With --db it builds
    on that database (a SQLite file or a postgresql:// URL), which must hold no log yet.
    Every input is checked before anything is written.
    """
    source = click.get_current_context().get_parameter_source("home")
    checked = plan(
        opts.home,
        fresh=fresh,
        named_on_command_line=source is ParameterSource.COMMANDLINE,
        db=opts.db,
        screening=screening_list,
        serve_on=(host, port) if do_serve else None,
    )
    summary = build(checked)
    url = f"http://{host}:{port}"
    if opts.json:
        click.echo(json.dumps(summary | {"url": url}))
    else:
        click.echo(guide(summary, url))
    if do_serve:
        from api.serve import serve

        if not opts.json:
            click.echo(f"\nserving on {url} (Ctrl-C to stop)", err=True)
        with port_in_use_as_usage_error(host, port):
            serve(opts.home, host, port, passphrase=checked.passphrase, db=checked.db)
