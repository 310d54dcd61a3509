"""The EPCIS 2.0 document itself: its event list, checked before any event is mapped.

Without GS1's JSON Schema (which lotchain does not ship) the fields the import reads are
checked structurally; given the schema, the whole document is validated against it.
Every problem is reported at once, each with its JSON pointer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from ledger.epcis_map import MapLookupError
from ledger.errors import EpcisError

MAX_EVENTS = 5000
MAX_PROBLEMS = 200
EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)


def events_of(document: object) -> list[dict[str, Any]]:
    """The event list of an EPCIS document, after a structural check of what import reads.

    Used when the EPCIS JSON Schema is not given; every problem is reported at once, each
    with its JSON pointer.
    """
    problems: list[str] = []
    if not isinstance(document, dict):
        raise EpcisError("an EPCIS document is a JSON object with type EPCISDocument")
    if document.get("type") == "EPCISQueryDocument":
        body = _dig(document, "epcisBody", "queryResults", "resultsBody")
        pointer = "/epcisBody/queryResults/resultsBody/eventList"
    elif document.get("type") == "EPCISDocument":
        body = _dig(document, "epcisBody")
        pointer = "/epcisBody/eventList"
    else:
        raise EpcisError(
            f"/type: an EPCIS document has type EPCISDocument, not {document.get('type')!r}"
        )
    if document.get("schemaVersion") not in ("2.0", 2.0):
        problems.append(
            f"/schemaVersion: must be 2.0 (EPCIS 2.0), not {document.get('schemaVersion')!r}"
        )
    events = body.get("eventList") if isinstance(body, dict) else None
    if not isinstance(events, list):
        raise EpcisError(f"{pointer}: the document holds no eventList array")
    if len(events) > MAX_EVENTS:
        raise EpcisError(f"{pointer}: {len(events)} events; one import takes at most {MAX_EVENTS}")
    for i, event in enumerate(events):
        where = f"{pointer}/{i}"
        if not isinstance(event, dict):
            problems.append(f"{where}: an event is a JSON object")
            continue
        if event.get("type") not in EVENT_TYPES:
            problems.append(f"{where}/type: must be one of {', '.join(EVENT_TYPES)}")
        try:
            event_time(event)
        except MapLookupError as e:
            problems.append(f"{where}/eventTime: {e.message}")
        for name in ("epcList", "inputEPCList", "outputEPCList"):
            value = event.get(name, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"{where}/{name}: must be an array of EPC URIs")
        for name in ("quantityList", "inputQuantityList", "outputQuantityList"):
            value = event.get(name, [])
            if not isinstance(value, list):
                problems.append(f"{where}/{name}: must be an array of quantity elements")
                continue
            for j, element in enumerate(value):
                if not isinstance(element, dict) or not isinstance(element.get("epcClass"), str):
                    problems.append(f"{where}/{name}/{j}: needs an epcClass")
                elif "quantity" in element and not is_number(element["quantity"]):
                    problems.append(f"{where}/{name}/{j}/quantity: must be a number")
        for name in ("readPoint", "bizLocation"):
            if name in event and not isinstance(event[name], dict | None):
                problems.append(f"{where}/{name}: must be an object with an id")
    if problems:
        raise EpcisError(
            f"the EPCIS document has {len(problems)} problem(s): " + "; ".join(problems[:50]),
            problems=problems[:MAX_PROBLEMS],
        )
    return events


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def validate_with_schema(document: object, schema: dict[str, Any]) -> None:
    """Validate against the EPCIS 2.0 JSON Schema (given by the caller); all errors at once."""
    import jsonschema

    try:
        validator = jsonschema.Draft7Validator(
            schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
        )
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    except jsonschema.SchemaError as e:
        raise EpcisError(f"the EPCIS JSON Schema given is not a valid schema: {e.message}") from e
    if errors:
        lines = [
            "/" + "/".join(str(p) for p in e.absolute_path) + f": {e.message[:300]}"
            for e in errors[:MAX_PROBLEMS]
        ]
        raise EpcisError(
            f"the document does not validate against the EPCIS 2.0 JSON Schema "
            f"({len(errors)} error(s)): " + "; ".join(lines[:20]),
            problems=lines,
        )


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def event_time(event: dict[str, Any]) -> datetime:
    text = event.get("eventTime")
    if not isinstance(text, str) or len(text) > 40:
        raise MapLookupError("EPCIS_TIME", "eventTime must be an RFC 3339 date-time with an offset")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as e:
        raise MapLookupError("EPCIS_TIME", f"eventTime {text!r} is not a real date-time") from e
    if moment.tzinfo is None:
        raise MapLookupError("EPCIS_TIME", f"eventTime {text!r} has no time zone offset")
    return moment.astimezone(UTC)


def local_date(event: dict[str, Any]) -> date:
    """The event's calendar day where it happened (eventTimeZoneOffset), else in UTC."""
    moment = event_time(event)
    offset = event.get("eventTimeZoneOffset")
    if isinstance(offset, str) and len(offset) == 6 and offset[0] in "+-":
        try:
            hours, minutes = int(offset[1:3]), int(offset[4:6])
        except ValueError:
            return moment.date()
        sign = 1 if offset[0] == "+" else -1
        return (moment + sign * timedelta(hours=hours, minutes=minutes)).date()
    return moment.date()
