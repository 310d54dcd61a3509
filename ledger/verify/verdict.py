"""Verdicts and findings (contract shape), and the numbered steps of verification.

Every finding carries its rule's stable code and the number of the step that found it;
the steps run in this order in :mod:`ledger.verify.engine` and are mirrored there in
comments. ``status`` is ``fail`` with any error, ``review`` with warnings only, else
``pass``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Step number and title of each verification step; the codes it may report.
STEPS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (1, "checkpoint signed by the log key of the trust root", ("CHECKPOINT",)),
    (2, "every entry proven included under the checkpoint", ("LOG_INCLUSION",)),
    (3, "leaf hashes and prev links agree with the log", ("LOG_CHAIN",)),
    (4, "envelopes are the ones logged and every signature verifies", ("SIGNATURE",)),
    (5, "payloads validate against their schemas", ("SCHEMA",)),
    (6, "signing keys admitted and not revoked at integration time", ("KEY_INVALID",)),
    (7, "issuers hold the roles their types require", ("ROLE",)),
    (8, "every input refers to an existing output", ("REF_MISSING",)),
    (9, "consumers hold what they consume", ("CUSTODY",)),
    (10, "no output is consumed beyond its amount", ("OVERCONSUMED",)),
    (11, "quantities are in compatible units or carry mass_kg", ("UNIT",)),
    (12, "material keeps its identity; only processes change it", ("MATERIAL",)),
    (13, "outputs within the process's maximum yield", ("YIELD",)),
    (14, "events after what they consume and not in the future", ("TIME_ORDER",)),
    (15, "processing facilities certified at event time", ("CERT_MISSING", "CERT_INVALID")),
    (16, "screening lists applied and current", ("SCREENING_MISSING",)),
    (
        17,
        "no party or facility on an entity list in force on the entry date",
        ("ENTITY_LISTED", "ENTITY_FORMERLY_LISTED"),
    ),
    (18, "no merchandise under a WRO or Finding in force on the entry date", ("WRO", "FINDING")),
    (
        19,
        "no facility in a high-risk region by any declared location",
        ("REGION_HIGH_RISK", "LOCATION_CONFLICT"),
    ),
)
STEP_OF: dict[str, int] = {code: number for number, _, codes in STEPS for code in codes}
WARNING_CODES = frozenset(
    {"CERT_MISSING", "LOCATION_CONFLICT", "SCREENING_MISSING", "ENTITY_FORMERLY_LISTED"}
)

PASS, REVIEW, FAIL = "pass", "review", "fail"
EXIT_CODES = {PASS: 0, REVIEW: 3, FAIL: 1}


@dataclass(frozen=True)
class Finding:
    """One broken rule: its code, severity, the attestation at fault and why."""

    code: str
    severity: str
    attestation: str | None
    message: str
    step: int

    @classmethod
    def of(
        cls, code: str, attestation: str | None, message: str, *, severity: str | None = None
    ) -> Finding:
        sev = severity or ("warning" if code in WARNING_CODES else "error")
        return cls(code, sev, attestation, message[:4096], STEP_OF[code])

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "attestation": self.attestation,
            "message": self.message,
            "step": self.step,
        }


def status_of(findings: tuple[Finding, ...] | list[Finding]) -> str:
    if any(f.severity == "error" for f in findings):
        return FAIL
    return REVIEW if findings else PASS


@dataclass(frozen=True)
class Verdict:
    """The result of verifying one shipment against one checkpoint."""

    shipment: str
    status: str
    checkpoint: str
    findings: tuple[Finding, ...]
    summary: dict[str, Any] = field(hash=False)

    @property
    def exit_code(self) -> int:
        """CLI exit status: 0 pass, 3 review, 1 fail."""
        return EXIT_CODES[self.status]

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def to_json(self) -> dict[str, Any]:
        return {
            "shipment": self.shipment,
            "status": self.status,
            "checkpoint": self.checkpoint,
            "findings": [f.to_json() for f in self.findings],
            "summary": self.summary,
        }
