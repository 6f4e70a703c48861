"""A case's records: assessments of the whole family, meetings with their participants,
and contact logs. Reading them for many cases at once (one statement per kind, the tenant
as `$1`), and writing each, audited, in the request's transaction.

Rules every write keeps (docs/security-model.md):

- municipal staff only (the matrix; the database grants nothing else to anyone else);
- the case is the tenant's (`access_case`), and locked until the transaction ends, so a
  record and a concurrent closure or stage move take turns;
- a closed case takes no new record (CONFLICT): reopening it is a decision of its own;
- a record says what happened: its date is not in the future (Japan's date; a contact's
  time may run a few minutes ahead of the server's clock). A meeting is recorded once it
  was held; the next one is planned as its `next_review_on`;
- records are append-only (no UPDATE or DELETE is granted, 0021): a correction is a new
  record;
- an idempotency key returns the first record to a retry; a key used for another record
  is a CONFLICT.

A monitoring meeting (進行管理会議) on a case in support moves the case to monitoring
with the meeting as the move's reason, through the same rules, lock and event as
`moveCaseStage` (`cases.move_locked_case`). Any other meeting leaves the stage alone: the
conference stage is the decision to hold a case conference (moveCaseStage), and the
conference's record is its minutes, not that decision.
"""

from __future__ import annotations

import datetime as dt
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
from kizuna.platform.vocabulary import CaseStage, ContactKind, MeetingKind
from kizuna.schema.cases import service as cases
from kizuna.schema.cases import workflow
from kizuna.schema.errors import Refused, UserErrorCode
from kizuna.schema.permissions import Operation, may
from kizuna.schema.relay import Keyset, encode_global_id
from kizuna.schema.writes import check_idempotency_key, check_text, inserted, retried

# A client's clock may run a little ahead of the server's.
CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_TEXT_LENGTH = 4000
MAX_NAME_LENGTH = 100
MAX_PARTICIPANTS = 50
MAX_HOURS_PER_WEEK = 168
# A case holds a few dozen assessments and meetings; 100 bounds the answer.
MAX_RECORDS = 100

ASSESS_ACTION = "assessment.record"
MEETING_ACTION = "meeting.record"
CONTACT_ACTION = "contact_log.record"

# --- reads --------------------------------------------------------------------------------

ASSESSMENT_COLUMNS = """id, case_id, assessed_on, care_hours_per_week, school_attendance_effect, study_effect,
       health_effect, sleep_effect, friendship_effect, future_plans_effect, own_wishes, notes, family_situation"""
MEETING_COLUMNS = "id, case_id, kind, held_on, decisions, next_review_on"
CONTACT_COLUMNS = "id, case_id, kind, contacted_at, summary"


def _newest_per_case(columns: str, table: str, order: str, limit: int, *, keyset: str = "") -> str:
    """The newest `limit` rows of each case in `$2` (past `keyset`), newest first: one
    statement for a page of cases (a window over the tenant's rows of those cases; on
    Citus one shard's)."""
    return f"""
SELECT {columns} FROM (
    SELECT {columns}, row_number() OVER (PARTITION BY case_id ORDER BY {order}) AS n
    FROM kizuna.{table}
    WHERE municipality_code = $1 AND case_id = ANY($2::uuid[]){keyset}
) newest
WHERE n <= {int(limit)}
ORDER BY case_id, {order}"""


ASSESSMENTS_OF_CASES = _newest_per_case(ASSESSMENT_COLUMNS, "assessment", "assessed_on DESC, id DESC", MAX_RECORDS)
MEETINGS_OF_CASES = _newest_per_case(MEETING_COLUMNS, "meeting", "held_on DESC, id DESC", MAX_RECORDS)
LATEST_MEETINGS = f"""
SELECT DISTINCT ON (case_id) {MEETING_COLUMNS} FROM kizuna.meeting
WHERE municipality_code = $1 AND case_id = ANY($2::uuid[])
ORDER BY case_id, held_on DESC, id DESC"""
PARTICIPANTS_OF_MEETINGS = """
SELECT p.id, p.meeting_id, p.participant_name, o.id AS org_id, o.name AS org_name, o.kind AS org_kind
FROM kizuna.meeting_participant p
LEFT JOIN kizuna.organisation o ON o.id = p.organisation_id
WHERE p.municipality_code = $1 AND p.meeting_id = ANY($2::uuid[])
ORDER BY p.meeting_id, p.id"""
ASSESSMENT_BY_ID = f"SELECT {ASSESSMENT_COLUMNS} FROM kizuna.assessment WHERE municipality_code = $1 AND id = $2"
MEETING_BY_ID = f"SELECT {MEETING_COLUMNS} FROM kizuna.meeting WHERE municipality_code = $1 AND id = $2"
CONTACT_BY_ID = f"SELECT {CONTACT_COLUMNS} FROM kizuna.contact_log WHERE municipality_code = $1 AND id = $2"


@lru_cache(maxsize=32)
def contact_logs_sql(limit: int, after: bool) -> str:
    """The contact logs of each case in `$2`, newest first, `limit` of each (after `$3, $4`)."""
    keyset = " AND (contacted_at, id) < ($3, $4)" if after else ""
    return _newest_per_case(CONTACT_COLUMNS, "contact_log", "contacted_at DESC, id DESC", limit, keyset=keyset)


async def assessments_of(tx: TenantTransaction, case_ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    return await tx.fetch(ASSESSMENTS_OF_CASES, list(case_ids))


async def meetings_of(tx: TenantTransaction, case_ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    return await tx.fetch(MEETINGS_OF_CASES, list(case_ids))


async def latest_meetings(tx: TenantTransaction, case_ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    return await tx.fetch(LATEST_MEETINGS, list(case_ids))


async def participants_of(tx: TenantTransaction, meeting_ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    return await tx.fetch(PARTICIPANTS_OF_MEETINGS, list(meeting_ids))


async def contact_logs_of(
    tx: TenantTransaction, case_ids: Sequence[uuid.UUID], *, first: int, after: Keyset | None
) -> list[asyncpg.Record]:
    """Up to `first + 1` logs of each case (the extra one tells whether a next page exists)."""
    if after is None:
        return await tx.fetch(contact_logs_sql(first + 1, False), list(case_ids))
    return await tx.fetch(contact_logs_sql(first + 1, True), list(case_ids), after.at, after.id)


async def assessment_by_id(tx: TenantTransaction, key: uuid.UUID) -> asyncpg.Record | None:
    return await tx.fetchrow(ASSESSMENT_BY_ID, key)


async def meeting_by_id(tx: TenantTransaction, key: uuid.UUID) -> asyncpg.Record | None:
    return await tx.fetchrow(MEETING_BY_ID, key)


async def contact_by_id(tx: TenantTransaction, key: uuid.UUID) -> asyncpg.Record | None:
    return await tx.fetchrow(CONTACT_BY_ID, key)


# --- writes -------------------------------------------------------------------------------

# column -> input field, in the order of `NewAssessment.effects`
EFFECTS = {
    "school_attendance_effect": "schoolAttendanceEffect",
    "study_effect": "studyEffect",
    "health_effect": "healthEffect",
    "sleep_effect": "sleepEffect",
    "friendship_effect": "friendshipEffect",
    "future_plans_effect": "futurePlansEffect",
}
SEVERE = 3  # the top of each effect's scale: 0 none, 1 some, 2 considerable, 3 severe


@dataclass(frozen=True, slots=True)
class NewAssessment:
    case_id: uuid.UUID
    assessed_on: dt.date
    care_hours_per_week: Decimal
    # 0 none … 3 severe (SEVERE), in the order of EFFECTS
    effects: tuple[int, int, int, int, int, int]
    own_wishes: str | None = None
    family_situation: str | None = None
    notes: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class NewParticipant:
    name: str
    organisation_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class NewMeeting:
    case_id: uuid.UUID
    kind: MeetingKind
    held_on: dt.date
    decisions: str
    participants: Sequence[NewParticipant]
    next_review_on: dt.date | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class NewContact:
    case_id: uuid.UUID
    kind: ContactKind
    contacted_at: dt.datetime
    summary: str
    idempotency_key: str | None = None


ASSESSMENT_WITH_KEY = (
    "SELECT id, case_id, assessed_on FROM kizuna.assessment WHERE municipality_code = $1 AND idempotency_key = $2"
)
MEETING_WITH_KEY = (
    "SELECT id, case_id, kind, held_on FROM kizuna.meeting WHERE municipality_code = $1 AND idempotency_key = $2"
)
CONTACT_WITH_KEY = (
    "SELECT id, case_id, kind, contacted_at FROM kizuna.contact_log"
    " WHERE municipality_code = $1 AND idempotency_key = $2"
)
# A concurrent request with the same key on another case commits first: nothing inserted.
INSERT_ASSESSMENT = """
INSERT INTO kizuna.assessment
    (municipality_code, id, case_id, assessed_on, assessor, care_hours_per_week, school_attendance_effect,
     study_effect, health_effect, sleep_effect, friendship_effect, future_plans_effect, own_wishes, notes,
     family_situation, idempotency_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (municipality_code, idempotency_key) DO NOTHING
RETURNING id
"""
INSERT_MEETING = """
INSERT INTO kizuna.meeting (municipality_code, id, case_id, kind, held_on, decisions, next_review_on, idempotency_key)
VALUES ($1, $2, $3, $4::kizuna.meeting_kind, $5, $6, $7, $8)
ON CONFLICT (municipality_code, idempotency_key) DO NOTHING
RETURNING id
"""
INSERT_CONTACT = """
INSERT INTO kizuna.contact_log
    (municipality_code, id, case_id, kind, contacted_at, summary, recorded_by, idempotency_key)
VALUES ($1, $2, $3, $4::kizuna.contact_kind, $5, $6, $7, $8)
ON CONFLICT (municipality_code, idempotency_key) DO NOTHING
RETURNING id
"""
ORGANISATIONS = "SELECT id, municipality_code FROM kizuna.organisation WHERE id = ANY($1::uuid[])"


@lru_cache(maxsize=MAX_PARTICIPANTS)
def insert_participants_sql(rows: int) -> str:
    """A multi-row INSERT … VALUES (Citus refuses INSERT … SELECT from arrays under row security)."""
    values = ", ".join(f"($1, ${2 + 4 * r}, ${3 + 4 * r}, ${4 + 4 * r}, ${5 + 4 * r})" for r in range(rows))
    return (
        "INSERT INTO kizuna.meeting_participant (municipality_code, id, meeting_id, organisation_id, participant_name)"
        f" VALUES {values}"
    )


def _may(scope: Scope, operation: Operation) -> None:
    if not may(scope.role, operation):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.MAY_NOT_RECORD_CASE_WORK)


def _optional_text(value: str | None, field: str) -> None:
    if value is not None:
        check_text(value, field=field, message=Message.RECORD_TEXT_LENGTH, most=MAX_TEXT_LENGTH)


def _not_after(value: dt.date, latest: dt.date, field: str) -> None:
    if value > latest:
        raise Refused(UserErrorCode.BAD_USER_INPUT, field, Message.DATE_IN_FUTURE)


async def _open_case(scope: Scope, case_id: uuid.UUID) -> asyncpg.Record:
    """The tenant's case, locked until the transaction ends (NOT_FOUND for another
    tenant's id and an unknown one alike)."""
    return await cases.access_case(scope, case_id, field="caseId", lock=True)


def _refuse_closed(case: asyncpg.Record) -> None:
    if case["stage"] == CaseStage.CLOSED.value:
        raise Refused(UserErrorCode.CONFLICT, "caseId", Message.CASE_CLOSED_FOR_RECORDS)


def check_new_assessment(new: NewAssessment, *, on: dt.date) -> None:
    """The rules that need no database, each naming its input field."""
    _not_after(new.assessed_on, on, "assessedOn")
    hours = new.care_hours_per_week
    if not hours.is_finite() or not 0 <= hours <= MAX_HOURS_PER_WEEK or hours != hours.quantize(Decimal("0.1")):
        raise Refused(UserErrorCode.BAD_USER_INPUT, "careHoursPerWeek", Message.HOURS_PER_WEEK, max=MAX_HOURS_PER_WEEK)
    for field, value in zip(EFFECTS.values(), new.effects, strict=True):
        if not 0 <= value <= SEVERE:
            raise Refused(UserErrorCode.BAD_USER_INPUT, field, Message.EFFECT_SCALE)
    _optional_text(new.own_wishes, "ownWishes")
    _optional_text(new.family_situation, "familySituation")
    _optional_text(new.notes, "notes")
    check_idempotency_key(new.idempotency_key)


async def do_record_assessment(scope: Scope, new: NewAssessment) -> uuid.UUID:
    """Record an assessment of the case's family, by the caller, and audit it; returns its id."""
    _may(scope, Operation.RECORD_ASSESSMENT)
    check_new_assessment(new, on=workflow.today())
    case = await _open_case(scope, new.case_id)
    if new.idempotency_key is not None:
        earlier = await scope.tx.fetchrow(ASSESSMENT_WITH_KEY, new.idempotency_key)
        found = retried(earlier, (new.case_id, new.assessed_on), ("case_id", "assessed_on"))
        if found is not None:
            return found
    _refuse_closed(case)
    assessment_id = inserted(
        await scope.tx.fetchval(
            INSERT_ASSESSMENT,
            uuid7(),
            new.case_id,
            new.assessed_on,
            str(scope.caller.user_id),
            new.care_hours_per_week,
            *new.effects,
            new.own_wishes,
            new.notes,
            new.family_situation,
            new.idempotency_key,
        ),
    )
    given = {"own_wishes": new.own_wishes, "notes": new.notes, "family_situation": new.family_situation}
    fields = (
        *("case_id", "assessed_on", "assessor", "care_hours_per_week"),
        *EFFECTS,
        *(column for column, value in given.items() if value is not None),
    )
    await audit.record(scope, action=ASSESS_ACTION, entity="assessment", entity_id=assessment_id, fields=fields)
    return assessment_id


def check_new_meeting(new: NewMeeting, *, on: dt.date) -> None:
    _not_after(new.held_on, on, "heldOn")
    if new.next_review_on is not None and new.next_review_on < new.held_on:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "nextReviewOn", Message.REVIEW_BEFORE_MEETING)
    check_text(new.decisions, field="decisions", message=Message.RECORD_TEXT_LENGTH, most=MAX_TEXT_LENGTH)
    if not 1 <= len(new.participants) <= MAX_PARTICIPANTS:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "participants", Message.PARTICIPANT_COUNT, max=MAX_PARTICIPANTS)
    for participant in new.participants:
        check_text(participant.name, field="participants", message=Message.RECORD_TEXT_LENGTH, most=MAX_NAME_LENGTH)
    check_idempotency_key(new.idempotency_key)


async def _check_organisations(scope: Scope, participants: Sequence[NewParticipant]) -> None:
    """Each named organisation is in the directory and serves the tenant (as a membership's must)."""
    wanted = {p.organisation_id for p in participants if p.organisation_id is not None}
    if not wanted:
        return
    found = {r["id"]: r["municipality_code"] for r in await scope.tx.fetch_global(ORGANISATIONS, list(wanted))}
    if wanted - found.keys():
        raise Refused(UserErrorCode.NOT_FOUND, "participants", Message.NO_SUCH_ORGANISATION)
    if any(code != scope.municipality_code for code in found.values()):
        raise Refused(UserErrorCode.BAD_USER_INPUT, "participants", Message.ORGANISATION_ELSEWHERE)


def monitoring_reason(meeting_id: uuid.UUID, held_on: dt.date) -> str:
    """The reason a monitoring meeting gives for the move it makes (the case's history shows it)."""
    meeting = encode_global_id("Meeting", meeting_id)
    return f"{MeetingKind.MONITORING.label}（{held_on.isoformat()}）の記録による: {meeting}"


async def do_record_meeting(scope: Scope, new: NewMeeting) -> uuid.UUID:
    """Record a meeting about the case with its participants, and audit it; a monitoring
    meeting on a case in support also moves it to monitoring (module docstring). Returns
    the meeting's id."""
    _may(scope, Operation.RECORD_MEETING)
    check_new_meeting(new, on=workflow.today())
    case = await _open_case(scope, new.case_id)
    if new.idempotency_key is not None:
        earlier = await scope.tx.fetchrow(MEETING_WITH_KEY, new.idempotency_key)
        same = (new.case_id, new.kind.value, new.held_on)
        found = retried(earlier, same, ("case_id", "kind", "held_on"))
        if found is not None:
            return found
    _refuse_closed(case)
    await _check_organisations(scope, new.participants)
    meeting_id = inserted(
        await scope.tx.fetchval(
            INSERT_MEETING,
            uuid7(),
            new.case_id,
            new.kind.value,
            new.held_on,
            new.decisions,
            new.next_review_on,
            new.idempotency_key,
        ),
    )
    # Sorted: participants are read back by id, in the order they were given (two ids of
    # one millisecond are not ordered by uuid7 alone).
    participant_ids = sorted(uuid7() for _ in new.participants)
    await scope.tx.execute(
        insert_participants_sql(len(new.participants)),
        *(
            value
            for key, p in zip(participant_ids, new.participants, strict=True)
            for value in (key, meeting_id, p.organisation_id, p.name)
        ),
    )
    fields = ("case_id", "kind", "held_on", "decisions", "next_review_on")
    await audit.record_many(
        scope,
        [
            audit.Event(MEETING_ACTION, "meeting", meeting_id, fields),
            *(
                audit.Event(
                    MEETING_ACTION, "meeting_participant", key, ("meeting_id", "organisation_id", "participant_name")
                )
                for key in participant_ids
            ),
        ],
    )
    if new.kind is MeetingKind.MONITORING and case["stage"] == CaseStage.SUPPORT.value:
        await cases.move_locked_case(scope, case, CaseStage.MONITORING, monitoring_reason(meeting_id, new.held_on))
    return meeting_id


def check_new_contact(new: NewContact, *, now: dt.datetime) -> None:
    if new.contacted_at.tzinfo is None:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "contactedAt", Message.TIME_ZONE_REQUIRED)
    if new.contacted_at > now + CLOCK_SKEW:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "contactedAt", Message.DATE_IN_FUTURE)
    check_text(new.summary, field="summary", message=Message.RECORD_TEXT_LENGTH, most=MAX_TEXT_LENGTH)
    check_idempotency_key(new.idempotency_key)


async def do_record_contact(scope: Scope, new: NewContact) -> uuid.UUID:
    """Log a contact with the family (interview, home visit, joint visit, phone), by the
    caller, and audit it; returns its id."""
    _may(scope, Operation.RECORD_CONTACT)
    check_new_contact(new, now=dt.datetime.now(dt.UTC))
    case = await _open_case(scope, new.case_id)
    if new.idempotency_key is not None:
        earlier = await scope.tx.fetchrow(CONTACT_WITH_KEY, new.idempotency_key)
        same = (new.case_id, new.kind.value, new.contacted_at)
        found = retried(earlier, same, ("case_id", "kind", "contacted_at"))
        if found is not None:
            return found
    _refuse_closed(case)
    contact_id = inserted(
        await scope.tx.fetchval(
            INSERT_CONTACT,
            uuid7(),
            new.case_id,
            new.kind.value,
            new.contacted_at,
            new.summary,
            str(scope.caller.user_id),
            new.idempotency_key,
        ),
    )
    fields = ("case_id", "kind", "contacted_at", "summary", "recorded_by")
    await audit.record(scope, action=CONTACT_ACTION, entity="contact_log", entity_id=contact_id, fields=fields)
    return contact_id
