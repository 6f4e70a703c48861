"""Merging duplicate people, and undoing it (issue 15, item 2).

- `person.merged_into_id`: set when the person was found to be a duplicate of another and
  merged into it; the row and its history stay. A merged person is left out of the
  people list, the search and the duplicate check (schema/people/service.py).
- `person_merge`: one row per merge, written in the merge's transaction: who is kept, who
  was the duplicate, why, who merged and when, and the ids of the rows whose reference
  to the duplicate it moved to the kept person, one array per referencing column, so
  that an undo puts exactly those back. An undo fills `undone_at`, `undone_by` and
  `undo_reason`; the row is never deleted. At most one merge of a person is in force
  (`uq_person_merge_in_force`).

Grants: municipal staff (caseworker, coordinator, supervisor) read the merges, insert
one in their own name and not yet undone, and update only the three undo columns, in
their own name, of a merge not yet undone; nobody deletes one. Municipal systems read
them, as they read the people. Schools, agencies, the prefecture and administrators get
nothing. `person.merged_into_id` is covered by 0002's table grants on person (staff
update, systems read; the others nothing). Every policy is permissive and carries the
tenant condition (0010).

A decided referral is never changed (0013): it keeps naming the person it was decided
about, while its case moves to the person kept; no grant or policy on referral changes.

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = "municipality_code = kizuna.current_municipality()"
STAFF = "kizuna_caseworker, kizuna_coordinator, kizuna_supervisor"
READERS = f"{STAFF}, kizuna_municipal_system"
MOVED = ("carer_case_ids", "consent_ids", "carer_relationship_ids", "cared_for_relationship_ids")
RECORDED = "municipality_code, id, kept_person_id, duplicate_person_id, reason, merged_at, merged_by, " + ", ".join(
    MOVED
)
UNDO = "undone_at, undone_by, undo_reason"


def upgrade() -> None:
    op.add_column("person", sa.Column("merged_into_id", sa.Uuid(), nullable=True), schema="kizuna")
    op.create_foreign_key(
        op.f("fk_person_municipality_code_merged_into_id"),
        "person",
        "person",
        ["municipality_code", "merged_into_id"],
        ["municipality_code", "id"],
        source_schema="kizuna",
        referent_schema="kizuna",
    )
    op.create_check_constraint(
        op.f("ck_person_not_merged_into_itself"), "person", "merged_into_id <> id", schema="kizuna"
    )

    op.create_table(
        "person_merge",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kept_person_id", sa.Uuid(), nullable=False),
        sa.Column("duplicate_person_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merged_by", sa.Uuid(), nullable=False),
        *(sa.Column(column, postgresql.ARRAY(sa.Uuid()), nullable=False) for column in MOVED),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.Uuid(), nullable=True),
        sa.Column("undo_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_person_merge_municipality_code_set")),
        sa.CheckConstraint("kept_person_id <> duplicate_person_id", name=op.f("ck_person_merge_not_itself")),
        sa.CheckConstraint("char_length(btrim(reason)) > 0", name=op.f("ck_person_merge_reason_given")),
        sa.CheckConstraint(
            "(undone_at IS NULL) = (undone_by IS NULL) AND (undone_at IS NULL) = (undo_reason IS NULL)",
            name=op.f("ck_person_merge_undone_whole"),
        ),
        sa.CheckConstraint(
            "undo_reason IS NULL OR char_length(btrim(undo_reason)) > 0", name=op.f("ck_person_merge_undo_reason_given")
        ),
        sa.CheckConstraint("undone_at IS NULL OR undone_at >= merged_at", name=op.f("ck_person_merge_undone_after")),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_person_merge_municipality_code")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code", "kept_person_id"],
            ["kizuna.person.municipality_code", "kizuna.person.id"],
            name=op.f("fk_person_merge_municipality_code_kept_person_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code", "duplicate_person_id"],
            ["kizuna.person.municipality_code", "kizuna.person.id"],
            name=op.f("fk_person_merge_municipality_code_duplicate_person_id"),
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_person_merge")),
        schema="kizuna",
    )
    op.create_index(
        "uq_person_merge_in_force",
        "person_merge",
        ["municipality_code", "duplicate_person_id"],
        unique=True,
        schema="kizuna",
        postgresql_where=sa.text("undone_at IS NULL"),
    )
    op.create_index(
        op.f("ix_person_merge_municipality_code_kept_person_id"),
        "person_merge",
        ["municipality_code", "kept_person_id"],
        schema="kizuna",
    )

    op.execute("ALTER TABLE kizuna.person_merge ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE kizuna.person_merge FORCE ROW LEVEL SECURITY")
    # The owner's own policy (migrations and the superuser's repairs), as 0013 leaves it.
    op.execute(
        "DO $$ BEGIN EXECUTE format("
        f"'CREATE POLICY tenant_isolation ON kizuna.person_merge TO %I USING ({TENANT}) WITH CHECK ({TENANT})',"
        " (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'kizuna.person_merge'::regclass)); END $$"
    )
    op.execute(f"GRANT SELECT ON kizuna.person_merge TO {READERS}")
    op.execute(f"GRANT INSERT ({RECORDED}) ON kizuna.person_merge TO {STAFF}")
    op.execute(f"GRANT UPDATE ({UNDO}) ON kizuna.person_merge TO {STAFF}")
    op.execute(f"CREATE POLICY readers_read ON kizuna.person_merge FOR SELECT TO {READERS} USING ({TENANT})")
    op.execute(
        f"CREATE POLICY staff_merge ON kizuna.person_merge FOR INSERT TO {STAFF}"
        f" WITH CHECK ({TENANT} AND merged_by = kizuna.current_user_id() AND undone_at IS NULL)"
    )
    op.execute(
        f"CREATE POLICY staff_undo ON kizuna.person_merge FOR UPDATE TO {STAFF}"
        f" USING ({TENANT} AND undone_at IS NULL)"
        f" WITH CHECK ({TENANT} AND undone_at IS NOT NULL AND undone_by = kizuna.current_user_id())"
    )


def downgrade() -> None:
    op.drop_table("person_merge", schema="kizuna")  # its policies, grants and indexes with it
    op.drop_constraint(op.f("ck_person_not_merged_into_itself"), "person", schema="kizuna")
    op.drop_constraint(op.f("fk_person_municipality_code_merged_into_id"), "person", schema="kizuna")
    op.drop_column("person", "merged_into_id", schema="kizuna")
