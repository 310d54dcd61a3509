"""The trust root: what a verifier is given out of band (contract format).

``{"version": 1, "log": {"origin", "vkey"}, "registrars": [{"party", "key_id",
"public_key"}]}`` with public keys as base64 of the raw 32 bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.canonical import parse_json
from ledger.checkpoint import NoteVerifier, parse_vkey
from ledger.encoding import b64decode, b64encode
from ledger.errors import ConfigError, LedgerError, MalformedError
from ledger.keys import key_id

_PARTY = re.compile(r"party:[a-z0-9][a-z0-9._:-]{1,126}")


@dataclass(frozen=True)
class RootRegistrar:
    party: str
    key_id: str
    public_key: bytes


@dataclass(frozen=True)
class TrustRoot:
    log_origin: str
    log_vkey: str
    registrars: tuple[RootRegistrar, ...]

    @property
    def log_verifier(self) -> NoteVerifier:
        return parse_vkey(self.log_vkey)

    def registrar_key(self, kid: str) -> RootRegistrar | None:
        return next((r for r in self.registrars if r.key_id == kid), None)

    def is_root_registrar(self, party: str) -> bool:
        return any(r.party == party for r in self.registrars)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "log": {"origin": self.log_origin, "vkey": self.log_vkey},
            "registrars": [
                {"party": r.party, "key_id": r.key_id, "public_key": b64encode(r.public_key)}
                for r in self.registrars
            ],
        }

    @classmethod
    def from_json(cls, obj: Any) -> TrustRoot:
        if not isinstance(obj, dict) or obj.get("version") != 1:
            raise MalformedError("trust root must be an object with version 1")
        log = obj.get("log")
        if not isinstance(log, dict) or not all(
            isinstance(log.get(k), str) for k in ("origin", "vkey")
        ):
            raise MalformedError("trust root log must have string origin and vkey")
        verifier = parse_vkey(log["vkey"])
        if verifier.name != log["origin"]:
            raise MalformedError("trust root log vkey name must equal the log origin")
        raw = obj.get("registrars")
        if not isinstance(raw, list) or not raw or len(raw) > 64:
            raise MalformedError("trust root needs 1 to 64 registrars")
        registrars = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict) or not isinstance(item.get("party"), str):
                raise MalformedError(f"trust root registrars[{i}] must name a party")
            if not _PARTY.fullmatch(item["party"]):
                raise MalformedError(f"trust root registrars[{i}].party is not a party id")
            public = b64decode(item.get("public_key"), what="registrar public_key", length=32)
            if item.get("key_id") != key_id(public):
                raise MalformedError(f"trust root registrars[{i}].key_id does not match its key")
            registrars.append(RootRegistrar(item["party"], item["key_id"], public))
        return cls(log["origin"], log["vkey"], tuple(registrars))

    @classmethod
    def load(cls, path: Path) -> TrustRoot:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ConfigError(f"cannot read trust root {path}: {e.strerror}") from e
        try:
            return cls.from_json(parse_json(data, max_bytes=1 << 16))
        except LedgerError as e:
            raise ConfigError(f"trust root {path} is invalid: {e.message}") from e

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")
