"""A young carer's 18th birthday, written down: the case stays the same case, its
category becomes young adult carer (seed 003: no gap at 18), and its history shows when.

Cases read through GraphQL show the category of the day already (`workflow.category_at`);
this job makes the stored category and the history agree with it. It runs over the
administrative connection, like onboarding, once a day (`kizuna cases come-of-age`), one
transaction per tenant with the tenant in every statement. Closed cases keep the category
they closed with; a reopened one is shown, then written, as of its person's age.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from kizuna.platform.ids import uuid7
from kizuna.platform.vocabulary import CaseEventKind
from kizuna.schema.cases import workflow
from kizuna.schema.cases.service import adult_born_by

ACTOR = "kizuna"
"""The actor of an event no person wrote (`actor_name` stays NULL: the history says 自動)."""
REASON = "18歳の誕生日（ヤングケアラーから若者ケアラーへ。同じケースで支援を続ける）"

DUE = """
SELECT c.id, p.birth_date FROM kizuna.carer_case c
JOIN kizuna.person p ON p.municipality_code = c.municipality_code AND p.id = c.person_id
WHERE c.municipality_code = $1 AND c.category = 'young_carer' AND c.stage <> 'closed' AND p.birth_date <= $2
ORDER BY c.id
FOR UPDATE OF c
"""
CHANGE = """
UPDATE kizuna.carer_case SET category = 'young_adult_carer'
WHERE municipality_code = $1 AND id = ANY($2::uuid[])
"""
EVENT = """
INSERT INTO kizuna.case_event (municipality_code, id, case_id, kind, actor, reason, occurred_at)
VALUES ($1, $2, $3, $4::kizuna.case_event_kind, $5, $6, $7)
"""


async def come_of_age(conn: asyncpg.Connection, code: str, on: dt.date) -> list[uuid.UUID]:
    """Move the tenant's open young-carer cases whose person is 18 on `on` to young adult
    carer, each with a `category_changed` event dated the birthday. Returns their ids."""
    async with conn.transaction():
        due = await conn.fetch(DUE, code, adult_born_by(on))
        if not due:
            return []
        await conn.execute(CHANGE, code, [row["id"] for row in due])
        await conn.executemany(
            EVENT,
            [
                (
                    code,
                    uuid7(),
                    row["id"],
                    CaseEventKind.CATEGORY_CHANGED.value,
                    ACTOR,
                    REASON,
                    dt.datetime.combine(workflow.eighteenth_birthday(row["birth_date"]), dt.time(), workflow.JAPAN),
                )
                for row in due
            ],
        )
    return [row["id"] for row in due]
