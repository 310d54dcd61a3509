"""Profiles of the slow paths: pyinstrument in this process, py-spy on the server.

They answer "where does the time go" for the figures that miss their targets; they are
taken in extra rounds, never during a timed window, so they do not slow the figures.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any


def pyinstrument_text(path: Path, work: Callable[[], Any]) -> None:
    """Run ``work`` under pyinstrument and write its call tree as text."""
    from pyinstrument import Profiler

    path.parent.mkdir(parents=True, exist_ok=True)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    try:
        work()
    finally:
        profiler.stop()
    path.write_text(
        profiler.output_text(unicode=False, color=False, show_all=False), encoding="utf-8"
    )


def _py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


class PySpy:
    """``py-spy record`` attached to a running server (and its workers), raw stacks out."""

    def __init__(self, pid: int, raw: Path) -> None:
        exe = _py_spy()
        self.raw = raw
        self.proc: subprocess.Popen[bytes] | None = None
        if exe is None:
            return
        raw.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                exe,
                "record",
                "--pid",
                str(pid),
                "--subprocesses",
                "--format",
                "raw",
                "--rate",
                "200",
                "--output",
                str(raw),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> Path | None:
        """Stop recording; the summary written beside the raw stacks, or None."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        if not self.raw.exists():
            return None
        summary = self.raw.with_name(self.raw.stem + "_summary.txt")
        summary.write_text(summarise(self.raw.read_text(encoding="utf-8")), encoding="utf-8")
        return summary


def summarise(raw: str, top: int = 40) -> str:
    """Functions by share of samples: inclusive (anywhere on the stack) and self (leaf)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_function(f) for f in stack.split(";") if f.endswith(")") and ":" in f]
        if not frames:
            continue
        for name in set(frames):
            inclusive[name] += n
        own[frames[-1]] += n
    if not total:
        return "no samples\n"
    lines = [
        f"{total} samples of the thread holding the GIL (py-spy --gil): where the server's",
        "Python time goes; time waiting on locks, fsync or the network is not in it.",
        "",
        "inclusive  function",
    ]
    lines += [f"{100 * n / total:8.1f}%  {name}" for name, n in inclusive.most_common(top)]
    lines += ["", "self       function"]
    lines += [f"{100 * n / total:8.1f}%  {name}" for name, n in own.most_common(top // 2)]
    return "\n".join(lines) + "\n"


def _function(frame: str) -> str:
    """``name (path:line)`` without the line, with the path shortened to the package."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"
