"""The top-level keys/ folder: the key-custody guide and the public trust root shipped."""

from __future__ import annotations

import base64
import fnmatch
import json
import re
from pathlib import Path

import pytest

from ledger.checkpoint import parse_vkey
from ledger.cli.main import _load_commands, cli
from ledger.keys import key_id
from ledger.trustroot import TrustRoot

ROOT = Path(__file__).resolve().parents[1]
KEYS = ROOT / "keys"


def test_the_demo_trust_root_has_the_contract_shape() -> None:
    path = KEYS / "demo-trust-root.json"
    value = json.loads(path.read_text(encoding="utf-8"))
    assert set(value) == {"version", "log", "registrars"} and value["version"] == 1
    assert set(value["log"]) == {"origin", "vkey"}
    assert value["registrars"]
    for registrar in value["registrars"]:
        assert set(registrar) == {"party", "key_id", "public_key"}
        raw = base64.b64decode(registrar["public_key"], validate=True)
        assert len(raw) == 32 and key_id(raw) == registrar["key_id"]
        assert re.fullmatch(r"party:[a-z0-9][a-z0-9._:-]{1,126}", registrar["party"])
    root = TrustRoot.load(path)
    assert root.log_origin == value["log"]["origin"]
    assert value["log"]["vkey"].startswith(value["log"]["origin"] + "+")
    parse_vkey(root.log_vkey)  # a C2SP signed-note verifier key


def test_no_private_key_is_shipped() -> None:
    for path in KEYS.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert "PRIVATE KEY-----" not in text.replace("`", ""), path
            assert not path.name.endswith((".pem", ".key")), path


def test_private_keys_here_are_git_ignored() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for name in ("keys/registrar.pem", "keys/log.pem", "keys/desk.key"):
        assert any(fnmatch.fnmatch(name, p) for p in patterns), name
    assert not any(fnmatch.fnmatch("keys/demo-trust-root.json", p) for p in patterns)


GUIDE_TOPICS = [
    "Generating a key",
    "Encryption at rest",
    "Rotation",
    "Compromise and back-dated revocation",
    "The registrar's key ceremony",
    "The log's key ceremony",
    "Hardware and KMS",
]


@pytest.mark.parametrize("topic", GUIDE_TOPICS)
def test_the_guide_covers(topic: str) -> None:
    headings = [
        line for line in (KEYS / "README.md").read_text().splitlines() if line.startswith("## ")
    ]
    assert any(topic in h for h in headings), headings


def test_every_command_in_the_guide_exists() -> None:
    _load_commands()
    lines, inside = [], False
    for line in (KEYS / "README.md").read_text().splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside:
            lines.append(line)
    text = "\n".join(lines)
    commands = re.findall(r"^lotchain ([a-z-]+)(?: ([a-z-]+))?", text, flags=re.MULTILINE)
    assert len(commands) >= 3
    for first, second in commands:
        command = cli.commands.get(first)
        assert command is not None, first
        sub = getattr(command, "commands", None)
        if sub is not None:
            assert second in sub, (first, second)
