"""Fewer steps at a desk: several bodies signed in one attest call, co-sign and submit in
one, a desk with its key in one command, a party admitted with its token, both screening
lists in one load, the server started in the background."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from desk_fixtures import (
    FARM,
    FARM_SITE,
    GIN,
    GIN_SITE,
    SEED_COTTON,
    Desk,
    _environment,
    chain,
    ok,
    run,
    write,
)

__all__ = ["_environment", "chain"]  # fixtures, used by name

ROOT = Path(__file__).resolve().parents[1]
AUDITOR = "party:bureau-social-audit"


def size(capsys: pytest.CaptureFixture[str], home: str) -> int:
    return int(json.loads(ok(capsys, "checkpoint", "--home", home, "--json"))["size"])


def payload(envelope: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
    return value


def origin(lot: str, kg: str) -> dict[str, Any]:
    return {
        "facility": FARM_SITE,
        "produced_on": "2024-11-01",
        "material": SEED_COTTON,
        "outputs": [
            {"lot": lot, "material": SEED_COTTON, "quantity": {"amount": kg, "unit": "kg"}}
        ],
    }


def sale(lot: str, kg: str, out_lot: str, invoice: str = "@invoice.pdf") -> dict[str, Any]:
    return {
        "from": FARM,
        "to": GIN,
        "event_time": "2024-11-28T08:00:00Z",
        "inputs": [{"lot": lot, "amount": kg}],
        "outputs": [
            {"lot": out_lot, "material": SEED_COTTON, "quantity": {"amount": kg, "unit": "kg"}}
        ],
        "documents": [{"kind": "invoice", "number": "PCF/24/117", "sha256": invoice}],
    }


def farm_day(chain: dict[str, Any], *bodies: tuple[str, dict[str, Any]]) -> list[str]:
    """Write bodies into the farm's folder; their --body TYPE=FILE options."""
    args = []
    for n, (type_, body) in enumerate(bodies):
        args += ["--body", f"{type_}={write(chain['farm'].dir / f'{n}-{type_}.json', body)}"]
    return args


# -- several bodies in one attest call ----------------------------------------------------------


def test_a_day_of_bodies_is_signed_in_order_and_the_transfer_kept_for_the_buyer(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    home, farm, gin = chain["home"], chain["farm"], chain["gin"]
    invoice = farm.dir / "invoice.pdf"
    invoice.write_bytes(b"%PDF-1.7 invoice PCF/24/117")
    before = size(capsys, home)
    envelope = gin.dir / "sale.env.json"
    out = ok(
        capsys,
        *("attest", "--home", home, "--issuer", FARM, *farm.signing(), "--submit", "--json"),
        *farm_day(
            chain, ("origin", origin("RJK-1", "900")), ("transfer", sale("RJK-1", "600", "G-1"))
        ),
        *("--cosign-out", str(envelope)),
    )
    receipt = json.loads(out)  # one body submitted: its receipt; the transfer is kept
    assert receipt["outputs"][0]["lot"] == "RJK-1"
    assert size(capsys, home) == before + 1
    sold = payload(json.loads(envelope.read_text()))
    assert sold["body"]["inputs"] == [{"ref": receipt["outputs"][0]["ref"], "amount": "600"}]
    assert (
        sold["body"]["documents"][0]["sha256"] == hashlib.sha256(invoice.read_bytes()).hexdigest()
    )

    # the buyer co-signs and submits in one step
    out = ok(capsys, "sign", str(envelope), "--home", home, *gin.signing(), "--submit", "--json")
    assert json.loads(out)["outputs"][0]["lot"] == "G-1"
    assert size(capsys, home) == before + 2
    code, _, err = run(capsys, "sign", str(envelope), "--home", home, *farm.signing(), "--submit")
    assert code == 2 and "already signed by your key" in err
    assert size(capsys, home) == before + 2
    left = json.loads(ok(capsys, "lots", "--home", home, "--party", FARM, "--json"))["lots"]
    assert [(x["lot"], x["left"]) for x in left] == [("RJK-1", "300")]


def test_later_bodies_use_up_lots_of_earlier_ones(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    home, farm = chain["home"], chain["farm"]
    (farm.dir / "invoice.pdf").write_bytes(b"invoice")
    before = size(capsys, home)
    code, _, err = run(
        capsys,
        *("attest", "--home", home, "--issuer", FARM, *farm.signing(), "--submit"),
        *farm_day(
            chain,
            ("origin", origin("RJK-2", "500")),
            ("transfer", sale("RJK-2", "500", "G-2")),
            ("transfer", sale("RJK-2", "1", "G-3")),
        ),
    )
    assert code == 2 and "used up" in err and "body 3 of 3" in err
    assert size(capsys, home) == before  # nothing submitted


def test_an_audit_and_its_certificate_in_one_call(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    home = chain["home"]
    auditor = Desk(chain["root"], "auditor", "auditor passphrase 5")
    auditor.generate(capsys)
    ok(
        capsys,
        *("party", "register", "--home", home, "--party", AUDITOR, "--name", "Bureau SA"),
        *("--country", "CH", "--role", "auditor", "--public-key", f"{auditor.key}.pub"),
    )
    report = auditor.dir / "report.pdf"
    report.write_bytes(b"SA8000 audit report")
    audit = {
        "facility": GIN_SITE,
        "scheme": "SA8000",
        "audit_date": "2024-05-20",
        "result": "pass",
        "topics": ["debt-bondage"],
        "findings": [],
        "evidence_sha256": "@report.pdf",
    }
    certificate = {
        "certificate_id": "SA8000-GIN-2024",
        "facility": GIN_SITE,
        "scheme": "SA8000",
        "scope": {"processes": ["ginning"], "materials": ["cotton"]},
        "valid_from": "2024-06-01",
        "valid_until": "2026-05-31",
        "audits": ["@audit.json"],
    }
    audit_file = write(auditor.dir / "audit.json", audit)
    cert_file = write(auditor.dir / "certificate.json", certificate)
    out = ok(
        capsys,
        *("attest", "--home", home, "--issuer", AUDITOR, *auditor.signing()),
        *("--body", f"audit={audit_file}", "--body", f"certificate={cert_file}", "--json"),
    )
    signed = json.loads(out)
    assert [payload(e)["type"] for e in signed] == ["audit", "certificate"]
    audit_id = "sha256:" + hashlib.sha256(base64.b64decode(signed[0]["payload"])).hexdigest()
    assert payload(signed[1])["body"]["audits"] == [audit_id]
    assert (
        payload(signed[0])["body"]["evidence_sha256"]
        == hashlib.sha256(report.read_bytes()).hexdigest()
    )

    # the certificate before its audit: refused, nothing written
    out_file = auditor.dir / "both.json"
    code, _, err = run(
        capsys,
        *("attest", "--home", home, "--issuer", AUDITOR, *auditor.signing()),
        *("--body", f"certificate={cert_file}", "--body", f"audit={audit_file}"),
        *("--out", str(out_file)),
    )
    assert code == 2 and "not an audit body signed before" in err and not out_file.exists()


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (("--body", "{origin}"), "say what it is"),
        (("--body", "allegation-receipt={origin}"), "signed by the log"),
        (("--body", "origin={origin}", "--cosign-out", "x.json"), "goes with --submit"),
        (
            ("--body", "origin={origin}", "--submit", "--cosign-out", "x.json"),
            "one transfer among the bodies; there are 0",
        ),
        (
            ("--body", "origin={origin}", "--body", "origin={origin}", "--document", "a=b"),
            "--document fills one body",
        ),
        (("--body", "transfer={missing}", "--submit"), "cannot read the document"),
        ((), "give a body"),
    ],
)
def test_attest_refuses_unclear_calls_and_writes_nothing(
    chain: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    extra: tuple[str, ...],
    said: str,
) -> None:
    home, farm = chain["home"], chain["farm"]
    files = {
        "origin": write(farm.dir / "o.json", origin("RJK-9", "10")),
        "missing": write(farm.dir / "s.json", sale("RJK-9", "1", "G", "@no-such.pdf")),
    }
    before = size(capsys, home)
    code, _, err = run(
        capsys,
        *("attest", "--home", home, "--issuer", FARM, *farm.signing()),
        *(e.format(**files) for e in extra),
    )
    assert code == 2 and said in err, err
    assert size(capsys, home) == before and not (Path.cwd() / "x.json").exists()


def test_a_co_signing_key_has_its_own_passphrase_file(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    home, farm, gin = chain["home"], chain["farm"], chain["gin"]
    (farm.dir / "invoice.pdf").write_bytes(b"invoice")
    ok(
        capsys,
        *("attest", "origin", "--home", home, "--issuer", FARM, *farm.signing(), "--submit"),
        "--body",
        write(farm.dir / "o.json", origin("RJK-5", "10")),
    )
    body = write(farm.dir / "s.json", sale("RJK-5", "10", "G-5"))
    args = ("attest", "transfer", "--home", home, "--issuer", FARM, "--body", body)
    args += (*farm.signing(), "--cosign-key", str(gin.key))
    out = ok(capsys, *args, "--cosign-passphrase-file", str(gin.passfile))
    assert len(json.loads(out)["signatures"]) == 2
    code, _, err = run(capsys, *args, "--cosign-passphrase-file", str(farm.passfile))
    assert code == 2 and err.startswith("error [KEY_FILE]"), err


# -- desk init with its key and party; lots of the desk's party ------------------------------


def test_a_desk_in_one_command(
    chain: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trust = str(Path(chain["home"]) / "keys" / "trust-root.json")
    passfile = chain["farm"].passfile
    desk = tmp_path / "desk"
    out = ok(
        capsys,
        *("desk", "init", "--home", str(desk), "--trust-root", trust, "--party", FARM),
        *("--generate-key", "farm", "--passphrase-file", str(passfile), "--json"),
    )
    value = json.loads(out)
    assert value["party"] == FARM and value["key"] == str(desk / "keys" / "farm.pem")
    assert sorted(p.name for p in desk.rglob("*") if p.is_file()) == [
        "config.json",
        "farm.pem",
        "farm.pem.pub",
        "trust-root.json",
    ]
    assert stat.S_IMODE((desk / "keys" / "farm.pem").stat().st_mode) == 0o600

    # the desk's party is the default of lots (here read from the operator's database)
    db = str(Path(chain["home"]) / "lotchain.db")
    assert (
        json.loads(ok(capsys, "lots", "--home", str(desk), "--db", db, "--json"))["party"] == FARM
    )
    code, _, err = run(capsys, "lots", "--home", chain["home"])
    assert code == 2 and "records no party" in err

    for extra, said in (
        (("--party", "shree"), "a party id looks like"),
        (("--generate-key", "../x"), "a plain name"),
        (("--generate-key", "x", "--passphrase-file", str(tmp_path / "none")), "cannot read"),
    ):
        target = tmp_path / "bad"
        code, _, err = run(
            capsys, "desk", "init", "--home", str(target), "--trust-root", trust, *extra
        )
        assert code == 2 and said in err, err
        assert not target.exists()


# -- party register with its token ---------------------------------------------------------------


def test_a_party_is_admitted_with_its_token(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    home = chain["home"]
    importer = Desk(chain["root"], "importer", "importer pass 77")
    importer.generate(capsys)
    register = ("party", "register", "--home", home, "--party", "party:acme-imports")
    register += ("--name", "Acme Imports LLC", "--country", "US", "--role", "importer")
    register += ("--public-key", f"{importer.key}.pub")
    token = importer.dir / "token"
    token.write_text("already here")
    for extra, said in (
        (("--token-out", str(token)), "never overwritten"),
        (("--token-out", str(importer.dir / "no" / "token")), "no folder"),
        (("--token-out", str(importer.dir / "t2"), "--out", "x.json"), "with --out"),
    ):
        before = size(capsys, home)
        code, _, err = run(capsys, *register, *extra)
        assert code == 2 and said in err, err
        assert size(capsys, home) == before
    token.unlink()
    ok(capsys, *register, "--token-out", str(token))
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    from ledger.home import Home
    from ledger.tokens import TokenStore

    store = Home(Path(home)).open_store(None)
    try:
        info = TokenStore(store).authenticate(token.read_text().strip())
    finally:
        store.close()
    assert info is not None and info.party == "party:acme-imports"


# -- screening lists -------------------------------------------------------------------------------


def test_both_lists_load_in_one_command_each_of_its_kind(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from ledger.lists import detect_kind

    entity, wro = ROOT / "data" / "uflpa-entity-list.csv", ROOT / "data" / "wro-findings.csv"
    assert (detect_kind(entity), detect_kind(wro)) == ("entity", "wro")
    home = chain["home"]
    code, _, err = run(
        capsys, "screening", "load", "--home", home, str(entity), str(wro), "--name", "x"
    )
    assert code == 2 and "--name names one list" in err
    bad = chain["root"] / "bad.csv"
    bad.write_text("id,action,issued_on\nnot,a,list\n")
    code, _, err = run(capsys, "screening", "load", "--home", home, str(entity), str(bad))
    assert code == 2, err
    assert json.loads(ok(capsys, "screening", "list", "--home", home, "--json"))["lists"] == []
    out = ok(capsys, "screening", "load", "--home", home, str(entity), str(wro), "--json")
    assert [(x["name"], x["kind"], x["added"]) for x in json.loads(out)] == [
        ("uflpa-entity-list", "entity", True),
        ("wro-findings", "wro", True),
    ]


# -- serve --detach ------------------------------------------------------------------------------


def test_a_detached_server_that_cannot_serve_is_reported(tmp_path: Path) -> None:
    from ledger.cli.detach import start_detached
    from ledger.errors import UsageError

    log = tmp_path / "serve.log"
    pid = tmp_path / "server.pid"
    with pytest.raises(UsageError, match="exited \\(2\\) before serving") as e:
        start_detached(
            ["--home", str(tmp_path / "nothing"), "--read-only", "--port", "1"],
            host="127.0.0.1",
            port=1,
            passphrase=None,
            log_file=log,
            pid_file=pid,
        )
    assert "error [" in e.value.message and not pid.exists()


def test_pid_and_log_files_go_with_detach(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "serve", "--home", chain["home"], "--port", "1", "--pid-file", "p", "--read-only"
    )
    assert code == 2 and "go with --detach" in err and not Path("p").exists()


@pytest.mark.parametrize(
    "command",
    [
        ("attest",),
        ("serve",),
        ("screening", "load"),
        ("desk", "init"),
        ("export", "vc"),
        ("import", "epcis"),
        ("sign",),
    ],
    ids=" ".join,
)
def test_changed_commands_have_an_example_and_json(
    capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    out = ok(capsys, *command, "--help")
    assert "Example" in out and f"lotchain {' '.join(command)}" in out
    assert "--json" in out


def test_several_bodies_are_appended_all_or_none(
    chain: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """A refused body leaves none of the call's bodies in the log, so the same call can be
    fixed and run again without appending the earlier bodies twice."""
    home, farm = chain["home"], chain["farm"]
    (farm.dir / "invoice.pdf").write_bytes(b"invoice PCF/24/117")
    first = write(farm.dir / "first.json", origin("ATOM-1", "500"))
    taken = write(farm.dir / "taken.json", sale("ATOM-1", "900", "ATOM-OUT"))
    before = size(capsys, home)
    code, out, _ = run(
        capsys,
        *("attest", "--home", home, "--issuer", FARM, *farm.signing(), "--submit", "--json"),
        *("--body", f"origin={first}", "--body", f"transfer={taken}"),
    )
    assert code != 0 and size(capsys, home) == before
    codes = [r.get("error", {}).get("code") for r in json.loads(out)]
    assert codes[0] == "BATCH_REFUSED" and codes[1] not in (None, "BATCH_REFUSED")
