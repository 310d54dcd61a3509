"""Clocks, the yardstick, memory peaks and the description of the machine.

Absolute times on these shared machines are noisy; each figure is also reported as a
ratio to the raw Ed25519 verify rate measured in the same run (the yardstick).
"""

from __future__ import annotations

import json
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import nacl.signing

Item = tuple[bytes, bytes, bytes]  # public key, signed message, signature


def best_rate(work: Callable[[], int], *, seconds: float, rounds: int = 3) -> float:
    """Operations per second of ``work`` (returns how many it did): best of ``rounds``.

    Each round repeats ``work`` for at least ``seconds`` (and at most 10,000 times).
    """
    best = 0.0
    for _ in range(rounds):
        done, start = 0, time.perf_counter()
        for _ in range(10_000):
            done += work()
            if time.perf_counter() - start >= seconds:
                break
        best = max(best, done / (time.perf_counter() - start))
    return best


def yardstick(items: Sequence[Item], seconds: float) -> float:
    """Raw PyNaCl verifies per second over real envelopes' PAE bytes (one core)."""

    def work() -> int:
        for public, message, sig in items:
            nacl.signing.VerifyKey(public).verify(message, sig)
        return len(items)

    return best_rate(work, seconds=seconds)


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = work()
    return time.perf_counter() - start, value


def each_ms(work: Callable[[Any], Any], items: Sequence[Any]) -> tuple[float, float, list[Any]]:
    """Median and mean milliseconds of ``work(item)`` over ``items``, and the results.

    The median is what ratios use: a burst of load from elsewhere on a shared machine
    moves the mean of a short series far more than its median.
    """
    times: list[float] = []
    results: list[Any] = []
    for item in items:
        start = time.perf_counter()
        results.append(work(item))
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), statistics.fmean(times), results


class CpuShare:
    """How much of the machine's CPU other processes used while the benchmark ran.

    The busy time of all CPUs (/proc/stat) less this process's and its waited-for
    children's (servers, clients, signers, helpers); PostgreSQL's backends count as
    others. A shared machine can be busy: a run with a large share is noisy.
    """

    def __init__(self) -> None:
        self.start = self._sample()

    @staticmethod
    def _sample() -> tuple[float, float, float]:
        ticks = os.sysconf("SC_CLK_TCK")
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        busy = (sum(fields[:3]) + sum(fields[5:8])) / ticks  # user nice system irq softirq steal
        mine = sum(os.times()[:4])  # user+system of self and of waited-for children
        return time.monotonic(), busy, mine

    def others(self) -> dict[str, float]:
        end = self._sample()
        wall = end[0] - self.start[0]
        cores = os.cpu_count() or 1
        others = max(0.0, (end[1] - self.start[1]) - (end[2] - self.start[2]))
        return {
            "wall_seconds": wall,
            "others_cpu_seconds": others,
            "others_share": others / (wall * cores) if wall > 0 else 0.0,
        }


def vm_peak_kib(pid: int, field: str = "VmHWM") -> int:
    """Peak resident set (VmHWM) of a live process, in KiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def self_peak_mib() -> float:
    return vm_peak_kib(os.getpid()) / 1024


def run_json(args: list[str], timeout: float) -> dict[str, Any]:
    """Run a helper subprocess that prints one JSON object; raise on failure."""
    done = subprocess.run(args, capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{args[2:4]} failed: {done.stderr.decode()[-2000:]}")
    value: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return value


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _commit(root: Path) -> str | None:
    """The commit measured, with ``+changes`` when the work tree differs from it."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, timeout=30, check=False
        )
        return done.stdout.decode().strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (commit + ("+changes" if changed else "")) or None


def machine_info(root: Path, postgres_version: str | None) -> dict[str, Any]:
    """What the figures depend on: CPU, cores, memory, interpreter, databases, libraries."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "hostname": socket.gethostname(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version,
        "commit": _commit(root),
        "libraries": {
            name: _version(name)
            for name in (
                "lotchain",
                "pynacl",
                "peewee",
                "jsonschema-rs",
                "flask",
                "waitress",
                "gunicorn",
                "psycopg2-binary",
                "securesystemslib",
                "pymerkle",
            )
        },
    }
