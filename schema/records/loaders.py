"""This request's batched reads of case records: whatever the answer's cases and meetings
ask for (a page of 50 cases' latest meetings, their participants) is read in one
statement per kind. Made once per request (`scope.per_request(CaseRecords)`); the rows
are the answer's to convert and audit (schema/records/types.py)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

import asyncpg
from strawberry.dataloader import DataLoader

from kizuna.platform.database import TenantTransaction
from kizuna.platform.scope import Scope
from kizuna.schema.records import service
from kizuna.schema.relay import Keyset

Rows = list[asyncpg.Record]
# A case and the page of its contact logs asked for: first, after
ContactPage = tuple[uuid.UUID, int, Keyset | None]


def _grouped(rows: Rows, column: str, keys: Sequence[uuid.UUID]) -> list[Rows]:
    by_key: defaultdict[uuid.UUID, Rows] = defaultdict(list)
    for row in rows:
        by_key[row[column]].append(row)
    return [by_key[key] for key in keys]


class CaseRecords:
    """The loaders of one request (strawberry's DataLoader: the keys asked for in one tick
    of the event loop become one statement)."""

    def __init__(self, scope: Scope) -> None:
        self._tx: TenantTransaction = scope.tx
        self.assessments = DataLoader[uuid.UUID, Rows](load_fn=self._assessments)
        self.meetings = DataLoader[uuid.UUID, Rows](load_fn=self._meetings)
        self.latest_meeting = DataLoader[uuid.UUID, asyncpg.Record | None](load_fn=self._latest_meetings)
        self.participants = DataLoader[uuid.UUID, Rows](load_fn=self._participants)
        self.contact_logs = DataLoader[ContactPage, Rows](load_fn=self._contact_logs)

    async def _assessments(self, case_ids: list[uuid.UUID]) -> list[Rows]:
        return _grouped(await service.assessments_of(self._tx, case_ids), "case_id", case_ids)

    async def _meetings(self, case_ids: list[uuid.UUID]) -> list[Rows]:
        return _grouped(await service.meetings_of(self._tx, case_ids), "case_id", case_ids)

    async def _latest_meetings(self, case_ids: list[uuid.UUID]) -> list[asyncpg.Record | None]:
        latest = {row["case_id"]: row for row in await service.latest_meetings(self._tx, case_ids)}
        return [latest.get(case_id) for case_id in case_ids]

    async def _participants(self, meeting_ids: list[uuid.UUID]) -> list[Rows]:
        return _grouped(await service.participants_of(self._tx, meeting_ids), "meeting_id", meeting_ids)

    async def _contact_logs(self, pages: list[ContactPage]) -> list[Rows]:
        """One statement per distinct page asked for (in a list of cases, all ask the same)."""
        found: dict[ContactPage, Rows] = {}
        for first, after in dict.fromkeys((first, after) for _, first, after in pages):
            case_ids = [case_id for case_id, f, a in pages if (f, a) == (first, after)]
            rows = await service.contact_logs_of(self._tx, case_ids, first=first, after=after)
            for case_id, logs in zip(case_ids, _grouped(rows, "case_id", case_ids), strict=True):
                found[(case_id, first, after)] = logs
        return [found[page] for page in pages]
