"""People, households and care relationships: reading and searching them within the
tenant, creating a person (search before create), and recording who cares for whom.

Municipal staff (caseworkers, coordinators, supervisors) write; they and municipal
systems read (`Operation.PEOPLE` and the rest in schema/permissions.py). Schools,
agencies, the prefecture and administrators read no person: the database grants them
nothing on these tables (migration 0002), and the resolvers say FORBIDDEN first.

Search before create: a new person whose name key (in kanji) or reading key (in kana) and
birth date equal an existing person's is not created; the caller gets the candidates and
creates only by saying `confirmed_not_duplicate`. The keys are made by `names.name_key`
and stored, so the check and the search are index lookups in the tenant.

Every change is written in the request's transaction with its audit event; a refused
request (`Refused`) has written nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import asyncpg

from kizuna.platform import audit
from kizuna.platform.database import TenantTransaction
from kizuna.platform.i18n import Message
from kizuna.platform.ids import uuid7
from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import CaredForCondition, CareTask, OrganisationKind
from kizuna.schema.cases import workflow
from kizuna.schema.errors import Refused, UserErrorCode
from kizuna.schema.people.names import name_key
from kizuna.schema.permissions import Operation, may
from kizuna.schema.relay import Keyset
from kizuna.schema.writes import IDEMPOTENCY_KEY_FIELD, check_idempotency_key, check_text

SCHOOLS = frozenset(
    {
        OrganisationKind.ELEMENTARY_SCHOOL,
        OrganisationKind.JUNIOR_HIGH_SCHOOL,
        OrganisationKind.HIGH_SCHOOL,
        OrganisationKind.UNIVERSITY,
    }
)
MAX_NAME_LENGTH = 100
MAX_RELATIONSHIP_LENGTH = 50
MAX_HOURS_PER_WEEK = 168
MAX_DUPLICATES = 20
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)  # the table's CHECK
# A reading, once normalised: katakana, the long-vowel mark and the middle dot only.
_KANA = re.compile(r"[\u30a1-\u30fc]+")

CREATE_PERSON_ACTION = "person.create"
CREATE_HOUSEHOLD_ACTION = "household.create"
ADD_CARE_ACTION = "care_relationship.add"
REMOVE_CARE_ACTION = "care_relationship.remove"

_PERSON_COLUMNS = """
SELECT p.id, p.family_name, p.given_name, p.family_name_kana, p.given_name_kana, p.birth_date,
       p.school_grade, p.created_at, p.merged_into_id, h.id AS household_id, h.name AS household_name,
       o.id AS school_id, o.name AS school_name, o.kind AS school_kind
FROM kizuna.person p
JOIN kizuna.household h ON h.municipality_code = p.municipality_code AND h.id = p.household_id
LEFT JOIN kizuna.organisation o ON o.id = p.school_organisation_id
WHERE p.municipality_code = $1"""
# A prefix of either key is a range of its index ($2 <= key < $3): the byte order of the
# "C" collation makes the range exactly the keys that begin with the prefix.
_SEARCH = " AND ((p.name_key >= $2 AND p.name_key < $3) OR (p.kana_key >= $2 AND p.kana_key < $3))"
# A person merged into another (schema/person_merges) is listed, searched and offered as a
# duplicate no more; `node(id:)` still reads them.
_NOT_MERGED = " AND p.merged_into_id IS NULL"


@lru_cache(maxsize=16)
def page_sql(limit: int, search: bool, after: bool) -> str:
    """The page statement; `limit` is a validated int written as a literal (cases/service)."""
    conditions = _NOT_MERGED + (_SEARCH if search else "")
    if after:
        n = 4 if search else 2
        conditions += f" AND (p.created_at, p.id) < (${n}, ${n + 1})"
    return f"{_PERSON_COLUMNS}{conditions}\nORDER BY p.created_at DESC, p.id DESC\nLIMIT {int(limit)}"


@lru_cache(maxsize=2)
def count_sql(search: bool) -> str:
    return (
        f"SELECT count(*) FROM kizuna.person p WHERE p.municipality_code = $1{_NOT_MERGED}{_SEARCH if search else ''}"
    )


PERSON_BY_ID = f"{_PERSON_COLUMNS} AND p.id = $2"
HOUSEHOLD_BY_ID = "SELECT id, name FROM kizuna.household WHERE municipality_code = $1 AND id = $2"
DUPLICATES = f"""{_PERSON_COLUMNS}{_NOT_MERGED} AND p.birth_date = $2 AND (p.name_key = $3 OR p.kana_key = $4)
ORDER BY p.created_at DESC, p.id DESC LIMIT {MAX_DUPLICATES}"""
# Both directions of every relationship of the given people, with both people's names.
CARE_OF = """
SELECT r.id, r.carer_person_id, r.cared_for_person_id, r.relationship, r.conditions, r.tasks, r.hours_per_week,
       c.family_name AS carer_family_name, c.given_name AS carer_given_name,
       f.family_name AS cared_for_family_name, f.given_name AS cared_for_given_name
FROM kizuna.care_relationship r
JOIN kizuna.person c ON c.municipality_code = r.municipality_code AND c.id = r.carer_person_id
JOIN kizuna.person f ON f.municipality_code = r.municipality_code AND f.id = r.cared_for_person_id
WHERE r.municipality_code = $1"""
# In the order they were recorded (UUIDv7): without an order the planner's, which another
# plan (fresh statistics, another connection) changes between two reads of the same person.
CARE_OF_PEOPLE = (
    f"{CARE_OF} AND (r.carer_person_id = ANY($2::uuid[]) OR r.cared_for_person_id = ANY($2::uuid[]))\nORDER BY r.id"
)
CARE_BY_ID = f"{CARE_OF} AND r.id = $2"


def search_range(search: str) -> tuple[str, str] | None:
    """The key range of the names that begin with `search` (None: nothing to search for)."""
    prefix = name_key(search)
    if not prefix:
        return None
    following = ord(prefix[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are no characters: skip them
        following = 0xE000
    return prefix, prefix[:-1] + chr(following)


async def person_page(
    tx: TenantTransaction, search: tuple[str, str] | None, *, first: int, after: Keyset | None
) -> list[asyncpg.Record]:
    """Up to `first + 1` people, newest first (the extra one tells whether a next page exists)."""
    args: list[object] = list(search or ())
    if after is not None:
        args += [after.at, after.id]
    return await tx.fetch(page_sql(first + 1, search is not None, after is not None), *args)


async def person_count(tx: TenantTransaction, search: tuple[str, str] | None) -> int:
    count: int = await tx.fetchval(count_sql(search is not None), *(search or ()))
    return count


async def household_by_id(tx: TenantTransaction, household_id: uuid.UUID) -> asyncpg.Record | None:
    return await tx.fetchrow(HOUSEHOLD_BY_ID, household_id)


async def person_by_id(tx: TenantTransaction, person_id: uuid.UUID) -> asyncpg.Record | None:
    return await tx.fetchrow(PERSON_BY_ID, person_id)


PEOPLE_BY_IDS = f"{_PERSON_COLUMNS} AND p.id = ANY($2::uuid[])"


async def people_by_ids(tx: TenantTransaction, person_ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    """The rows of `person_ids` of the tenant, in one statement (any order)."""
    return await tx.fetch(PEOPLE_BY_IDS, list(person_ids))


async def care_of(tx: TenantTransaction, person_ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    """Every care relationship of `person_ids`, either side, in one statement."""
    return await tx.fetch(CARE_OF_PEOPLE, list(person_ids))


async def care_by_id(tx: TenantTransaction, relationship_id: uuid.UUID) -> asyncpg.Record | None:
    return await tx.fetchrow(CARE_BY_ID, relationship_id)


# --- writes -------------------------------------------------------------------------------

SCHOOL_KIND = "SELECT kind FROM kizuna.organisation WHERE id = $1"
PERSON_WITH_KEY = """
SELECT id, name_key, kana_key, birth_date FROM kizuna.person WHERE municipality_code = $1 AND idempotency_key = $2
"""
INSERT_HOUSEHOLD = "INSERT INTO kizuna.household (municipality_code, id, name, created_at) VALUES ($1, $2, $3, now())"
# A concurrent retry with the same key waits for the first, then inserts nothing.
INSERT_PERSON = """
INSERT INTO kizuna.person
    (municipality_code, id, household_id, family_name, given_name, family_name_kana, given_name_kana,
     birth_date, school_organisation_id, school_grade, created_at, name_key, kana_key, idempotency_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now(), $11, $12, $13)
ON CONFLICT (municipality_code, idempotency_key) DO NOTHING
RETURNING id
"""
# Shared lock: a merge of the person (schema/person_merges) waits, or is waited for and then seen.
PERSON_TO_NAME = "SELECT merged_into_id FROM kizuna.person WHERE municipality_code = $1 AND id = $2 FOR SHARE"
CARE_WITH_KEY = """
SELECT id, carer_person_id, cared_for_person_id FROM kizuna.care_relationship
WHERE municipality_code = $1 AND idempotency_key = $2
"""
CARE_OF_PAIR = """
SELECT id FROM kizuna.care_relationship
WHERE municipality_code = $1 AND carer_person_id = $2 AND cared_for_person_id = $3
"""
INSERT_CARE = """
INSERT INTO kizuna.care_relationship
    (municipality_code, id, carer_person_id, cared_for_person_id, relationship, conditions, tasks,
     hours_per_week, idempotency_key)
VALUES ($1, $2, $3, $4, $5, $6::kizuna.cared_for_condition[], $7::kizuna.care_task[], $8, $9)
ON CONFLICT DO NOTHING
RETURNING id
"""
DELETE_CARE = "DELETE FROM kizuna.care_relationship WHERE municipality_code = $1 AND id = $2"


@dataclass(frozen=True, slots=True)
class NewPerson:
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: dt.date
    household_id: uuid.UUID | None = None
    household_name: str | None = None
    school_id: uuid.UUID | None = None
    school_grade: int | None = None
    confirmed_not_duplicate: bool = False
    idempotency_key: str | None = None

    @property
    def name_key(self) -> str:
        return name_key(self.family_name, self.given_name)

    @property
    def kana_key(self) -> str:
        return name_key(self.family_name_kana, self.given_name_kana)


@dataclass(frozen=True, slots=True)
class Created:
    """What `do_create_person` did: the person's id, or the possible duplicates it found
    instead (and created nothing)."""

    person_id: uuid.UUID | None
    duplicates: list[asyncpg.Record]


@dataclass(frozen=True, slots=True)
class NewCareRelationship:
    carer_id: uuid.UUID
    cared_for_id: uuid.UUID
    relationship: str
    hours_per_week: Decimal
    conditions: Sequence[CaredForCondition] = ()
    tasks: Sequence[CareTask] = ()
    idempotency_key: str | None = None


def _may(scope: Scope, operation: Operation) -> None:
    if not may(scope.role, operation):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.MAY_NOT_RECORD_PEOPLE)


def _name(value: str, field: str) -> None:
    check_text(value, field=field, message=Message.PERSON_NAME_LENGTH, most=MAX_NAME_LENGTH)


def check_new_person(new: NewPerson, *, today: dt.date) -> None:
    """The rules that need no database, each naming its input field."""
    for value, field in (
        (new.family_name, "familyName"),
        (new.given_name, "givenName"),
        (new.family_name_kana, "familyNameKana"),
        (new.given_name_kana, "givenNameKana"),
    ):
        _name(value, field)
    for value, field in ((new.family_name_kana, "familyNameKana"), (new.given_name_kana, "givenNameKana")):
        if not _KANA.fullmatch(name_key(value)):
            raise Refused(UserErrorCode.BAD_USER_INPUT, field, Message.READING_IN_KANA)
    if not EARLIEST_BIRTH_DATE <= new.birth_date <= today:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "birthDate", Message.BIRTH_DATE_RANGE)
    if (new.household_id is None) == (new.household_name is None):
        raise Refused(UserErrorCode.BAD_USER_INPUT, None, Message.ONE_HOUSEHOLD)
    if new.household_name is not None:
        _name(new.household_name, "householdName")
    if new.school_grade is not None and new.school_id is None:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "schoolGrade", Message.GRADE_NEEDS_SCHOOL)
    if new.school_grade is not None and not 1 <= new.school_grade <= 12:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "schoolGrade", Message.SCHOOL_GRADE_RANGE)
    check_idempotency_key(new.idempotency_key)


async def access_household(scope: Scope, household_id: uuid.UUID, *, field: str) -> uuid.UUID:
    """A household of the scope's tenant; another tenant's and an unknown one alike are
    NOT_FOUND on `field`."""
    if await scope.tx.fetchval(HOUSEHOLD_BY_ID, household_id) is None:
        raise Refused(UserErrorCode.NOT_FOUND, field, Message.NO_SUCH_HOUSEHOLD)
    return household_id


async def access_person(scope: Scope, person_id: uuid.UUID, *, field: str) -> uuid.UUID:
    """A person of the scope's tenant that a new record may name; another tenant's and an
    unknown one alike are NOT_FOUND on `field`, one merged into another is a CONFLICT."""
    row = await scope.tx.fetchrow(PERSON_TO_NAME, person_id)
    if row is None:
        raise Refused(UserErrorCode.NOT_FOUND, field, Message.NO_SUCH_PERSON)
    if row["merged_into_id"] is not None:
        raise Refused(UserErrorCode.CONFLICT, field, Message.PERSON_ALREADY_MERGED)
    return person_id


async def access_care_relationship(scope: Scope, relationship_id: uuid.UUID, *, field: str) -> asyncpg.Record:
    """A care relationship of the scope's tenant (NOT_FOUND for another tenant's and an unknown one)."""
    row = await care_by_id(scope.tx, relationship_id)
    if row is None:
        raise Refused(UserErrorCode.NOT_FOUND, field, Message.NO_SUCH_CARE_RELATIONSHIP)
    return row


async def _school(scope: Scope, school_id: uuid.UUID) -> None:
    """The school must be a school of the directory (global: any municipality's)."""
    rows = await scope.tx.fetch_global(SCHOOL_KIND, school_id)
    if not rows:
        raise Refused(UserErrorCode.NOT_FOUND, "schoolId", Message.NO_SUCH_ORGANISATION)
    if OrganisationKind(rows[0]["kind"]) not in SCHOOLS:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "schoolId", Message.NOT_A_SCHOOL)


async def _retried_person(scope: Scope, new: NewPerson) -> uuid.UUID | None:
    """The person an earlier request created with `new`'s idempotency key: the same person
    (names and birth date) is returned, another one is a CONFLICT."""
    if new.idempotency_key is None:
        return None
    earlier = await scope.tx.fetchrow(PERSON_WITH_KEY, new.idempotency_key)
    if earlier is None:
        return None
    if (earlier["name_key"], earlier["kana_key"], earlier["birth_date"]) != (
        new.name_key,
        new.kana_key,
        new.birth_date,
    ):
        raise Refused(UserErrorCode.CONFLICT, IDEMPOTENCY_KEY_FIELD, Message.PERSON_KEY_REUSED)
    found: uuid.UUID = earlier["id"]
    return found


async def do_create_person(scope: Scope, new: NewPerson) -> Created:
    """Create a person in an existing household or a new one, unless the tenant holds a
    person with the same name key or reading key and birth date: then return those
    candidates and write nothing, unless `new.confirmed_not_duplicate`. Audited (the
    person, and a new household). With an idempotency key, a retry gets the first
    person back, unchanged and not audited again."""
    _may(scope, Operation.CREATE_PERSON)
    check_new_person(new, today=workflow.today())
    retried = await _retried_person(scope, new)
    if retried is not None:
        return Created(retried, [])
    if new.household_id is not None:
        await access_household(scope, new.household_id, field="householdId")
    if new.school_id is not None:
        await _school(scope, new.school_id)
    if not new.confirmed_not_duplicate:
        duplicates = await scope.tx.fetch(DUPLICATES, new.birth_date, new.name_key, new.kana_key)
        if duplicates:
            return Created(None, duplicates)

    events: list[audit.Event] = []
    household_id = new.household_id
    if household_id is None:
        household_id = uuid7()
        await scope.tx.execute(INSERT_HOUSEHOLD, household_id, new.household_name)
        events.append(audit.Event(CREATE_HOUSEHOLD_ACTION, "household", household_id, ("name",)))
    person_id = await scope.tx.fetchval(
        INSERT_PERSON,
        uuid7(),
        household_id,
        new.family_name,
        new.given_name,
        new.family_name_kana,
        new.given_name_kana,
        new.birth_date,
        new.school_id,
        new.school_grade,
        new.name_key,
        new.kana_key,
        new.idempotency_key,
    )
    if person_id is None:  # a concurrent request with the same key committed first
        scope.roll_back()  # the household written above must not stay
        raise Refused(UserErrorCode.CONFLICT, IDEMPOTENCY_KEY_FIELD, Message.PERSON_CHANGED_MEANWHILE)
    fields = ("household_id", "family_name", "given_name", "family_name_kana", "given_name_kana", "birth_date")
    school = ("school_organisation_id", "school_grade") if new.school_id is not None else ()
    events.append(audit.Event(CREATE_PERSON_ACTION, "person", person_id, fields + school))
    await audit.record_many(scope, events)  # one statement for the person and a new household
    created: uuid.UUID = person_id
    return Created(created, [])


def check_new_care(new: NewCareRelationship) -> None:
    if new.carer_id == new.cared_for_id:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "caredForId", Message.CARE_FOR_ONESELF)
    check_text(
        new.relationship, field="relationship", message=Message.RELATIONSHIP_LENGTH, most=MAX_RELATIONSHIP_LENGTH
    )
    hours = new.hours_per_week
    if not hours.is_finite() or not 0 <= hours <= MAX_HOURS_PER_WEEK or hours != hours.quantize(Decimal("0.1")):
        raise Refused(UserErrorCode.BAD_USER_INPUT, "hoursPerWeek", Message.HOURS_PER_WEEK, max=MAX_HOURS_PER_WEEK)
    check_idempotency_key(new.idempotency_key)


def _in_order(
    values: Sequence[CaredForCondition | CareTask], vocabulary: Sequence[CaredForCondition | CareTask]
) -> list[str]:
    """Each value once, in the vocabulary's order."""
    return [member.value for member in vocabulary if member in values]


async def do_add_care_relationship(scope: Scope, new: NewCareRelationship) -> uuid.UUID:
    """Record that `new.carer_id` cares for `new.cared_for_id` (both of the tenant), with the
    cared-for person's conditions, the tasks and the hours a week; audited. One record per
    pair (CONFLICT for a second); a retry with the idempotency key gets the first back."""
    _may(scope, Operation.ADD_CARE_RELATIONSHIP)
    check_new_care(new)
    if new.idempotency_key is not None:
        earlier = await scope.tx.fetchrow(CARE_WITH_KEY, new.idempotency_key)
        if earlier is not None:
            if (earlier["carer_person_id"], earlier["cared_for_person_id"]) != (new.carer_id, new.cared_for_id):
                raise Refused(UserErrorCode.CONFLICT, IDEMPOTENCY_KEY_FIELD, Message.CARE_KEY_REUSED)
            found: uuid.UUID = earlier["id"]
            return found
    await access_person(scope, new.carer_id, field="carerId")
    await access_person(scope, new.cared_for_id, field="caredForId")
    if await scope.tx.fetchval(CARE_OF_PAIR, new.carer_id, new.cared_for_id) is not None:
        raise Refused(UserErrorCode.CONFLICT, "caredForId", Message.CARE_ALREADY_RECORDED)
    relationship_id = await scope.tx.fetchval(
        INSERT_CARE,
        uuid7(),
        new.carer_id,
        new.cared_for_id,
        new.relationship,
        _in_order(new.conditions, list(CaredForCondition)),
        _in_order(new.tasks, list(CareTask)),
        new.hours_per_week,
        new.idempotency_key,
    )
    if relationship_id is None:  # a concurrent request recorded the pair or used the key
        raise Refused(UserErrorCode.CONFLICT, "caredForId", Message.CARE_ALREADY_RECORDED)
    fields = ("carer_person_id", "cared_for_person_id", "relationship", "conditions", "tasks", "hours_per_week")
    await audit.record(
        scope, action=ADD_CARE_ACTION, entity="care_relationship", entity_id=relationship_id, fields=fields
    )
    added: uuid.UUID = relationship_id
    return added


async def do_remove_care_relationship(scope: Scope, relationship_id: uuid.UUID) -> asyncpg.Record:
    """Remove a care relationship of the tenant; audited. Returns it as it was."""
    _may(scope, Operation.REMOVE_CARE_RELATIONSHIP)
    row = await access_care_relationship(scope, relationship_id, field="id")
    if await scope.tx.execute(DELETE_CARE, relationship_id) != "DELETE 1":  # removed meanwhile
        raise Refused(UserErrorCode.NOT_FOUND, "id", Message.NO_SUCH_CARE_RELATIONSHIP)
    await audit.record(scope, action=REMOVE_CARE_ACTION, entity="care_relationship", entity_id=relationship_id)
    return row
