"""CERT_INVALID: certificates rest on audits, and the API and the verifier judge a
certificate with one function (ledger.certificates), so they never disagree."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from verify_solar import SolarChain

from api.app import create_app
from ledger.certificates import AuditRecord, Revoked, certificate_status
from ledger.verify import build_bundle, verify_bundle
from ledger.verify.compliance import status_at
from ledger.verify.engine import Verifier, When
from ledger.verify.source import LedgerSource
from verify_fixtures import (
    AUDITOR,
    PROCESS,
    T0,
    CottonChain,
    World,
    day,
    only,
    world_fixture,  # noqa: F401 - the `world` fixture
)


def _cotton_certifying_spinner_late(w: World, **late: str) -> CottonChain:
    """Every stage certified as usual but the spinner, certified after the shipment."""
    chain = CottonChain(w)
    chain.actors()
    chain.certify(keys=("gin", "knitter", "garment"))
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew, chain.ship):
        stage()
    now = w.at(day("2025-07-01"))
    audited = late.get("audited", "spinner")
    audit = w.log(
        "audit:spinner",
        w.s.audit(
            AUDITOR, chain.facility(audited), late.get("result", "pass"), late["audit_date"], now
        ),
    )
    w.log(
        "cert:spinner",
        w.s.certificate(
            AUDITOR,
            "SA8000-SPINNER-2025",
            chain.facility("spinner"),
            [audit],
            late["valid_from"],
            "2026-12-31",
            now,
            processes=[PROCESS["spinner"]],
        ),
    )
    return chain


def _same_offline(w: World) -> None:
    online = w.verify(now=w.clock.now)
    bundle = build_bundle(w.ledger, w.ids["shipment"], now=w.clock.now)
    offline = verify_bundle(json.dumps(bundle).encode(), w.ledger.trust, now=w.clock.now)
    assert offline.to_json() == online.to_json()


def test_a_certificate_valid_from_january_with_its_only_audit_in_june(world: World) -> None:
    """Relied on for spinning in March: the audit came after, the validity before it."""
    _cotton_certifying_spinner_late(world, audit_date="2025-06-15", valid_from="2025-01-01")
    found = only(world, "CERT_INVALID")
    assert [f["attestation"] for f in found] == [world.ids["spinning"]]
    message = found[0]["message"]
    assert "spinning at Coimbatore Mill No. 2 (facility:coimbatore-mill-2)" in message
    assert "event time 2025-03-12T10:00:00Z" in message
    assert "its validity begins on 2025-01-01 (start of validity), before its first audit on" in (
        message
    )
    assert "2025-06-15 (audit date)" in message
    _same_offline(world)


def test_a_certificate_resting_on_an_audit_of_another_facility(world: World) -> None:
    _cotton_certifying_spinner_late(
        world, audit_date="2024-12-01", valid_from="2025-01-01", audited="gin"
    )
    found = only(world, "CERT_INVALID")
    assert [f["attestation"] for f in found] == [world.ids["spinning"]]
    assert "which audited another facility, facility:shree-gin-rajkot" in found[0]["message"]
    _same_offline(world)


def test_a_certificate_resting_on_a_failed_audit(world: World) -> None:
    _cotton_certifying_spinner_late(
        world, audit_date="2024-12-01", valid_from="2025-01-01", result="fail"
    )
    found = only(world, "CERT_INVALID")
    assert "whose result was fail" in found[0]["message"]


def test_a_certificate_issued_late_but_resting_on_an_earlier_audit_counts(world: World) -> None:
    _cotton_certifying_spinner_late(world, audit_date="2024-12-01", valid_from="2025-01-01")
    assert world.verify().findings == ()


def test_a_polysilicon_certificate_before_its_audit(world: World) -> None:
    SolarChain(world).build()
    poly = "facility:bavaria-poly"
    now = world.at(day("2025-06-01"))
    audit = world.s.audit(AUDITOR, poly, "pass", "2025-04-01", now)
    world.s.certificate(
        AUDITOR,
        "RBA-POLY-2025",
        poly,
        [audit.attestation],
        "2025-01-01",
        "2025-12-31",
        now,
        scheme="RBA VAP",
        processes=["polysilicon-production"],
    )
    # the plant's own valid certificate (from the chain) still covers the event
    assert world.verify().findings == ()


def _spinner_certified_on_audits(w: World, audits: list[tuple[str, str]]) -> CottonChain:
    """The spinner's certificate (valid from 2024-06-01) names ``audits``, each
    ``(audit date, result)``, as schemes do for an initial audit and its follow-ups."""
    chain = CottonChain(w)
    chain.actors()
    chain.certify(keys=("gin", "knitter", "garment"))
    now = w.at(T0 + timedelta(hours=1))
    ids = [
        w.s.audit(AUDITOR, chain.facility("spinner"), result, date, now).attestation
        for date, result in audits
    ]
    w.log(
        "cert:spinner",
        w.s.certificate(
            AUDITOR,
            "SA8000-SPINNER-2024",
            chain.facility("spinner"),
            ids,
            "2024-06-01",
            "2026-05-31",
            now,
            processes=[PROCESS["spinner"]],
        ),
    )
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew, chain.ship):
        stage()
    return chain


def test_a_failed_initial_audit_followed_by_a_passing_follow_up_bears_the_certificate(
    world: World,
) -> None:
    """The usual corrective-action sequence: failed in April, passed the follow-up in May."""
    _spinner_certified_on_audits(world, [("2024-04-10", "fail"), ("2024-05-20", "pass")])
    verdict = world.verify()
    assert verdict.status == "pass" and verdict.findings == ()
    _same_offline(world)


def test_a_failed_surveillance_audit_before_the_event_voids_the_certificate(
    world: World,
) -> None:
    """Passed in May 2024, failed the surveillance audit in January 2025, spun in March."""
    _spinner_certified_on_audits(world, [("2024-05-20", "pass"), ("2025-01-15", "fail")])
    found = only(world, "CERT_INVALID")
    assert [f["attestation"] for f in found] == [world.ids["spinning"]]
    assert (
        "its latest audit by 2025-03-12 is the audit of 2025-01-15 (audit date)"
        in (found[0]["message"])
    )
    assert "whose result was fail" in found[0]["message"]
    _same_offline(world)


def test_a_failed_audit_after_the_event_leaves_the_certificate_valid_at_the_event(
    world: World,
) -> None:
    _spinner_certified_on_audits(world, [("2024-05-20", "pass"), ("2025-04-01", "fail")])
    assert world.verify().findings == ()


def test_a_revoked_certificate_names_the_party_that_revoked_it(world: World) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    world.s.revoke(
        AUDITOR,
        world.ids["cert:spinner"],
        "Audit evidence withdrawn",
        day("2025-03-01"),
        world.at(day("2025-03-01")),
    )
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew, chain.ship):
        stage()
    found = only(world, "CERT_INVALID")
    message = found[0]["message"]
    assert "revoked effective 2025-03-01T10:00:00Z (effective time) by Bureau Social Audit SA" in (
        message
    )
    assert "(party:bureau-social-audit)" in message
    _same_offline(world)


# -- one function for the API and the verifier -----------------------------------------------

BODY = {
    "certificate_id": "C-1",
    "facility": "facility:mill",
    "scheme": "SA8000",
    "scope": {"processes": ["spinning"], "materials": ["yarn"]},
    "valid_from": "2025-01-01",
    "valid_until": "2025-12-31",
    "audits": ["sha256:" + "a" * 64],
}


def _audit(date: str, result: str = "pass", facility: str = "facility:mill") -> AuditRecord:
    return AuditRecord(
        "sha256:" + "a" * 64, {"facility": facility, "audit_date": date, "result": result}
    )


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text + "T12:00:00+00:00")


@pytest.mark.parametrize(
    ("audit", "revoked", "at", "status"),
    [
        (_audit("2024-12-15"), None, "2025-03-12", "valid"),
        (_audit("2024-12-15"), None, "2024-12-20", "not_yet_valid"),
        (_audit("2024-12-15"), None, "2026-01-01", "expired"),
        (_audit("2024-12-15"), "2025-02-01", "2025-03-12", "revoked"),
        (_audit("2024-12-15"), "2025-04-01", "2025-03-12", "valid"),
        (_audit("2025-06-15"), None, "2025-03-12", "invalid"),
        (_audit("2025-06-15"), None, "2025-07-01", "invalid"),
        (_audit("2024-12-15", "fail"), None, "2025-03-12", "invalid"),
        (_audit("2024-12-15", "conditional"), None, "2025-03-12", "valid"),
        (_audit("2024-12-15", facility="facility:gin"), None, "2025-03-12", "invalid"),
        (AuditRecord("sha256:" + "b" * 64, None), None, "2025-03-12", "invalid"),
    ],
)
def test_certificate_status_cases(
    audit: AuditRecord, revoked: str | None, at: str, status: str
) -> None:
    gone = Revoked(_at(revoked), "sha256:" + "c" * 64) if revoked else None
    found = certificate_status(BODY, _at(at), audits=[audit], revoked=gone)
    assert found.status == status, found.reasons
    assert bool(found.reasons) == (status != "valid")


@pytest.mark.parametrize(
    ("audits", "at", "status"),
    [
        ([_audit("2024-11-10", "fail"), _audit("2024-12-15")], "2025-03-12", "valid"),
        ([_audit("2024-11-10"), _audit("2025-02-01", "fail")], "2025-03-12", "invalid"),
        ([_audit("2024-11-10"), _audit("2025-02-01", "fail")], "2025-01-20", "valid"),
        (
            [_audit("2024-12-15", facility="facility:gin"), _audit("2024-12-15")],
            "2025-03-12",
            "valid",
        ),
    ],
    ids=[
        "fail-then-follow-up",
        "pass-then-fail",
        "before-the-failed-audit",
        "one-of-this-facility",
    ],
)
def test_the_latest_audit_of_the_facility_by_that_day_decides(
    audits: list[AuditRecord], at: str, status: str
) -> None:
    found = certificate_status({**BODY, "valid_from": "2025-01-01"}, _at(at), audits=audits)
    assert found.status == status, found.reasons


def test_the_api_and_the_verifier_agree_on_every_certificate(world: World) -> None:
    """Same certificates, same moments: the API's status is the verifier's."""
    chain = CottonChain(world)
    chain.actors()
    chain.certify(keys=("gin", "knitter"))
    chain.certify(keys=("garment",), result="fail")
    _cotton_certifying_spinner_late(world, audit_date="2025-06-15", valid_from="2025-01-01")
    world.s.revoke(
        AUDITOR,
        world.ids["cert:knitter"],
        "Not renewed",
        day("2025-08-01"),
        world.at(day("2025-07-02")),
    )
    client = create_app(ledger=world.ledger).test_client()
    names = ("cert:gin", "cert:knitter", "cert:garment", "cert:spinner")
    seen = set()
    start = world.clock.now
    try:
        for moment in ("2024-05-01", "2025-03-12", "2025-06-20", "2025-08-02", "2026-06-01"):
            at = day(moment, 12)
            world.clock.now = at
            v = Verifier(LedgerSource(world.ledger), world.ledger.trust, now=at)
            assert v.open_checkpoint()
            for name in names:
                api = client.get(f"/v1/certificates/{world.ids[name]}").get_json()
                node = v.use(world.ids[name])
                assert node is not None
                mine = status_at(v, node, When(at, False))
                assert (api["status"], api["reasons"]) == (mine.status, list(mine.reasons))
                seen.add(api["status"])
                listed = client.get(f"/v1/certificates?status={mine.status}").get_json()
                assert world.ids[name] in {c["attestation"] for c in listed["certificates"]}
    finally:
        world.clock.now = start + timedelta(0)
    assert seen == {"valid", "not_yet_valid", "expired", "revoked", "invalid"}
