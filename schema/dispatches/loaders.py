"""A request's batch loaders of dispatches and visits (`scope.per_request(DispatchLoaders)`):
what fifty cases or dispatches on one page ask for is read in one statement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg
from strawberry.dataloader import DataLoader

from kizuna.platform.scope import Scope
from kizuna.schema.dispatches import service


def _grouped(keys: Sequence[uuid.UUID], rows: list[asyncpg.Record], column: str) -> list[list[asyncpg.Record]]:
    """The rows of each key, in the keys' order, each group in the rows' order."""
    groups: dict[uuid.UUID, list[asyncpg.Record]] = {key: [] for key in keys}
    for row in rows:
        groups[row[column]].append(row)
    return [groups[key] for key in keys]


class DispatchLoaders:
    """Rows, by case or by dispatch; the types make the answer's objects (and audit them)."""

    def __init__(self, scope: Scope) -> None:
        self._tx = scope.tx
        self.dispatches_of_case = DataLoader[uuid.UUID, list[asyncpg.Record]](load_fn=self._dispatches)
        self.open_dispatch_of_case = DataLoader[uuid.UUID, asyncpg.Record | None](load_fn=self._open)
        self.visits_of_dispatch = DataLoader[uuid.UUID, list[asyncpg.Record]](load_fn=self._visits)

    async def _dispatches(self, case_ids: list[uuid.UUID]) -> list[list[asyncpg.Record]]:
        return _grouped(case_ids, await service.dispatches_of_cases(self._tx, case_ids), "case_id")

    async def _open(self, case_ids: list[uuid.UUID]) -> list[asyncpg.Record | None]:
        # At most one per case (the partial unique index of migration 0019).
        return [
            group[0] if group else None
            for group in _grouped(case_ids, await service.open_dispatches_of_cases(self._tx, case_ids), "case_id")
        ]

    async def _visits(self, dispatch_ids: list[uuid.UUID]) -> list[list[asyncpg.Record]]:
        return _grouped(dispatch_ids, await service.visits_of_dispatches(self._tx, dispatch_ids), "dispatch_id")
