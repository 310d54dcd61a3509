"""Detention to determination: deadlines by legal basis, admission rules, status.

CBP detains a shipment (``detention``), the importer of record may answer with an
admissibility submission (``admissibility``), and CBP decides (``determination``).
The periods each legal basis sets are data (``ledger/rules/enforcement.json``, each with
its source); this module computes dates from them, judges the three attestation types
at append time, and derives a shipment's enforcement status from its steps. Pure: it
reads a :class:`~ledger.state.StateView` and returns values or raises.
"""

from __future__ import annotations

import calendar
import itertools
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from ledger.attestation import Attestation
from ledger.errors import (
    EnforcementError,
    MalformedError,
    RefMissingError,
    ReplayError,
    RoleError,
    TimeOrderError,
)
from ledger.state import AttestationRecord, EnforcementStep, StateDelta, StateView
from ledger.trustroot import TrustRoot

TYPES = ("detention", "admissibility", "determination")
STATUSES = ("none", "detained", "submitted", "released", "excluded", "seized", "re-exported")
OUTCOMES = ("released", "excluded", "seized", "re-exported")
#: How CBP's statistics count a shipment (uflpa-statistics.md: released, denied, pending).
CBP_RESULT = {
    "detained": "pending",
    "submitted": "pending",
    "released": "released",
    "excluded": "denied",
    "seized": "denied",
    "re-exported": "denied",
}


# -- rules and dates -------------------------------------------------------------------


@cache
def rules() -> dict[str, Any]:
    """The periods of each legal basis (``ledger/rules/enforcement.json``)."""
    raw = resources.files("ledger.rules").joinpath("enforcement.json").read_bytes()
    value: dict[str, Any] = json.loads(raw)
    return value


def authority(basis: str) -> str:
    """``uflpa``, ``wro`` or ``finding``, from a legal basis as detentions name it."""
    if basis == "uflpa":
        return "uflpa"
    if basis.startswith("wro-"):
        return "wro"
    if basis.startswith("fnd-"):
        return "finding"
    raise MalformedError(f"legal basis {basis!r} is not uflpa, a wro-... or an fnd-... id")


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday of a month (n = -1: the last)."""
    days = [d for d in calendar.Calendar().itermonthdates(year, month) if d.month == month]
    matching = [d for d in days if d.weekday() == weekday]
    return matching[n if n < 0 else n - 1]


def _observed(day: date) -> date:
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@cache
def federal_holidays(year: int) -> frozenset[date]:
    """Legal public holidays of 5 U.S.C. 6103(a) as observed (Executive Order 11582)."""
    fixed = [date(year, 1, 1), date(year, 6, 19), date(year, 7, 4), date(year, 11, 11)]
    fixed.append(date(year, 12, 25))
    moving = [
        _nth_weekday(year, 1, 0, 3),  # Birthday of Martin Luther King, Jr.
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 10, 0, 2),  # Columbus Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving Day
    ]
    observed = {_observed(d) for d in fixed} | set(moving)
    if date(year + 1, 1, 1).weekday() == 5:  # next New Year's Day observed on Dec 31
        observed.add(date(year, 12, 31))
    return frozenset(observed)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in federal_holidays(day.year)


def add_business_days(start: date, count: int) -> date:
    day = start
    while count > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            count -= 1
    return day


def add_months(start: date, months: int) -> date:
    """Same day ``months`` later, or that month's last day when it has no such day."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def period_end(period: dict[str, Any], start: date) -> date:
    """The end of a rules period counted from ``start``."""
    if "business_days" in period:
        return add_business_days(start, int(period["business_days"]))
    if "months" in period:
        return add_months(start, int(period["months"]))
    return start + timedelta(days=int(period["days"]))


def period(basis_authority: str, name: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = rules()["bases"][basis_authority]["periods"].get(name)
    return found


@dataclass(frozen=True)
class Deadlines:
    """Dates a detention's legal basis sets (None where the basis sets none)."""

    notice_by: date | None
    submit_by: date
    decide_by: date | None

    def to_json(self) -> dict[str, str | None]:
        return {
            "notice_by": None if self.notice_by is None else self.notice_by.isoformat(),
            "submit_by": self.submit_by.isoformat(),
            "decide_by": None if self.decide_by is None else self.decide_by.isoformat(),
        }


def deadlines(basis: str, dates: dict[str, str]) -> Deadlines:
    """Deadlines of a detention from its dates (``detained_on``, ``entered_on``,
    ``presented_on``, ``notice_date``), by the periods of its legal basis."""
    kind = authority(basis)
    full = {
        "presented_on": dates.get("presented_on") or dates["entered_on"],
        "notice_date": dates.get("notice_date") or dates["detained_on"],
        **{k: v for k, v in dates.items() if v},
    }

    def end(name: str) -> date | None:
        spec = period(kind, name)
        if spec is None:
            return None
        return period_end(spec, date.fromisoformat(full[spec["from"]]))

    submit_by = end("submission")
    assert submit_by is not None  # every basis sets a submission period
    return Deadlines(end("notice"), submit_by, end("decision"))


def detention_dates(body: dict[str, Any]) -> dict[str, str]:
    names = ("detained_on", "entered_on", "presented_on", "notice_date")
    return {k: body[k] for k in names if k in body}


# -- admission -------------------------------------------------------------------------


def _shipment_for_cbp(att: Attestation, view: StateView) -> AttestationRecord:
    """The shipment a CBP step names (CBP reads everything, so the words may say why)."""
    shipment = att.body["shipment"]
    record = view.attestation(shipment)
    if record is None or record.type != "shipment":
        raise RefMissingError(f"{shipment} is not a shipment in the log", attestation=att.id)
    return record


def _detention_of(att: Attestation, steps: tuple[EnforcementStep, ...]) -> EnforcementStep:
    detention, shipment = att.body["detention"], att.body["shipment"]
    found = next((s for s in steps if s.kind == "detention" and s.attestation == detention), None)
    if found is None:
        raise RefMissingError(
            f"{detention} is not a detention of shipment {shipment}; name the detention "
            "this step answers (lotchain enforcement status SHIPMENT shows it)",
            attestation=att.id,
        )
    return found


def _determination_of(steps: tuple[EnforcementStep, ...], detention: str) -> EnforcementStep | None:
    return next((s for s in steps if s.kind == "determination" and s.detention == detention), None)


def _not_future(att: Attestation, field: str, value: str, now: datetime) -> None:
    if date.fromisoformat(value) > (now + timedelta(days=1)).date():
        raise TimeOrderError(f"{field} {value} is in the future", attestation=att.id)


def admit_detention(
    att: Attestation, view: StateView, trust: TrustRoot, now: datetime
) -> StateDelta:
    body = att.body
    record = _shipment_for_cbp(att, view)
    steps = view.enforcement(record.id)
    if any(s.kind == "detention" for s in steps):
        first = next(s for s in steps if s.kind == "detention")
        raise ReplayError(
            f"shipment {record.id} is already detained by {first.attestation} "
            f"(since {first.on}); a shipment is detained once",
            attestation=att.id,
        )
    basis = body["legal_basis"]
    kind = authority(basis)
    dates = detention_dates(body)
    order = ["entered_on", "presented_on", "detained_on", "notice_date"]
    present = [(k, dates[k]) for k in order if k in dates]
    for (a, da), (b, db) in itertools.pairwise(present):
        if db < da:
            raise TimeOrderError(f"{b} {db} is before {a} {da}", attestation=att.id)
    for name, value in present:
        _not_future(att, name, value, now)
    allowed = rules()["bases"][kind]["submission_kinds"]
    wrong = [k for k in body.get("requested", ()) if k not in allowed]
    if wrong:
        raise EnforcementError(
            f"a detention under {basis} takes {', '.join(allowed)}, not {', '.join(wrong)}",
            attestation=att.id,
        )
    due = deadlines(basis, dates)
    respond_by = body.get("respond_by", due.submit_by.isoformat())
    if respond_by < body["detained_on"]:
        raise TimeOrderError(
            f"respond_by {respond_by} is before detained_on {body['detained_on']}",
            attestation=att.id,
        )
    step = EnforcementStep(
        shipment=record.id,
        attestation=att.id,
        kind="detention",
        status="detained",
        on=body["detained_on"],
        basis=basis,
        detention=att.id,
        due=respond_by,
        decide_by=None if due.decide_by is None else due.decide_by.isoformat(),
    )
    return StateDelta(enforcement=[step])


def admit_admissibility(
    att: Attestation, view: StateView, trust: TrustRoot, now: datetime
) -> StateDelta:
    body = att.body
    shipment = body["shipment"]
    record = view.attestation(shipment)
    if record is None:
        raise RefMissingError(f"{shipment} is not in the log", attestation=att.id)
    if record.issuer != att.issuer:
        # The issuer of a log entry is public (leaves); its type and state are not.
        raise RoleError(
            f"only the importer of record that declared a shipment submits for it, and "
            f"{shipment} was not declared by {att.issuer}; sign with the importer's key",
            attestation=att.id,
        )
    if record.type != "shipment":
        raise RefMissingError(f"{shipment} is a {record.type}, not a shipment", attestation=att.id)
    steps = view.enforcement(shipment)
    detention = _detention_of(att, steps)
    closed = _determination_of(steps, detention.attestation)
    if closed is not None:
        raise EnforcementError(
            f"shipment {shipment} was determined ({closed.status}) on {closed.on}; "
            "no submission is taken after the determination",
            attestation=att.id,
        )
    kind = authority(detention.basis)
    allowed = rules()["bases"][kind]["submission_kinds"]
    if body["kind"] not in allowed:
        raise EnforcementError(
            f"a {body['kind']} does not answer a detention under {detention.basis}; "
            f"submit one of: {', '.join(allowed)}",
            attestation=att.id,
        )
    today = now.date().isoformat()  # the log's date: a signer cannot back-date it
    late = detention.due is not None and today > detention.due
    step = EnforcementStep(
        shipment=shipment,
        attestation=att.id,
        kind="admissibility",
        status="submitted",
        on=today,
        basis=detention.basis,
        detention=detention.attestation,
        due=detention.due,
        late=late,
        decide_by=detention.decide_by,
    )
    return StateDelta(enforcement=[step])


def admit_determination(
    att: Attestation, view: StateView, trust: TrustRoot, now: datetime
) -> StateDelta:
    body = att.body
    record = _shipment_for_cbp(att, view)
    steps = view.enforcement(record.id)
    detention = _detention_of(att, steps)
    closed = _determination_of(steps, detention.attestation)
    if closed is not None:
        raise ReplayError(
            f"shipment {record.id} was already determined ({closed.status}) by "
            f"{closed.attestation} on {closed.on}; a determination is made once",
            attestation=att.id,
        )
    kind = authority(detention.basis)
    outcomes = rules()["bases"][kind]["outcomes"]
    if body["outcome"] not in outcomes:
        why = {
            "seized": "goods are seized only under a Finding (19 CFR 12.44(b))",
            "re-exported": "under a Finding, export is no longer an option (19 CFR 12.44)",
        }.get(body["outcome"], "")
        raise EnforcementError(
            f"outcome {body['outcome']} is not open under {detention.basis}"
            + (f": {why}" if why else "")
            + f"; one of: {', '.join(outcomes)}",
            attestation=att.id,
        )
    if body["decided_on"] < detention.on:
        raise TimeOrderError(
            f"decided_on {body['decided_on']} is before the detention of {detention.on}",
            attestation=att.id,
        )
    _not_future(att, "decided_on", body["decided_on"], now)
    answered = [
        s for s in steps if s.kind == "admissibility" and s.detention == detention.attestation
    ]
    if answered and body["decided_on"] < answered[-1].on:
        raise TimeOrderError(
            f"decided_on {body['decided_on']} is before the submission {answered[-1].attestation} "
            f"the log received on {answered[-1].on}",
            attestation=att.id,
        )
    for ref in body.get("rested_on", ()):
        if view.attestation(ref) is None:
            raise RefMissingError(
                f"rested_on names {ref}, which is not in the log", attestation=att.id
            )
    step = EnforcementStep(
        shipment=record.id,
        attestation=att.id,
        kind="determination",
        status=body["outcome"],
        on=body["decided_on"],
        basis=detention.basis,
        detention=detention.attestation,
        due=detention.due,
        decide_by=detention.decide_by,
    )
    return StateDelta(enforcement=[step])


def check_entry_date(att: Attestation, shipment_body: dict[str, Any] | None) -> None:
    """A detention's date of importation is the shipment's arrival date (when readable)."""
    if att.type != "detention" or shipment_body is None:
        return
    arrival = shipment_body.get("arrival_date")
    if arrival is not None and att.body["entered_on"] != arrival:
        raise MalformedError(
            f"entered_on {att.body['entered_on']} is not the shipment's arrival date "
            f"{arrival}; the date of importation is the arrival date",
            attestation=att.id,
        )


RULES = {
    "detention": admit_detention,
    "admissibility": admit_admissibility,
    "determination": admit_determination,
}


# -- status ----------------------------------------------------------------------------


def status(steps: tuple[EnforcementStep, ...]) -> str:
    return steps[-1].status if steps else "none"


def status_json(
    shipment: str,
    steps: tuple[EnforcementStep, ...],
    today: date,
    bodies: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A shipment's enforcement status and history, as the API and CLI show it.

    ``bodies`` (attestation id -> body, when the caller read them) adds each step's
    own words: the merchandise and reason of a detention, a submission's kind and
    bundle digest, a determination's reasons.
    """
    current = status(steps)
    out: dict[str, Any] = {"shipment": shipment, "status": current}
    if not steps:
        return out
    detention = steps[0]
    kind = authority(detention.basis)
    decided = next((s for s in steps if s.kind == "determination"), None)
    out.update(
        {
            "cbp_result": CBP_RESULT[current],
            "legal_basis": detention.basis,
            "authority": kind,
            "detention": detention.attestation,
            "detained_on": detention.on,
            "submit_by": detention.due,
            "decide_by": detention.decide_by,
            "late": any(s.late for s in steps if s.kind == "admissibility"),
        }
    )
    if decided is None and detention.decide_by and today.isoformat() > detention.decide_by:
        spec = period(kind, "decision") or {}
        out["deemed"] = {
            "outcome": spec.get("deemed", "excluded"),
            "since": (date.fromisoformat(detention.decide_by) + timedelta(days=1)).isoformat(),
            "source": spec.get("source", ""),
        }
    if decided is not None and decided.status == "excluded":
        abandonment = period(kind, "abandonment")
        if abandonment is not None:
            end = period_end(abandonment, date.fromisoformat(decided.on))
            out["abandoned_after"] = end.isoformat()
    history = []
    for step in steps:
        item: dict[str, Any] = {
            "step": step.kind,
            "status": step.status,
            "on": step.on,
            "attestation": step.attestation,
        }
        if step.kind == "admissibility":
            item["late"] = step.late
        body = (bodies or {}).get(step.attestation)
        if body is not None:
            item.update(_words(step.kind, body))
        history.append(item)
    out["history"] = history
    return out


def _words(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    keep: tuple[str, ...]
    if kind == "detention":
        keep = ("reason", "merchandise", "requested", "port_of_entry")
    elif kind == "admissibility":
        keep = ("kind", "bundle_sha256", "documents")
    else:
        keep = ("reasons", "rested_on")
    return {k: body[k] for k in keep if k in body}


def render(value: dict[str, Any]) -> str:
    """The status as a person reads it (``lotchain enforcement status``)."""
    lines = [f"Shipment {value['shipment']}: enforcement {value['status'].upper()}"]
    if value["status"] == "none":
        return "\n".join([*lines, "  never detained"])
    lines.append(
        f"  legal basis {value['legal_basis']}; detained on "
        f"{value['detained_on']}; submission due {value['submit_by']}"
        + (f"; CBP decides by {value['decide_by']}" if value.get("decide_by") else "")
    )
    if value.get("late"):
        lines.append("  a submission came after its due date (accepted, flagged late)")
    if value.get("deemed"):
        d = value["deemed"]
        lines.append(f"  no determination in time: deemed {d['outcome']} since {d['since']}")
    if value.get("abandoned_after"):
        lines.append(
            f"  deemed abandoned after {value['abandoned_after']} unless exported or protested"
        )
    lines.append("  history:")
    for item in value.get("history", []):
        extra = " (late)" if item.get("late") else ""
        what = item.get("kind") or item.get("reason") or item.get("reasons") or ""
        lines.append(
            f"    {item['on']}  {item['step']:<13} -> {item['status']:<11} "
            f"{item['attestation'][:19]}…{extra}  {str(what)[:80]}"
        )
    return "\n".join(lines)
