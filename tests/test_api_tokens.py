"""Bearer tokens: stored as hashes only, revocable, insert-only, checked per request."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import peewee as pw
import pytest

from conftest import T0
from ledger.cli import main
from ledger.errors import ConfigError, MalformedError, NotFoundError
from ledger.home import Home
from ledger.log import Ledger
from ledger.tokens import TokenStore, token_id


def test_issue_stores_only_the_hash(ledger: Ledger) -> None:
    tokens = TokenStore(ledger.store)
    issued = tokens.issue("party:registrar", now=T0, label="ops")
    assert issued.token.startswith("lct_") and len(issued.token) == 47
    assert issued.info.id == token_id(issued.token)
    rows = tokens.db.execute_sql("SELECT id, token_hash, party, label FROM api_token").fetchall()
    ((tid, stored, party, label),) = rows
    assert (tid, party, label) == (issued.info.id, "party:registrar", "ops")
    assert bytes(stored) == hashlib.sha256(issued.token.encode()).digest()
    assert issued.token not in repr(rows)


def test_authenticate_and_revoke(ledger: Ledger) -> None:
    tokens = TokenStore(ledger.store)
    issued = tokens.issue("party:registrar", now=T0)
    info = tokens.authenticate(issued.token)
    assert info is not None and info.party == "party:registrar" and info.active
    # a token that differs only after the id prefix is refused (full hash compared)
    forged = issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")
    assert tokens.authenticate(forged) is None
    assert tokens.authenticate("lct_short") is None
    assert tokens.authenticate("") is None
    revoked = tokens.revoke(issued.info.id, now=T0)
    assert revoked.revoked_at == T0
    assert tokens.authenticate(issued.token) is None
    # revoking again keeps the first time; revoking by the token itself also works
    again = tokens.revoke(issued.token, now=T0.replace(year=2026))
    assert again.revoked_at == T0
    assert [t.active for t in tokens.list()] == [False]


def test_unknown_and_malformed_references(ledger: Ledger) -> None:
    tokens = TokenStore(ledger.store)
    with pytest.raises(NotFoundError):
        tokens.revoke("tok_0123456789abcdef", now=T0)
    with pytest.raises(NotFoundError):
        tokens.revoke("lct_" + "A" * 43, now=T0)
    with pytest.raises(MalformedError):
        tokens.revoke("not-a-token", now=T0)
    with pytest.raises(NotFoundError):
        tokens.issue("party:nobody", now=T0)
    with pytest.raises(MalformedError):
        tokens.issue("party:registrar", now=T0, label="bad\nlabel")


def test_token_tables_are_insert_only(ledger: Ledger) -> None:
    tokens = TokenStore(ledger.store)
    issued = tokens.issue("party:registrar", now=T0)
    tokens.revoke(issued.info.id, now=T0)
    for sql in (
        "UPDATE api_token SET party = 'party:x'",
        "DELETE FROM api_token",
        "DELETE FROM api_token_revocation",
    ):
        with pytest.raises(pw.PeeweeException, match="append-only"), tokens.db.atomic():
            tokens.db.execute_sql(sql)
    assert tokens.authenticate(issued.token) is None


def test_needs_a_sql_store() -> None:
    with pytest.raises(ConfigError):
        TokenStore(object())  # type: ignore[arg-type]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    captured = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 1), captured.out, captured.err


def test_cli_issue_list_revoke(home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    at = ["--home", str(home.path)]
    code, out, err = _run(
        capsys, "token", "issue", *at, "--party", "party:registrar", "--label", "ci"
    )
    assert code == 0, err
    token = out.strip()
    assert token.startswith("lct_") and "not stored" in err
    code, out, _ = _run(capsys, "token", "list", *at)
    assert token_id(token) in out and "active" in out and token not in out
    code, out, _ = _run(capsys, "token", "revoke", *at, token_id(token))
    assert code == 0 and "revoked" in out
    code, out, _ = _run(capsys, "token", "list", *at, "--json")
    (listed,) = json.loads(out)
    assert listed["id"] == token_id(token) and listed["revoked_at"] is not None
    code, out, _ = _run(capsys, "token", "issue", *at, "--party", "party:registrar", "--json")
    assert json.loads(out)["token"].startswith("lct_")


def test_cli_refuses_unknown_party(home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "token", "issue", "--home", str(home.path), "--party", "party:x1")
    assert code == 2 and "NOT_FOUND" in err


def test_cli_needs_a_home(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "token", "list", "--home", str(tmp_path / "nothing"))
    assert code == 2 and "CONFIG" in err
