"""A case's history (its append-only events, oldest first), loaded for every case of a
page in one statement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg
from strawberry.dataloader import DataLoader

from kizuna.platform.scope import Scope

EVENTS = """
SELECT case_id, kind, from_stage, to_stage, actor_name, reason, occurred_at FROM kizuna.case_event
WHERE municipality_code = $1 AND case_id = ANY($2::uuid[])
ORDER BY case_id, occurred_at, id
"""


def loader(scope: Scope) -> DataLoader[uuid.UUID, list[asyncpg.Record]]:
    """The request's loader: the cases asked for in one tick are read together."""

    async def load(case_ids: Sequence[uuid.UUID]) -> list[list[asyncpg.Record]]:
        found: dict[uuid.UUID, list[asyncpg.Record]] = {key: [] for key in case_ids}
        for row in await scope.tx.fetch(EVENTS, list(case_ids)):
            found[row["case_id"]].append(row)
        return [found[key] for key in case_ids]

    return DataLoader(load_fn=load)
