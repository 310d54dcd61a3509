"""Slipping one entry past the append-time rules, as a faulty or dishonest operator could.

Within :func:`bypass`, the admission rules ask a :class:`LyingView` of the state, so a
test can log an entry the ledger would refuse (a forged signature, a double spend...)
and check that the verifier, which trusts nothing the log decided, catches it.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

import ledger.log
from ledger.keys import Signer
from ledger.state import KeyRecord, OutputRecord, PartyRecord, StateView

# -- slipping one entry past the append-time rules -----------------------------------------


class LyingView:
    """A state view that tells the admission rules what a faulty operator's would."""

    def __init__(self, base: StateView, lies: dict[str, Any]) -> None:
        self.base = base
        self.lies = lies

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)

    def output(self, ref: str) -> OutputRecord | None:
        record = self.base.output(ref)
        if record is None and "fake_output" in self.lies:
            return OutputRecord(
                ref,
                ref.split("#")[0],
                0,
                self.lies["fake_output"],
                Decimal(10**9),
                "kg",
                None,
                "anything",
                "FAKE",
            )
        if record is not None and "holder" in self.lies:
            return dataclasses.replace(record, holder=self.lies["holder"])
        return record

    def consumed(self, ref: str) -> Decimal:
        return Decimal(0) if self.lies.get("no_spends") else self.base.consumed(ref)

    def party(self, party_id: str) -> PartyRecord | None:
        record = self.base.party(party_id)
        if record is not None and party_id in self.lies.get("roles", {}):
            return dataclasses.replace(record, roles=frozenset(self.lies["roles"][party_id]))
        return record

    def key(self, kid: str) -> KeyRecord | None:
        record = self.base.key(kid)
        forged: Signer | None = self.lies.get("forged_key")
        if record is not None and forged is not None:
            return dataclasses.replace(record, public_key=forged.public_key)
        return record


@contextlib.contextmanager
def bypass(monkeypatch: pytest.MonkeyPatch, **lies: Any) -> Iterator[None]:
    """Within the block, appends are judged against a :class:`LyingView`."""
    real: Callable[..., Any] = ledger.log.admit

    def lenient(att: Any, view: StateView, trust: Any, *, now: datetime, **kw: Any) -> Any:
        # the material rules read what an entry consumes: skipped when bypassed
        return real(att, LyingView(view, lies), trust, now=now)

    with monkeypatch.context() as m:
        m.setattr(ledger.log, "admit", lenient)
        yield
