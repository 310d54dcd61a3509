"""Helpers of ``scripts/bench.py``: workload, measures, peers, HTTP, report."""
