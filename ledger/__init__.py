"""lotchain: a traceability data exchange ledger (the pure core and its storage)."""

__version__ = "0.1.0"
