"""Merging a duplicate person into the person kept, and undoing it (issue 15, item 2).

A merge moves every reference to the duplicate (`REFERENCES`: cases, consents, care
relationships on either side; a decided referral stays as decided, `NOT_MOVED`) to the
kept person, marks the duplicate `merged_into_id`, and records in `person_merge` the ids
of the rows it moved, one array per reference, all in one transaction with its audit
events. The duplicate's row and the
audit history stay; the duplicate leaves the people list, the search and the duplicate
check, and no new reference may name it (`access_person` in people and cases).

An undo puts exactly the recorded rows back on the duplicate and clears its mark; it is
refused when that is no longer exact: the kept person was merged into someone else since
(undo that first), or a moved row no longer names the kept person (removed since).

Locks: both operations lock the two people (`FOR UPDATE`, in id order, one statement),
an undo its merge first. A concurrent merge of either person therefore waits and then
finds it merged (CONFLICT, not an error), and a concurrent insert naming either person
waits on its foreign key check (which takes `FOR KEY SHARE`), so the conflict checks
below see every relationship committed before the moves.

Municipal staff merge and undo (`Operation.MERGE_PEOPLE`, `UNDO_PERSON_MERGE`); the
database lets them insert a merge only in their own name and update only its undo.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from kizuna.platform import audit
from kizuna.platform.i18n import Message
from kizuna.platform.ids import uuid7
from kizuna.platform.scope import Scope
from kizuna.schema.errors import Refused, UserErrorCode
from kizuna.schema.permissions import Operation, may
from kizuna.schema.writes import check_text

MAX_REASON_LENGTH = 1000
MERGE_ACTION = "person.merge"
UNDO_ACTION = "person.merge_undo"


@dataclass(frozen=True, slots=True)
class Reference:
    """A column naming a person, and the `person_merge` column that lists the rows a
    merge moved through it."""

    table: str
    column: str
    record: str


REFERENCES = (
    Reference("carer_case", "person_id", "carer_case_ids"),
    Reference("consent", "person_id", "consent_ids"),
    Reference("care_relationship", "carer_person_id", "carer_relationship_ids"),
    Reference("care_relationship", "cared_for_person_id", "cared_for_relationship_ids"),
)
NOT_MOVED = frozenset(
    {
        # A decided referral is never changed (migration 0013): it keeps naming the person
        # it was decided about, while its case, named beside it, moves.
        ("referral", "person_id"),
        # The records of merges themselves.
        ("person", "merged_into_id"),
        ("person_merge", "kept_person_id"),
        ("person_merge", "duplicate_person_id"),
    }
)
"""The columns naming a person that a merge leaves as they are (tests/test_person_merge.py
holds `REFERENCES` and these to every foreign key onto person)."""

# Both people, locked in id order whatever the order of the input (no deadlock between
# two merges that share a person): LockRows runs above the sort.
LOCK_PEOPLE = """
SELECT id, merged_into_id FROM kizuna.person WHERE municipality_code = $1 AND id = ANY($2::uuid[])
ORDER BY id FOR UPDATE
"""
CARE_BETWEEN = """
SELECT id FROM kizuna.care_relationship
WHERE municipality_code = $1
  AND ((carer_person_id = $2 AND cared_for_person_id = $3) OR (carer_person_id = $3 AND cared_for_person_id = $2))
LIMIT 1
"""
# A relationship of the duplicate whose other side the kept person has the same relationship with.
CARE_ON_BOTH = """
SELECT d.id FROM kizuna.care_relationship d
JOIN kizuna.care_relationship k ON k.municipality_code = d.municipality_code
 AND ((d.carer_person_id = $2 AND k.carer_person_id = $3 AND k.cared_for_person_id = d.cared_for_person_id)
   OR (d.cared_for_person_id = $2 AND k.cared_for_person_id = $3 AND k.carer_person_id = d.carer_person_id))
WHERE d.municipality_code = $1
LIMIT 1
"""
MARK = "UPDATE kizuna.person SET merged_into_id = $3 WHERE municipality_code = $1 AND id = $2"
INSERT_MERGE = f"""
INSERT INTO kizuna.person_merge
    (municipality_code, id, kept_person_id, duplicate_person_id, reason, merged_at, merged_by,
     {", ".join(r.record for r in REFERENCES)})
VALUES ($1, $2, $3, $4, $5, now(), $6, $7, $8, $9, $10)
"""
_MERGE = f"""
SELECT id, kept_person_id, duplicate_person_id, reason, merged_at, undone_at, undo_reason,
       {", ".join(r.record for r in REFERENCES)}
FROM kizuna.person_merge WHERE municipality_code = $1"""
MERGE_IN_FORCE_OF = f"{_MERGE} AND duplicate_person_id = $2 AND undone_at IS NULL"
UNDO = """
UPDATE kizuna.person_merge SET undone_at = now(), undone_by = $3, undo_reason = $4
WHERE municipality_code = $1 AND id = $2 AND undone_at IS NULL
"""


def _move_sql(reference: Reference) -> str:
    """Every row naming the person $2 through `reference` now names $3; their ids."""
    return (
        f"UPDATE kizuna.{reference.table} SET {reference.column} = $3"
        f" WHERE municipality_code = $1 AND {reference.column} = $2 RETURNING id"
    )


def _lock_moved_sql(reference: Reference) -> str:
    """Those of the rows $2 that still name the person $3 through `reference`, locked."""
    return (
        f"SELECT id FROM kizuna.{reference.table}"
        f" WHERE municipality_code = $1 AND id = ANY($2::uuid[]) AND {reference.column} = $3 FOR UPDATE"
    )


def _move_back_sql(reference: Reference) -> str:
    return (
        f"UPDATE kizuna.{reference.table} SET {reference.column} = $3"
        f" WHERE municipality_code = $1 AND id = ANY($2::uuid[]) AND {reference.column} = $4"
    )


def _may(scope: Scope, operation: Operation) -> None:
    if not may(scope.role, operation):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.MAY_NOT_MERGE_PEOPLE)


def _reason(reason: str) -> None:
    check_text(reason, field="reason", message=Message.REASON_LENGTH, most=MAX_REASON_LENGTH)


async def _lock_people(scope: Scope, named: dict[str, uuid.UUID]) -> dict[uuid.UUID, asyncpg.Record]:
    """The people `named` by input field, locked; a missing one (or another tenant's) is
    NOT_FOUND on its field, in the order of `named`."""
    rows = {r["id"]: r for r in await scope.tx.fetch(LOCK_PEOPLE, list(named.values()))}
    for field, person_id in named.items():
        if person_id not in rows:
            raise Refused(UserErrorCode.NOT_FOUND, field, Message.NO_SUCH_PERSON)
    return rows


async def merge_in_force_of(scope: Scope, person_id: uuid.UUID, *, lock: bool = False) -> asyncpg.Record | None:
    """The merge that folded `person_id` into another person, unless undone; `lock`: held
    `FOR UPDATE` until the transaction ends."""
    return await scope.tx.fetchrow(MERGE_IN_FORCE_OF + (" FOR UPDATE" if lock else ""), person_id)


async def do_merge_people(scope: Scope, keep_id: uuid.UUID, duplicate_id: uuid.UUID, reason: str) -> None:
    """Merge the person `duplicate_id` into `keep_id` (both of the tenant, neither merged):
    every reference moves, the duplicate is marked, the moved rows are recorded, all
    audited. Refused (CONFLICT) when a care relationship would be doubled or would link
    the person with themself: the caller removes the one that is wrong first."""
    _may(scope, Operation.MERGE_PEOPLE)
    if keep_id == duplicate_id:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "duplicatePersonId", Message.MERGE_INTO_ONESELF)
    _reason(reason)
    people = await _lock_people(scope, {"keepPersonId": keep_id, "duplicatePersonId": duplicate_id})
    for field, person_id in (("keepPersonId", keep_id), ("duplicatePersonId", duplicate_id)):
        if people[person_id]["merged_into_id"] is not None:
            raise Refused(UserErrorCode.CONFLICT, field, Message.PERSON_ALREADY_MERGED)
    if await scope.tx.fetchval(CARE_BETWEEN, duplicate_id, keep_id) is not None:
        raise Refused(UserErrorCode.CONFLICT, "duplicatePersonId", Message.MERGE_CARE_BETWEEN)
    if await scope.tx.fetchval(CARE_ON_BOTH, duplicate_id, keep_id) is not None:
        raise Refused(UserErrorCode.CONFLICT, "duplicatePersonId", Message.MERGE_CARE_ON_BOTH)

    moved = [[r["id"] for r in await scope.tx.fetch(_move_sql(ref), duplicate_id, keep_id)] for ref in REFERENCES]
    await scope.tx.execute(MARK, duplicate_id, keep_id)
    merge_id = uuid7()
    await scope.tx.execute(INSERT_MERGE, merge_id, keep_id, duplicate_id, reason, scope.caller.user_id, *moved)
    await audit.record_many(scope, _events(MERGE_ACTION, merge_id, duplicate_id, moved))


async def do_undo_person_merge(scope: Scope, duplicate_id: uuid.UUID, reason: str) -> uuid.UUID:
    """Undo the merge in force of the person `duplicate_id`: every row it moved names them
    again and they are no longer merged; audited. Refused (CONFLICT) when they are not
    merged, when the kept person has since been merged into another, or when a moved row
    no longer names the kept person. Returns the kept person's id."""
    _may(scope, Operation.UNDO_PERSON_MERGE)
    _reason(reason)
    merge = await merge_in_force_of(scope, duplicate_id, lock=True)
    if merge is None:
        await _lock_people(scope, {"duplicatePersonId": duplicate_id})  # NOT_FOUND first
        raise Refused(UserErrorCode.CONFLICT, "duplicatePersonId", Message.PERSON_NOT_MERGED)
    keep_id = merge["kept_person_id"]
    people = {r["id"]: r for r in await scope.tx.fetch(LOCK_PEOPLE, [duplicate_id, keep_id])}
    if people[keep_id]["merged_into_id"] is not None:
        raise Refused(UserErrorCode.CONFLICT, "duplicatePersonId", Message.MERGE_UNDO_LATER_FIRST)
    moved = [list(merge[ref.record]) for ref in REFERENCES]
    for ref, ids in zip(REFERENCES, moved, strict=True):
        if ids and len(await scope.tx.fetch(_lock_moved_sql(ref), ids, keep_id)) != len(ids):
            raise Refused(UserErrorCode.CONFLICT, "duplicatePersonId", Message.MERGE_CHANGED_SINCE)

    for ref, ids in zip(REFERENCES, moved, strict=True):
        if ids:
            await scope.tx.execute(_move_back_sql(ref), ids, duplicate_id, keep_id)
    await scope.tx.execute(MARK, duplicate_id, None)
    await scope.tx.execute(UNDO, merge["id"], scope.caller.user_id, reason)
    await audit.record_many(scope, _events(UNDO_ACTION, merge["id"], duplicate_id, moved))
    kept: uuid.UUID = keep_id
    return kept


def _events(
    action: str, merge_id: uuid.UUID, duplicate_id: uuid.UUID, moved: list[list[uuid.UUID]]
) -> list[audit.Event]:
    """The merge's (or undo's) events: the merge record, the duplicate's mark, and each
    moved row with the column that changed."""
    undone = action == UNDO_ACTION
    record_fields = (
        ("undone_at", "undone_by", "undo_reason") if undone else ("kept_person_id", "duplicate_person_id", "reason")
    )
    events = [
        audit.Event(action, "person_merge", merge_id, record_fields),
        audit.Event(action, "person", duplicate_id, ("merged_into_id",)),
    ]
    for ref, ids in zip(REFERENCES, moved, strict=True):
        events += [audit.Event(action, ref.table, row_id, (ref.column,)) for row_id in ids]
    return events
