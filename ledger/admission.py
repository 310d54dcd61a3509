"""Admission rules: whether the log accepts an attestation now, and what it adds.

``admit`` is pure: it asks a :class:`~ledger.state.StateView` and returns the rows the
attestation adds, or raises the coded error of the first rule it breaks. The steps
are numbered and run in this order, so the same envelope always gets the same error.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ledger import enforcement, entrynumber, materials, metrics, quantities
from ledger.attestation import Attestation
from ledger.encoding import b64decode, parse_timestamp
from ledger.errors import (
    CustodyError,
    KeyInvalidError,
    MalformedError,
    MaterialError,
    OverconsumedError,
    RefMissingError,
    ReplayError,
    RoleError,
    SignatureError,
    TimeOrderError,
    UnitError,
)
from ledger.keys import key_id, verify_signature
from ledger.lineage import Lineage, Produced
from ledger.state import (
    FacilityRecord,
    KeyRecord,
    KeyRevocation,
    Lookup,
    OutputRecord,
    PartyRecord,
    Spend,
    StateDelta,
    StateRequest,
    StateView,
)
from ledger.trustroot import TrustRoot

#: Roles that may issue each attestation type (the registrar may act for a party).
ISSUER_ROLES: dict[str, frozenset[str]] = {
    "party": frozenset({"registrar"}),
    "key": frozenset({"registrar", "supplier", "auditor", "importer", "cbp"}),
    "facility": frozenset({"registrar", "supplier"}),
    "origin": frozenset({"supplier"}),
    "transformation": frozenset({"supplier"}),
    "transfer": frozenset({"supplier", "importer"}),
    "audit": frozenset({"auditor"}),
    "certificate": frozenset({"auditor"}),
    "revocation": frozenset({"registrar", "supplier", "auditor", "importer"}),
    "shipment": frozenset({"importer"}),
    "allegation-receipt": frozenset({"registrar"}),
    "detention": frozenset({"cbp"}),
    "admissibility": frozenset({"importer"}),
    "determination": frozenset({"cbp"}),
}

#: Types the log itself signs (with the trust root's log key), never a party's key.
LOG_SIGNED_TYPES = frozenset({"allegation-receipt"})

#: How far ahead of the log's clock an issuer's clock may run.
CLOCK_SKEW = timedelta(minutes=5)


def output_ref(attestation_id: str, position: int) -> str:
    return f"{attestation_id}#{position}"


def _roles(party: str, view: StateView, trust: TrustRoot) -> frozenset[str]:
    record = view.party(party)
    roles = record.roles if record is not None else frozenset()
    if trust.is_root_registrar(party):
        roles = roles | {"registrar"}
    return roles


def resolve_key(kid: str, view: StateView, trust: TrustRoot) -> KeyRecord | None:
    """A key admitted by the log, or a registrar key from the trust root."""
    record = view.key(kid)
    if record is not None:
        return record
    root = trust.registrar_key(kid)
    if root is None:
        return None
    return KeyRecord(kid, root.party, root.public_key, datetime.min.replace(tzinfo=UTC), "")


#: ``(public key, signature)`` pairs already verified over an attestation's signed bytes
#: (by :mod:`ledger.pool`, before the write lock); their Ed25519 check is not repeated.
Verified = Collection[tuple[bytes, bytes]]


def _verifies(public_key: bytes, message: bytes, sig: bytes, verified: Verified) -> bool:
    return (public_key, sig) in verified or verify_signature(public_key, message, sig)


def check_signatures(
    att: Attestation, view: StateView, trust: TrustRoot, now: datetime, verified: Verified = ()
) -> None:
    """Steps 2-3: every signature verifies with a distinct key valid now; one is the issuer's."""
    message = att.envelope.signed_bytes()
    issuer_signed = False
    for sig in att.envelope.signatures:
        key = resolve_key(sig.keyid, view, trust)
        if key is None:
            raise KeyInvalidError(
                f"signature by unknown key {sig.keyid}: no party entry admits it",
                attestation=att.id,
            )
        if not _verifies(key.public_key, message, sig.sig, verified):
            raise SignatureError(
                f"signature by {sig.keyid} does not verify over the payload", attestation=att.id
            )
        if key.valid_from > now:
            raise KeyInvalidError(
                f"key {sig.keyid} of {key.party} is not valid before {key.valid_from.isoformat()}",
                attestation=att.id,
            )
        revoked = view.key_revoked_at(sig.keyid)
        if revoked is not None and revoked <= now:
            raise KeyInvalidError(
                f"key {sig.keyid} of {key.party} was revoked effective {revoked.isoformat()}",
                attestation=att.id,
            )
        if key.party == att.issuer:
            issuer_signed = True
    if not issuer_signed:
        raise KeyInvalidError(
            f"no signature by a key of the issuer {att.issuer}", attestation=att.id
        )


def check_log_signature(att: Attestation, trust: TrustRoot, verified: Verified = ()) -> None:
    """Steps 2-3 for a log-signed type: one signature, by the trust root's log key.

    The log key signs checkpoints (signed notes) too; the two cannot be confused, as a
    DSSE message begins with ``DSSEv1 `` and a note with the origin, a key name that
    holds no space.
    """
    public = trust.log_verifier.public_key
    sigs = att.envelope.signatures
    if len(sigs) != 1 or sigs[0].keyid != key_id(public):
        raise KeyInvalidError(
            f"a {att.type} is signed by the log's key alone ({key_id(public)})",
            attestation=att.id,
        )
    if not _verifies(public, att.envelope.signed_bytes(), sigs[0].sig, verified):
        raise SignatureError(
            f"the log's signature on this {att.type} does not verify", attestation=att.id
        )


def state_request(attestations: Iterable[Attestation]) -> StateRequest:
    """Every state question :func:`admit` may ask about these attestations."""
    req = StateRequest()
    for att in attestations:
        body, kind = att.body, att.type
        req.attestations.add(att.id)
        req.keys.update(s.keyid for s in att.envelope.signatures)
        req.parties.add(att.issuer)
        if kind == "party":
            req.parties.add(body["party_id"])
            req.keys.update(k["key_id"] for k in body["keys"])
        elif kind == "key":
            req.parties.add(body["party"])
            req.keys.add(body["key_id"])
        elif kind == "facility":
            req.parties.add(body["operator"])
            req.facilities.add(body["facility_id"])
        elif kind == "transfer":
            req.parties.add(body["to"])
        elif kind == "shipment":
            req.parties.update((body["exporter"], body["manufacturer"]))
            normal = entrynumber.parse(body["entry_number"])
            if normal is not None:
                req.shipments.update(entrynumber.spellings(normal))
        elif kind == "certificate":
            req.attestations.update(body["audits"])
        elif kind == "revocation":
            req.attestations.add(body["target"])
        elif kind in enforcement.TYPES:
            req.attestations.update((body["shipment"], *body.get("rested_on", ())))
        if "facility" in body:
            req.facilities.add(body["facility"])
        refs = [item["ref"] for item in body.get("inputs", ())]
        req.outputs.update(refs)
        req.attestations.update(ref.partition("#")[0] for ref in refs)
    return req


#: The body of a logged attestation by id (None when it is not in the log).
Bodies = Callable[[str], dict[str, Any] | None]


def admit(
    att: Attestation,
    view: StateView,
    trust: TrustRoot,
    *,
    now: datetime,
    bodies: Bodies | None = None,
    verified: Verified = (),
) -> StateDelta:
    """Judge ``att`` against the state as of ``now``; return its rows or raise.

    With ``bodies`` (the log reading what an entry consumes), material identity is
    judged too; a replay of the log without it (``lotchain audit``) leaves it to the
    verifier, so entries logged before the rule existed replay as they were.
    ``verified`` names signatures already checked over this attestation's bytes.
    """
    # 1. replay: the same payload bytes are already in the log
    if view.attestation(att.id) is not None:
        raise ReplayError(f"attestation {att.id} is already in the log", attestation=att.id)
    # 2-3. signatures and keys (the log's own key for what the log itself issues)
    if att.type in LOG_SIGNED_TYPES:
        check_log_signature(att, trust, verified)
    else:
        check_signatures(att, view, trust, now, verified)
    # 4. time: nothing is issued in the future
    if att.issued_at > now + CLOCK_SKEW:
        raise TimeOrderError(
            f"issued_at {att.issued_at.isoformat()} is in the future", attestation=att.id
        )
    # 5. role
    roles = _roles(att.issuer, view, trust)
    allowed = ISSUER_ROLES[att.type]
    if not roles & allowed:
        raise RoleError(
            f"{att.issuer} holds roles {sorted(roles) or 'none'}; a {att.type} attestation "
            f"needs one of {sorted(allowed)}",
            attestation=att.id,
        )
    # 6. the type's own references, custody and amounts
    delta = _RULES[att.type](att, view, trust, now)
    # 7. material identity (MATERIAL), where the log holds what the entry consumes
    if bodies is not None:
        check_material(att, view, bodies)
        if att.type == "detention":
            enforcement.check_entry_date(att, bodies(att.body["shipment"]))
    # 8. index rows the verifier and impact queries look things up by
    delta.lookups.extend(lookup_rows(att))
    return delta


def lookup_rows(att: Attestation) -> list[Lookup]:
    """Certificates, audits and events by facility; revocations by target; shipments by
    the exporter and manufacturer they declare (impact finds parties named only there)."""
    body = att.body
    if att.type in ("certificate", "audit"):
        return [Lookup(att.type, body["facility"], att.id)]
    if att.type == "revocation":
        return [Lookup("revocation", body["target"], att.id)]
    if att.type in ("origin", "transformation"):
        return [Lookup("event", body["facility"], att.id)]
    if att.type == "transfer":
        sites = dict.fromkeys(body[k] for k in ("ship_from", "ship_to") if k in body)
        return [Lookup("event", site, att.id) for site in sites]
    if att.type == "shipment":
        named = dict.fromkeys(body[k] for k in ("exporter", "manufacturer") if k in body)
        return [Lookup("declared", party, att.id) for party in named]
    return []


MASS_TYPES = ("origin", "transformation", "transfer")


def _log_lineage(view: StateView, bodies: Bodies) -> Lineage:
    """Lot lineage read from the log, to resolve what an ambiguous lot is."""

    def fetch(ref: str) -> Produced | None:
        record = view.output(ref)
        body = bodies(record.attestation) if record is not None else None
        if body is None:
            return None
        processes: tuple[str, ...] = ()
        if "facility" in body:
            facility = view.facility(body["facility"])
            declared = bodies(facility.attestation) if facility is not None else None
            processes = tuple(declared["processes"]) if declared is not None else ()
        kind = "transfer" if "from" in body else "origin" if "inputs" not in body else ""
        kind = kind or "transformation"
        refs = tuple(str(item["ref"]) for item in body.get("inputs", []))
        return Produced(kind, body, refs, processes)

    return Lineage(materials.default_material_rules(), fetch)


def check_material(att: Attestation, view: StateView, bodies: Bodies) -> None:
    """Verification steps 11-12 at append: the same judgement (:mod:`ledger.materials`)."""
    body = att.body
    rules = materials.default_material_rules()
    to_kg = materials.default_mass_units()
    problems: list[materials.Problem] = []
    for output in body.get("outputs", []) if att.type in MASS_TYPES else []:
        conflict = quantities.mass_conflict(output, to_kg)
        if conflict is not None:
            raise UnitError(f"{att.type}: {conflict}", attestation=att.id)
    if att.type == "origin":
        facility = view.facility(body["facility"])
        declared = bodies(facility.attestation) if facility is not None else None
        if declared is None:
            return
        problems = [
            materials.Problem("MATERIAL", p)
            for p in materials.origin_problems(rules, body, declared["processes"])
        ]
    elif att.type in ("transfer", "transformation"):
        lineage = _log_lineage(view, bodies)
        consumed = []
        for item in body["inputs"]:
            record = view.output(item["ref"])
            producer = bodies(record.attestation) if record is not None else None
            if record is None or producer is None:
                return  # cannot be judged here; the verifier judges it
            consumed.append(
                materials.Consumed(
                    producer["outputs"][record.position],
                    Decimal(item["amount"]),
                    lineage.classes(item["ref"]),
                )
            )
        if att.type == "transfer":
            problems = materials.transfer_problems(
                rules, consumed, body["outputs"], to_kg, materials.default_piece_units()
            )
            problems = [p for p in problems if p.code == "MATERIAL"]  # UNIT: the verifier's
        else:
            texts = materials.transformation_problems(
                rules, body["process"], consumed, body["outputs"]
            )
            facility = view.facility(body["facility"])
            declared = bodies(facility.attestation) if facility is not None else None
            if facility is not None and declared is not None:
                texts += materials.process_problems(
                    rules,
                    body["process"],
                    f"facility {facility.name}",
                    declared["processes"],
                    consumed,
                    body["outputs"],
                )
            problems = [materials.Problem("MATERIAL", p) for p in texts]
    if problems:
        raise MaterialError(f"{att.type}: {problems[0].text}", attestation=att.id)


# -- per-type rules ---------------------------------------------------------------------


def _party(att: Attestation, view: StateView, trust: TrustRoot, now: datetime) -> StateDelta:
    body = att.body
    delta = StateDelta()
    delta.parties.append(
        PartyRecord(
            party_id=body["party_id"],
            legal_name=body["legal_name"],
            country=body["country"],
            roles=frozenset(body["roles"]),
            aliases=tuple(body.get("aliases", ())),
            attestation=att.id,
            filer_codes=tuple(body.get("filer_codes", ())),
        )
    )
    for i, key in enumerate(body["keys"]):
        public = b64decode(key["public_key"], what=f"keys[{i}].public_key", length=32)
        if key_id(public) != key["key_id"]:
            raise KeyInvalidError(
                f"keys[{i}].key_id is not the id of its public key", attestation=att.id
            )
        existing = view.key(key["key_id"])
        if existing is not None:
            if existing.party != body["party_id"]:
                raise KeyInvalidError(
                    f"key {key['key_id']} already belongs to {existing.party}", attestation=att.id
                )
            continue
        valid_from = max(parse_timestamp(key["valid_from"], what="valid_from"), now)
        delta.keys.append(KeyRecord(key["key_id"], body["party_id"], public, valid_from, att.id))
    return delta


def _acting_for(att: Attestation, party: str, view: StateView, trust: TrustRoot, what: str) -> None:
    """``party`` is admitted, and the issuer is that party or a registrar acting for it."""
    if view.party(party) is None:
        raise RefMissingError(f"{party} is not an admitted party", attestation=att.id)
    if att.issuer != party and "registrar" not in _roles(att.issuer, view, trust):
        raise RoleError(f"only {party} itself or a registrar may {what}", attestation=att.id)


def _key(att: Attestation, view: StateView, trust: TrustRoot, now: datetime) -> StateDelta:
    body = att.body
    party = body["party"]
    _acting_for(att, party, view, trust, "change its keys")
    effective = parse_timestamp(body["effective_at"], what="effective_at")
    delta = StateDelta()
    if body["action"] == "add":
        public = b64decode(body["public_key"], what="public_key", length=32)
        if key_id(public) != body["key_id"]:
            raise KeyInvalidError("key_id is not the id of public_key", attestation=att.id)
        if view.key(body["key_id"]) is not None:
            raise KeyInvalidError(f"key {body['key_id']} is already admitted", attestation=att.id)
        delta.keys.append(KeyRecord(body["key_id"], party, public, max(effective, now), att.id))
    else:
        key = view.key(body["key_id"])
        if key is None or key.party != party:
            raise RefMissingError(
                f"key {body['key_id']} is not a key of {party}", attestation=att.id
            )
        delta.key_revocations.append(KeyRevocation(body["key_id"], effective, att.id))
    return delta


def _facility(att: Attestation, view: StateView, trust: TrustRoot, now: datetime) -> StateDelta:
    body = att.body
    operator = body["operator"]
    _acting_for(att, operator, view, trust, "declare its facilities")
    existing = view.facility(body["facility_id"])
    if existing is not None and existing.operator != operator:
        # Who operates it is not the signer's to read: say only that it is taken.
        raise CustodyError(
            f"facility {body['facility_id']} is already declared by another operator; "
            "choose a facility id of your own",
            attestation=att.id,
        )
    return StateDelta(
        facilities=[
            FacilityRecord(
                body["facility_id"],
                body["name"],
                operator,
                body["country"],
                body.get("region"),
                att.id,
            )
        ]
    )


def _operated_facility(att: Attestation, view: StateView) -> None:
    facility = view.facility(att.body["facility"])
    if facility is None:
        raise RefMissingError(
            f"facility {att.body['facility']} is not declared", attestation=att.id
        )
    if facility.operator != att.issuer:
        raise CustodyError(
            f"facility {facility.facility_id} is not operated by the issuer {att.issuer}",
            attestation=att.id,
        )


def _consume(att: Attestation, view: StateView, inputs: Iterable[dict[str, Any]]) -> list[Spend]:
    spends: list[Spend] = []
    seen: set[str] = set()
    for i, item in enumerate(inputs):
        ref, amount = item["ref"], Decimal(item["amount"])
        if ref in seen:
            raise MalformedError(f"inputs[{i}] repeats {ref}", attestation=att.id)
        seen.add(ref)
        if amount <= 0:
            raise MalformedError(f"inputs[{i}].amount must be positive", attestation=att.id)
        output = view.output(ref)
        if output is None:
            source = view.attestation(ref.partition("#")[0])
            if source is None or source.issuer == att.issuer:
                raise RefMissingError(f"inputs[{i}] refers to no output: {ref}", attestation=att.id)
        if output is None or output.holder != att.issuer:
            # The same words whether another party holds the output or another party's
            # attestation (public in the leaves) has no such output: neither holder, lot
            # nor the shape of an attestation the signer did not issue is its to read.
            raise CustodyError(
                f"inputs[{i}] is not held by the issuer {att.issuer}", attestation=att.id
            )
        remaining = output.amount - view.consumed(ref)
        if amount > remaining:
            raise OverconsumedError(
                f"inputs[{i}] takes {amount} {output.unit} of {output.lot} but only "
                f"{remaining} {output.unit} remain",
                attestation=att.id,
            )
        spends.append(Spend(ref, att.id, amount))
    return spends


def _outputs(att: Attestation, holder: str) -> list[OutputRecord]:
    out = []
    for i, item in enumerate(att.body["outputs"]):
        mass = item.get("mass_kg")
        out.append(
            OutputRecord(
                ref=output_ref(att.id, i),
                attestation=att.id,
                position=i,
                holder=holder,
                amount=Decimal(item["quantity"]["amount"]),
                unit=item["quantity"]["unit"],
                mass_kg=Decimal(mass) if mass is not None else None,
                material=item["material"]["name"],
                lot=item["lot"],
            )
        )
    return out


def _event_not_future(att: Attestation, now: datetime) -> None:
    when = att.body.get("event_time")
    if when is not None and parse_timestamp(when, what="event_time") > now + CLOCK_SKEW:
        raise TimeOrderError(f"event_time {when} is in the future", attestation=att.id)


def _origin(att: Attestation, view: StateView, trust: TrustRoot, now: datetime) -> StateDelta:
    _operated_facility(att, view)
    return StateDelta(outputs=_outputs(att, att.issuer))


def _transformation(
    att: Attestation, view: StateView, trust: TrustRoot, now: datetime
) -> StateDelta:
    _operated_facility(att, view)
    _event_not_future(att, now)
    return StateDelta(
        spends=_consume(att, view, att.body["inputs"]), outputs=_outputs(att, att.issuer)
    )


def _transfer(att: Attestation, view: StateView, trust: TrustRoot, now: datetime) -> StateDelta:
    body = att.body
    if body["from"] != att.issuer:
        raise CustodyError(
            f"a transfer is issued by its seller; from is {body['from']}, issuer is {att.issuer}",
            attestation=att.id,
        )
    if view.party(body["to"]) is None:
        raise RefMissingError(f"buyer {body['to']} is not an admitted party", attestation=att.id)
    _event_not_future(att, now)
    return StateDelta(spends=_consume(att, view, body["inputs"]), outputs=_outputs(att, body["to"]))


def _facility_exists(att: Attestation, view: StateView) -> None:
    if view.facility(att.body["facility"]) is None:
        raise RefMissingError(
            f"facility {att.body['facility']} is not declared", attestation=att.id
        )


def _audit(att: Attestation, view: StateView, trust: TrustRoot, now: datetime) -> StateDelta:
    _facility_exists(att, view)
    return StateDelta()


def _certificate(att: Attestation, view: StateView, trust: TrustRoot, now: datetime) -> StateDelta:
    _facility_exists(att, view)
    for audit_id in att.body["audits"]:
        record = view.attestation(audit_id)
        if record is None or record.type != "audit":
            raise RefMissingError(f"audit {audit_id} is not in the log", attestation=att.id)
    return StateDelta()


def _revocation(att: Attestation, view: StateView, trust: TrustRoot, now: datetime) -> StateDelta:
    target = view.attestation(att.body["target"])
    if target is None:
        raise RefMissingError(f"target {att.body['target']} is not in the log", attestation=att.id)
    if target.issuer != att.issuer and "registrar" not in _roles(att.issuer, view, trust):
        raise RoleError(
            "only the issuer of the target or a registrar may revoke it", attestation=att.id
        )
    return StateDelta()


def _shipment(att: Attestation, view: StateView, trust: TrustRoot, now: datetime) -> StateDelta:
    body = att.body
    number = entrynumber.normalise(body["entry_number"])
    _check_filer_code(att, number, view)
    if any(view.shipment_by_entry(s) is not None for s in entrynumber.spellings(number)):
        # Never name the other shipment: it is not the signer's to read.
        raise ReplayError(
            f"entry number {number} is already declared; an entry number is used once",
            attestation=att.id,
        )
    for role in ("exporter", "manufacturer"):
        if view.party(body[role]) is None:
            raise RefMissingError(
                f"{role} {body[role]} is not an admitted party", attestation=att.id
            )
    return StateDelta(
        spends=_consume(att, view, body["inputs"]),
        shipments=[(number, att.id)],
        metrics=[metrics.metric_row(att.id, att.issuer, body)],
    )


def _check_filer_code(att: Attestation, number: str, view: StateView) -> None:
    """An importer files only under the filer codes its registrar-signed party entry declares.

    Entry numbers are predictable (filer code, then a running number): without this,
    any importer could declare a competitor's next numbers first.
    """
    record = view.party(att.issuer)
    codes = record.filer_codes if record is not None else ()
    code = entrynumber.filer_code(number)
    if code not in codes:
        declared = ", ".join(codes) if codes else "none"
        raise RoleError(
            f"entry number {number} uses filer code {code}, which is not one of the "
            f"issuer's filer codes ({declared}); use one of them, or have a registrar "
            f"re-register {att.issuer} with --filer-code {code}",
            attestation=att.id,
        )


def _allegation_receipt(
    att: Attestation, view: StateView, trust: TrustRoot, now: datetime
) -> StateDelta:
    """Issued in the name of a trust-root registrar (the log's operator); adds no state."""
    if not trust.is_root_registrar(att.issuer):
        raise RoleError(
            f"an allegation-receipt is issued by a trust-root registrar, not {att.issuer}",
            attestation=att.id,
        )
    return StateDelta()


_RULES = {
    "party": _party,
    "key": _key,
    "facility": _facility,
    "origin": _origin,
    "transformation": _transformation,
    "transfer": _transfer,
    "audit": _audit,
    "certificate": _certificate,
    "revocation": _revocation,
    "shipment": _shipment,
    "allegation-receipt": _allegation_receipt,
    **enforcement.RULES,
}
