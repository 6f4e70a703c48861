"""Organisations (a global directory) and the deployment's registry."""

from __future__ import annotations

import uuid

import asyncpg

from kizuna.platform.database import TenantTransaction
from kizuna.platform.i18n import Message
from kizuna.schema.errors import Refused, UserErrorCode
from kizuna.tenants.registry import LocalGovernment, by_code, for_prefecture

ORGANISATIONS_BY_ID = """
SELECT id, name, kind FROM kizuna.organisation WHERE id = ANY($1::uuid[])
"""
ORGANISATION_TENANT = "SELECT municipality_code FROM kizuna.organisation WHERE id = $1"
ORGANISATIONS_SERVING = """
SELECT id, name, kind FROM kizuna.organisation
WHERE municipality_code = $1 AND ($2::kizuna.organisation_kind IS NULL OR kind = $2::kizuna.organisation_kind)
ORDER BY kind, name, id
"""


async def organisations_serving(
    tx: TenantTransaction, municipality_code: str, kind: str | None
) -> list[asyncpg.Record]:
    """The directory's organisations that serve a municipality (a global table: schools,
    agencies and departments, no person)."""
    rows: list[asyncpg.Record] = await tx.fetch_global(ORGANISATIONS_SERVING, municipality_code, kind)
    return rows


async def organisations_by_id(tx: TenantTransaction, ids: list[uuid.UUID]) -> dict[uuid.UUID, asyncpg.Record]:
    rows = await tx.fetch_global(ORGANISATIONS_BY_ID, ids)
    return {row["id"]: row for row in rows}


async def access_serving_organisation(tx: TenantTransaction, organisation_id: uuid.UUID, *, field: str) -> None:
    """Refuse an organisation that does not serve the transaction's tenant: NOT_FOUND for an
    unknown id, BAD_USER_INPUT for another municipality's (the directory is global: that it
    exists is no secret), both on `field`."""
    found = await tx.fetch_global(ORGANISATION_TENANT, organisation_id)
    if not found:
        raise Refused(UserErrorCode.NOT_FOUND, field, Message.NO_SUCH_ORGANISATION)
    if found[0]["municipality_code"] != tx.municipality_code:
        raise Refused(UserErrorCode.BAD_USER_INPUT, field, Message.ORGANISATION_ELSEWHERE)


def deployment_registry(prefecture_code: str) -> tuple[LocalGovernment, ...]:
    return for_prefecture(prefecture_code)


def registry_entry(prefecture_code: str, code: str) -> LocalGovernment | None:
    """A local government of this deployment's prefecture, or None."""
    government = by_code(code)
    if government is None or government.prefecture_code != prefecture_code:
        return None
    return government
