"""A per-client rate limit for anonymous writes (allegations), held in the process.

A sliding window: at most ``limit`` requests per client in any ``window`` seconds. One
lock guards the table, so the limit holds across every thread of a server process; with
several processes (gunicorn workers, several hosts) each keeps its own table, so a
client gets at most ``limit`` per process (see the README). The table is bounded: past
``max_clients`` addresses the least recently seen is forgotten.

The client is the peer address, or, behind ``trusted_proxies`` reverse proxies, the
address that many hops from the right of ``X-Forwarded-For`` (the one the nearest
trusted proxy saw); IPv6 clients are counted by their /64, which one host usually holds.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class RateLimiter:
    """``hit(client)``: None when allowed, else the seconds until the next one is."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = max(1, limit)
        self.window = window
        self.max_clients = max_clients
        self.clock = clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, client: str) -> int | None:
        now = self.clock()
        with self._lock:
            times = self._seen.get(client)
            if times is None:
                times = deque()
                self._seen[client] = times
                while len(self._seen) > self.max_clients:
                    self._seen.popitem(last=False)
            self._seen.move_to_end(client)
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return max(1, math.ceil(times[0] + self.window - now))
            times.append(now)
            return None


def client_key(remote_addr: str | None, forwarded_for: str | None, trusted_proxies: int) -> str:
    """The address a request is counted under (see the module docstring)."""
    address = remote_addr or "unknown"
    if trusted_proxies > 0 and forwarded_for:
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        if len(hops) >= trusted_proxies:
            address = hops[-trusted_proxies]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if parsed.version == 6:
        mapped = parsed.ipv4_mapped
        if mapped is not None:
            return str(mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
