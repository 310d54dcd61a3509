"""Concurrent writers in several processes, through the library and over HTTP.

They end with exactly the acknowledged entries, contiguous indices, an intact ``prev``
chain (the audit), and every checkpoint consistent with every later one; on SQLite and
on PostgreSQL (where the server runs several worker processes too).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import pg

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "crash_test.py"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_writers_end_with_exactly_the_acknowledged_entries(
    tmp_path: Path, backend: str
) -> None:
    args = ["--writers", "4", "--http-writers", "2", "--count", "15"]
    if backend == "postgresql":
        args += ["--db", pg.fresh_schema(), "--server-workers", "2"]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "concurrent", *args, "--workdir", str(tmp_path / "w")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["acknowledged"] == 6 * 15
