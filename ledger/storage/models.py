"""The tables, as peewee models bound to one database (so several stores can share a process).

Every table is insert-only (triggers, see :meth:`SqlStore._protect`); the schema is
created and changed only by :mod:`ledger.storage.migrations`.
"""

from __future__ import annotations

from typing import Any

import peewee as pw


def make_models(db: pw.Database) -> dict[str, Any]:
    """Model classes bound to one database, so several stores can live in one process.

    Since migration 9 the log's hot tables are slim: attestation ids are 32-byte
    digests (:mod:`ledger.storage.ids`), outputs and spends refer to entries by index
    and position, Merkle nodes are keyed by one integer, and tables keyed by integers
    are ``WITHOUT ROWID`` on SQLite (their rows live in the key's own B-tree).
    """
    sqlite = not isinstance(db, pw.PostgresqlDatabase)

    class Base(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class SchemaMigration(Base):
        version = pw.IntegerField(primary_key=True)
        name = pw.TextField()
        applied_at = pw.TextField()

    class Entry(Base):
        idx = pw.BigIntegerField(primary_key=True)
        attestation_id = pw.BlobField(unique=True)  # the id's 32-byte digest
        type = pw.TextField(index=True)
        issuer = pw.TextField(index=True)
        integrated_at = pw.TextField()
        leaf = pw.BlobField()
        leaf_hash = pw.BlobField()
        envelope = pw.BlobField()

    class Node(Base):
        key = pw.BigIntegerField(primary_key=True)  # level << 56 | index
        hash = pw.BlobField()

    class Checkpoint(Base):
        size = pw.BigIntegerField(primary_key=True)
        root = pw.BlobField()
        note = pw.BlobField()

    class PartyVersion(Base):
        entry_idx = pw.BigIntegerField()
        party_id = pw.TextField(index=True)
        legal_name = pw.TextField()
        country = pw.TextField()
        roles = pw.TextField()
        aliases = pw.TextField()
        attestation = pw.TextField()
        filer_codes = pw.TextField(default="[]")  # JSON list; added by migration 4

    class Key(Base):
        key_id = pw.TextField(primary_key=True)
        party = pw.TextField(index=True)
        public_key = pw.BlobField()
        valid_from = pw.TextField()
        attestation = pw.TextField()

    class KeyRevocation(Base):
        key_id = pw.TextField(index=True)
        effective_at = pw.TextField()
        attestation = pw.TextField()

    class FacilityVersion(Base):
        entry_idx = pw.BigIntegerField()
        facility_id = pw.TextField(index=True)
        name = pw.TextField()
        operator = pw.TextField()
        country = pw.TextField()
        region = pw.TextField(null=True)
        attestation = pw.TextField()

    class Output(Base):  # ref = the id of entry ``entry_idx`` + "#" + position
        entry_idx = pw.BigIntegerField()
        position = pw.IntegerField()
        holder = pw.TextField(index=True)
        amount = pw.TextField()
        unit = pw.TextField()
        mass_kg = pw.TextField(null=True)
        material = pw.TextField()
        lot = pw.TextField(index=True)

        class Meta:
            primary_key = pw.CompositeKey("entry_idx", "position")
            without_rowid = sqlite

    class Spend(Base):  # output (out_idx, out_pos) consumed by entry consumer_idx
        out_idx = pw.BigIntegerField()
        out_pos = pw.IntegerField()
        consumer_idx = pw.BigIntegerField()
        amount = pw.TextField()

        class Meta:
            primary_key = pw.CompositeKey("out_idx", "out_pos", "consumer_idx")
            without_rowid = sqlite

    class Shipment(Base):
        entry_number = pw.TextField(primary_key=True)
        attestation = pw.TextField(unique=True)

    class Lookup(Base):  # certificates/audits/events by facility, revocations by target
        kind = pw.TextField()
        key = pw.TextField()
        entry_idx = pw.BigIntegerField()  # the attestation found is this entry's

        class Meta:
            indexes = ((("kind", "key", "entry_idx"), False),)

    class ScreeningList(Base):  # screening list versions (bytes kept as loaded)
        name = pw.TextField(index=True)
        sha256 = pw.TextField()
        loaded_at = pw.TextField()
        source = pw.TextField(null=True)
        data = pw.BlobField()
        kind = pw.TextField(default="entity")  # entity | wro (migration 4)

    class EnforcementStep(Base):  # detentions, submissions, determinations by shipment
        entry_idx = pw.BigIntegerField()
        shipment = pw.TextField(index=True)
        attestation = pw.TextField()
        kind = pw.TextField()
        status = pw.TextField()
        step_on = pw.TextField()
        basis = pw.TextField()
        detention = pw.TextField()
        due = pw.TextField(null=True)
        late = pw.IntegerField(default=0)
        decide_by = pw.TextField(null=True)

    class ShipmentMetric(Base):  # one summary row per shipment, for the metrics report
        entry_idx = pw.BigIntegerField()
        shipment = pw.TextField(unique=True)
        importer = pw.TextField()
        entry_date = pw.TextField(index=True)
        month = pw.TextField()
        quarter = pw.TextField()
        fiscal_year = pw.TextField()
        country = pw.TextField()
        hs4 = pw.TextField()
        section = pw.TextField()
        value_micro = pw.BigIntegerField()

    return {
        "schema_migration": SchemaMigration,
        "entry": Entry,
        "node": Node,
        "checkpoint": Checkpoint,
        "party_version": PartyVersion,
        "key": Key,
        "key_revocation": KeyRevocation,
        "facility_version": FacilityVersion,
        "output": Output,
        "spend": Spend,
        "shipment": Shipment,
        "lookup": Lookup,
        "screening_list": ScreeningList,
        "enforcement_step": EnforcementStep,
        "shipment_metric": ShipmentMetric,
    }
