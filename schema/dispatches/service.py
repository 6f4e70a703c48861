"""Helper dispatches (子育て世帯ヘルパー派遣) and their visits: reading them, and each step
of seed 002's flow as a `do_<step>` that checks `schema/cases/dispatch_rules.py`, writes,
and audits in the request's transaction. The tenant as `$1` in every statement.

Every step locks the dispatch (`access_dispatch(..., lock=True)`) before it checks, so
two requests on one dispatch take turns and the second sees what the first wrote: two
visits of one week sent at once give one visit and one user error. The database holds
the same rules as its second line (the CHECKs and the one-visit-a-week index of 0001 and
0019); a write the database still refuses there means a concurrent change the lock did
not cover, and is a user error too, never a 500.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from kizuna.platform import audit
from kizuna.platform.database import TenantTransaction
from kizuna.platform.i18n import Message
from kizuna.platform.ids import uuid7
from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import CareTask, CaseStage, DispatchStatus, OrganisationKind
from kizuna.schema.cases import dispatch_rules as rules
from kizuna.schema.cases import service as cases
from kizuna.schema.cases.workflow import Refusal, Rule
from kizuna.schema.errors import Refused, UserErrorCode
from kizuna.schema.permissions import Operation, may
from kizuna.schema.writes import IDEMPOTENCY_KEY_FIELD, check_idempotency_key, check_text

D = DispatchStatus
MAX_PLAN_LENGTH = 2000
MAX_VISIT_TEXT_LENGTH = 2000
# "Helper visits this week" and the like: a month at most, so one request stays bounded.
MAX_VISIT_RANGE = dt.timedelta(days=31)
MAX_VISITS_LISTED = 500
# What a case's `dispatches` and a dispatch's `visits` list, newest first: more than a case
# has had in years (a period is 6 months; a visit a week) and a bound for the cost.
MAX_DISPATCHES_LISTED = 10
MAX_VISITS_OF_DISPATCH = 60
# The rules that refuse because of what is recorded already, rather than the input itself.
_CONFLICTS = frozenset(
    {Rule.DISPATCH_STEP_NOT_ALLOWED, Rule.SECOND_VISIT_IN_WEEK, Rule.DISPATCH_ALREADY_OPEN, Rule.CASE_CLOSED}
)


def _newest(rows: str, group: str, order: str, limit: int) -> str:
    """The newest `limit` of `rows` in each `group`, in `order`: one statement for a page
    (a window over the tenant's rows; on Citus one shard's)."""
    return f"""
SELECT * FROM (
    SELECT page.*, row_number() OVER (PARTITION BY page.{group} ORDER BY {order}) AS n FROM ({rows}) page
) newest
WHERE n <= {int(limit)}
ORDER BY {order}"""


_COLUMNS = """
SELECT d.id, d.case_id, d.status, d.applied_on, d.survey_visit_on, d.plan, d.decided_on,
       d.period_start, d.period_end, d.extended_until,
       o.id AS provider_id, o.name AS provider_name, o.kind AS provider_kind
FROM kizuna.helper_dispatch d
LEFT JOIN kizuna.organisation o ON o.id = d.provider_organisation_id
WHERE d.municipality_code = $1"""
DISPATCH_BY_ID = f"{_COLUMNS} AND d.id = $2"

DISPATCHES_OF_CASES = _newest(
    f"{_COLUMNS} AND d.case_id = ANY($2::uuid[])", "case_id", "applied_on DESC, id DESC", MAX_DISPATCHES_LISTED
)
OPEN_DISPATCHES_OF_CASES = f"{_COLUMNS} AND d.case_id = ANY($2::uuid[]) AND d.status <> 'ended'"
DISPATCH_STATE = """
SELECT id, case_id, status, applied_on, survey_visit_on, decided_on, period_start, period_end, extended_until,
       provider_organisation_id
FROM kizuna.helper_dispatch WHERE municipality_code = $1 AND id = $2"""
DISPATCH_STATE_LOCKED = f"{DISPATCH_STATE} FOR UPDATE"
DISPATCH_WITH_KEY = """
SELECT id, case_id, applied_on FROM kizuna.helper_dispatch WHERE municipality_code = $1 AND idempotency_key = $2
"""
OPEN_OF_CASE = (
    "SELECT id FROM kizuna.helper_dispatch WHERE municipality_code = $1 AND case_id = $2 AND status <> 'ended'"
)
PROVIDER_KIND = "SELECT kind FROM kizuna.organisation WHERE id = $1"
# A concurrent application with the same key, or a second open one, inserts nothing.
INSERT_DISPATCH = """
INSERT INTO kizuna.helper_dispatch
    (municipality_code, id, case_id, provider_organisation_id, status, applied_on, idempotency_key)
VALUES ($1, $2, $3, $4, 'applied', $5, $6)
ON CONFLICT DO NOTHING
RETURNING id
"""
SURVEY = """
UPDATE kizuna.helper_dispatch SET status = 'surveyed', survey_visit_on = $3 WHERE municipality_code = $1 AND id = $2
"""
PLAN = """
UPDATE kizuna.helper_dispatch
SET status = 'planned', plan = $3, provider_organisation_id = coalesce($4, provider_organisation_id)
WHERE municipality_code = $1 AND id = $2
"""
DECIDE = """
UPDATE kizuna.helper_dispatch SET status = 'decided', decided_on = $3, period_start = $4, period_end = $5
WHERE municipality_code = $1 AND id = $2
"""
EXTEND = "UPDATE kizuna.helper_dispatch SET extended_until = $3 WHERE municipality_code = $1 AND id = $2"
MOVE = "UPDATE kizuna.helper_dispatch SET status = $3::kizuna.dispatch_status WHERE municipality_code = $1 AND id = $2"

_VISIT_COLUMNS = """
SELECT v.id, v.dispatch_id, v.visited_on, v.minutes, v.tasks, v.activities, v.observations, d.case_id
FROM kizuna.helper_visit v
JOIN kizuna.helper_dispatch d ON d.municipality_code = v.municipality_code AND d.id = v.dispatch_id
WHERE v.municipality_code = $1"""
VISIT_BY_ID = f"{_VISIT_COLUMNS} AND v.id = $2"
VISITS_OF_DISPATCHES = _newest(
    f"{_VISIT_COLUMNS} AND v.dispatch_id = ANY($2::uuid[])",
    "dispatch_id",
    "visited_on DESC, id DESC",
    MAX_VISITS_OF_DISPATCH,
)
VISITS_BETWEEN = f"""{_VISIT_COLUMNS} AND v.visited_on BETWEEN $2 AND $3
ORDER BY v.visited_on, v.id LIMIT {MAX_VISITS_LISTED}"""
VISIT_DAYS = "SELECT visited_on FROM kizuna.helper_visit WHERE municipality_code = $1 AND dispatch_id = $2"
VISIT_WITH_KEY = """
SELECT id, dispatch_id, visited_on, minutes FROM kizuna.helper_visit
WHERE municipality_code = $1 AND idempotency_key = $2
"""
# The one-visit-a-week index and the key: a visit the lock did not keep out inserts nothing.
INSERT_VISIT = """
INSERT INTO kizuna.helper_visit
    (municipality_code, id, dispatch_id, visited_on, minutes, tasks, activities, observations, idempotency_key)
VALUES ($1, $2, $3, $4, $5, $6::kizuna.care_task[], $7, $8, $9)
ON CONFLICT DO NOTHING
RETURNING id
"""

APPLY_ACTION = "helper_dispatch.apply"
SURVEY_ACTION = "helper_dispatch.survey"
PLAN_ACTION = "helper_dispatch.plan"
DECIDE_ACTION = "helper_dispatch.decide"
EXTEND_ACTION = "helper_dispatch.extend"
MOVE_ACTION = "helper_dispatch.move"
VISIT_ACTION = "helper_visit.record"


async def dispatch_by_id(tx: TenantTransaction, dispatch_id: uuid.UUID) -> asyncpg.Record | None:
    return await tx.fetchrow(DISPATCH_BY_ID, dispatch_id)


async def dispatches_of_cases(tx: TenantTransaction, case_ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    return await tx.fetch(DISPATCHES_OF_CASES, list(case_ids))


async def open_dispatches_of_cases(tx: TenantTransaction, case_ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    return await tx.fetch(OPEN_DISPATCHES_OF_CASES, list(case_ids))


async def visit_by_id(tx: TenantTransaction, visit_id: uuid.UUID) -> asyncpg.Record | None:
    return await tx.fetchrow(VISIT_BY_ID, visit_id)


async def visits_of_dispatches(tx: TenantTransaction, dispatch_ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    return await tx.fetch(VISITS_OF_DISPATCHES, list(dispatch_ids))


def visit_range_ok(start: dt.date, end: dt.date) -> bool:
    return start <= end <= start + MAX_VISIT_RANGE


async def visits_between(tx: TenantTransaction, start: dt.date, end: dt.date) -> list[asyncpg.Record]:
    """The tenant's visits from `start` to `end` (both included, at most a month), by day."""
    return await tx.fetch(VISITS_BETWEEN, start, end)


def _refused(refusal: Refusal | None) -> None:
    """Raise a dispatch rule's refusal as a user error (CONFLICT when what is recorded
    already stands in the way, BAD_USER_INPUT when the input itself breaks the rule)."""
    if refusal is not None:
        code = UserErrorCode.CONFLICT if refusal.rule in _CONFLICTS else UserErrorCode.BAD_USER_INPUT
        raise Refused(code, refusal.field, refusal.message, **refusal.params)


def _may(scope: Scope, operation: Operation) -> None:
    if not may(scope.role, operation):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.MAY_NOT_DISPATCH)


async def access_dispatch(scope: Scope, dispatch_id: uuid.UUID, *, field: str, lock: bool = False) -> asyncpg.Record:
    """The dispatch `dispatch_id` of the scope's tenant, as `DISPATCH_STATE` reads it;
    another tenant's id and an unknown one are refused alike (NOT_FOUND on `field`).

    With `lock`, it stays locked (`FOR UPDATE`) until the transaction ends: every step
    checks the dispatch before it writes, and steps on one dispatch take turns. Row
    security keeps an ended dispatch from being changed (migration 0019), and so from
    being locked: a dispatch the locked read cannot find but the plain one can has
    ended, and no step may follow (CONFLICT, as `check_dispatch_step` says it)."""
    row = await scope.tx.fetchrow(DISPATCH_STATE_LOCKED if lock else DISPATCH_STATE, dispatch_id)
    if row is None and lock and await scope.tx.fetchrow(DISPATCH_STATE, dispatch_id) is not None:
        _refused(Refusal(Rule.DISPATCH_STEP_NOT_ALLOWED, "status", Message.DISPATCH_STEP_NOT_ALLOWED))
    if row is None:
        raise Refused(UserErrorCode.NOT_FOUND, field, Message.NO_SUCH_DISPATCH)
    return row


async def _provider(scope: Scope, provider_id: uuid.UUID, field: str) -> None:
    """A home-help provider of the directory (global: whichever municipality it serves)."""
    rows = await scope.tx.fetch_global(PROVIDER_KIND, provider_id)
    if not rows:
        raise Refused(UserErrorCode.NOT_FOUND, field, Message.NO_SUCH_ORGANISATION)
    if OrganisationKind(rows[0]["kind"]) is not OrganisationKind.HOME_HELP_PROVIDER:
        raise Refused(UserErrorCode.BAD_USER_INPUT, field, Message.NOT_A_PROVIDER)


def _status(dispatch: asyncpg.Record) -> DispatchStatus:
    return DispatchStatus(dispatch["status"])


def _period(dispatch: asyncpg.Record) -> rules.ServicePeriod | None:
    if dispatch["period_start"] is None:
        return None
    return rules.ServicePeriod(dispatch["period_start"], dispatch["period_end"], dispatch["extended_until"])


async def do_apply(
    scope: Scope,
    case_id: uuid.UUID,
    *,
    applied_on: dt.date,
    provider_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
) -> uuid.UUID:
    """Record a household's application (申請) for the case, optionally naming the provider;
    audited. A case holds one dispatch that has not ended at a time, and a closed case
    takes none. With an idempotency key, a retry gets the first dispatch back, unchanged
    and not audited again; the key used for another application is a CONFLICT."""
    _may(scope, Operation.APPLY_FOR_DISPATCH)
    check_idempotency_key(idempotency_key)
    # Locked: applications for one case take turns, so one of two finds the other open.
    case = await cases.access_case(scope, case_id, field="caseId", lock=True)
    if idempotency_key is not None:
        earlier = await scope.tx.fetchrow(DISPATCH_WITH_KEY, idempotency_key)
        if earlier is not None:
            if (earlier["case_id"], earlier["applied_on"]) != (case_id, applied_on):
                raise Refused(UserErrorCode.CONFLICT, IDEMPOTENCY_KEY_FIELD, Message.DISPATCH_KEY_REUSED)
            found: uuid.UUID = earlier["id"]
            return found
    if CaseStage(case["stage"]) is CaseStage.CLOSED:
        _refused(Refusal(Rule.CASE_CLOSED, "caseId", Message.DISPATCH_FOR_CLOSED_CASE))
    if provider_id is not None:
        await _provider(scope, provider_id, "providerOrganizationId")
    if await scope.tx.fetchval(OPEN_OF_CASE, case_id) is not None:
        _refused(Refusal(Rule.DISPATCH_ALREADY_OPEN, "caseId", Message.DISPATCH_ALREADY_OPEN))
    dispatch_id = await scope.tx.fetchval(INSERT_DISPATCH, uuid7(), case_id, provider_id, applied_on, idempotency_key)
    if dispatch_id is None:  # the key was taken meanwhile, by another case's application
        raise Refused(UserErrorCode.CONFLICT, IDEMPOTENCY_KEY_FIELD, Message.DISPATCH_KEY_REUSED)
    fields = ("case_id", "status", "applied_on") + (("provider_organisation_id",) if provider_id else ())
    await audit.record(scope, action=APPLY_ACTION, entity="helper_dispatch", entity_id=dispatch_id, fields=fields)
    created: uuid.UUID = dispatch_id
    return created


async def _step(scope: Scope, operation: Operation, dispatch_id: uuid.UUID, target: DispatchStatus) -> asyncpg.Record:
    """The locked dispatch, once the caller may take the step to `target` and it is next."""
    _may(scope, operation)
    dispatch = await access_dispatch(scope, dispatch_id, field="id", lock=True)
    _refused(rules.check_dispatch_step(_status(dispatch), target))
    return dispatch


async def do_record_survey(scope: Scope, dispatch_id: uuid.UUID, surveyed_on: dt.date) -> None:
    """The joint survey visit (同行訪問・調査) with the provider and the coordinator; audited."""
    dispatch = await _step(scope, Operation.RECORD_DISPATCH_SURVEY, dispatch_id, D.SURVEYED)
    _refused(rules.check_step_date(dispatch["applied_on"], surveyed_on, "surveyedOn"))
    await scope.tx.execute(SURVEY, dispatch_id, surveyed_on)
    fields = ("status", "survey_visit_on")
    await audit.record(scope, action=SURVEY_ACTION, entity="helper_dispatch", entity_id=dispatch_id, fields=fields)


async def do_plan(scope: Scope, dispatch_id: uuid.UUID, plan: str, provider_id: uuid.UUID | None = None) -> None:
    """The dispatch plan (ヘルパー派遣計画書) written from the survey, and the provider if
    named now; audited."""
    _may(scope, Operation.PLAN_DISPATCH)
    check_text(plan, field="plan", message=Message.PLAN_TEXT_LENGTH, most=MAX_PLAN_LENGTH)
    await _step(scope, Operation.PLAN_DISPATCH, dispatch_id, D.PLANNED)
    if provider_id is not None:
        await _provider(scope, provider_id, "providerOrganizationId")
    await scope.tx.execute(PLAN, dispatch_id, plan, provider_id)
    fields = ("status", "plan") + (("provider_organisation_id",) if provider_id else ())
    await audit.record(scope, action=PLAN_ACTION, entity="helper_dispatch", entity_id=dispatch_id, fields=fields)


async def do_decide(
    scope: Scope, dispatch_id: uuid.UUID, *, decided_on: dt.date, period_start: dt.date, period_end: dt.date
) -> None:
    """The decision (決定通知): its date and the period granted, at most 6 months, from
    the decision on; the provider must be named by then (the request for the service is
    sent to it with the plan). Audited."""
    dispatch = await _step(scope, Operation.DECIDE_DISPATCH, dispatch_id, D.DECIDED)
    _refused(rules.check_step_date(dispatch["survey_visit_on"], decided_on, "decidedOn"))
    _refused(rules.check_step_date(decided_on, period_start, "periodStart"))
    _refused(rules.check_period(period_start, period_end))
    if dispatch["provider_organisation_id"] is None:
        _refused(Refusal(Rule.PROVIDER_REQUIRED, "id", Message.PROVIDER_REQUIRED))
    await scope.tx.execute(DECIDE, dispatch_id, decided_on, period_start, period_end)
    fields = ("status", "decided_on", "period_start", "period_end")
    await audit.record(scope, action=DECIDE_ACTION, entity="helper_dispatch", entity_id=dispatch_id, fields=fields)


async def do_extend(scope: Scope, dispatch_id: uuid.UUID, extended_until: dt.date) -> None:
    """Extend a decided dispatch's period (延長) to `extended_until`; audited."""
    _may(scope, Operation.EXTEND_DISPATCH)
    dispatch = await access_dispatch(scope, dispatch_id, field="id", lock=True)
    period = _period(dispatch)
    if period is None or _status(dispatch) not in rules.VISITABLE:
        _refused(Refusal(Rule.DISPATCH_STEP_NOT_ALLOWED, "id", Message.DISPATCH_STEP_NOT_ALLOWED))
    else:
        _refused(rules.check_extension(period, extended_until))
    await scope.tx.execute(EXTEND, dispatch_id, extended_until)
    fields = ("extended_until",)
    await audit.record(scope, action=EXTEND_ACTION, entity="helper_dispatch", entity_id=dispatch_id, fields=fields)


async def do_move(scope: Scope, operation: Operation, dispatch_id: uuid.UUID, target: DispatchStatus) -> None:
    """Monitoring (モニタリング), the service again after it, or the end; audited."""
    await _step(scope, operation, dispatch_id, target)
    await scope.tx.execute(MOVE, dispatch_id, target.value)
    await audit.record(scope, action=MOVE_ACTION, entity="helper_dispatch", entity_id=dispatch_id, fields=("status",))


@dataclass(frozen=True, slots=True)
class NewVisit:
    dispatch_id: uuid.UUID
    visited_on: dt.date
    minutes: int
    tasks: Sequence[CareTask]
    activities: str | None = None
    observations: str | None = None
    idempotency_key: str | None = None


def check_new_visit(new: NewVisit) -> None:
    """What the input alone must hold, before anything is read."""
    _refused(rules.check_visit_tasks(new.tasks))
    for field, text in (("activities", new.activities), ("observations", new.observations)):
        if text is not None:
            check_text(text, field=field, message=Message.VISIT_TEXT_LENGTH, most=MAX_VISIT_TEXT_LENGTH)
    check_idempotency_key(new.idempotency_key)


async def do_record_visit(scope: Scope, new: NewVisit) -> uuid.UUID:
    """Record a helper visit inside the rules of seed 002: at most 120 minutes, at most one
    in an ISO week, within the decided (and extended) period, only while the dispatch
    runs; the first visit starts the service (決定 → 派遣中). Audited. With an idempotency
    key, a retry gets the first visit back; the key used for another visit is a CONFLICT."""
    _may(scope, Operation.RECORD_HELPER_VISIT)
    check_new_visit(new)
    dispatch = await access_dispatch(scope, new.dispatch_id, field="dispatchId", lock=True)
    if new.idempotency_key is not None:
        earlier = await scope.tx.fetchrow(VISIT_WITH_KEY, new.idempotency_key)
        if earlier is not None:
            same = (earlier["dispatch_id"], earlier["visited_on"], earlier["minutes"])
            if same != (new.dispatch_id, new.visited_on, new.minutes):
                raise Refused(UserErrorCode.CONFLICT, IDEMPOTENCY_KEY_FIELD, Message.DISPATCH_KEY_REUSED)
            found: uuid.UUID = earlier["id"]
            return found
    status = _status(dispatch)
    period = _period(dispatch)
    days = [r["visited_on"] for r in await scope.tx.fetch(VISIT_DAYS, new.dispatch_id)]
    _refused(rules.check_visit(period, new.visited_on, new.minutes, days))
    visit_id = await scope.tx.fetchval(
        INSERT_VISIT,
        uuid7(),
        new.dispatch_id,
        new.visited_on,
        new.minutes,
        [t.value for t in CareTask if t in new.tasks],
        new.activities,
        new.observations,
        new.idempotency_key,
    )
    if visit_id is None:  # unreachable under the lock: the week's index or the key, taken meanwhile
        _refused(Refusal(Rule.SECOND_VISIT_IN_WEEK, "visitedOn", Message.SECOND_VISIT_IN_WEEK))
    fields = ("dispatch_id", "visited_on", "minutes", "tasks", "activities", "observations")
    events = [audit.Event(VISIT_ACTION, "helper_visit", visit_id, fields)]
    if status is D.DECIDED:
        await scope.tx.execute(MOVE, new.dispatch_id, D.IN_SERVICE.value)
        events.append(audit.Event(MOVE_ACTION, "helper_dispatch", new.dispatch_id, ("status",)))
    await audit.record_many(scope, events)
    recorded: uuid.UUID = visit_id
    return recorded
