"""A local install ("home"): keys, trust root, configuration and database in one folder.

```
DIR/config.json            origin, database URL, registrar party
DIR/keys/trust-root.json   what verifiers are given out of band (public)
DIR/keys/registrar.pem     the first registrar's private key (encrypted, 0600)
DIR/keys/log.pem           the log's checkpoint-signing key (encrypted, 0600)
DIR/lotchain.db            the SQLite database (unless config names another)
```
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger.attestation import make_attestation
from ledger.canonical import parse_json
from ledger.checkpoint import vkey_for
from ledger.encoding import b64encode, format_timestamp
from ledger.errors import ConfigError, LedgerError
from ledger.keys import Signer, load_private_key, save_private_key, save_public_key
from ledger.log import Clock, Ledger, utc_now
from ledger.storage import Store, open_store
from ledger.trustroot import RootRegistrar, TrustRoot

DEFAULT_ORIGIN = "lotchain.example/log"
DEFAULT_REGISTRAR = "party:registrar"


@dataclass(frozen=True)
class Home:
    path: Path

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def keys(self) -> Path:
        return self.path / "keys"

    @property
    def trust_root_path(self) -> Path:
        return self.keys / "trust-root.json"

    @property
    def registrar_key_path(self) -> Path:
        return self.keys / "registrar.pem"

    @property
    def log_key_path(self) -> Path:
        return self.keys / "log.pem"

    def config(self) -> dict[str, Any]:
        try:
            data = self.config_path.read_bytes()
        except FileNotFoundError as e:
            raise ConfigError(
                f"{self.path} is not a lotchain home (no config.json); run: "
                f"lotchain init --home {self.path}"
            ) from e
        try:
            value = parse_json(data, max_bytes=1 << 16)
        except LedgerError as e:
            raise ConfigError(f"{self.config_path} is invalid: {e.message}") from e
        if not isinstance(value, dict):
            raise ConfigError(f"{self.config_path} must hold a JSON object")
        return value

    def db_url(self, override: str | None = None) -> str:
        if override:
            return override
        url = str(self.config().get("db", "lotchain.db"))
        if "://" in url or os.path.isabs(url):
            return url
        return str(self.path / url)

    def trust_root(self) -> TrustRoot:
        self.config()  # a clear "not a lotchain home" before any missing file
        return TrustRoot.load(self.trust_root_path)

    def open_store(self, db: str | None = None, *, create: bool = True) -> Store:
        """The database; without ``create`` a missing SQLite file is an error, not a new log."""
        url = self.db_url(db)
        if not create and "://" not in url and url != ":memory:" and not Path(url).exists():
            raise ConfigError(f"no database at {url}; create one with: lotchain init")
        return open_store(url)

    def open_ledger(
        self,
        passphrase: bytes | None,
        *,
        db: str | None = None,
        clock: Clock = utc_now,
    ) -> Ledger:
        """Open the ledger; with a passphrase it can append (it holds the log key)."""
        signer = load_private_key(self.log_key_path, passphrase) if passphrase else None
        store = self.open_store(db, create=signer is not None)
        return Ledger(store, self.trust_root(), signer, clock=clock)


def init_home(
    path: Path,
    passphrase: bytes,
    *,
    origin: str = DEFAULT_ORIGIN,
    registrar: str = DEFAULT_REGISTRAR,
    registrar_name: str = "lotchain Registrar",
    country: str = "US",
    db: str | None = None,
    now: datetime | None = None,
    registrar_signer: Signer | None = None,
    log_signer: Signer | None = None,
    nonce: str | None = None,
) -> Home:
    """Create keys, the trust root, the database, and admit the registrar as entry 0."""
    home = Home(path)
    if home.config_path.exists():
        raise ConfigError(f"{path} is already a lotchain home; refusing to overwrite it")
    now = now or utc_now()
    registrar_signer = registrar_signer or Signer.generate()
    log_signer = log_signer or Signer.generate()
    home.keys.mkdir(parents=True, exist_ok=True)
    save_private_key(home.registrar_key_path, registrar_signer, passphrase)
    save_public_key(home.keys / "registrar.pub.pem", registrar_signer.public_key)
    save_private_key(home.log_key_path, log_signer, passphrase)
    save_public_key(home.keys / "log.pub.pem", log_signer.public_key)
    trust = TrustRoot(
        log_origin=origin,
        log_vkey=vkey_for(origin, log_signer.public_key),
        registrars=(
            RootRegistrar(registrar, registrar_signer.key_id, registrar_signer.public_key),
        ),
    )
    trust.save(home.trust_root_path)
    config = {"origin": origin, "db": db or "lotchain.db", "registrar": registrar}
    home.config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    ledger = Ledger(home.open_store(), trust, log_signer, clock=lambda: now)
    body = {
        "party_id": registrar,
        "legal_name": registrar_name,
        "country": country,
        "roles": ["registrar"],
        "keys": [
            {
                "key_id": registrar_signer.key_id,
                "public_key": b64encode(registrar_signer.public_key),
                "valid_from": format_timestamp(now),
            }
        ],
    }
    ledger.append(
        make_attestation(
            "party", registrar, body, [registrar_signer], now=now, nonce=nonce
        ).envelope
    )
    ledger.store.close()
    return home
