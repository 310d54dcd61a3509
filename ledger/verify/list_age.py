"""Step 16 (SCREENING_MISSING): an entity list and a WRO/Findings list applied, both current.

A verdict is only as good as the lists it applied; the maximum age is rules data
(``ledger/rules/screening.json``), overridable per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from ledger.encoding import format_timestamp
from ledger.orders import OrderList
from ledger.screening import ScreeningList
from ledger.verify.engine import Verifier
from ledger.verify.verdict import Finding

KIND_WORDS = {"entity": "entity list", "wro": "WRO/Findings list"}


def check_lists_current(v: Verifier) -> None:
    """Step 16: an entity list and a WRO/Findings list were applied, neither too old.

    Age is the time from the newest applied version's ``loaded_at`` to the verification
    time ``v.now`` (online and offline alike: a bundle's lists are frozen, so a bundle
    re-verified long after it was made says its lists are stale).
    """
    limit = v.rules.orders.max_list_age_days
    kinds: tuple[tuple[str, Sequence[ScreeningList | OrderList]], ...] = (
        ("entity", v.lists),
        ("wro", v.order_lists),
    )
    for kind, applied in kinds:
        what = KIND_WORDS[kind]
        if not applied:
            v.findings.append(
                Finding.of(
                    "SCREENING_MISSING",
                    None,
                    f"no {what} was applied ({v.rules.orders.required_kinds.get(kind, kind)}); "
                    f"load one with `lotchain screening load FILE --kind {kind}`",
                )
            )
            continue
        newest = max(applied, key=lambda x: x.loaded_at)
        age = v.now - newest.loaded_at
        if age > timedelta(days=limit):
            v.findings.append(
                Finding.of(
                    "SCREENING_MISSING",
                    None,
                    f"the newest {what} applied, {newest.name} (sha256 {newest.sha256[:16]}...), "
                    f"was loaded {format_timestamp(newest.loaded_at)}, {age.days} days before "
                    f"the verification time {format_timestamp(v.now)}; the limit is {limit} "
                    f"days: load the current list",
                )
            )
