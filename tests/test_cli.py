"""The command line, run in-process exactly as the console script runs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest

from conftest import run_cli
from ledger.cli.main import _load_commands, cli

PASS = "correct horse battery"


run = run_cli


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTCHAIN_PASSPHRASE", PASS)
    for name in ("LOTCHAIN_HOME", "LOTCHAIN_DB", "LOTCHAIN_REMOTE", "LOTCHAIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def _all_commands() -> list[tuple[str, ...]]:
    _load_commands()
    found: list[tuple[str, ...]] = []

    def walk(group: click.Group, prefix: tuple[str, ...]) -> None:
        for name, command in group.commands.items():
            found.append((*prefix, name))
            if isinstance(command, click.Group):
                walk(command, (*prefix, name))

    walk(cli, ())
    return found


@pytest.mark.parametrize("command", _all_commands(), ids=" ".join)
def test_every_command_has_help(
    capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    assert "Usage:" in out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) >= 3, f"{command} has no help text"


def test_init_register_attest_submit_prove_audit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "home")
    code, out, err = run(capsys, "init", "--home", home, "--json")
    assert code == 0, err
    assert json.loads(out)["checkpoint"].startswith("lotchain.example/log\n1\n")
    trust = json.loads((tmp_path / "home/keys/trust-root.json").read_text())
    assert trust["version"] == 1 and trust["registrars"][0]["party"] == "party:registrar"
    assert (tmp_path / "home/keys/registrar.pem").stat().st_mode & 0o777 == 0o600

    key = str(tmp_path / "farm.pem")
    code, out, _ = run(capsys, "keys", "generate", "--out", key, "--json")
    assert code == 0
    assert json.loads(out)["key_id"].startswith("ed25519:")

    code, out, err = run(
        capsys,
        "party",
        "register",
        "--home",
        home,
        "--party",
        "party:patel-farm",
        "--name",
        "Patel Cotton Farm",
        "--country",
        "IN",
        "--role",
        "supplier",
        "--public-key",
        key + ".pub",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["index"] == 1

    facility = {
        "facility_id": "facility:patel-farm",
        "name": "Patel Farm",
        "operator": "party:patel-farm",
        "country": "IN",
        "region": "IN-GJ",
        "processes": ["farming"],
        "address": {"street": "Survey 12", "locality": "Rajkot", "country": "IN"},
    }
    body = tmp_path / "facility.json"
    body.write_text(json.dumps(facility))
    envelope = tmp_path / "facility.env.json"
    code, _, err = run(
        capsys,
        "attest",
        "facility",
        "--home",
        home,
        "--issuer",
        "party:patel-farm",
        "--key",
        key,
        "--body",
        str(body),
        "--out",
        str(envelope),
    )
    assert code == 0, err
    assert json.loads(envelope.read_text())["payloadType"].endswith("attestation.v1+json")
    code, out, _ = run(capsys, "submit", "--home", home, str(envelope), "--json")
    assert code == 0
    receipt: dict[str, Any] = json.loads(out)
    assert receipt["index"] == 2

    code, out, err = run(capsys, "submit", "--home", home, str(envelope), "--json")
    assert code == 2
    assert json.loads(err)["error"]["code"] == "REPLAY"

    code, out, _ = run(capsys, "checkpoint", "--home", home, "--json")
    assert code == 0 and json.loads(out)["size"] == 3
    code, out, _ = run(
        capsys, "prove", "inclusion", receipt["attestation"], "--home", home, "--json"
    )
    assert code == 0 and json.loads(out)["index"] == 2
    code, out, _ = run(capsys, "prove", "consistency", "1", "3", "--home", home)
    assert code == 0 and "verified" in out
    code, out, _ = run(capsys, "audit", "--home", home, "--json")
    assert code == 0 and json.loads(out)["status"] == "pass"


def test_bad_input_gets_a_code_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "home")
    run(capsys, "init", "--home", home)
    bad = tmp_path / "bad.json"
    bad.write_text('{"payloadType": "x", "payload": "", "signatures": []}')
    code, _, err = run(capsys, "submit", "--home", home, str(bad))
    assert code == 2
    assert err.startswith("error [MALFORMED]")
    assert "Traceback" not in err
    code, _, err = run(capsys, "submit", "--home", home, str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read" in err
    code, _, err = run(capsys, "init", "--home", home)
    assert code == 2 and "already a lotchain home" in err
    code, _, err = run(capsys, "checkpoint", "--home", str(tmp_path / "nowhere"))
    assert code == 2 and "not a lotchain home" in err


def test_wrong_passphrase_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = str(tmp_path / "home")
    run(capsys, "init", "--home", home)
    monkeypatch.setenv("LOTCHAIN_PASSPHRASE", "not the passphrase")
    key = tmp_path / "k.pem"
    run(capsys, "keys", "generate", "--out", str(key))
    code, _, err = run(
        capsys,
        "party",
        "register",
        "--home",
        home,
        "--party",
        "party:acme-co",
        "--name",
        "Acme",
        "--country",
        "US",
        "--role",
        "importer",
        "--public-key",
        str(key) + ".pub",
    )
    assert code == 2
    assert "[KEY_FILE]" in err and "wrong passphrase" in err


def test_read_commands_never_create_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "home")
    run(capsys, "init", "--home", home)
    missing = tmp_path / "elsewhere" / "none.db"
    code, _, err = run(capsys, "checkpoint", "--home", home, "--db", str(missing))
    assert code == 2 and "no database" in err
    assert not missing.exists() and not missing.parent.exists()


def test_an_empty_submission_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "home")
    run(capsys, "init", "--home", home)
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    code, _, err = run(capsys, "submit", "--home", home, str(empty))
    assert code == 2 and "no envelope" in err
