"""The ``lotchain`` command line."""

from ledger.cli.main import main

__all__ = ["main"]
