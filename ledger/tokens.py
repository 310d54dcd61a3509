"""Bearer tokens for API reads, each bound to one party.

A token is ``lct_`` + 32 random bytes (URL-safe base64). Only its SHA-256 is stored;
the token itself is shown once, when issued. Its id (``tok_`` + the first 8 bytes of
the hash, hex) is what listings show and what ``revoke`` accepts, so an operator never
needs to handle the secret again. Like every lotchain table the token tables are
insert-only (enforced by triggers): revoking a token inserts a revocation row.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee as pw

from ledger.encoding import format_timestamp, parse_timestamp
from ledger.errors import ConfigError, MalformedError, NotFoundError, StorageError
from ledger.storage.base import Store
from ledger.storage.sql import SqlStore

TOKEN_PREFIX = "lct_"  # noqa: S105 (a prefix, not a secret)
ID_PREFIX = "tok_"
MAX_LABEL = 200
_TOKEN = re.compile(r"lct_[A-Za-z0-9_-]{43}")
_TOKEN_ID = re.compile(r"tok_[0-9a-f]{16}")


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii")).digest()


def _id_of(digest: bytes) -> str:
    return ID_PREFIX + digest[:8].hex()


def token_id(token: str) -> str:
    """The public id of a token (safe to log and to show)."""
    return _id_of(_digest(token))


@dataclass(frozen=True)
class TokenInfo:
    """What is known about a token, never the token itself."""

    id: str
    party: str
    label: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "party": self.party,
            "label": self.label,
            "created_at": format_timestamp(self.created_at),
            "revoked_at": None if self.revoked_at is None else format_timestamp(self.revoked_at),
        }


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``token`` is the secret, shown to its holder once."""

    token: str
    info: TokenInfo


def create_tables(store: SqlStore) -> None:
    """Migration: the token tables, insert-only like the log's (revoking inserts a row)."""
    token, revocation = _models(store.db)
    store.db.create_tables([token, revocation], safe=True)
    for model in (token, revocation):
        store._protect(model._meta.table_name)


def _models(db: pw.Database) -> tuple[Any, Any]:
    class Base(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class ApiToken(Base):
        id = pw.TextField(primary_key=True)
        token_hash = pw.BlobField()
        party = pw.TextField(index=True)
        label = pw.TextField()
        created_at = pw.TextField()

    class ApiTokenRevocation(Base):
        token_id = pw.TextField(index=True)
        revoked_at = pw.TextField()

    return ApiToken, ApiTokenRevocation


class TokenStore:
    """Issue, revoke, list and check tokens in the ledger's own database."""

    def __init__(self, store: Store) -> None:
        if not isinstance(store, SqlStore):
            raise ConfigError("API tokens need a SQL store (SQLite or PostgreSQL)")
        self.store = store
        self.db = store.db
        # The tables come from the schema migrations (so a read replica serves them too).
        self.token, self.revocation = _models(store.db)

    # -- writing -----------------------------------------------------------------------

    def issue(self, party: str, *, now: datetime, label: str = "") -> IssuedToken:
        """Create a token for an admitted party; the returned secret is not stored."""
        if self.store.party(party) is None:
            raise NotFoundError(f"party {party} is not admitted to the ledger")
        if len(label) > MAX_LABEL or any(ord(c) < 32 for c in label):
            raise MalformedError(f"a label is at most {MAX_LABEL} printable characters")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = _digest(token)
        created = format_timestamp(now, micro=True)
        try:
            with self.db.atomic():
                self.token.create(
                    id=_id_of(digest),
                    token_hash=digest,
                    party=party,
                    label=label,
                    created_at=created,
                )
        except pw.PeeweeException as e:
            raise StorageError(f"cannot store the token: {e}") from e
        return IssuedToken(
            token, TokenInfo(_id_of(digest), party, label, parse_timestamp(created), None)
        )

    def revoke(self, token_or_id: str, *, now: datetime) -> TokenInfo:
        """Revoke by token or by id; revoking twice keeps the first revocation time."""
        info = self._lookup(token_or_id)
        if info.revoked_at is not None:
            return info
        when = format_timestamp(now, micro=True)
        try:
            with self.db.atomic():
                self.revocation.create(token_id=info.id, revoked_at=when)
        except pw.PeeweeException as e:
            raise StorageError(f"cannot store the revocation: {e}") from e
        return TokenInfo(info.id, info.party, info.label, info.created_at, parse_timestamp(when))

    # -- reading -----------------------------------------------------------------------

    def authenticate(self, token: str) -> TokenInfo | None:
        """The active token's info, or None; the stored hash is compared in constant time."""
        if not _TOKEN.fullmatch(token):
            return None
        digest = _digest(token)
        row = self.token.get_or_none(self.token.id == _id_of(digest))
        if row is None or not hmac.compare_digest(bytes(row.token_hash), digest):
            return None
        info = self._info(row)
        return info if info.active else None

    def active_by_id(self, id_: str) -> TokenInfo | None:
        """The token with this id if it is still active (a console session re-checks it)."""
        if not _TOKEN_ID.fullmatch(id_):
            return None
        row = self.token.get_or_none(self.token.id == id_)
        if row is None:
            return None
        info = self._info(row)
        return info if info.active else None

    def list(self, party: str | None = None) -> list[TokenInfo]:
        query = self.token.select().order_by(self.token.created_at, self.token.id)
        if party is not None:
            query = query.where(self.token.party == party)
        return [self._info(row) for row in query]

    def _lookup(self, token_or_id: str) -> TokenInfo:
        if _TOKEN.fullmatch(token_or_id):
            digest = _digest(token_or_id)
            row = self.token.get_or_none(self.token.id == _id_of(digest))
            if row is not None and not hmac.compare_digest(bytes(row.token_hash), digest):
                row = None
        elif _TOKEN_ID.fullmatch(token_or_id):
            row = self.token.get_or_none(self.token.id == token_or_id)
        else:
            raise MalformedError("give a token (lct_...) or a token id (tok_ + 16 hex digits)")
        if row is None:
            shown = token_id(token_or_id) if _TOKEN.fullmatch(token_or_id) else token_or_id
            raise NotFoundError(f"no such token: {shown}")
        return self._info(row)

    def _info(self, row: Any) -> TokenInfo:
        r = self.revocation
        revoked = r.select(pw.fn.MIN(r.revoked_at)).where(r.token_id == row.id).scalar()
        return TokenInfo(
            id=row.id,
            party=row.party,
            label=row.label,
            created_at=parse_timestamp(row.created_at),
            revoked_at=None if revoked is None else parse_timestamp(revoked),
        )
