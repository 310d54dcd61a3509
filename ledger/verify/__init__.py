"""Shipment verification: walk a shipment back to its origins and judge every rule.

The public functions below are what the CLI and the HTTP API call. Online
verification reads a live ledger (only what the chain relies on); offline
verification reads an evidence bundle and a trust root. Both run the same steps
(:data:`ledger.verify.verdict.STEPS`) and reach the same verdict from the same evidence.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ledger import enforcement, entrynumber
from ledger.errors import ConfigError, NotFoundError, UsageError
from ledger.lists import AppliedList, loaded_versions
from ledger.log import Ledger
from ledger.orders import OrderList
from ledger.screening import ScreeningList, loaded_lists
from ledger.trustroot import TrustRoot
from ledger.verify.bundle import bundle_from, verify_bundle_bytes
from ledger.verify.core import run
from ledger.verify.impact import chain_verifier, graph_of, impacted, listed_subjects
from ledger.verify.order_rules import MAX_AGE_DAYS
from ledger.verify.rules import Rules, default_rules
from ledger.verify.source import ChainEntry, ChainSource, LedgerSource
from ledger.verify.verdict import STEPS, Finding, Verdict
from ledger.verify.wro_impact import impacted_by_orders

MAX_LIST_AGE_ENV = "LOTCHAIN_MAX_LIST_AGE_DAYS"

__all__ = [
    "STEPS",
    "ChainEntry",
    "ChainSource",
    "Finding",
    "Verdict",
    "build_bundle",
    "chain_ids",
    "impact",
    "impacted_by_list",
    "impacted_by_order_list",
    "resolve_shipment",
    "rules_for",
    "shipment_graph",
    "verify_bundle",
    "verify_shipment_online",
    "with_enforcement",
]


def resolve_shipment(ledger: Ledger, ref: str | int) -> str:
    """The attestation id of a shipment given by id, by CBP entry number, or by log index.

    An ``int`` (or a string of digits that is no known entry number) is a log index.
    """
    if isinstance(ref, int) and not isinstance(ref, bool):
        return _by_index(ledger, ref)
    text = str(ref).strip()
    if text.startswith("sha256:"):
        if ledger.store.find(text) is None:
            raise NotFoundError(f"no attestation {text} in the log")
        return text
    normal = entrynumber.parse(text.upper())
    if normal is not None:  # of an entry number's shape: only ever an entry number
        for candidate in entrynumber.spellings(normal):
            found = ledger.store.shipment_by_entry(candidate)
            if found is not None:
                return found
        raise NotFoundError(f"no shipment with entry number {normal}")
    if text.isdigit() and len(text) < 19:
        return _by_index(ledger, int(text))
    raise NotFoundError(f"no shipment with attestation id or entry number {text!r}")


def _by_index(ledger: Ledger, index: int) -> str:
    if index < 0:
        raise NotFoundError(f"no entry at index {index}")
    entry = ledger.store.get(index)
    if entry.type != "shipment":
        raise UsageError(f"entry {index} is a {entry.type} attestation, not a shipment")
    return entry.attestation_id


def _lists(ledger: Ledger, lists: Sequence[AppliedList] | None) -> list[AppliedList]:
    return list(lists) if lists is not None else loaded_versions(ledger.store)


def rules_for(max_list_age_days: int | None = None) -> Rules:
    """The shipped rules, with the maximum list age overridden by the argument, else by
    the environment ``LOTCHAIN_MAX_LIST_AGE_DAYS``, else as ``ledger/rules/screening.json``
    says (SCREENING_MISSING)."""
    rules = default_rules()
    days = max_list_age_days
    if days is None:
        text = os.environ.get(MAX_LIST_AGE_ENV, "").strip()
        if not text:
            return rules
        if not text.isdigit() or int(text) > MAX_AGE_DAYS:
            raise ConfigError(
                f"{MAX_LIST_AGE_ENV} must be a whole number of days from 0 to {MAX_AGE_DAYS}, "
                f"not {text[:32]!r}"
            )
        days = int(text)
    if not 0 <= days <= MAX_AGE_DAYS:
        raise UsageError(f"the maximum list age must be 0 to {MAX_AGE_DAYS} days, not {days}")
    if days == rules.orders.max_list_age_days:
        return rules
    orders = dataclasses.replace(rules.orders, max_list_age_days=days)
    return dataclasses.replace(rules, orders=orders)


def verify_shipment_online(
    ledger: Ledger,
    ref: str | int,
    *,
    now: datetime | None = None,
    lists: Sequence[AppliedList] | None = None,
    max_list_age_days: int | None = None,
) -> Verdict:
    """Verify a shipment in a live ledger at its latest checkpoint.

    ``lists`` defaults to every screening list loaded in the database, of both kinds
    (the latest version of each name).
    """
    shipment_id = resolve_shipment(ledger, ref)
    verdict, _ = run(
        LedgerSource(ledger),
        ledger.trust,
        shipment_id,
        now=now or ledger.clock(),
        lists=_lists(ledger, lists),
        rules=rules_for(max_list_age_days),
    )
    return verdict


def with_enforcement(ledger: Ledger, verdict: Verdict, *, now: datetime | None = None) -> Verdict:
    """The verdict with the shipment's enforcement status in its summary (``enforcement``).

    Informative: what CBP did with a shipment does not change the verdict. It is added
    by the live reports (the CLI's and the API's) only, and only once a shipment is
    detained, so that a bundle verified offline still reaches the verdict the ledger
    reached.
    """
    steps = ledger.store.enforcement(verdict.shipment)
    if not steps:  # never detained: the verdict exactly as a bundle verified offline gives it
        return verdict
    status = enforcement.status_json(verdict.shipment, steps, (now or ledger.clock()).date())
    status.pop("shipment")
    return dataclasses.replace(verdict, summary={**verdict.summary, "enforcement": status})


def build_bundle(
    ledger: Ledger, ref: str | int, *, now: datetime | None = None, multiproof: bool = False
) -> dict[str, Any]:
    """The evidence bundle of a shipment (JSON-able, schemas/bundle.schema.json); with
    ``multiproof``, one multi-proof instead of an inclusion proof per leaf."""
    shipment_id = resolve_shipment(ledger, ref)
    moment = now or ledger.clock()
    source = LedgerSource(ledger)
    lists = _lists(ledger, None)
    _, v = run(source, ledger.trust, shipment_id, now=moment, lists=lists)
    return bundle_from(
        ledger, source, shipment_id, list(v.used), lists, moment, multiproof=multiproof
    )


def verify_bundle(
    data: bytes,
    trust: TrustRoot,
    *,
    now: datetime | None = None,
    max_list_age_days: int | None = None,
) -> Verdict:
    """Recompute a bundle's verdict offline from its bytes and a trust root alone."""
    return verify_bundle_bytes(data, trust, now=now, rules=rules_for(max_list_age_days))


def shipment_graph(ledger: Ledger, ref: str | int) -> dict[str, Any]:
    """The shipment's chain as a graph: attestation nodes and input edges."""
    shipment_id = resolve_shipment(ledger, ref)
    return graph_of(chain_verifier(ledger, shipment_id), shipment_id)


def chain_ids(ledger: Ledger, ref: str | int) -> set[str]:
    """Every attestation the shipment's verdict relies on (the API's access scope).

    The shipment, its upstream chain, and the party, key, facility, certificate,
    audit and revocation entries judged with it: exactly what its bundle carries.
    """
    shipment_id = resolve_shipment(ledger, ref)
    _, v = run(
        LedgerSource(ledger),
        ledger.trust,
        shipment_id,
        now=ledger.clock(),
        lists=_lists(ledger, None),
    )
    return set(v.used)


def impact(
    ledger: Ledger,
    *,
    party: str | None = None,
    facility: str | None = None,
    region: str | None = None,
    lot: str | None = None,
) -> list[dict[str, Any]]:
    """Shipments whose chains touch a party, facility, region (e.g. CN-XJ) or lot label."""
    return impacted(ledger, party=party, facility=facility, region=region, lot=lot)


def impacted_by_list(ledger: Ledger, screening_list: ScreeningList | str) -> list[dict[str, Any]]:
    """Shipments that ``screening_list`` (or the loaded list of that name) now fails.

    Candidates are the shipments touching any party or facility whose name or alias
    matches the list; each is then verified with that list alone, and kept when the
    verdict has ENTITY_LISTED findings: listings in force on its entry (arrival) date,
    whenever its goods were made.
    """
    if isinstance(screening_list, str):
        found = [s for s in loaded_lists(ledger.store) if s.name == screening_list]
        if not found:
            raise NotFoundError(f"no screening list named {screening_list!r} is loaded")
        screening_list = found[0]
    candidates: dict[str, dict[str, Any]] = {}
    for kind, subject, _ in listed_subjects(ledger, screening_list):
        selector = {"party": subject} if kind == "party" else {"facility": subject}
        for item in impacted(ledger, **selector):
            candidates[item["shipment"]] = item
    out = []
    for shipment_id, item in sorted(
        candidates.items(), key=lambda kv: (kv[1]["entry_number"], kv[0])
    ):
        verdict = verify_shipment_online(ledger, shipment_id, lists=[screening_list])
        listed = [f.to_json() for f in verdict.findings if f.code == "ENTITY_LISTED"]
        if listed:
            out.append(
                {
                    "shipment": shipment_id,
                    "entry_number": item["entry_number"],
                    "entry_date": item["entry_date"],
                    "status": verdict.status,
                    "findings": listed,
                }
            )
    return out


def impacted_by_order_list(ledger: Ledger, order_list: OrderList) -> list[dict[str, Any]]:
    """Shipments that the orders new or changed in ``order_list`` (against the version
    of the same name loaded before it) now catch: WRO or FINDING on their entry dates."""
    versions = [
        x
        for x in loaded_versions(ledger.store, all_versions=True)
        if isinstance(x, OrderList) and x.name == order_list.name
    ]
    earlier = [x for x in versions if x.sha256 != order_list.sha256]
    previous = earlier[-1] if earlier else None
    return impacted_by_orders(
        ledger,
        order_list,
        previous,
        lambda shipment_id: verify_shipment_online(ledger, shipment_id, lists=[order_list]),
    )
