"""The README's quickstart, run as written: a real `lotchain serve` and four desks, each a
folder with only its own key and passphrase file, talking to the ledger with --remote."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quickstart_script() -> str:
    """The shell block of the README's Quickstart section, exactly as a reader copies it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```sh\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, "the quickstart has one shell block"
    return blocks[0]


#: The commands the first journey of the issue took for the same chain; the quickstart
#: takes at most half of them.
FIRST_JOURNEY_COMMANDS = 31


def lotchain_commands(script: str) -> list[str]:
    """The ``lotchain`` invocations a reader types: outside heredocs and comments, each
    command of a loop counted once, as written."""
    commands: list[str] = []
    heredoc: str | None = None
    for line in script.splitlines():
        if heredoc is not None:
            if line.strip() == heredoc:
                heredoc = None
            continue
        code = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        found = re.search(r"<<'?(\w+)'?", code)
        if found:
            heredoc = found.group(1)
        commands += re.findall(r"(?:^|[;&|(]|\$\(|\bdo|\bthen)\s*(lotchain [a-z]+)", code)
    return commands


def test_the_quickstart_takes_at_most_half_the_commands() -> None:
    commands = lotchain_commands(quickstart_script())
    assert len(commands) <= FIRST_JOURNEY_COMMANDS // 2, commands
    assert len(commands) == 15, commands  # as the README says
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"takes {len(commands)} `lotchain`\ncommands" in text
    assert commands.count("lotchain attest") == 4  # one per desk, each its day of bodies
    assert "lotchain submit" not in commands  # co-signing submits: sign --submit
    assert "lotchain token" not in commands  # party register --token-out
    assert "lotchain keys" not in commands  # desk init --generate-key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_the_readme_quickstart_runs_top_to_bottom(tmp_path: Path) -> None:
    assert (ROOT / ".venv" / "bin" / "activate").is_file(), "scripts/test makes .venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTCHAIN_")}
    env.update(WORK=str(tmp_path), PORT=str(free_port()))
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", quickstart_script()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        pid_file = tmp_path / "operator" / "server.pid"
        if pid_file.exists():  # the trap stops it; this, only if the script was killed
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
    assert process.returncode == 0, out[-4000:]
    assert "Verdict: PASS (0 errors, 0 warnings" in out, out[-4000:]
    assert (
        "signed by: Shree Cotton Estates Pvt. Ltd. (party:shree-cotton); "
        "Coimbatore Spinners Limited (party:coimbatore-spinners)"
    ) in out
    assert (
        "signed by: Coimbatore Spinners Limited (party:coimbatore-spinners); "
        "Acme Imports LLC (party:acme-imports)"
    ) in out
    assert "lot SG-B-0881..0900" in out  # receipts name their lots
    assert "signed transfer" in out and "sale.env.json" in out  # --cosign-out

    for desk in ("supplier", "buyer", "auditor", "importer"):
        folder = tmp_path / desk
        keys = sorted(p.name for p in folder.rglob("*.pem"))
        assert keys == [f"{desk}.pem"], (desk, keys)  # its own key, nobody else's
        assert (folder / "passphrase").stat().st_mode & 0o777 == 0o600
    for name in ("origin", "ginning", "sale", "spinning", "yarn-sale", "shipment"):
        found = list(tmp_path.glob(f"*/{name}.json"))
        assert len(found) == 1 and "sha256:" not in found[0].read_text(), name
    assert (tmp_path / "importer" / "evidence.json").stat().st_size > 0
