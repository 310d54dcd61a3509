"""Commands that judge shipments: ``verify shipment|bundle``, ``screening``, ``impact``.

``verify`` exits 0 on pass, 3 on review and 1 on fail, so scripts and CI can branch on
the verdict; bad input exits 2, no verdict (could not complete) 4. With ``--remote`` a
shipment is verified from the server's evidence bundle against the local trust root: the
server's own verdict is never taken on trust.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ledger.cli.common import Options, emit, home_options, read_input, remote_options
from ledger.cli.main import cli
from ledger.errors import UsageError
from ledger.lists import KINDS, detect_kind, loaded_versions, read_file, record_version
from ledger.orders import OrderList
from ledger.trustroot import TrustRoot
from ledger.verify import (
    MAX_LIST_AGE_ENV,
    Verdict,
    build_bundle,
    impact,
    impacted_by_list,
    impacted_by_order_list,
    verify_bundle,
    verify_shipment_online,
    with_enforcement,
)
from ledger.verify.order_rules import MAX_AGE_DAYS
from ledger.verify.report import render

MAX_LIST_FILES = 16


def _now() -> datetime:
    return datetime.now(UTC)


def _show(opts_json: bool, verdict: Verdict) -> int:
    if opts_json:
        click.echo(json.dumps(verdict.to_json()))
    else:
        click.echo(render(verdict))
    return verdict.exit_code


def _write(path: Path, value: dict[str, Any]) -> None:
    text = json.dumps(value, indent=1, ensure_ascii=False) + "\n"
    if str(path) == "-":
        sys.stdout.write(text)
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from e


def max_list_age_option(fn: Any) -> Any:
    return click.option(
        "--max-list-age",
        "max_list_age",
        type=click.IntRange(0, MAX_AGE_DAYS),
        default=None,
        metavar="DAYS",
        help="Warn (SCREENING_MISSING) when the newest entity or WRO/Findings list applied "
        "was loaded more than DAYS before now (default: ledger/rules/screening.json, 30). "
        f"Env: {MAX_LIST_AGE_ENV}.",
    )(fn)


@cli.group("verify")
def verify_group() -> None:
    """Verify a shipment's whole upstream chain, online or from an evidence bundle.

    Exit status: 0 pass, 3 review (warnings only), 1 fail (any error), 2 bad input,
    4 could not complete (server, network or storage: no verdict).
    """


@verify_group.command("shipment")
@home_options
@remote_options
@click.argument("ref", metavar="ID_OR_ENTRY_NUMBER")
@click.option(
    "--bundle",
    "bundle_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the evidence bundle (everything needed to re-verify offline) to FILE.",
)
@click.option(
    "--multiproof",
    is_flag=True,
    help="With --bundle: prove all the bundle's leaves with one multi-proof instead of one "
    "inclusion proof each (a smaller bundle; `lotchain verify bundle` reads both).",
)
@click.option(
    "--trust-root",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --remote: the trust root to check the server's bundle against "
    "(default: the home's keys/trust-root.json).",
)
@max_list_age_option
def verify_shipment(
    opts: Options,
    ref: str,
    bundle_path: Path | None,
    multiproof: bool,
    trust_root: Path | None,
    max_list_age: int | None,
) -> int:
    """Verify the shipment REF (attestation id or CBP entry number) and print the verdict.

    The report shows the chain tier by tier (parties, countries, facilities, regions,
    certificates) and every finding with its rule code. Screening lists loaded with
    `lotchain screening load` are applied.
    """
    if opts.remote:
        from ledger.client import Client

        bundle = Client(opts.remote, token=opts.token).bundle(ref)
        trust = TrustRoot.load(trust_root) if trust_root else opts.install.trust_root()
        verdict = verify_bundle(
            json.dumps(bundle).encode("utf-8"), trust, max_list_age_days=max_list_age
        )
    else:
        ledger = opts.ledger()
        try:
            verdict = with_enforcement(
                ledger, verify_shipment_online(ledger, ref, max_list_age_days=max_list_age)
            )
            bundle = build_bundle(ledger, ref, multiproof=multiproof) if bundle_path else {}
        finally:
            ledger.store.close()
    if bundle_path:
        _write(bundle_path, bundle)
    return _show(opts.json, verdict)


@verify_group.command("bundle")
@click.argument("file", metavar="FILE")
@click.option(
    "--trust-root",
    required=True,
    envvar="LOTCHAIN_TRUST_ROOT",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The trust root given out of band (keys/trust-root.json). Env: LOTCHAIN_TRUST_ROOT.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
@max_list_age_option
def verify_bundle_cmd(file: str, trust_root: Path, as_json: bool, max_list_age: int | None) -> int:
    """Recompute the verdict of an evidence bundle FILE ('-' for stdin), offline.

    Checks the checkpoint signature against the trust root, every inclusion proof,
    prev link and envelope signature, then every rule, with no server and no database.
    The lists it carries are judged for age against the present time.
    """
    verdict = verify_bundle(
        read_input(file), TrustRoot.load(trust_root), max_list_age_days=max_list_age
    )
    return _show(as_json, verdict)


@cli.group("screening")
def screening_group() -> None:
    """Screening lists: entity lists (the UFLPA Entity List) and WRO/Findings lists."""


@screening_group.command("load")
@home_options
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--name", help="Name of the list (one FILE only; default: the file name without extension)."
)
@click.option(
    "--kind",
    type=click.Choice(["auto", *KINDS]),
    default="auto",
    show_default=True,
    help="entity: an entity list (name, aliases, effective_date...); wro: CBP's Withhold "
    "Release Orders and Findings (id, action, status, issued_on, producer, hs_prefixes...); "
    "auto: each file's kind read from its columns.",
)
@click.option(
    "--impact",
    "show_impact",
    is_flag=True,
    help="Also list the shipments this list now fails on their entry dates (entity: "
    "ENTITY_LISTED; wro: WRO or FINDING from orders new or changed since the previous "
    "version).",
)
def screening_load(
    opts: Options, files: tuple[Path, ...], name: str | None, kind: str, show_impact: bool
) -> None:
    """Record the lists in FILES (bytes, SHA-256, kind and load time) in the database.

    Verification then applies the latest version of every list loaded, and each verdict
    names the list versions it applied. Every file is read and checked before any is
    recorded.

    \b
    Example:
      lotchain screening load data/uflpa-entity-list.csv data/wro-findings.csv
    """
    if name is not None and len(files) > 1:
        raise UsageError("--name names one list; give one FILE with it")
    if len(files) > MAX_LIST_FILES:
        raise UsageError(f"at most {MAX_LIST_FILES} files in one call")
    now = _now()
    parsed = [
        read_file(f, kind=detect_kind(f) if kind == "auto" else kind, name=name, loaded_at=now)
        for f in files
    ]
    ledger = opts.ledger()
    try:
        shown = [_record(ledger, p, show_impact) for p in parsed]
    finally:
        ledger.store.close()
    if opts.json:
        emit(opts, shown[0][0] if len(shown) == 1 else [v for v, _ in shown])
    else:
        click.echo("\n".join(t for _, t in shown))


def _record(ledger: Any, parsed: Any, show_impact: bool) -> tuple[dict[str, Any], str]:
    kind = parsed.kind
    recorded, added = record_version(
        ledger.store,
        parsed.data,
        kind=kind,
        name=parsed.name,
        source=parsed.source,
        now=parsed.loaded_at,
    )
    failed = None
    if show_impact:
        failed = (
            impacted_by_order_list(ledger, recorded)
            if isinstance(recorded, OrderList)
            else impacted_by_list(ledger, recorded)
        )
    summary = recorded.summary()
    value: dict[str, Any] = {**summary, "added": added}
    text = (
        f"{'loaded' if added else 'already loaded'}: {recorded.name} ({recorded.kind}, "
        f"{summary['listings']} {'orders' if kind == 'wro' else 'listings'}) "
        f"sha256:{recorded.sha256}"
    )
    if failed is not None:
        value["impacted"] = failed
        text += (
            "".join(
                f"\n  now fails: {item['entry_number']} (entry date {item['entry_date']}) "
                f"{item['shipment']} ("
                + ", ".join(sorted({f["code"] for f in item["findings"]}))
                + f" x{len(item['findings'])})"
                for item in failed
            )
            or "\n  no shipment is affected"
        )
    return value, text


@screening_group.command("list")
@home_options
@click.option(
    "--all", "all_versions", is_flag=True, help="Show every version, not only the latest."
)
def screening_list(opts: Options, all_versions: bool) -> None:
    """Show the screening lists loaded (name, kind, listings, SHA-256, when loaded)."""
    ledger = opts.ledger()
    try:
        lists = loaded_versions(ledger.store, all_versions=all_versions)
    finally:
        ledger.store.close()
    items = [s.summary() for s in lists]
    text = "\n".join(
        f"{s['name']} ({s['kind']}): {s['listings']} "
        f"{'orders' if s['kind'] == 'wro' else 'listings'}, sha256:{s['sha256']}, "
        f"loaded {s['loaded_at']}"
        for s in items
    )
    emit(opts, {"lists": items}, text or "no screening list loaded")


@cli.command("impact")
@home_options
@remote_options
@click.option("--party", help="Party id, e.g. party:shree-ginning.")
@click.option("--facility", help="Facility id, e.g. facility:shree-gin-rajkot.")
@click.option("--region", help="ISO 3166-2 region, e.g. CN-XJ (CN-65 is found with it).")
@click.option("--lot", help="Lot label as printed on goods or documents.")
@click.option("--allegation", help="An allegation id: what CBP linked it to (alone).")
def impact_cmd(
    opts: Options,
    party: str | None,
    facility: str | None,
    region: str | None,
    lot: str | None,
    allegation: str | None,
) -> None:
    """Which shipments' chains touch a party, facility, region, lot or allegation."""
    query = {"party": party, "facility": facility, "region": region, "lot": lot}
    if allegation is not None and any(query.values()):
        raise UsageError("give --allegation alone, or --party, --facility, --region or --lot")
    if opts.remote:
        from ledger.client import Client

        client = Client(opts.remote, token=opts.token)
        answer = client.impact(allegation=allegation) if allegation else client.impact(**query)
        found = answer.get("shipments", [])
    else:
        ledger = opts.ledger()
        try:
            if allegation is not None:
                from ledger.storage.allegations import AllegationStore

                found = AllegationStore(ledger).impact(allegation)
            else:
                found = impact(ledger, **query)
        finally:
            ledger.store.close()
    text = "\n".join(
        f"{s['entry_number']}  entry date {s.get('entry_date') or '?'}  {s['shipment']}"
        for s in found
    )
    emit(opts, {"shipments": found}, text or "no shipment touches it")
