"""People: the normalised name keys that search and the duplicate check look up, and
idempotent creation of people and care relationships.

- `person.name_key` and `person.kana_key`: the name in kanji and its reading in kana,
  family and given name run together and normalised (width, hiragana to katakana, old and
  variant kanji, spacing; see schema/people/names.py), in the byte order ("C") so that a
  prefix search is a range of the index. Indexed with `municipality_code` first and the
  birth date last: a search and a duplicate check are each one index lookup in the
  tenant. Existing people get their keys here, computed by a frozen copy of the rules.
- `person.idempotency_key` and `care_relationship.idempotency_key` (one per tenant).
- A care relationship is one per carer and cared-for person, and is found from either
  side (an index on the cared-for person).

No grant or policy changes: 0002 grants household, person and care_relationship to the
municipal staff (SELECT, INSERT, UPDATE, and DELETE on care_relationship) and SELECT to
municipal systems, and nothing to schools, agencies, the prefecture or administrators;
`tenant_isolation` keeps every role to its tenant.

Revision ID: 0016
Revises: 0015
"""

import re
from collections.abc import Sequence

import jaconv
import joyokanji
import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAIR_UNIQUE = "uq_care_relationship_municipality_code_carer_person_id__ecc2"
_SPACES_AND_SELECTORS = re.compile(r"[\s\ufe00-\ufe0f\U000e0100-\U000e01ef]+")


def _key(*parts: str) -> str:
    """Frozen copy of schema/people/names.py `name_key` as of this revision."""
    text = jaconv.normalize("".join(parts), "NFKC")
    text = _SPACES_AND_SELECTORS.sub("", text)
    return joyokanji.convert(jaconv.hira2kata(text), variants=True).casefold()


def upgrade() -> None:
    for column in ("name_key", "kana_key"):
        op.add_column("person", sa.Column(column, sa.Text(collation="C"), nullable=True), schema="kizuna")
    op.add_column("person", sa.Column("idempotency_key", sa.Text(), nullable=True), schema="kizuna")
    op.add_column("care_relationship", sa.Column("idempotency_key", sa.Text(), nullable=True), schema="kizuna")

    # The owner may be subject to FORCE ROW LEVEL SECURITY (as in 0013): lift it to fill
    # every tenant's keys, one row at a time (routable to its shard on Citus).
    bind = op.get_bind()
    op.execute("ALTER TABLE kizuna.person NO FORCE ROW LEVEL SECURITY")
    people = bind.execute(
        sa.text(
            "SELECT municipality_code, id, family_name, given_name, family_name_kana, given_name_kana"
            " FROM kizuna.person"
        )
    ).all()
    if people:
        bind.execute(
            sa.text(
                "UPDATE kizuna.person SET name_key = :name_key, kana_key = :kana_key"
                " WHERE municipality_code = :municipality_code AND id = :id"
            ),
            [
                {
                    "municipality_code": p.municipality_code,
                    "id": p.id,
                    "name_key": _key(p.family_name, p.given_name),
                    "kana_key": _key(p.family_name_kana, p.given_name_kana),
                }
                for p in people
            ],
        )
    op.execute("ALTER TABLE kizuna.person FORCE ROW LEVEL SECURITY")
    for column in ("name_key", "kana_key"):
        op.alter_column("person", column, nullable=False, schema="kizuna")

    op.create_check_constraint(
        op.f("ck_person_idempotency_key_length"),
        "person",
        "char_length(idempotency_key) BETWEEN 1 AND 200",
        schema="kizuna",
    )
    op.create_unique_constraint(
        op.f("uq_person_municipality_code_idempotency_key"),
        "person",
        ["municipality_code", "idempotency_key"],
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_person_municipality_code_name_key_birth_date"),
        "person",
        ["municipality_code", "name_key", "birth_date"],
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_person_municipality_code_kana_key_birth_date"),
        "person",
        ["municipality_code", "kana_key", "birth_date"],
        schema="kizuna",
    )
    op.create_index(
        "ix_person_recent",
        "person",
        ["municipality_code", sa.text("created_at DESC"), sa.text("id DESC")],
        schema="kizuna",
    )

    op.create_check_constraint(
        op.f("ck_care_relationship_idempotency_key_length"),
        "care_relationship",
        "char_length(idempotency_key) BETWEEN 1 AND 200",
        schema="kizuna",
    )
    op.create_unique_constraint(
        op.f("uq_care_relationship_municipality_code_idempotency_key"),
        "care_relationship",
        ["municipality_code", "idempotency_key"],
        schema="kizuna",
    )
    op.create_unique_constraint(
        op.f(PAIR_UNIQUE),
        "care_relationship",
        ["municipality_code", "carer_person_id", "cared_for_person_id"],
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_care_relationship_municipality_code_cared_for_person_id"),
        "care_relationship",
        ["municipality_code", "cared_for_person_id"],
        schema="kizuna",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_care_relationship_municipality_code_cared_for_person_id"),
        table_name="care_relationship",
        schema="kizuna",
    )
    op.drop_constraint(op.f(PAIR_UNIQUE), "care_relationship", schema="kizuna")
    op.drop_constraint(
        op.f("uq_care_relationship_municipality_code_idempotency_key"), "care_relationship", schema="kizuna"
    )
    op.drop_constraint(op.f("ck_care_relationship_idempotency_key_length"), "care_relationship", schema="kizuna")
    op.drop_column("care_relationship", "idempotency_key", schema="kizuna")
    op.drop_index("ix_person_recent", table_name="person", schema="kizuna")
    op.drop_index(op.f("ix_person_municipality_code_kana_key_birth_date"), table_name="person", schema="kizuna")
    op.drop_index(op.f("ix_person_municipality_code_name_key_birth_date"), table_name="person", schema="kizuna")
    op.drop_constraint(op.f("uq_person_municipality_code_idempotency_key"), "person", schema="kizuna")
    op.drop_constraint(op.f("ck_person_idempotency_key_length"), "person", schema="kizuna")
    for column in ("idempotency_key", "kana_key", "name_key"):
        op.drop_column("person", column, schema="kizuna")
