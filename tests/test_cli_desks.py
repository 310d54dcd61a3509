"""Parties at their own desks, through the command line: templates, documents hashed from
files, inputs by lot label, `lotchain lots`, co-signing with `lotchain sign` and a
passphrase per key."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from desk_fixtures import (
    FARM,
    FARM_SITE,
    GIN,
    SEED_COTTON,
    Desk,
    _environment,
    chain,
    ok,
    run,
    write,
)
from ledger.templates import TEMPLATE_TYPES, example

__all__ = ["_environment", "chain"]  # fixtures, used by name


def harvest(capsys: pytest.CaptureFixture[str], chain: dict[str, Any], lot: str, kg: str) -> str:
    """The farm's origin of ``lot`` (from the example body); its output reference."""
    body = example("origin")
    body["facility"] = FARM_SITE
    body["outputs"][0].update(lot=lot, quantity={"amount": kg, "unit": "kg"})
    path = write(chain["root"] / f"origin-{lot}.json", body)
    out = ok(
        capsys,
        *("attest", "origin", "--home", chain["home"], "--issuer", FARM, "--body", path),
        *(*chain["farm"].signing(), "--submit", "--json"),
    )
    receipt = json.loads(out)
    assert receipt["outputs"] == [
        {"ref": receipt["attestation"] + "#0", "lot": lot, "amount": kg, "unit": "kg"}
    ]
    return str(receipt["outputs"][0]["ref"])


def sale_body(lot: str, amount: str, out_lot: str) -> dict[str, Any]:
    return {
        "from": FARM,
        "to": GIN,
        "event_time": "2024-11-28T08:00:00Z",
        "inputs": [{"lot": lot, "amount": amount}],
        "outputs": [
            {"lot": out_lot, "material": SEED_COTTON, "quantity": {"amount": amount, "unit": "kg"}}
        ],
        "documents": [{"kind": "invoice", "number": "PCF/24/117"}],
    }


# -- templates --------------------------------------------------------------------------------


@pytest.mark.parametrize("type_", TEMPLATE_TYPES)
def test_every_template_is_a_valid_body(
    capsys: pytest.CaptureFixture[str], type_: str, tmp_path: Path
) -> None:
    from ledger import schemas

    body = json.loads(ok(capsys, "template", type_))
    assert body == json.loads(
        (Path(__file__).parents[1] / "examples" / f"{type_}.json").read_text()
    )
    schemas.validate(type_, body)
    fields = json.loads(ok(capsys, "template", type_, "--explain", "--json"))["fields"]
    required = set(schemas.documents()[type_]["required"])
    top = {f["field"]: f for f in fields if "." not in f["field"] and "[" not in f["field"]}
    assert {name for name, f in top.items() if f["required"]} == required
    assert all(f["description"] for f in fields)


def test_explain_says_form_and_need_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    text = ok(capsys, "template", "transfer", "--explain")
    assert "event_time  [required; UTC time, e.g. 2025-03-01T08:00:00Z]" in text
    assert "documents[].issued_on  [optional; date, YYYY-MM-DD]" in text
    assert "schemas/transfer.schema.json" in text
    assert '{"lot": "<label>"' in text
    assert "^" not in text  # no raw regular expression


def test_schema_errors_come_all_at_once(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    body = example("origin")
    body.update(facility="farm", produced_on="2024-02-30", colour="white")
    body["outputs"][0]["quantity"]["unit"] = "sacks"
    path = write(chain["root"] / "bad.json", body)
    code, _, err = run(
        capsys,
        *("attest", "origin", "--home", chain["home"], "--issuer", FARM, "--body", path),
        *chain["farm"].signing(),
        "--json",
    )
    assert code == 2
    error = json.loads(err)["error"]
    assert error["code"] == "SCHEMA" and "schemas/origin.schema.json" in error["message"]
    pointers = {p["pointer"] for p in error["problems"]}
    assert {"(top level)", "/facility", "/produced_on", "/outputs/0/quantity/unit"} <= pointers
    words = " ".join(p["message"] for p in error["problems"])
    assert "unknown field colour" in words
    assert "produced_on: 2024-02-30 is not a real date (expected YYYY-MM-DD)" in words
    assert "sacks is not one of kg" in words
    assert "^" not in words


# -- documents, lots by label, receipts -------------------------------------------------------


def test_documents_and_lot_labels_are_resolved_before_signing(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    ref = harvest(capsys, chain, "RJK-2024-SC-017", "12000")
    lots = json.loads(ok(capsys, "lots", "--home", chain["home"], "--party", FARM, "--json"))
    assert lots["lots"] == [
        {
            "ref": ref,
            "lot": "RJK-2024-SC-017",
            "material": "seed cotton",
            "amount": "12000",
            "left": "12000",
            "unit": "kg",
            "mass_kg": None,
        }
    ]
    invoice = chain["farm"].dir / "invoice.pdf"
    invoice.write_bytes(b"%PDF-1.7 invoice PCF/24/117")
    waybill = chain["farm"].dir / "LR-5531.pdf"
    waybill.write_bytes(b"%PDF-1.7 lorry receipt")
    body = write(chain["root"] / "sale.json", sale_body("RJK-2024-SC-017", "4000", "SG-IN-001"))
    envelope = chain["root"] / "sale.env.json"
    ok(
        capsys,
        *("attest", "transfer", "--home", chain["home"], "--issuer", FARM, "--body", body),
        *chain["farm"].signing(),
        *("--document", f"invoice={invoice}", "--document", f"bill-of-lading={waybill}"),
        *("--out", str(envelope)),
    )
    payload = json.loads(base64.b64decode(json.loads(envelope.read_text())["payload"]))
    assert payload["body"]["inputs"] == [{"ref": ref, "amount": "4000"}]
    assert payload["body"]["documents"] == [
        {
            "kind": "invoice",
            "number": "PCF/24/117",
            "sha256": hashlib.sha256(invoice.read_bytes()).hexdigest(),
        },
        {
            "kind": "bill-of-lading",
            "number": "LR-5531.pdf",
            "sha256": hashlib.sha256(waybill.read_bytes()).hexdigest(),
        },
    ]
    out = ok(capsys, "submit", "--home", chain["home"], str(envelope))
    assert "lot SG-IN-001  4000 kg" in out and "#0" in out
    text = ok(capsys, "lots", "--home", chain["home"], "--party", FARM)
    assert "RJK-2024-SC-017" in text and "8000" in text and ref in text
    gin = json.loads(ok(capsys, "lots", "--home", chain["home"], "--party", GIN, "--json"))
    assert [(x["lot"], x["left"]) for x in gin["lots"]] == [("SG-IN-001", "4000")]


def test_unknown_used_up_and_ambiguous_labels_are_refused(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    first = harvest(capsys, chain, "RJK-A", "100")
    home, farm = chain["home"], chain["farm"]

    def sell(lot: str, amount: str) -> tuple[int, str]:
        body = sale_body(lot, amount, f"G-{lot}-{amount}")
        body["documents"][0]["sha256"] = "0" * 64
        path = write(chain["root"] / "sale.json", body)
        args = ("attest", "transfer", "--home", home, "--issuer", FARM, "--body", path)
        code, _, err = run(capsys, *args, *farm.signing(), "--submit")
        return code, err

    code, err = sell("RJK-NONE", "10")
    assert code == 2 and "holds no lot labelled 'RJK-NONE'" in err and "lotchain lots" in err
    assert sell("RJK-A", "100") == (0, "")
    code, err = sell("RJK-A", "1")
    assert code == 2 and "used up" in err
    second = harvest(capsys, chain, "RJK-B", "50")
    third = harvest(capsys, chain, "RJK-B", "70")
    code, err = sell("RJK-B", "5")
    assert code == 2 and "2 lots labelled 'RJK-B'" in err
    assert second in err and third in err and first not in err


def test_document_options_are_checked(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    body = write(chain["root"] / "f.json", example("facility"))
    for spec, said in (
        ("invoice", "KIND=FILE"),
        ("invoice=/no/such/file.pdf", "cannot read the document"),
    ):
        code, _, err = run(
            capsys,
            *("attest", "transfer", "--home", chain["home"], "--issuer", FARM, "--body", body),
            *chain["farm"].signing(),
            *("--document", spec),
        )
        assert code == 2 and said in err, err
    code, _, err = run(
        capsys,
        *("attest", "facility", "--home", chain["home"], "--issuer", FARM, "--body", body),
        *chain["farm"].signing(),
        *("--document", f"invoice={body}"),
    )
    assert code == 2 and "holds no documents" in err


def test_an_audit_binds_its_evidence_file(tmp_path: Path) -> None:
    from ledger.cli.bodies import add_documents

    report = tmp_path / "report.pdf"
    report.write_bytes(b"audit report")
    body = add_documents("audit", example("audit"), (f"evidence={report}",))
    assert body["evidence_sha256"] == hashlib.sha256(b"audit report").hexdigest()


# -- passphrases and co-signing ---------------------------------------------------------------


def test_each_key_opens_with_its_own_passphrase(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    farm = chain["farm"]
    body = write(chain["root"] / "f.json", example("facility") | {"operator": FARM})
    args = ("attest", "facility", "--home", chain["home"], "--issuer", FARM, "--body", body)
    code, _, err = run(capsys, *args, "--key", str(farm.key))  # LOTCHAIN_PASSPHRASE: the home's
    assert code == 2 and "wrong passphrase" in err
    monkeypatch.setenv("LOTCHAIN_PASSPHRASE_FILE", str(farm.passfile))
    ok(capsys, *args, "--key", str(farm.key))
    monkeypatch.delenv("LOTCHAIN_PASSPHRASE_FILE")
    farm.passfile.chmod(0o644)
    code, _, err = run(capsys, *args, *farm.signing())
    assert code == 2 and "readable by group or others" in err and "chmod 600" in err
    farm.passfile.chmod(0o600)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    asked: list[str] = []

    def prompt(text: str, **_: Any) -> str:
        asked.append(text)
        return "farm passphrase 1"

    monkeypatch.delenv("LOTCHAIN_PASSPHRASE")
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr("click.prompt", prompt)
    ok(capsys, *args, "--key", str(farm.key))
    assert asked == [f"Passphrase of {farm.key}"]


def test_two_desks_co_sign_a_transfer(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    home, farm, gin = chain["home"], chain["farm"], chain["gin"]
    harvest(capsys, chain, "RJK-C", "900")
    body = sale_body("RJK-C", "900", "SG-IN-C")
    body["documents"][0]["sha256"] = "1" * 64
    sale = chain["root"] / "sale.env.json"
    ok(
        capsys,
        *("attest", "transfer", "--home", home, "--issuer", FARM, "--body"),
        write(chain["root"] / "sale.json", body),
        *(*farm.signing(), "--out", str(sale)),
    )
    signed = gin.dir / "sale.signed.json"
    out = ok(
        capsys, "sign", str(sale), "--home", home, *gin.signing(), "--out", str(signed), "--json"
    )
    assert json.loads(out)["signed_by"] == [
        f"{FARM} (Patel Cotton Farm)",
        f"{GIN} (Shree Ginning Pvt Ltd)",
    ]
    assert len(json.loads(signed.read_text())["signatures"]) == 2

    # refusals: the same key twice, the same party twice, an altered envelope, a stranger's key
    code, _, err = run(capsys, "sign", str(signed), "--home", home, *gin.signing())
    assert code == 2 and "already signed by your key" in err
    second = Desk(chain["root"], "gin2", "gin second key 3")
    second.generate(capsys)
    ok(
        capsys,
        *("keys", "rotate", "--home", home, "--party", GIN, *gin.signing()),
        *("--new-public-key", f"{second.key}.pub", "--keep-old"),
    )
    code, _, err = run(capsys, "sign", str(signed), "--home", home, *second.signing())
    assert code == 2 and f"already signed by {GIN} (Shree Ginning Pvt Ltd)" in err
    stranger = Desk(chain["root"], "stranger", "stranger pass 4")
    stranger.generate(capsys)
    code, _, err = run(capsys, "sign", str(sale), "--home", home, *stranger.signing())
    assert code == 2 and "not admitted" in err
    envelope = json.loads(sale.read_text())
    payload = base64.b64decode(envelope["payload"]).replace(b'"900"', b'"990"')
    envelope["payload"] = base64.b64encode(payload).decode()
    altered = write(chain["root"] / "altered.json", envelope)
    code, _, err = run(capsys, "sign", altered, "--home", home, *gin.signing())
    assert code == 2 and "does not verify" in err

    receipt = json.loads(ok(capsys, "submit", "--home", home, str(signed), "--json"))
    assert receipt["outputs"][0]["lot"] == "SG-IN-C"


def test_a_desk_holds_the_trust_root_and_nothing_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trust = Path(__file__).parents[1] / "keys" / "demo-trust-root.json"
    desk = tmp_path / "desk"
    out = ok(capsys, "desk", "init", "--home", str(desk), "--trust-root", str(trust), "--json")
    assert json.loads(out)["log"] == "demo.lotchain.example/log"
    assert json.loads((desk / "keys" / "trust-root.json").read_text()) == json.loads(
        trust.read_text()
    )
    assert sorted(p.name for p in desk.rglob("*") if p.is_file()) == [
        "config.json",
        "trust-root.json",
    ]
    code, _, err = run(capsys, "desk", "init", "--home", str(desk), "--trust-root", str(trust))
    assert code == 2 and "already a lotchain home" in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1}')
    code, _, err = run(
        capsys, "desk", "init", "--home", str(tmp_path / "d2"), "--trust-root", str(bad)
    )
    assert code != 0 and not (tmp_path / "d2").exists()


NEW_COMMANDS = [
    ("template",),
    ("lots",),
    ("sign",),
    ("desk", "init"),
    ("keys", "generate"),
    ("keys", "revoke"),
    ("keys", "rotate"),
    ("certificate", "revoke"),
    ("party", "register"),
    ("facility", "register"),
]


@pytest.mark.parametrize("command", NEW_COMMANDS, ids=" ".join)
def test_new_commands_have_an_example_and_json(
    capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    out = ok(capsys, *command, "--help")
    assert "Example" in out and f"lotchain {' '.join(command)}" in out
    assert "--json" in out
