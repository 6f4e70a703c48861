"""Support plans: reading them, and writing a case's next version (it takes effect once
a supervisor approved it: `schema/approvals/`). The tenant as `$1` in every statement."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from kizuna.platform import audit
from kizuna.platform.database import TenantTransaction
from kizuna.platform.i18n import Message
from kizuna.platform.ids import uuid7
from kizuna.platform.scope import Scope
from kizuna.schema.cases import service as cases
from kizuna.schema.errors import Refused, UserErrorCode
from kizuna.schema.permissions import Operation, may
from kizuna.schema.writes import check_idempotency_key, check_text, inserted, retried

CREATE_ACTION = "support_plan.create"
MAX_GOALS_LENGTH = 4000
# A plan runs for up to a year; it is reviewed at monitoring and written anew.
MAX_PERIOD = dt.timedelta(days=366)

_COLUMNS = """
SELECT id, case_id, version, goals, period_start, period_end, created_at FROM kizuna.support_plan
WHERE municipality_code = $1"""
PLAN_BY_ID = f"{_COLUMNS} AND id = $2"
# A case holds a few versions; 100 is far above any real case and bounds the answer.
MAX_PLANS_LISTED = 100
PLANS_OF_CASE = f"{_COLUMNS} AND case_id = $2 ORDER BY version DESC LIMIT {MAX_PLANS_LISTED}"


async def plans_of_case(tx: TenantTransaction, case_id: uuid.UUID) -> list[asyncpg.Record]:
    return await tx.fetch(PLANS_OF_CASE, case_id)


async def plan_by_id(tx: TenantTransaction, plan_id: uuid.UUID) -> asyncpg.Record | None:
    return await tx.fetchrow(PLAN_BY_ID, plan_id)


NEXT_VERSION = (
    "SELECT coalesce(max(version), 0) + 1 FROM kizuna.support_plan WHERE municipality_code = $1 AND case_id = $2"
)
PLAN_WITH_KEY = (
    "SELECT id, case_id, goals, period_start, period_end FROM kizuna.support_plan"
    " WHERE municipality_code = $1 AND idempotency_key = $2"
)
INSERT_PLAN = """
INSERT INTO kizuna.support_plan
    (municipality_code, id, case_id, version, goals, period_start, period_end, created_by, idempotency_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (municipality_code, idempotency_key) DO NOTHING
RETURNING id
"""


async def do_create_plan(
    scope: Scope,
    case_id: uuid.UUID,
    *,
    goals: str,
    period_start: dt.date,
    period_end: dt.date,
    idempotency_key: str | None = None,
) -> uuid.UUID:
    """Write the case's next plan version (goals and period) and audit it; returns its id.
    A retry with the same idempotency key gets the first request's plan back."""
    if not may(scope.role, Operation.CREATE_SUPPORT_PLAN):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.MAY_NOT_WORK_CASES)
    check_text(goals, field="goals", message=Message.GOALS_LENGTH, most=MAX_GOALS_LENGTH)
    if not period_start <= period_end <= period_start + MAX_PERIOD:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "periodEnd", Message.PLAN_PERIOD)
    check_idempotency_key(idempotency_key)
    # Locked: two new versions of one case's plan take turns (and number themselves), and
    # a retry waits for the request it repeats and then finds its plan.
    await cases.access_case(scope, case_id, field="caseId", lock=True)
    if idempotency_key is not None:
        earlier = await scope.tx.fetchrow(PLAN_WITH_KEY, idempotency_key)
        same = (case_id, goals, period_start, period_end)
        found = retried(earlier, same, ("case_id", "goals", "period_start", "period_end"))
        if found is not None:
            return found
    version: int = await scope.tx.fetchval(NEXT_VERSION, case_id)
    plan_id = inserted(
        await scope.tx.fetchval(
            INSERT_PLAN,
            uuid7(),
            case_id,
            version,
            goals,
            period_start,
            period_end,
            str(scope.caller.user_id),
            idempotency_key,
        )
    )
    fields = ("case_id", "version", "goals", "period_start", "period_end", "created_by")
    await audit.record(scope, action=CREATE_ACTION, entity="support_plan", entity_id=plan_id, fields=fields)
    return plan_id
