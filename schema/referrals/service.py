"""Referrals (気づき・相談): reading them, sending one, and the municipality's decisions.

Reads select only the columns a referrer may read (the database's column grants refuse
the rest to schools and agencies), and row security limits them to their own
organisation's referrals.

Who may do what (the database holds the same rules: migration 0013's grants and per-role
policies):

- school staff and school social workers send referrals from schools, welfare workers
  from welfare agencies and medical institutions, municipal staff from any source (a
  consultation by phone, LINE, a family);
- caseworkers, coordinators and supervisors decide a submitted referral: accept it into
  an existing case or a new one, decline it with a reason, or merge it into a referral
  already accepted about the same person;
- its sender may revoke it while it is submitted; a supervisor may withdraw it, with a
  reason;
- nothing changes a referral once it is decided.

Every change is written in the request's transaction together with its audit event; a
refused request (`Refused`) has written nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import asyncpg

from kizuna.platform import audit
from kizuna.platform.database import TenantTransaction
from kizuna.platform.i18n import Message
from kizuna.platform.ids import uuid7
from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import (
    AppRole,
    CarerCategory,
    CareTask,
    ReferralSource,
    ReferralStatus,
    RiskLevel,
    Urgency,
)
from kizuna.schema.cases import service as cases
from kizuna.schema.errors import Refused, UserErrorCode
from kizuna.schema.permissions import Operation, may
from kizuna.schema.relay import Keyset
from kizuna.schema.writes import check_idempotency_key, check_text

MUNICIPAL_STAFF = frozenset({AppRole.CASEWORKER, AppRole.COORDINATOR, AppRole.SUPERVISOR})
# The sources each role may send from.
SOURCES: dict[AppRole, frozenset[ReferralSource]] = {
    AppRole.SCHOOL_STAFF: frozenset({ReferralSource.SCHOOL}),
    AppRole.SCHOOL_SOCIAL_WORKER: frozenset({ReferralSource.SCHOOL}),
    AppRole.WELFARE_WORKER: frozenset({ReferralSource.WELFARE_AGENCY, ReferralSource.MEDICAL}),
    **dict.fromkeys(MUNICIPAL_STAFF, frozenset(ReferralSource)),
}
MAX_NOTICED_LENGTH = 2000
MAX_NAME_LENGTH = 100
MAX_REASON_LENGTH = 1000
# A new case's first risk level, from the referral's urgency (the caseworker revises it).
RISK_OF_URGENCY = {Urgency.ROUTINE: RiskLevel.LOW, Urgency.SOON: RiskLevel.MEDIUM, Urgency.URGENT: RiskLevel.HIGH}

SEND_ACTION = "referral.send"
ACCEPT_ACTION = "referral.accept"
DECLINE_ACTION = "referral.decline"
MERGE_ACTION = "referral.merge"
REVOKE_ACTION = "referral.revoke"
WITHDRAW_ACTION = "referral.withdraw"

_SELECTED = """r.id, r.source, r.status, r.urgency, r.noticed, r.child_display_name,
       r.received_at, r.decided_at, r.care_tasks, r.family_aware, r.decision_reason,
       o.id AS org_id, o.name AS org_name, o.kind AS org_kind"""
_JOINED = """FROM kizuna.referral r
LEFT JOIN kizuna.organisation o ON o.id = r.referrer_organisation_id
WHERE r.municipality_code = $1"""
_COLUMNS = f"\nSELECT {_SELECTED}\n{_JOINED}"


_BY_STATUS = " AND r.status = $2::kizuna.referral_status"
COUNT_SQL = "SELECT count(*) FROM kizuna.referral r WHERE r.municipality_code = $1"


def count_sql(*, by_status: bool) -> str:
    """The count of a tenant's referrals, of one status if `by_status` (its `$2`)."""
    return COUNT_SQL + (_BY_STATUS if by_status else "")


@lru_cache(maxsize=16)
def page_sql(limit: int, *, by_status: bool, after: bool, with_count: bool = False) -> str:
    """The page statement; `limit` is a validated int written as a literal (see cases).
    `with_count`: every row also holds `total_count`, the count of the status (the cases'
    page does the same: one round trip for a page and its count)."""
    n = 3 if by_status else 2
    conditions = (_BY_STATUS if by_status else "") + (f" AND (r.received_at, r.id) < (${n}, ${n + 1})" if after else "")
    selected = f"({count_sql(by_status=by_status)}) AS total_count, {_SELECTED}" if with_count else _SELECTED
    return f"SELECT {selected}\n{_JOINED}{conditions}\nORDER BY r.received_at DESC, r.id DESC\nLIMIT {int(limit)}"


REFERRAL_BY_ID = f"{_COLUMNS} AND r.id = $2"


async def referral_page(
    tx: TenantTransaction,
    *,
    first: int,
    after: Keyset | None,
    status: ReferralStatus | None = None,
    with_count: bool = False,
) -> list[asyncpg.Record]:
    """Up to `first + 1` rows, newest first (the extra one tells whether a next page
    exists); each with the count's `total_count` too if `with_count` (an empty page has
    none to hold it)."""
    args: list[object] = [] if status is None else [status.value]
    if after is not None:
        args += [after.at, after.id]
    sql = page_sql(first + 1, by_status=status is not None, after=after is not None, with_count=with_count)
    return await tx.fetch(sql, *args)


async def referral_count(tx: TenantTransaction, status: ReferralStatus | None = None) -> int:
    args: list[object] = [] if status is None else [status.value]
    count: int = await tx.fetchval(count_sql(by_status=status is not None), *args)
    return count


async def referral_by_id(tx: TenantTransaction, referral_id: uuid.UUID) -> asyncpg.Record | None:
    return await tx.fetchrow(REFERRAL_BY_ID, referral_id)


# --- writes -------------------------------------------------------------------------------

# What a decision needs; read by municipal staff only (a sender may not read these columns).
DECISION_STATE = """
SELECT id, status, case_id, person_id, urgency, referrer_subject FROM kizuna.referral
WHERE municipality_code = $1 AND id = $2
"""
# The same, locking the referral: a decision checks and writes it in turn with any other,
# so nothing it writes first (a new case) can outlive a refusal it would meet later.
DECISION_STATE_LOCKED = DECISION_STATE.rstrip() + " FOR UPDATE\n"
# What a sender's revocation needs: the columns a sender may read.
SENDER_STATE = """
SELECT id, status, referrer_subject FROM kizuna.referral WHERE municipality_code = $1 AND id = $2
"""
# A retried send finds its first (DO NOTHING: a concurrent retry waits for the first to
# commit, then inserts nothing); RETURNING only the id, which a sender may read.
INSERT_REFERRAL = """
INSERT INTO kizuna.referral
    (municipality_code, id, source, referrer_organisation_id, referrer_subject, child_display_name,
     noticed, urgency, status, received_at, care_tasks, family_aware, idempotency_key)
VALUES ($1, $2, $3::kizuna.referral_source, $4, $5, $6, $7, $8::kizuna.urgency, 'submitted', now(),
        $9::kizuna.care_task[], $10, $11)
ON CONFLICT (municipality_code, referrer_subject, idempotency_key) DO NOTHING
RETURNING id
"""
SENT_WITH_KEY = """
SELECT id, source, child_display_name, noticed, urgency FROM kizuna.referral
WHERE municipality_code = $1 AND referrer_subject = $2 AND idempotency_key = $3
"""
# Each decision changes a submitted referral only: a concurrent one finds it decided.
ACCEPT = """
UPDATE kizuna.referral SET status = 'accepted', case_id = $3, person_id = $4, decided_at = now(), decided_by = $5
WHERE municipality_code = $1 AND id = $2 AND status = 'submitted'
"""
DECLINE = """
UPDATE kizuna.referral SET status = 'declined', decision_reason = $3, decided_at = now(), decided_by = $4
WHERE municipality_code = $1 AND id = $2 AND status = 'submitted'
"""
MERGE = """
UPDATE kizuna.referral SET status = 'merged', case_id = $3, person_id = $4, decided_at = now(), decided_by = $5
WHERE municipality_code = $1 AND id = $2 AND status = 'submitted'
"""
REVOKE = """
UPDATE kizuna.referral SET status = 'revoked', decided_at = now()
WHERE municipality_code = $1 AND id = $2 AND status = 'submitted'
"""
WITHDRAW = """
UPDATE kizuna.referral SET status = 'revoked', decision_reason = $3, decided_at = now(), decided_by = $4
WHERE municipality_code = $1 AND id = $2 AND status = 'submitted'
"""


@dataclass(frozen=True, slots=True)
class NewReferral:
    source: ReferralSource
    child_display_name: str
    noticed: str
    urgency: Urgency
    care_tasks: Sequence[CareTask] = ()
    family_aware: bool | None = None
    idempotency_key: str | None = None


async def access_referral(scope: Scope, referral_id: uuid.UUID, *, field: str = "id") -> asyncpg.Record:
    """The referral `referral_id` as its reader may see it (a school: its organisation's
    only); another tenant's id, another school's and an unknown one are refused alike
    (NOT_FOUND on `field`)."""
    row = await scope.tx.fetchrow(REFERRAL_BY_ID, referral_id)
    if row is None:
        raise Refused(UserErrorCode.NOT_FOUND, field, Message.NO_SUCH_REFERRAL)
    return row


def check_new_referral(new: NewReferral, *, role: AppRole) -> None:
    """The rules that need no database: who may send, then what the input says."""
    if not may(role, Operation.CREATE_REFERRAL):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.MAY_NOT_SEND_REFERRALS)
    if new.source not in SOURCES[role]:
        raise Refused(UserErrorCode.FORBIDDEN, "source", Message.SOURCE_NOT_YOURS)
    check_text(
        new.child_display_name, field="childDisplayName", message=Message.CHILD_NAME_LENGTH, most=MAX_NAME_LENGTH
    )
    check_text(new.noticed, field="noticed", message=Message.NOTICED_LENGTH, most=MAX_NOTICED_LENGTH)
    check_idempotency_key(new.idempotency_key)


async def do_send_referral(scope: Scope, new: NewReferral) -> uuid.UUID:
    """Send a referral from the caller's organisation and audit it; returns its id. With
    an idempotency key, a retry gets the first referral's id back, unchanged and not
    audited again; a key the sender used for another referral is a CONFLICT."""
    caller = scope.caller
    check_new_referral(new, role=caller.role)
    sender = str(caller.user_id)
    tasks = sorted({t.value for t in new.care_tasks}, key=[t.value for t in CareTask].index)
    referral_id = await scope.tx.fetchval(
        INSERT_REFERRAL,
        uuid7(),
        new.source.value,
        caller.organisation_id,
        sender,
        new.child_display_name,
        new.noticed,
        new.urgency.value,
        tasks,
        new.family_aware,
        new.idempotency_key,
    )
    if referral_id is None:  # the key was used: by this request's first try, or for another referral
        earlier = await scope.tx.fetchrow(SENT_WITH_KEY, sender, new.idempotency_key)
        if earlier is None:  # unreachable: the conflicting row is committed and the sender's own
            raise LookupError(new.idempotency_key)
        same = (earlier["source"], earlier["child_display_name"], earlier["noticed"], earlier["urgency"]) == (
            new.source.value,
            new.child_display_name,
            new.noticed,
            new.urgency.value,
        )
        if not same:
            raise Refused(UserErrorCode.CONFLICT, "idempotencyKey", Message.REFERRAL_KEY_REUSED)
        found: uuid.UUID = earlier["id"]
        return found
    fields = ("source", "referrer_organisation_id", "child_display_name", "noticed", "urgency", "care_tasks")
    await audit.record(scope, action=SEND_ACTION, entity="referral", entity_id=referral_id, fields=fields)
    sent: uuid.UUID = referral_id
    return sent


async def _submitted_for_decision(scope: Scope, referral_id: uuid.UUID, operation: Operation) -> asyncpg.Record:
    """A submitted referral for municipal staff to decide (NOT_FOUND, FORBIDDEN, CONFLICT)."""
    if not may(scope.role, operation):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.MAY_NOT_DECIDE_REFERRALS)
    row = await scope.tx.fetchrow(DECISION_STATE, referral_id)
    if row is None:
        raise Refused(UserErrorCode.NOT_FOUND, "id", Message.NO_SUCH_REFERRAL)
    if row["status"] != "submitted":
        raise Refused(UserErrorCode.CONFLICT, "id", Message.REFERRAL_ALREADY_DECIDED)
    # Locked, it is read again: a decision that committed meanwhile leaves it decided,
    # which the staff's update policy no longer shows (None).
    locked = await scope.tx.fetchrow(DECISION_STATE_LOCKED, referral_id)
    if locked is None or locked["status"] != "submitted":
        raise Refused(UserErrorCode.CONFLICT, "id", Message.REFERRAL_CHANGED_MEANWHILE)
    return locked


def _decided(status: str) -> None:
    """A decision's UPDATE found the referral no longer submitted (decided meanwhile)."""
    if status != "UPDATE 1":
        raise Refused(UserErrorCode.CONFLICT, "id", Message.REFERRAL_CHANGED_MEANWHILE)


async def do_accept_referral(
    scope: Scope,
    referral_id: uuid.UUID,
    *,
    case_id: uuid.UUID | None,
    person_id: uuid.UUID | None,
    category: CarerCategory | None,
) -> uuid.UUID:
    """Accept a submitted referral into the existing case `case_id`, or into a new case
    about `person_id` of `category` (opened at intake); audit both. Returns the case id."""
    referral = await _submitted_for_decision(scope, referral_id, Operation.ACCEPT_REFERRAL)
    if case_id is not None and person_id is None:
        case = await cases.access_case(scope, case_id, field="caseId")
        if case["stage"] == "closed":
            raise Refused(UserErrorCode.CONFLICT, "caseId", Message.CASE_CLOSED)
        person = case["person_id"]
    elif person_id is not None and case_id is None:
        if category is None:
            raise Refused(UserErrorCode.BAD_USER_INPUT, "category", Message.CATEGORY_NEEDED)
        found = await cases.access_person(scope, person_id, field="personId")
        risk = RISK_OF_URGENCY[Urgency(referral["urgency"])]
        case_id = await cases.do_open_case(scope, found, category, risk=risk, reason="気づき・相談を受理")
        person = found["id"]
    else:
        raise Refused(UserErrorCode.BAD_USER_INPUT, None, Message.ACCEPT_INTO_ONE)
    _decided(await scope.tx.execute(ACCEPT, referral_id, case_id, person, scope.caller.user_id))
    fields = ("status", "case_id", "person_id", "decided_at", "decided_by")
    await audit.record(scope, action=ACCEPT_ACTION, entity="referral", entity_id=referral_id, fields=fields)
    return case_id


def _reason(reason: str) -> str:
    check_text(reason, field="reason", message=Message.REASON_LENGTH, most=MAX_REASON_LENGTH)
    return reason


async def do_decline_referral(scope: Scope, referral_id: uuid.UUID, reason: str) -> None:
    """Decline a submitted referral, saying why (its sender reads the reason); audited."""
    await _submitted_for_decision(scope, referral_id, Operation.DECLINE_REFERRAL)
    _decided(await scope.tx.execute(DECLINE, referral_id, _reason(reason), scope.caller.user_id))
    fields = ("status", "decision_reason", "decided_at", "decided_by")
    await audit.record(scope, action=DECLINE_ACTION, entity="referral", entity_id=referral_id, fields=fields)


async def do_merge_referral(scope: Scope, referral_id: uuid.UUID, into_id: uuid.UUID) -> uuid.UUID:
    """Merge a submitted referral into `into_id`, a referral already accepted (or merged)
    into a case about the same child: it joins that case. Audited; returns the case id."""
    await _submitted_for_decision(scope, referral_id, Operation.MERGE_REFERRAL)
    if into_id == referral_id:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "intoId", Message.MERGE_INTO_ITSELF)
    into = await scope.tx.fetchrow(DECISION_STATE, into_id)
    if into is None:
        raise Refused(UserErrorCode.NOT_FOUND, "intoId", Message.NO_SUCH_REFERRAL)
    if into["case_id"] is None:
        raise Refused(UserErrorCode.CONFLICT, "intoId", Message.MERGE_INTO_UNDECIDED)
    case_id: uuid.UUID = into["case_id"]
    _decided(await scope.tx.execute(MERGE, referral_id, case_id, into["person_id"], scope.caller.user_id))
    fields = ("status", "case_id", "person_id", "decided_at", "decided_by")
    await audit.record(scope, action=MERGE_ACTION, entity="referral", entity_id=referral_id, fields=fields)
    return case_id


async def do_revoke_referral(scope: Scope, referral_id: uuid.UUID) -> None:
    """Its sender (a school or an agency) takes a submitted referral back; audited. A
    referral the caller may see but did not send (a colleague's) is FORBIDDEN; one it may
    not see is NOT_FOUND. Municipal staff decline or withdraw instead."""
    if not may(scope.role, Operation.REVOKE_REFERRAL):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.ONLY_SENDER_REVOKES)
    row = await scope.tx.fetchrow(SENDER_STATE, referral_id)
    if row is None:
        raise Refused(UserErrorCode.NOT_FOUND, "id", Message.NO_SUCH_REFERRAL)
    if row["referrer_subject"] != str(scope.caller.user_id):
        raise Refused(UserErrorCode.FORBIDDEN, "id", Message.ONLY_SENDER_REVOKES)
    if row["status"] != "submitted":
        raise Refused(UserErrorCode.CONFLICT, "id", Message.REFERRAL_ALREADY_DECIDED)
    _decided(await scope.tx.execute(REVOKE, referral_id))
    await audit.record(
        scope, action=REVOKE_ACTION, entity="referral", entity_id=referral_id, fields=("status", "decided_at")
    )


async def do_withdraw_referral(scope: Scope, referral_id: uuid.UUID, reason: str) -> None:
    """A supervisor withdraws a submitted referral, saying why; audited."""
    if not may(scope.role, Operation.WITHDRAW_REFERRAL):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.ONLY_SUPERVISOR_WITHDRAWS)
    await _submitted_for_decision(scope, referral_id, Operation.WITHDRAW_REFERRAL)
    _decided(await scope.tx.execute(WITHDRAW, referral_id, _reason(reason), scope.caller.user_id))
    fields = ("status", "decision_reason", "decided_at", "decided_by")
    await audit.record(scope, action=WITHDRAW_ACTION, entity="referral", entity_id=referral_id, fields=fields)
