"""Reading a case's records: by id (`node`), and as fields of a case (`Case.assessments`,
`meetings`, `latestMeeting`, `contactLogs`), each batched over the cases of the answer."""

from __future__ import annotations

import uuid

from kizuna.platform.scope import Scope
from kizuna.schema.permissions import Operation, require
from kizuna.schema.records import service
from kizuna.schema.records.loaders import CaseRecords
from kizuna.schema.records.types import (
    Assessment,
    ContactLog,
    ContactLogConnection,
    Meeting,
    contact_log_page,
    to_assessment,
    to_contact_log,
    to_meeting,
)
from kizuna.schema.relay import decode_cursor, page_size, register_node


async def case_assessments(scope: Scope, case_id: uuid.UUID) -> list[Assessment]:
    require(scope.caller, Operation.NODE_ASSESSMENT)
    rows = await scope.per_request(CaseRecords).assessments.load(case_id)
    return [to_assessment(scope, row) for row in rows]


async def case_meetings(scope: Scope, case_id: uuid.UUID) -> list[Meeting]:
    require(scope.caller, Operation.NODE_MEETING)
    rows = await scope.per_request(CaseRecords).meetings.load(case_id)
    return [to_meeting(scope, row) for row in rows]


async def case_latest_meeting(scope: Scope, case_id: uuid.UUID) -> Meeting | None:
    require(scope.caller, Operation.NODE_MEETING)
    row = await scope.per_request(CaseRecords).latest_meeting.load(case_id)
    return None if row is None else to_meeting(scope, row)


async def case_contact_logs(
    scope: Scope, case_id: uuid.UUID, *, first: int | None, after: str | None
) -> ContactLogConnection:
    require(scope.caller, Operation.NODE_CONTACT_LOG)
    size, keyset = page_size(first), decode_cursor(after)
    rows = await scope.per_request(CaseRecords).contact_logs.load((case_id, size, keyset))
    return contact_log_page(scope, rows, size=size, after=keyset)


async def _assessment_node(scope: Scope, key: uuid.UUID) -> Assessment | None:
    require(scope.caller, Operation.NODE_ASSESSMENT)
    row = await service.assessment_by_id(scope.tx, key)
    return None if row is None else to_assessment(scope, row)


async def _meeting_node(scope: Scope, key: uuid.UUID) -> Meeting | None:
    require(scope.caller, Operation.NODE_MEETING)
    row = await service.meeting_by_id(scope.tx, key)
    return None if row is None else to_meeting(scope, row)


async def _contact_log_node(scope: Scope, key: uuid.UUID) -> ContactLog | None:
    require(scope.caller, Operation.NODE_CONTACT_LOG)
    row = await service.contact_by_id(scope.tx, key)
    return None if row is None else to_contact_log(scope, row)


register_node("Assessment", tag=30, graphql_type=Assessment, table="assessment", resolve=_assessment_node)
register_node("Meeting", tag=31, graphql_type=Meeting, table="meeting", resolve=_meeting_node)
register_node("ContactLog", tag=32, graphql_type=ContactLog, table="contact_log", resolve=_contact_log_node)
