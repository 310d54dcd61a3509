"""Verification rules that need judgement, kept as data (JSON) beside this module.

``yields.json`` (maximum mass yields per process, with sources), ``regions.json``
(high-risk regions), ``certificates.json`` (which processes need a certificate) and
``units.json`` (conversions to kilograms). :mod:`ledger.verify.rules` loads them; their
SHA-256 is the rules version every verdict names.
"""
