"""A case's history (its append-only events, oldest first): the newest `last` events of
every case of a page, in one statement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import lru_cache

import asyncpg
from strawberry.dataloader import DataLoader

from kizuna.platform.scope import Scope

# A case and how many of its newest events are asked for (`Case.history(last:)`).
HistoryPage = tuple[uuid.UUID, int]


@lru_cache(maxsize=8)
def events_sql(last: int) -> str:
    """The newest `last` events of each case in `$2`, oldest first; `last` is a validated
    int written as a literal (cases/service)."""
    return f"""
SELECT case_id, kind, from_stage, to_stage, actor_name, reason, occurred_at FROM (
    SELECT case_id, kind, from_stage, to_stage, actor_name, reason, occurred_at, id,
           row_number() OVER (PARTITION BY case_id ORDER BY occurred_at DESC, id DESC) AS n
    FROM kizuna.case_event
    WHERE municipality_code = $1 AND case_id = ANY($2::uuid[])
) newest
WHERE n <= {int(last)}
ORDER BY case_id, occurred_at, id"""


def loader(scope: Scope) -> DataLoader[HistoryPage, list[asyncpg.Record]]:
    """The request's loader: the cases asked for in one tick are read together, one
    statement per distinct `last` (in a list of cases, all ask the same)."""

    async def load(pages: Sequence[HistoryPage]) -> list[list[asyncpg.Record]]:
        found: dict[HistoryPage, list[asyncpg.Record]] = {page: [] for page in pages}
        for last in dict.fromkeys(last for _, last in pages):
            case_ids = [case_id for case_id, wanted in pages if wanted == last]
            for row in await scope.tx.fetch(events_sql(last), case_ids):
                found[(row["case_id"], last)].append(row)
        return [found[page] for page in pages]

    return DataLoader(load_fn=load)
