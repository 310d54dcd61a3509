"""Desks for command-line tests: a home with a farm and a gin, each party registered from
flags with its own key and its own passphrase file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import run_cli

HOME_PASS = "correct horse battery"
FARM = "party:patel-cotton-farm"
GIN = "party:shree-ginning"
FARM_SITE = "facility:patel-farm-rajkot"
GIN_SITE = "facility:shree-gin-rajkot"
SEED_COTTON = {"name": "seed cotton", "hs_code": "5201.00"}

run = run_cli


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTCHAIN_PASSPHRASE", HOME_PASS)  # the home's log and registrar keys
    for name in (
        "LOTCHAIN_HOME",
        "LOTCHAIN_DB",
        "LOTCHAIN_REMOTE",
        "LOTCHAIN_TOKEN",
        "LOTCHAIN_PASSPHRASE_FILE",
        "LOTCHAIN_PARTY",
    ):
        monkeypatch.delenv(name, raising=False)


def ok(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = run(capsys, *args)
    assert code == 0, err
    return out


def secret_file(path: Path, text: str) -> Path:
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


class Desk:
    """One party's folder: its key, its passphrase file, its documents."""

    def __init__(self, root: Path, name: str, passphrase: str) -> None:
        self.dir = root / name
        self.dir.mkdir()
        self.key = self.dir / f"{name}.pem"
        self.passfile = secret_file(self.dir / "passphrase", passphrase)

    def generate(self, capsys: pytest.CaptureFixture[str]) -> str:
        out = ok(
            capsys,
            *("keys", "generate", "--out", str(self.key)),
            *("--passphrase-file", str(self.passfile), "--json"),
        )
        return str(json.loads(out)["key_id"])

    def signing(self) -> tuple[str, ...]:
        return ("--key", str(self.key), "--passphrase-file", str(self.passfile))


@pytest.fixture
def chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """A home with a farm and a gin, each registered from flags, each with its own passphrase."""
    home = str(tmp_path / "home")
    ok(capsys, "init", "--home", home)
    farm = Desk(tmp_path, "farm", "farm passphrase 1")
    gin = Desk(tmp_path, "gin", "gin passphrase 22")
    for desk, party, name, site, process in (
        (farm, FARM, "Patel Cotton Farm", FARM_SITE, "farming"),
        (gin, GIN, "Shree Ginning Pvt Ltd", GIN_SITE, "ginning"),
    ):
        desk.generate(capsys)
        ok(
            capsys,
            *("party", "register", "--home", home, "--party", party, "--name", name),
            *("--country", "IN", "--role", "supplier", "--public-key", f"{desk.key}.pub"),
        )
        ok(
            capsys,
            *("facility", "register", "--home", home, "--facility-id", site),
            *("--name", f"{name} site", "--operator", party, "--country", "IN"),
            *("--region", "IN-GJ", "--address-street", "Survey 12", "--address-locality"),
            *("Gondal", "--geo", "21.9617,70.7931", "--process", process, *desk.signing()),
        )
    return {"home": home, "farm": farm, "gin": gin, "root": tmp_path}


def write(path: Path, value: Any) -> str:
    path.write_text(json.dumps(value))
    return str(path)
