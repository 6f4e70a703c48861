"""Cases: reading them (one statement per page, the tenant as `$1` in every query),
opening one, and moving it along the workflow (`schema/cases/workflow.py`)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from functools import lru_cache

import asyncpg

from kizuna.platform import audit
from kizuna.platform.database import TenantTransaction
from kizuna.platform.i18n import Message
from kizuna.platform.ids import uuid7
from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import AppRole, ApprovalSubject, CarerCategory, CaseEventKind, CaseStage, RiskLevel
from kizuna.schema.cases import workflow
from kizuna.schema.errors import Refused, UserErrorCode
from kizuna.schema.permissions import Operation, may
from kizuna.schema.relay import Keyset
from kizuna.schema.tenants.service import access_serving_organisation
from kizuna.schema.writes import check_text

OPEN_ACTION = "case.open"
MOVE_ACTION = "case.move"
ASSIGN_ACTION = "case.assign"
MAX_REASON_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class CaseFilter:
    stage: CaseStage | None = None
    category: CarerCategory | None = None
    assigned_to: str | None = None
    """A user id (as `assignedWorker` and `coordinator` hold it): the cases they work."""


_SELECTED = """c.municipality_code, c.id, c.stage, c.category, c.opened_at, c.closed_at, c.risk_level,
       c.assigned_worker_name, c.coordinator_name,
       p.id AS person_id, p.family_name, p.given_name, p.birth_date,
       o.id AS org_id, o.name AS org_name, o.kind AS org_kind"""
_JOINED = """FROM kizuna.carer_case c
JOIN kizuna.person p ON p.municipality_code = c.municipality_code AND p.id = c.person_id
LEFT JOIN kizuna.organisation o ON o.id = c.lead_organisation_id
WHERE c.municipality_code = $1"""
_COLUMNS = f"\nSELECT {_SELECTED}\n{_JOINED}"


# The category a case holds today (`workflow.category_at`): a young carer's open case is a
# young adult carer's once its person was born on or before the bound date (`adult_born_by`).
_CATEGORY = {
    CarerCategory.YOUNG_CARER: " AND c.category = 'young_carer' AND (c.stage = 'closed' OR p.birth_date > ${n})",
    CarerCategory.YOUNG_ADULT_CARER: (
        " AND (c.category = 'young_adult_carer'"
        " OR (c.category = 'young_carer' AND c.stage <> 'closed' AND p.birth_date <= ${n}))"
    ),
}


def _conditions(by_stage: bool, by_category: CarerCategory | None, mine: bool, first_param: int) -> tuple[str, int]:
    sql, n = "", first_param
    if by_stage:
        sql += f" AND c.stage = ${n}::kizuna.case_stage"
        n += 1
    if by_category is not None:
        sql += _CATEGORY.get(by_category, " AND c.category = ${n}::kizuna.carer_category").format(n=n)
        n += 1
    if mine:  # the worker assigned, or the coordinator
        sql += f" AND (c.assigned_worker = ${n} OR c.coordinator = ${n})"
        n += 1
    return sql, n


def adult_born_by(today: dt.date) -> dt.date:
    """Whoever was born on or before this day is 18 or older `today` (workflow.age)."""
    year = today.year - workflow.ADULT_AGE
    try:
        return today.replace(year=year)
    except ValueError:  # 29 February in a common year: nobody was born that day
        return dt.date(year, 2, 28)


@lru_cache(maxsize=64)
def page_sql(  # noqa: PLR0917  (the statement's shape, one flag a part; cached)
    limit: int, by_stage: bool, by_category: CarerCategory | None, mine: bool, after: bool, with_count: bool = False
) -> str:
    """The page statement. `limit` is a validated int written as a literal: a bound LIMIT
    makes PostgreSQL plan the statement again on every call. `with_count`: every row also
    holds `total_count`, the filter's count (`count_sql` as a sub-select, which PostgreSQL
    runs once): one round trip for a page and its count."""
    conditions, n = _conditions(by_stage, by_category, mine, 2)
    if after:
        conditions += f" AND (c.opened_at, c.id) < (${n}, ${n + 1})"
    selected = f"({count_sql(by_stage, by_category, mine)}) AS total_count, {_SELECTED}" if with_count else _SELECTED
    return f"SELECT {selected}\n{_JOINED}{conditions}\nORDER BY c.opened_at DESC, c.id DESC\nLIMIT {int(limit)}"


_FROM = "FROM kizuna.carer_case c WHERE c.municipality_code = $1"
# A category filter reads the person's birth date (a young carer's case at 18).
_FROM_WITH_PERSON = """FROM kizuna.carer_case c
JOIN kizuna.person p ON p.municipality_code = c.municipality_code AND p.id = c.person_id
WHERE c.municipality_code = $1"""


@lru_cache(maxsize=32)
def count_sql(by_stage: bool, by_category: CarerCategory | None, mine: bool, *, by_stages: bool = False) -> str:
    """The count of the cases a filter selects; `by_stages`: one row per stage that has any."""
    conditions, _ = _conditions(by_stage, by_category, mine, 2)
    source = _FROM_WITH_PERSON if by_category in _CATEGORY else _FROM
    if by_stages:
        return f"SELECT c.stage, count(*) AS count {source}{conditions}\nGROUP BY c.stage"
    return f"SELECT count(*) {source}{conditions}"


def _shape(case_filter: CaseFilter) -> tuple[bool, CarerCategory | None, bool]:
    return case_filter.stage is not None, case_filter.category, case_filter.assigned_to is not None


def _filter_args(case_filter: CaseFilter) -> list[object]:
    args: list[object] = [] if case_filter.stage is None else [case_filter.stage.value]
    if case_filter.category in _CATEGORY:
        args.append(adult_born_by(workflow.today()))
    elif case_filter.category is not None:
        args.append(case_filter.category.value)
    if case_filter.assigned_to is not None:
        args.append(case_filter.assigned_to)
    return args


async def case_page(
    tx: TenantTransaction, case_filter: CaseFilter, *, first: int, after: Keyset | None, with_count: bool = False
) -> list[asyncpg.Record]:
    """Up to `first + 1` rows (the extra one tells whether a next page exists); each with
    the filter's `total_count` too if `with_count` (an empty page has none to hold it)."""
    sql = page_sql(first + 1, *_shape(case_filter), after is not None, with_count)
    args: list[object] = list(_filter_args(case_filter))
    if after is not None:
        args += [after.at, after.id]
    return await tx.fetch(sql, *args)


async def case_count(tx: TenantTransaction, case_filter: CaseFilter) -> int:
    count: int = await tx.fetchval(count_sql(*_shape(case_filter)), *_filter_args(case_filter))
    return count


async def stage_counts(tx: TenantTransaction, case_filter: CaseFilter) -> dict[CaseStage, int]:
    """How many cases the filter selects in each stage (every stage, 0 where none): one
    statement, one scan, as `case_count`."""
    rows = await tx.fetch(count_sql(*_shape(case_filter), by_stages=True), *_filter_args(case_filter))
    found = {CaseStage(row["stage"]): row["count"] for row in rows}
    return {stage: found.get(stage, 0) for stage in CaseStage}


CASE_BY_ID = f"{_COLUMNS} AND c.id = $2"


async def case_by_id(tx: TenantTransaction, case_id: uuid.UUID) -> asyncpg.Record | None:
    return await tx.fetchrow(CASE_BY_ID, case_id)


# What opening a case needs of its person, and of an existing case.
# Shared lock: a merge of the person (schema/person_merges) waits, or is waited for and then seen.
PERSON_FOR_CASE = (
    "SELECT id, household_id, merged_into_id FROM kizuna.person WHERE municipality_code = $1 AND id = $2 FOR SHARE"
)
CASE_STATE = "SELECT id, stage, person_id FROM kizuna.carer_case WHERE municipality_code = $1 AND id = $2"
CASE_STATE_LOCKED = f"{CASE_STATE} FOR UPDATE"
INSERT_CASE = """
INSERT INTO kizuna.carer_case
    (municipality_code, id, person_id, household_id, category, stage, lead_organisation_id,
     assigned_worker, assigned_worker_name, risk_level, opened_at)
VALUES ($1, $2, $3, $4, $5::kizuna.carer_category, 'intake', $6, $7, $8, $9::kizuna.risk_level, now())
"""
INSERT_EVENT = """
INSERT INTO kizuna.case_event
    (municipality_code, id, case_id, kind, from_stage, to_stage, actor, actor_name, reason, occurred_at)
VALUES ($1, $2, $3, $4::kizuna.case_event_kind, $5::kizuna.case_stage, $6::kizuna.case_stage, $7, $8, $9, now())
"""


async def write_case_event(
    scope: Scope,
    case_id: uuid.UUID,
    kind: CaseEventKind,
    *,
    reason: str | None,
    moved: tuple[CaseStage | None, CaseStage] | None = None,
) -> None:
    """Append an event to the case's history in the scope's transaction: who (the caller,
    by id and by the name colleagues know them by), when (now), why; `moved` names the
    stages of a transition (no source: the case opened)."""
    source, target = (None, None) if moved is None else (moved[0] and moved[0].value, moved[1].value)
    caller = scope.caller
    await scope.tx.execute(
        INSERT_EVENT, uuid7(), case_id, kind.value, source, target, str(caller.user_id), caller.display_name, reason
    )


async def access_person(scope: Scope, person_id: uuid.UUID, *, field: str) -> asyncpg.Record:
    """The person `person_id` of the scope's tenant (`id`, `household_id`); another tenant's
    id and an unknown one are refused alike (NOT_FOUND on `field`), a person merged into
    another is a CONFLICT (a case names the person kept)."""
    row = await scope.tx.fetchrow(PERSON_FOR_CASE, person_id)
    if row is None:
        raise Refused(UserErrorCode.NOT_FOUND, field, Message.NO_SUCH_PERSON)
    if row["merged_into_id"] is not None:
        raise Refused(UserErrorCode.CONFLICT, field, Message.PERSON_ALREADY_MERGED)
    return row


async def access_case(scope: Scope, case_id: uuid.UUID, *, field: str, lock: bool = False) -> asyncpg.Record:
    """The case `case_id` of the scope's tenant (`id`, `stage`, `person_id`); another
    tenant's id and an unknown one are refused alike (NOT_FOUND on `field`).

    With `lock`, the case stays locked (`FOR UPDATE`) until the transaction ends: writers
    that check the case before they write (a move, an approval request, a plan's next
    version) take turns, and each sees what the one before wrote."""
    row = await scope.tx.fetchrow(CASE_STATE_LOCKED if lock else CASE_STATE, case_id)
    if row is None:
        raise Refused(UserErrorCode.NOT_FOUND, field, Message.NO_SUCH_CASE)
    return row


async def do_open_case(
    scope: Scope, person: asyncpg.Record, category: CarerCategory, *, risk: RiskLevel, reason: str
) -> uuid.UUID:
    """Open a case at intake (相談受理) about `person` (as `access_person` read it), led by
    the caller's organisation and assigned to the caller, with its first event and its
    audit event, in the scope's transaction. Returns the case's id."""
    caller = scope.caller
    case_id = uuid7()
    await scope.tx.execute(
        INSERT_CASE,
        case_id,
        person["id"],
        person["household_id"],
        category.value,
        caller.organisation_id,
        str(caller.user_id),
        caller.display_name,
        risk.value,
    )
    await write_case_event(scope, case_id, CaseEventKind.OPENED, reason=reason, moved=(None, workflow.INITIAL_STAGE))
    fields = (
        "person_id",
        "household_id",
        "category",
        "stage",
        "lead_organisation_id",
        "assigned_worker",
        "assigned_worker_name",
        "risk_level",
    )
    await audit.record(scope, action=OPEN_ACTION, entity="case", entity_id=case_id, fields=fields)
    return case_id


TRANSITIONS_SO_FAR = """
SELECT from_stage, to_stage, occurred_at FROM kizuna.case_event
WHERE municipality_code = $1 AND case_id = $2 AND to_stage IS NOT NULL
ORDER BY occurred_at
"""
APPROVED = """
SELECT subject, decided_at FROM kizuna.approval
WHERE municipality_code = $1 AND case_id = $2 AND status = 'approved'
"""
# Two statements, not a CASE on the stage: Citus refuses now() inside CASE in an UPDATE.
MOVE = """
UPDATE kizuna.carer_case SET stage = $3::kizuna.case_stage, closed_at = NULL
WHERE municipality_code = $1 AND id = $2
"""
CLOSE = "UPDATE kizuna.carer_case SET stage = 'closed', closed_at = now() WHERE municipality_code = $1 AND id = $2"
OPEN_DISPATCH_OF_CASE = (
    "SELECT id FROM kizuna.helper_dispatch WHERE municipality_code = $1 AND case_id = $2 AND status <> 'ended'"
)


def unused_approvals(transitions: list[asyncpg.Record], approvals: list[asyncpg.Record]) -> frozenset[ApprovalSubject]:
    """The subjects approved since the case last took a move that needed them: each
    approval is used by one move (a reviewed plan for each return to support)."""
    last_use: dict[ApprovalSubject, object] = {}
    for event in transitions:
        if event["from_stage"] is None:
            continue
        needed = workflow.needs_approval(CaseStage(event["from_stage"]), CaseStage(event["to_stage"]))
        if needed is not None:
            last_use[needed] = event["occurred_at"]
    return frozenset(
        subject
        for a in approvals
        if (used := last_use.get(subject := ApprovalSubject(a["subject"]))) is None or a["decided_at"] > used
    )


async def do_move_case_stage(scope: Scope, case_id: uuid.UUID, to_stage: CaseStage, reason: str | None) -> None:
    """Move a case of the tenant along the workflow, with its event (who, when, why) and
    its audit event. A move the flow has no edge for, or that needs an approval not yet
    given, is refused with the workflow's own reason (on `toStage`)."""
    if not may(scope.role, Operation.MOVE_CASE_STAGE):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.MAY_NOT_WORK_CASES)
    if reason is not None:
        check_text(reason, field="reason", message=Message.REASON_LENGTH, most=MAX_REASON_LENGTH)
    case = await access_case(scope, case_id, field="id", lock=True)
    await move_locked_case(scope, case, to_stage, reason)


async def move_locked_case(scope: Scope, case: asyncpg.Record, to_stage: CaseStage, reason: str | None) -> None:
    """Move `case`, as `access_case(..., lock=True)` read it in this transaction, along the
    workflow: the rules, the stage, its event and its audit event of `do_move_case_stage`.
    For a write that moves the case as part of its own work (a monitoring meeting), which
    has checked that its caller may."""
    case_id: uuid.UUID = case["id"]
    source = CaseStage(case["stage"])
    approved = unused_approvals(
        await scope.tx.fetch(TRANSITIONS_SO_FAR, case_id), await scope.tx.fetch(APPROVED, case_id)
    )
    refusal = workflow.check_transition(source, to_stage, approved=approved)
    if refusal is not None:
        code = (
            UserErrorCode.CONFLICT if refusal.rule is workflow.Rule.APPROVAL_REQUIRED else UserErrorCode.BAD_USER_INPUT
        )
        raise Refused(code, refusal.field, refusal.message, **refusal.params)
    edge = workflow.transition(source, to_stage)
    if edge is None:  # unreachable: check_transition refuses a move the flow has no edge for
        raise LookupError((source, to_stage))
    if to_stage is CaseStage.CLOSED:
        # Helper visits would go on for a family whose case is closed: the dispatch ends first.
        if await scope.tx.fetchval(OPEN_DISPATCH_OF_CASE, case_id) is not None:
            raise Refused(UserErrorCode.CONFLICT, "toStage", Message.CLOSE_WITH_OPEN_DISPATCH)
        await scope.tx.execute(CLOSE, case_id)
    else:
        await scope.tx.execute(MOVE, case_id, to_stage.value)
    await write_case_event(scope, case_id, edge.event, reason=reason, moved=(source, to_stage))
    await audit.record(scope, action=MOVE_ACTION, entity="case", entity_id=case_id, fields=("stage", "closed_at"))


# --- assigning a case (a supervisor's) ---------------------------------------------

WORKER_ROLES = frozenset({AppRole.CASEWORKER, AppRole.COORDINATOR, AppRole.SUPERVISOR})
ACTIVE_MEMBERSHIP = """
SELECT user_id, display_name, role FROM kizuna.membership
WHERE municipality_code = $1 AND id = $2 AND revoked_at IS NULL
"""
# Each column keeps its value unless a new one is given (NULL: unchanged).
ASSIGN = """
UPDATE kizuna.carer_case SET
    assigned_worker = coalesce($3, assigned_worker), assigned_worker_name = coalesce($4, assigned_worker_name),
    coordinator = coalesce($5, coordinator), coordinator_name = coalesce($6, coordinator_name),
    lead_organisation_id = coalesce($7, lead_organisation_id)
WHERE municipality_code = $1 AND id = $2
"""


@dataclass(frozen=True, slots=True)
class Assignment:
    """Who is to work a case: memberships of the tenant and an organisation serving it;
    None leaves that part as it is."""

    worker_membership_id: uuid.UUID | None = None
    coordinator_membership_id: uuid.UUID | None = None
    lead_organisation_id: uuid.UUID | None = None


async def _member(
    scope: Scope, membership_id: uuid.UUID | None, roles: frozenset[AppRole], *, field: str, message: Message
) -> asyncpg.Record | None:
    """The active membership `membership_id` of the tenant in one of `roles`; a revoked
    one, another role's, another tenant's and an unknown one are refused alike."""
    if membership_id is None:
        return None
    row = await scope.tx.fetchrow(ACTIVE_MEMBERSHIP, membership_id)
    if row is None or AppRole(row["role"]) not in roles:
        raise Refused(UserErrorCode.BAD_USER_INPUT, field, message)
    return row


async def do_assign_case(scope: Scope, case_id: uuid.UUID, assignment: Assignment, reason: str | None) -> None:
    """Assign a case's worker, coordinator and lead organisation (a supervisor's), with an
    `assigned` event in its history and an audit event naming the changed columns."""
    if not may(scope.role, Operation.ASSIGN_CASE):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.ONLY_SUPERVISOR_ASSIGNS)
    a = assignment
    if a.worker_membership_id is None and a.coordinator_membership_id is None and a.lead_organisation_id is None:
        raise Refused(UserErrorCode.BAD_USER_INPUT, None, Message.ASSIGN_SOMETHING)
    if reason is not None:
        check_text(reason, field="reason", message=Message.REASON_LENGTH, most=MAX_REASON_LENGTH)
    await access_case(scope, case_id, field="id", lock=True)
    worker = await _member(
        scope, a.worker_membership_id, WORKER_ROLES, field="workerMembershipId", message=Message.NOT_A_WORKER
    )
    coordinator = await _member(
        scope,
        a.coordinator_membership_id,
        frozenset({AppRole.COORDINATOR}),
        field="coordinatorMembershipId",
        message=Message.NOT_A_COORDINATOR,
    )
    if a.lead_organisation_id is not None:
        await access_serving_organisation(scope.tx, a.lead_organisation_id, field="leadOrganizationId")
    await scope.tx.execute(
        ASSIGN,
        case_id,
        None if worker is None else str(worker["user_id"]),
        None if worker is None else worker["display_name"],
        None if coordinator is None else str(coordinator["user_id"]),
        None if coordinator is None else coordinator["display_name"],
        a.lead_organisation_id,
    )
    await write_case_event(scope, case_id, CaseEventKind.ASSIGNED, reason=reason)
    fields = [
        *(("assigned_worker", "assigned_worker_name") if worker else ()),
        *(("coordinator", "coordinator_name") if coordinator else ()),
        *(("lead_organisation_id",) if a.lead_organisation_id else ()),
    ]
    await audit.record(scope, action=ASSIGN_ACTION, entity="case", entity_id=case_id, fields=tuple(fields))
