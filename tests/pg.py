"""PostgreSQL for tests: one fresh schema per test on the server at 127.0.0.1:5432.

Where no server runs, PostgreSQL tests skip with the reason, unless
``LOTCHAIN_REQUIRE_POSTGRES=1`` (set by .ci/run), where they fail instead.
"""

from __future__ import annotations

import itertools
import os
from functools import cache

import pytest

SERVER = os.environ.get("LOTCHAIN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
PREFIX = f"lct_{os.getpid()}_"
_counter = itertools.count()


def _connect():  # type: ignore[no-untyped-def]
    import psycopg2

    return psycopg2.connect(SERVER, connect_timeout=3)


@cache
def unavailable() -> str | None:
    """Why PostgreSQL cannot be used here, or None."""
    try:
        conn = _connect()
    except Exception as e:  # any failure to connect means: not here
        return f"no PostgreSQL server at {SERVER}: {str(e).strip().splitlines()[0]}"
    conn.close()
    return None


def require() -> None:
    reason = unavailable()
    if reason is None:
        return
    if os.environ.get("LOTCHAIN_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"LOTCHAIN_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


def fresh_schema() -> str:
    """Create an empty schema and return a database URL that uses it."""
    require()
    name = f"{PREFIX}{next(_counter)}"
    conn = _connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{name}"')
    conn.close()
    return f"{SERVER}?options=-csearch_path%3D{name}"


def drop_schemas(prefix: str = PREFIX) -> None:
    """Best effort: drop this run's schemas (never blocks for long on a stray lock)."""
    if unavailable() is not None:
        return
    conn = _connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SET lock_timeout = '3s'")
        cur.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (prefix + "%",))
        for (name,) in cur.fetchall():
            try:
                cur.execute(f'DROP SCHEMA "{name}" CASCADE')
            except Exception:  # a schema still locked by a leaked connection stays
                continue
    conn.close()
