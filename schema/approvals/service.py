"""Approvals of a case's support plan or closure (DESIGN section 4, as Primero does them):
requested by municipal staff → approved, or rejected with a reason, by a supervisor who
did not request it. The requester reads the decision among their notifications.

The database holds the same rules (migration 0015): staff insert only requests in their
own name, only a supervisor decides, only a requested approval, in their own name, and a
CHECK refuses a self-approval and a rejection without its reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import lru_cache

import asyncpg

from kizuna.platform import audit
from kizuna.platform.database import TenantTransaction
from kizuna.platform.i18n import Message
from kizuna.platform.ids import uuid7
from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import ApprovalStatus, ApprovalSubject, CaseEventKind, CaseStage
from kizuna.schema.cases import service as cases
from kizuna.schema.cases import workflow
from kizuna.schema.errors import Refused, UserErrorCode
from kizuna.schema.permissions import Operation, may
from kizuna.schema.relay import Keyset
from kizuna.schema.writes import check_text

REQUEST_ACTION = "approval.request"
DECIDE_ACTION = "approval.decide"
MAX_COMMENT_LENGTH = 1000

_COLUMNS = """
SELECT a.id, a.case_id, a.subject, a.support_plan_id, a.status, a.requested_by, a.requested_at,
       a.decided_by, a.decided_at, a.comment
FROM kizuna.approval a
WHERE a.municipality_code = $1"""
APPROVAL_BY_ID = f"{_COLUMNS} AND a.id = $2"
PLAN_OF_CASE = "SELECT id FROM kizuna.support_plan WHERE municipality_code = $1 AND id = $2 AND case_id = $3"
PENDING = """
SELECT id FROM kizuna.approval
WHERE municipality_code = $1 AND case_id = $2 AND subject = $3::kizuna.approval_subject AND status = 'requested'
"""
INSERT_APPROVAL = """
INSERT INTO kizuna.approval
    (municipality_code, id, case_id, subject, support_plan_id, status, requested_by, requested_at)
VALUES ($1, $2, $3, $4::kizuna.approval_subject, $5, 'requested', $6, now())
"""
DECIDE = """
UPDATE kizuna.approval SET status = $3::kizuna.approval_status, decided_by = $4, decided_at = now(), comment = $5
WHERE municipality_code = $1 AND id = $2 AND status = 'requested'
"""


@lru_cache(maxsize=32)
def page_sql(limit: int, *, status: bool, mine: bool, after: bool) -> str:
    """A page, newest first: waiting ones by their request, decided ones by their decision.
    `limit` is a validated int written as a literal (see cases)."""
    at = "a.requested_at" if not mine else "a.decided_at"
    conditions, n = "", 2
    if status:
        conditions += f" AND a.status = ${n}::kizuna.approval_status"
        n += 1
    if mine:  # what was decided about my requests: my notifications
        conditions += f" AND a.requested_by = ${n} AND a.status <> 'requested'"
        n += 1
    if after:
        conditions += f" AND ({at}, a.id) < (${n}, ${n + 1})"
    return f"{_COLUMNS}{conditions}\nORDER BY {at} DESC, a.id DESC\nLIMIT {int(limit)}"


async def approval_page(
    tx: TenantTransaction,
    *,
    first: int,
    after: Keyset | None,
    status: ApprovalStatus | None = None,
    requested_by: str | None = None,
) -> list[asyncpg.Record]:
    """Up to `first + 1` approvals (the extra one tells whether a next page exists)."""
    sql = page_sql(first + 1, status=status is not None, mine=requested_by is not None, after=after is not None)
    args: list[object] = [v for v in (status.value if status else None, requested_by) if v is not None]
    if after is not None:
        args += [after.at, after.id]
    return await tx.fetch(sql, *args)


# A case holds a request or two a stage; 100 bounds the answer.
MAX_OF_CASE = 100
# The newest of each case in $2, newest first: one statement for a page of cases (a window
# over the tenant's rows of those cases; on Citus one shard's).
APPROVALS_OF_CASES = f"""
SELECT id, case_id, subject, support_plan_id, status, requested_by, requested_at, decided_by, decided_at, comment
FROM (
    SELECT a.id, a.case_id, a.subject, a.support_plan_id, a.status, a.requested_by, a.requested_at,
           a.decided_by, a.decided_at, a.comment,
           row_number() OVER (PARTITION BY a.case_id ORDER BY a.requested_at DESC, a.id DESC) AS n
    FROM kizuna.approval a
    WHERE a.municipality_code = $1 AND a.case_id = ANY($2::uuid[])
) newest
WHERE n <= {MAX_OF_CASE}
ORDER BY case_id, requested_at DESC, id DESC"""


async def approvals_of(tx: TenantTransaction, case_ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    return await tx.fetch(APPROVALS_OF_CASES, list(case_ids))


async def access_approval(scope: Scope, approval_id: uuid.UUID) -> asyncpg.Record:
    """The approval `approval_id` of the scope's tenant; another tenant's id and an unknown
    one are refused alike (NOT_FOUND on `id`)."""
    row = await scope.tx.fetchrow(APPROVAL_BY_ID, approval_id)
    if row is None:
        raise Refused(UserErrorCode.NOT_FOUND, "id", Message.NO_SUCH_APPROVAL)
    return row


async def do_request_approval(
    scope: Scope, case_id: uuid.UUID, subject: ApprovalSubject, support_plan_id: uuid.UUID | None
) -> uuid.UUID:
    """Ask a supervisor to approve a case's support plan (`support_plan_id`, a plan of
    that case) or its closure, when the case's next move needs it; one request of a
    subject waits at a time. Writes the case's event and the audit event."""
    if not may(scope.role, Operation.REQUEST_APPROVAL):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.MAY_NOT_WORK_CASES)
    # Locked: two requests for one case take turns, so one waits at a time indeed.
    case = await cases.access_case(scope, case_id, field="caseId", lock=True)
    stage = CaseStage(case["stage"])
    if not any(t.approval is subject for t in workflow.allowed_transitions(stage)):
        raise Refused(UserErrorCode.CONFLICT, "subject", Message.APPROVAL_NOT_NOW)
    if (subject is ApprovalSubject.SUPPORT_PLAN) != (support_plan_id is not None):
        raise Refused(UserErrorCode.BAD_USER_INPUT, "supportPlanId", Message.PLAN_FOR_PLAN_APPROVAL_ONLY)
    if support_plan_id is not None and await scope.tx.fetchrow(PLAN_OF_CASE, support_plan_id, case_id) is None:
        raise Refused(UserErrorCode.NOT_FOUND, "supportPlanId", Message.NO_SUCH_SUPPORT_PLAN)
    if await scope.tx.fetchrow(PENDING, case_id, subject.value) is not None:
        raise Refused(UserErrorCode.CONFLICT, "subject", Message.APPROVAL_ALREADY_REQUESTED)
    approval_id = uuid7()
    me = str(scope.caller.user_id)
    await scope.tx.execute(INSERT_APPROVAL, approval_id, case_id, subject.value, support_plan_id, me)
    await cases.write_case_event(scope, case_id, CaseEventKind.APPROVAL_REQUESTED, reason=subject.label)
    fields = ("case_id", "subject", "support_plan_id", "status", "requested_by", "requested_at")
    await audit.record(scope, action=REQUEST_ACTION, entity="approval", entity_id=approval_id, fields=fields)
    return approval_id


async def do_decide_approval(scope: Scope, approval_id: uuid.UUID, *, approve: bool, comment: str | None) -> None:
    """A supervisor approves a requested approval, or rejects it with a reason; never one
    they requested themself. Writes the case's event and the audit event."""
    if not may(scope.role, Operation.DECIDE_APPROVAL):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.ONLY_SUPERVISOR_DECIDES)
    approval = await access_approval(scope, approval_id)
    if approval["status"] != ApprovalStatus.REQUESTED.value:
        raise Refused(UserErrorCode.CONFLICT, "id", Message.APPROVAL_ALREADY_DECIDED)
    me = str(scope.caller.user_id)
    if approval["requested_by"] == me:
        raise Refused(UserErrorCode.FORBIDDEN, "id", Message.SELF_APPROVAL)
    if comment is not None:
        check_text(comment, field="comment", message=Message.REASON_LENGTH, most=MAX_COMMENT_LENGTH)
    if not approve and comment is None:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "comment", Message.REJECTION_NEEDS_REASON)
    status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    changed = await scope.tx.execute(DECIDE, approval_id, status.value, me, comment)
    if changed != "UPDATE 1":
        raise Refused(UserErrorCode.CONFLICT, "id", Message.APPROVAL_ALREADY_DECIDED)
    kind = CaseEventKind.APPROVED if approve else CaseEventKind.REJECTED
    await cases.write_case_event(scope, approval["case_id"], kind, reason=comment)
    fields = ("status", "decided_by", "decided_at", "comment")
    await audit.record(scope, action=DECIDE_ACTION, entity="approval", entity_id=approval_id, fields=fields)
