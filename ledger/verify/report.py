"""A verdict as a person reads it: the chain tier by tier, then the findings.

Built only from :meth:`Verdict.to_json`, so a report printed from an offline bundle
reads the same as one printed from the live ledger.
"""

from __future__ import annotations

from typing import Any

from ledger.verify.verdict import Verdict
from ledger.verify.words import plural


def _short(att_id: str | None) -> str:
    return "-" if att_id is None else att_id[:19] + "…"


def _lots(lots: list[dict[str, Any]]) -> str:
    parts = []
    for lot in lots:
        mass = f" ({lot['mass_kg']} kg)" if lot.get("mass_kg") and lot["unit"] != "kg" else ""
        parts.append(f"{lot['lot']} {lot['material']} {lot['amount']} {lot['unit']}{mass}")
    return "; ".join(parts)


def _who(tier: dict[str, Any]) -> str:
    name = tier.get("party_name") or tier.get("party") or "?"
    country = f" ({tier['country']})" if tier.get("country") else ""
    return f"{name}{country}"


def _tier_lines(tier: dict[str, Any]) -> list[str]:
    kind = tier.get("process") or tier.get("type") or "unreadable"
    head = f"  tier {tier['tier']:<2} {kind:<22} {_who(tier)}"
    if tier.get("type") == "transfer":
        head += f" -> {tier.get('to')}"
    if tier.get("facility_name"):
        region = f" [{tier['region']}]" if tier.get("region") else ""
        head += f" at {tier['facility_name']}{region}"
    if tier.get("entry_number"):
        head += f" entry {tier['entry_number']}"
    if tier.get("event"):
        head += f"  {tier['event']}"
    lines = [head, f"            {tier['attestation']} (log index {tier['index']})"]
    if tier.get("signed_by"):
        names = [
            f"{s.get('legal_name') or 'unknown'} ({s.get('party') or s['key_id']})"
            for s in tier["signed_by"]
        ]
        lines.append(f"            signed by: {'; '.join(names)}")
    if tier.get("outputs"):
        lines.append(f"            out: {_lots(tier['outputs'])}")
    if tier.get("documents"):
        lines.append(f"            documents: {', '.join(tier['documents'])}")
    for cert in tier.get("certificates", []):
        lines.append(
            f"            certificate {cert['certificate_id']} ({cert['scheme']}, "
            f"{cert['valid_from']}..{cert['valid_until']}): {cert['status']}"
        )
    return lines


def render(verdict: Verdict) -> str:
    """The readable report of ``verdict`` (the CLI prints it without ``--json``)."""
    data = verdict.to_json()
    summary: dict[str, Any] = data["summary"]
    entry = summary.get("entry", {})
    counts = summary.get("counts", {})
    lines = [f"Shipment {entry.get('entry_number', '?')}  {data['shipment']}"]
    if entry:
        lines.append(
            f"  importer {entry['importer']}, exporter {entry['exporter']}, manufacturer "
            f"{entry['manufacturer']}, origin {entry['country_of_origin']}, "
            f"arrival {entry['arrival_date']}, HTS {', '.join(entry['hts'])}"
        )
    first = data["checkpoint"].split("\n")
    lines.append(f"  checkpoint: {first[0]} at size {first[1] if len(first) > 1 else '?'}")
    lines.append(
        f"Verdict: {data['status'].upper()} ({plural(counts.get('errors', 0), 'error')}, "
        f"{plural(counts.get('warnings', 0), 'warning')}; "
        f"{plural(counts.get('chain', 0), 'chain entry', 'chain entries')}, "
        f"{plural(counts.get('relied_on', 0), 'entry', 'entries')} relied on)"
    )
    held = summary.get("enforcement")
    if held and held.get("status", "none") != "none":
        lines.append(
            f"Enforcement: {held['status']} under {held['legal_basis']} since "
            f"{held['detained_on']} (submission due {held['submit_by']}"
            + (", a submission was late" if held.get("late") else "")
            + "); informative, not part of the verdict"
        )
    lines += ["", "Chain, tier by tier:"]
    for tier in summary.get("tiers", []):
        lines += _tier_lines(tier)
    if summary.get("countries"):
        lines.append(
            f"  countries: {', '.join(summary['countries'])}; regions: "
            f"{', '.join(summary.get('regions', [])) or '-'}"
        )
    lines += ["", "Findings:"]
    if not data["findings"]:
        lines.append("  none")
    for f in data["findings"]:
        lines.append(
            f"  {f['severity'].upper():<7} {f['code']} (step {f['step']}) "
            f"{_short(f['attestation'])}: {f['message']}"
        )
    lists = summary.get("screening_lists", [])
    lines.append("")
    lines.append(
        "Screening lists: "
        + (
            "; ".join(
                f"{s['name']} ({s.get('kind', 'entity')}) sha256:{s['sha256']} "
                f"(loaded {s['loaded_at']})"
                for s in lists
            )
            or "none loaded"
        )
    )
    lines.append(f"Rules: {summary.get('rules_version', '?')}")
    return "\n".join(lines)
