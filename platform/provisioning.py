"""Onboarding, over the administrative connection: the registry, the organisations
directory and a tenant's first memberships.

This is the one writer outside the request transaction, and it writes only what must
exist before any request can be made (a request needs a membership). It sets the tenant
with `SET LOCAL` so the row-security policies hold for it too when the administrative
role is the tables' owner rather than a superuser.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import asyncpg

from kizuna.platform.urls import asyncpg_dsn
from kizuna.platform.vocabulary import AppRole, IndicatorFigure, OrganisationKind
from kizuna.tenants.registry import LocalGovernment


@dataclass(frozen=True, slots=True)
class OrganisationRow:
    id: uuid.UUID
    kind: OrganisationKind
    name: str
    municipality_code: str


@dataclass(frozen=True, slots=True)
class IndicatorRow:
    prefecture_code: str
    code: str
    name: str
    unit: str
    figure: IndicatorFigure
    baseline: Decimal | None
    baseline_fiscal_year: int | None
    target: Decimal
    target_date: dt.date | None
    target_fiscal_year: int | None
    counted_from_fiscal_year: int | None


@dataclass(frozen=True, slots=True)
class UserRow:
    id: uuid.UUID
    issuer: str
    subject: str


@dataclass(frozen=True, slots=True)
class MembershipRow:
    id: uuid.UUID
    user_id: uuid.UUID
    display_name: str
    role: AppRole
    organisation_id: uuid.UUID


async def upsert_registry(conn: asyncpg.Connection, governments: Iterable[LocalGovernment]) -> None:
    await conn.executemany(
        """
        INSERT INTO kizuna.municipality (code, name, name_kana, kind, prefecture_code)
        VALUES ($1, $2, $3, $4::kizuna.municipality_kind, $5)
        ON CONFLICT (code) DO UPDATE
        SET name = excluded.name, name_kana = excluded.name_kana, kind = excluded.kind,
            prefecture_code = excluded.prefecture_code
        """,
        [(g.code, g.name, g.name_kana, g.kind.value, g.prefecture_code) for g in governments],
    )


async def add_indicators(conn: asyncpg.Connection, rows: Iterable[IndicatorRow]) -> None:
    """A prefecture's first indicators; one already there is left as it is (a retired one
    stays retired), since the prefecture's analysts keep them afterwards."""
    await conn.executemany(
        """
        INSERT INTO kizuna.indicator (prefecture_code, code, name, unit, figure, baseline, baseline_fiscal_year,
                                      target, target_date, target_fiscal_year, counted_from_fiscal_year)
        VALUES ($1, $2, $3, $4, $5::kizuna.indicator_figure, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (prefecture_code, code) DO NOTHING
        """,
        [
            (
                r.prefecture_code,
                r.code,
                r.name,
                r.unit,
                r.figure.value,
                r.baseline,
                r.baseline_fiscal_year,
                r.target,
                r.target_date,
                r.target_fiscal_year,
                r.counted_from_fiscal_year,
            )
            for r in rows
        ],
    )


async def upsert_organisations(conn: asyncpg.Connection, rows: Iterable[OrganisationRow]) -> None:
    await conn.executemany(
        """
        INSERT INTO kizuna.organisation (id, kind, name, municipality_code)
        VALUES ($1, $2::kizuna.organisation_kind, $3, $4)
        ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name,
            municipality_code = excluded.municipality_code
        """,
        [(o.id, o.kind.value, o.name, o.municipality_code) for o in rows],
    )


@contextlib.asynccontextmanager
async def admin_connection(admin_url: str) -> AsyncIterator[asyncpg.Connection]:
    """The administrative connection, for onboarding only; requests never use it."""
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        yield conn
    finally:
        await conn.close()


async def has_organisations(conn: asyncpg.Connection) -> bool:
    """Whether any organisation is onboarded (a global table: no tenant is involved)."""
    found: bool = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM kizuna.organisation)")
    return found


async def upsert_users(conn: asyncpg.Connection, rows: Sequence[UserRow]) -> dict[tuple[str, str], uuid.UUID]:
    """Register users by (issuer, subject); returns every row's id, the existing one for a
    user already known (a global table: no tenant is involved)."""
    found = await conn.fetch(
        """
        WITH wanted AS (
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]) AS w(id, issuer, subject)
        ), added AS (
            INSERT INTO kizuna.app_user (id, issuer, subject) SELECT id, issuer, subject FROM wanted
            ON CONFLICT (issuer, subject) DO NOTHING
            RETURNING issuer, subject, id
        )
        -- The statement's snapshot does not show the rows `added` inserts: take those from
        -- RETURNING and the ones that already existed from the table.
        SELECT issuer, subject, id FROM added
        UNION ALL
        SELECT u.issuer, u.subject, u.id FROM kizuna.app_user u
        JOIN wanted w ON w.issuer = u.issuer AND w.subject = u.subject
        """,
        [u.id for u in rows],
        [u.issuer for u in rows],
        [u.subject for u in rows],
    )
    return {(r["issuer"], r["subject"]): r["id"] for r in found}


async def add_memberships(conn: asyncpg.Connection, municipality_code: str, rows: Sequence[MembershipRow]) -> int:
    """Grant memberships in one tenant; returns how many are new.

    An existing membership (same user, role and organisation) is left as it is: running
    onboarding again must never bring back a membership that was revoked.
    """
    async with conn.transaction():
        # Provisioning only: the request path sets the tenant through kizuna.begin_request.
        await conn.execute(f"SET LOCAL kizuna.municipality = '{_checked_code(municipality_code)}'")
        inserted = await conn.fetch(
            """
            INSERT INTO kizuna.membership
                (municipality_code, id, user_id, display_name, role, organisation_id)
            SELECT $1, m.id, m.user_id, m.display_name, m.role, m.organisation_id
            FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::kizuna.app_role[], $6::uuid[])
                AS m(id, user_id, display_name, role, organisation_id)
            ON CONFLICT (municipality_code, user_id, role, organisation_id) DO NOTHING
            RETURNING id
            """,
            municipality_code,
            [m.id for m in rows],
            [m.user_id for m in rows],
            [m.display_name for m in rows],
            [m.role.value for m in rows],
            [m.organisation_id for m in rows],
        )
    return len(inserted)


async def registered_codes(conn: asyncpg.Connection) -> list[str]:
    """Every local government in the registry (a global table)."""
    return [r["code"] for r in await conn.fetch("SELECT code FROM kizuna.municipality ORDER BY code")]


async def remove_tenant_rows(conn: asyncpg.Connection, municipality_code: str, tables: Sequence[str]) -> int:
    """Delete every row of one tenant from `tables`, in their order (children first);
    returns how many. For `kizuna demo seed --reset` only, which refuses outside development.

    Run inside the caller's transaction or in one of its own; the tenant is set as for
    `add_memberships`, so the policies hold when the administrative role is the owner.
    """
    removed = 0
    async with conn.transaction():
        await conn.execute(f"SET LOCAL kizuna.municipality = '{_checked_code(municipality_code)}'")
        for table in tables:
            status = await conn.execute(f"DELETE FROM kizuna.{table} WHERE municipality_code = $1", municipality_code)
            removed += int(status.split()[-1])
    return removed


async def remove_users_and_organisations(conn: asyncpg.Connection) -> None:
    """Empty the users and the organisations directory (global tables); nothing may point
    at them any more: `remove_tenant_rows` goes first."""
    await conn.execute("DELETE FROM kizuna.app_user")
    await conn.execute("DELETE FROM kizuna.organisation")


def _checked_code(code: str) -> str:
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise ValueError(f"not a local-government code: {code!r}")
    return code
