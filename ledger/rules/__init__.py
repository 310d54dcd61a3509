"""Verification rules that need judgement, kept as data (JSON) beside this module.

``yields.json`` (maximum mass yields per process, with sources), ``regions.json``
(high-risk regions, their boundaries and place names), ``certificates.json`` (which
processes need a certificate), ``units.json`` (conversions to kilograms),
``materials.json`` (material classes by HS code) and ``processes.json`` (what each
process can make of them, and which raw materials an origin process yields).
:mod:`ledger.verify.rules` loads them; their SHA-256 is the rules version every verdict
names.
"""
