"""scripts/demo installs only what the demo needs; scripts/test the test tools too.

Run against a copy of the scripts with a stand-in ``.venv`` whose python and lotchain
only record how they were called: no network, no real installation.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RECORDER = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$(dirname "$0")/../calls.log"
"""


def project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    (proj / "scripts").mkdir(parents=True)
    for name in ("scripts/_setup.sh", "scripts/demo", "pyproject.toml"):
        shutil.copy(ROOT / name, proj / name)
    bin_dir = proj / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for tool in ("python", "lotchain"):
        (bin_dir / tool).write_text(RECORDER)
        (bin_dir / tool).chmod(0o755)
    return proj


def run(proj: Path, *command: str) -> list[str]:
    log = proj / ".venv" / "calls.log"
    log.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTCHAIN_")}
    subprocess.run(command, cwd=proj, env=env, check=True, capture_output=True)
    return [line for line in log.read_text().splitlines() if " -e " in line] if log.exists() else []


def installs(lines: list[str]) -> list[str]:
    return [line.rsplit(" ", 1)[1] for line in lines]


def test_the_demo_installs_the_runtime_only(tmp_path: Path) -> None:
    proj = project(tmp_path)
    assert installs(run(proj, "bash", "scripts/demo", "--no-serve")) == ["."]
    assert run(proj, "bash", "scripts/demo", "--no-serve") == []  # already installed
    pg = ("bash", "scripts/demo", "--no-serve", "--db", "postgresql://127.0.0.1/test")
    assert installs(run(proj, *pg)) == [".[postgres]"]


def test_the_test_setup_installs_the_test_extra_which_serves_the_demo_too(
    tmp_path: Path,
) -> None:
    proj = project(tmp_path)
    assert installs(run(proj, "bash", "-c", "source scripts/_setup.sh")) == [".[test]"]
    assert run(proj, "bash", "scripts/demo", "--no-serve") == []
    (proj / "pyproject.toml").write_text((proj / "pyproject.toml").read_text() + "\n")
    assert installs(run(proj, "bash", "scripts/demo", "--no-serve")) == ["."]
