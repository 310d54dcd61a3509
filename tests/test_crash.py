"""The crash script's short form: SIGKILLed writers and server lose no acknowledged entry."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "crash_test.py"


def test_short_crash_run_loses_nothing(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--cycles",
            "2",
            "--writers",
            "2",
            "--http-writers",
            "1",
            "--min-seconds",
            "0.5",
            "--max-seconds",
            "1.0",
            "--seed",
            "7",
            "--json",
            "--workdir",
            str(tmp_path / "crash"),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["cycles"] == 2 and summary["lost"] == 0
    assert summary["acknowledged"] > 0
    assert summary["log_size"] >= summary["acknowledged"]
    assert summary["kills"]["server"] == 2
