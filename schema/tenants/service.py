"""Organisations (a global directory) and the deployment's registry."""

from __future__ import annotations

import uuid

import asyncpg

from kizuna.platform.database import TenantTransaction
from kizuna.tenants.registry import LocalGovernment, by_code, for_prefecture

ORGANISATIONS_BY_ID = """
SELECT id, name, kind FROM kizuna.organisation WHERE id = ANY($1::uuid[])
"""


async def organisations_by_id(tx: TenantTransaction, ids: list[uuid.UUID]) -> dict[uuid.UUID, asyncpg.Record]:
    rows = await tx.fetch_global(ORGANISATIONS_BY_ID, ids)
    return {row["id"]: row for row in rows}


def deployment_registry(prefecture_code: str) -> tuple[LocalGovernment, ...]:
    return for_prefecture(prefecture_code)


def registry_entry(prefecture_code: str, code: str) -> LocalGovernment | None:
    """A local government of this deployment's prefecture, or None."""
    government = by_code(code)
    if government is None or government.prefecture_code != prefecture_code:
        return None
    return government
