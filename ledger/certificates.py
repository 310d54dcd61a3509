"""A certificate's status at a time: the one judgement the verifier (at each event's time)
and the API (at the log's clock) both use, so they never disagree.

A certificate counts at a time when its validity dates cover the day, it was not
revoked effective by then, its validity does not begin before its first audit of the
certified facility, and it rests on an audit that bears it: of the certified facility,
not revoked by then, dated on or before that day, and passed (any result but the
failing ones, rules data). Audits of the facility are read in date order and the latest
one by that day decides: a failed initial audit followed by a passing follow-up (the
usual corrective-action sequence) bears the certificate, a passing audit followed by a
failed one no longer does. Audits of another facility, revoked or not in the log bear
nothing and are named when nothing else bears the certificate. Pure: it takes bodies
and revocation times, never a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ledger.encoding import format_timestamp, parse_date
from ledger.errors import LedgerError

VALID, EXPIRED, REVOKED, NOT_YET_VALID, INVALID = (
    "valid",
    "expired",
    "revoked",
    "not_yet_valid",
    "invalid",
)
STATUSES = (VALID, EXPIRED, REVOKED, NOT_YET_VALID, INVALID)
FAILING_RESULTS = frozenset({"fail"})


@dataclass(frozen=True)
class Revoked:
    """When a revocation takes effect, and who revoked (a party, by name and id)."""

    effective_at: datetime
    by: str

    def words(self) -> str:
        return (
            f"revoked effective {format_timestamp(self.effective_at)} (effective time) by {self.by}"
        )


@dataclass(frozen=True)
class AuditRecord:
    """An audit a certificate names, as the log has it (``body`` None: not an audit in the log)."""

    id: str
    body: dict[str, Any] | None
    revoked: Revoked | None = None


@dataclass(frozen=True)
class CertificateStatus:
    status: str
    reasons: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return self.status == VALID


def _day(text: str) -> date | None:
    try:
        return parse_date(text).date()
    except LedgerError:
        return None


def _revoked_by(revoked: Revoked | None, at: datetime, day_only: bool) -> bool:
    if revoked is None:
        return False
    if day_only:
        return revoked.effective_at.date() <= at.date()
    return revoked.effective_at <= at


def _audit_label(audit: AuditRecord) -> str:
    body = audit.body or {}
    return f"the audit of {body.get('audit_date', '?')} (audit date), {audit.id}"


def certificate_status(
    body: dict[str, Any],
    at: datetime,
    *,
    audits: Sequence[AuditRecord],
    revoked: Revoked | None = None,
    day_only: bool = False,
    failing_results: frozenset[str] = FAILING_RESULTS,
) -> CertificateStatus:
    """The status of the certificate ``body`` at ``at``, with every reason it does not hold.

    ``day_only``: ``at`` is a day (an origin's or a shipment's date), so a revocation
    effective that day counts. Precedence of the status: revoked, invalid (its audits
    do not bear it), expired, not yet valid, invalid (no audit by that day), valid.
    """
    day = at.date()
    facility = body["facility"]
    invalid: list[str] = []
    valid_from, valid_until = _day(body["valid_from"]), _day(body["valid_until"])
    if valid_from is None or valid_until is None:
        invalid.append(
            f"its validity dates, {body['valid_from']} to {body['valid_until']}, are not real dates"
        )
    unsupported: list[str] = []
    audit_days: list[date] = []
    by_then: list[tuple[date, int, AuditRecord]] = []
    for position, audit in enumerate(audits):
        audit_body = audit.body
        if audit_body is None:
            unsupported.append(f"it rests on audit {audit.id}, which is not an audit in the log")
            continue
        if audit_body.get("facility") != facility:
            unsupported.append(
                f"it rests on {_audit_label(audit)}, which audited another facility, "
                f"{audit_body.get('facility')}"
            )
            continue
        audited = _day(str(audit_body.get("audit_date", "")))
        if audited is None:
            unsupported.append(
                f"it rests on an audit, {audit.id}, whose audit date is not a real date"
            )
            continue
        audit_days.append(audited)
        if _revoked_by(audit.revoked, at, day_only):
            assert audit.revoked is not None
            unsupported.append(f"it rests on {_audit_label(audit)}, {audit.revoked.words()}")
        elif audited <= day:
            by_then.append((audited, position, audit))
    counting = 0
    if by_then:
        latest = max(by_then, key=lambda item: (item[0], item[1]))[2]
        result = (latest.body or {}).get("result")
        if result in failing_results:
            invalid.append(
                f"its latest audit by {day.isoformat()} is {_audit_label(latest)}, "
                f"whose result was {result}"
            )
        else:
            counting = 1
    if audit_days and valid_from is not None and valid_from < min(audit_days):
        invalid.append(
            f"its validity begins on {body['valid_from']} (start of validity), before its "
            f"first audit on {min(audit_days).isoformat()} (audit date)"
        )
    if not counting and not invalid:
        invalid.extend(unsupported)
    reasons = list(invalid)
    status = INVALID if invalid else VALID
    if _revoked_by(revoked, at, day_only):
        assert revoked is not None
        reasons.insert(0, revoked.words())
        status = REVOKED
    if valid_until is not None and day > valid_until:
        reasons.append(f"it expired on {body['valid_until']} (end of validity)")
        status = EXPIRED if status == VALID else status
    if valid_from is not None and day < valid_from:
        reasons.append(f"it is not valid before {body['valid_from']} (start of validity)")
        status = NOT_YET_VALID if status == VALID else status
    if status == VALID and counting == 0:
        later = sorted(d.isoformat() for d in audit_days if d > day)
        reasons.append(
            f"no audit it rests on is dated on or before {day.isoformat()}"
            + (f"; its audit is dated {', '.join(later)} (audit date)" if later else "")
        )
        status = INVALID
    return CertificateStatus(status, tuple(reasons))
