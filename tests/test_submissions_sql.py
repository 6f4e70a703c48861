"""Submission, acceptance and indicators held by the database (issue 16, items 2 and 3),
tried in SQL as each app role, inside request transactions opened as the request path
opens them (and rolled back).

Before migration 0024 a municipal supervisor's `UPDATE … SET submission = 'accepted'`
succeeded: municipal staff held INSERT and UPDATE on `municipality_status` and could mark
their own figures accepted (`TestOnlyThePrefectureDecides` failed so, first).

A second prefecture, 高知県 (390003) with 高知市 (392014), is seeded once for the session
(`kochi`) and removed afterwards, so that each prefecture's analyst can be tried against
the other's municipalities.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import asyncpg
import pytest

from kizuna.platform.models import TENANT_TABLES
from kizuna.platform.provisioning import remove_tenant_rows
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.urls import asyncpg_dsn
from kizuna.platform.vocabulary import AppRole
from kizuna.tenants import demo, demo_users
from kizuna.tenants.registry import for_prefecture
from kizuna.tests.conftest import Janitor

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
SAITAMA_PREFECTURE = "110001"
KOCHI_PREFECTURE = "390003"
KOCHI_CITY = "392014"
KOCHI = (KOCHI_PREFECTURE, KOCHI_CITY)
MUNICIPAL_ROLES = demo_users.MUNICIPAL_ROLES
# Fiscal years no demo row uses: the rows of these tests.
SUBMITTED_YEAR, DRAFT_YEAR, ACCEPTED_YEAR = 2090, 2091, 2092
SUBMISSION_TABLES = ("municipality_status", "programme_submission")
# What the prefecture may read of its municipalities; no other tenant table.
READABLE_BY_THE_PREFECTURE = {*SUBMISSION_TABLES, "programme_activity"}
Opener = Callable[..., contextlib.AbstractAsyncContextManager[asyncpg.Connection]]


@pytest.fixture(scope="module")  # not the session's: other modules count every prefecture there is
def kochi(urls: DatabaseUrls) -> Iterator[tuple[demo_users.DemoUser, ...]]:
    """高知県 and 高知市 with their demo data, users and indicators; removed afterwards."""
    summary = asyncio.run(demo.seed_demo(urls.admin, urls.app, prefecture="39", municipalities=list(KOCHI)))
    yield summary.users

    async def remove() -> None:
        conn = await asyncpg.connect(asyncpg_dsn(urls.admin))
        try:
            async with conn.transaction():
                # The demo gives every municipality of the prefecture its figures, not only these two.
                for government in for_prefecture("39"):
                    await remove_tenant_rows(conn, government.code, tuple(reversed(TENANT_TABLES)))
                await conn.execute("DELETE FROM kizuna.app_user WHERE id = ANY($1)", [u.user_id for u in summary.users])
                await conn.execute("DELETE FROM kizuna.organisation WHERE municipality_code = ANY($1)", list(KOCHI))
                await conn.execute("DELETE FROM kizuna.indicator WHERE prefecture_code = '39'")
        finally:
            await conn.close()

    asyncio.run(remove())


@pytest.fixture
def as_anyone(
    app_conn: asyncpg.Connection,
    user: Callable[[AppRole, str], demo_users.DemoUser],
    kochi: tuple[demo_users.DemoUser, ...],
) -> Opener:
    """`as_user`, for the demo users of Saitama's and Kochi's seeded tenants alike."""

    @contextlib.asynccontextmanager
    async def open_as(role: AppRole, municipality: str) -> AsyncIterator[asyncpg.Connection]:
        if municipality in KOCHI:
            me = next(u for u in kochi if u.role is role and u.municipality_code == municipality)
        else:
            me = user(role, municipality)
        transaction = app_conn.transaction()
        await transaction.start()
        try:
            await app_conn.execute(
                "SELECT kizuna.begin_request($1, $2, $3, $4)",
                role.value,
                municipality,
                str(me.user_id),
                str(me.organisation_id),
            )
            yield app_conn
        finally:
            await transaction.rollback()

    return open_as


STATUS_COLUMNS = (
    "municipality_code, id, fiscal_year, one_stop_window, complex_case_team, jusoteki, carer_salons,"
    " childrens_places, young_carer_coordinators, kodomo_katei_center, advisor_dispatch, submission,"
    " submitted_at, decided_at, decided_by, return_comment"
)


@pytest.fixture
async def submissions(admin_conn: asyncpg.Connection, janitor: Janitor, kochi: Any) -> AsyncIterator[None]:
    """Kawagoe's and Kochi city's status and programme submissions of the test years: one
    submitted, one a draft (status only), one accepted; written and removed by the superuser."""
    years = [SUBMITTED_YEAR, DRAFT_YEAR, ACCEPTED_YEAR]
    for code in (KAWAGOE, KOCHI_CITY):
        for year, state, submitted, decided in (
            (SUBMITTED_YEAR, "submitted", "now()", "NULL"),
            (DRAFT_YEAR, "draft", "NULL", "NULL"),
            (ACCEPTED_YEAR, "accepted", "now()", "now()"),
        ):
            await admin_conn.execute(
                f"INSERT INTO kizuna.municipality_status ({STATUS_COLUMNS}) VALUES ($1, $2, $3, true, false,"
                f" 'none', 1, 2, 0, false, false, '{state}', {submitted}, {decided}, NULL, NULL)",
                code,
                uuid.uuid4(),
                year,
            )
            if state != "draft":
                await admin_conn.execute(
                    "INSERT INTO kizuna.programme_submission"
                    " (municipality_code, id, fiscal_year, submission, submitted_at, decided_at)"
                    f" VALUES ($1, $2, $3, '{state}', {submitted}, {decided})",
                    code,
                    uuid.uuid4(),
                    year,
                )

    async def remove(conn: asyncpg.Connection) -> None:
        # A tenant a statement: on Citus, a DELETE naming several is a commit over their shards.
        for code in (KAWAGOE, KOCHI_CITY):
            for table in SUBMISSION_TABLES:
                await conn.execute(
                    f"DELETE FROM kizuna.{table} WHERE municipality_code = $1 AND fiscal_year = ANY($2)", code, years
                )

    yield
    await janitor.run(remove)


async def refused(conn: asyncpg.Connection, sql: str, *args: Any) -> bool:
    """Whether the statement changed nothing: refused by a grant, a policy or a CHECK
    (inside a savepoint, so the transaction goes on), or matched no row it may change."""
    try:
        async with conn.transaction():
            status: str = await conn.execute(sql, *args)
    except (asyncpg.InsufficientPrivilegeError, asyncpg.CheckViolationError):
        return True
    return status.endswith(" 0")


def _accept(table: str) -> str:
    return (
        f"UPDATE kizuna.{table} SET submission = 'accepted', decided_at = now(), decided_by = kizuna.current_user_id()"
        " WHERE municipality_code = $1 AND fiscal_year = $2"
    )


class TestOnlyThePrefectureDecides:
    @pytest.mark.parametrize("table", SUBMISSION_TABLES)
    @pytest.mark.parametrize("role", MUNICIPAL_ROLES, ids=str)
    @pytest.mark.usefixtures("submissions")
    async def test_no_municipal_role_accepts_its_own_figures(
        self, as_anyone: Opener, role: AppRole, table: str
    ) -> None:
        async with as_anyone(role, KAWAGOE) as conn:
            for year in (SUBMITTED_YEAR, DRAFT_YEAR):
                assert await refused(conn, _accept(table), KAWAGOE, year), (role, table, year)
            returned = (
                f"UPDATE kizuna.{table} SET submission = 'returned', decided_at = now(), return_comment = '自分で'"
                " WHERE municipality_code = $1 AND fiscal_year = $2"
            )
            assert await refused(conn, returned, KAWAGOE, SUBMITTED_YEAR)

    @pytest.mark.parametrize("role", MUNICIPAL_ROLES, ids=str)
    async def test_no_municipal_role_inserts_accepted_figures(self, as_anyone: Opener, role: AppRole) -> None:
        async with as_anyone(role, KAWAGOE) as conn:
            status = (
                f"INSERT INTO kizuna.municipality_status ({STATUS_COLUMNS}) VALUES ($1, $2, 2093, true, true,"
                " 'none', 0, 0, 0, false, false, 'accepted', now(), now(), kizuna.current_user_id(), NULL)"
            )
            assert await refused(conn, status, KAWAGOE, uuid.uuid4())
            programmes = (
                "INSERT INTO kizuna.programme_submission"
                " (municipality_code, id, fiscal_year, submission, submitted_at, decided_at)"
                " VALUES ($1, $2, 2093, 'accepted', now(), now())"
            )
            assert await refused(conn, programmes, KAWAGOE, uuid.uuid4())

    @pytest.mark.parametrize("table", SUBMISSION_TABLES)
    @pytest.mark.usefixtures("submissions")
    async def test_the_prefecture_accepts_and_returns_in_its_own_name(self, as_anyone: Opener, table: str) -> None:
        async with as_anyone(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE) as conn:
            assert await conn.execute(_accept(table), KAWAGOE, SUBMITTED_YEAR) == "UPDATE 1"
            back = (
                f"UPDATE kizuna.{table} SET submission = 'returned', decided_at = now(),"
                " decided_by = kizuna.current_user_id(), return_comment = '訂正のため'"
                " WHERE municipality_code = $1 AND fiscal_year = $2"
            )
            assert await conn.execute(back, KAWAGOE, ACCEPTED_YEAR) == "UPDATE 1"
            forged = (
                f"UPDATE kizuna.{table} SET submission = 'accepted', decided_at = now(), decided_by = $3"
                " WHERE municipality_code = $1 AND fiscal_year = $2"
            )
            assert await refused(conn, forged, KAWAGOE, ACCEPTED_YEAR, uuid.uuid4())
            # A returned one waits for the municipality, and a draft was never submitted.
            assert await refused(conn, _accept(table), KAWAGOE, ACCEPTED_YEAR)

    @pytest.mark.usefixtures("submissions")
    async def test_the_prefecture_does_not_decide_a_draft(self, as_anyone: Opener) -> None:
        async with as_anyone(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE) as conn:
            assert await refused(conn, _accept("municipality_status"), KAWAGOE, DRAFT_YEAR)

    @pytest.mark.parametrize("role", [AppRole.PLATFORM_ADMIN])
    @pytest.mark.usefixtures("submissions")
    async def test_an_administrator_decides_nothing(self, as_anyone: Opener, role: AppRole) -> None:
        async with as_anyone(role, SAITAMA_PREFECTURE) as conn:
            for table in SUBMISSION_TABLES:
                assert await refused(conn, _accept(table), KAWAGOE, SUBMITTED_YEAR)
                assert await refused(conn, f"SELECT 1 FROM kizuna.{table} WHERE municipality_code = $1", KAWAGOE)


class TestThePrefectureChangesNoFigure:
    @pytest.mark.usefixtures("submissions")
    async def test_it_cannot_edit_a_status(self, as_anyone: Opener) -> None:
        async with as_anyone(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE) as conn:
            edit = "UPDATE kizuna.municipality_status SET carer_salons = 99 WHERE municipality_code = $1"
            assert await refused(conn, edit, KAWAGOE)
            insert = (
                f"INSERT INTO kizuna.municipality_status ({STATUS_COLUMNS}) VALUES ($1, $2, 2093, true, true,"
                " 'none', 0, 0, 0, false, false, 'draft', NULL, NULL, NULL, NULL)"
            )
            assert await refused(conn, insert, KAWAGOE, uuid.uuid4())
            assert await refused(conn, "DELETE FROM kizuna.municipality_status WHERE municipality_code = $1", KAWAGOE)

    async def test_it_cannot_edit_a_municipalitys_programmes(self, as_anyone: Opener) -> None:
        async with as_anyone(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE) as conn:
            assert await conn.fetchval(
                "SELECT count(*) FROM kizuna.programme_activity WHERE municipality_code = $1", KAWAGOE
            )
            edit = "UPDATE kizuna.programme_activity SET participants = 1 WHERE municipality_code = $1"
            assert await refused(conn, edit, KAWAGOE)
            insert = (
                "INSERT INTO kizuna.programme_activity (municipality_code, id, fiscal_year, kind, title, participants)"
                " VALUES ($1, $2, 2025, 'outreach_lecture', '県が書いた', 10)"
            )
            assert await refused(conn, insert, KAWAGOE, uuid.uuid4())
            assert await refused(conn, "DELETE FROM kizuna.programme_activity WHERE municipality_code = $1", KAWAGOE)
            # Its own programmes, in its own tenant, it still keeps.
            assert not await refused(conn, insert, SAITAMA_PREFECTURE, uuid.uuid4())


class TestThePrefectureReadsItsMunicipalitiesFiguresOnly:
    @pytest.mark.parametrize("table", sorted(set(TENANT_TABLES) - READABLE_BY_THE_PREFECTURE))
    async def test_no_other_tenant_table(self, as_anyone: Opener, table: str) -> None:
        async with as_anyone(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE) as conn:
            sql = f"SELECT count(*) FROM kizuna.{table} WHERE municipality_code = ANY($1)"
            try:
                seen = await conn.fetchval(sql, [SAITAMA_CITY, KAWAGOE])
            except asyncpg.InsufficientPrivilegeError:
                return
            # Only the memberships row security shows a user everywhere: its own, in its own tenant.
            assert (table, seen) in {("membership", 0)}, (table, seen)

    @pytest.mark.parametrize("table", sorted(READABLE_BY_THE_PREFECTURE))
    @pytest.mark.usefixtures("submissions")
    async def test_its_own_prefectures_and_not_the_others(self, as_anyone: Opener, table: str) -> None:
        sql = f"SELECT DISTINCT municipality_code FROM kizuna.{table} WHERE municipality_code = ANY($1)"
        every = [SAITAMA_CITY, KAWAGOE, SAITAMA_PREFECTURE, *KOCHI]
        async with as_anyone(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE) as conn:
            seen = {r[0] for r in await conn.fetch(sql, every)}
        assert KAWAGOE in seen
        assert not seen & set(KOCHI)
        async with as_anyone(AppRole.PREFECTURE_ANALYST, KOCHI_PREFECTURE) as conn:
            seen = {r[0] for r in await conn.fetch(sql, every)}
        assert KOCHI_CITY in seen
        assert seen <= set(KOCHI)

    @pytest.mark.parametrize("table", SUBMISSION_TABLES)
    @pytest.mark.usefixtures("submissions")
    async def test_nor_decides_another_prefectures(self, as_anyone: Opener, table: str) -> None:
        async with as_anyone(AppRole.PREFECTURE_ANALYST, KOCHI_PREFECTURE) as conn:
            assert await refused(conn, _accept(table), KAWAGOE, SUBMITTED_YEAR)
            assert await conn.execute(_accept(table), KOCHI_CITY, SUBMITTED_YEAR) == "UPDATE 1"
        async with as_anyone(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE) as conn:
            assert await refused(conn, _accept(table), KOCHI_CITY, SUBMITTED_YEAR)

    @pytest.mark.parametrize("role", MUNICIPAL_ROLES, ids=str)
    @pytest.mark.usefixtures("submissions")
    async def test_a_municipality_reads_its_own_only(self, as_anyone: Opener, role: AppRole) -> None:
        async with as_anyone(role, KAWAGOE) as conn:
            for table in SUBMISSION_TABLES:
                sql = f"SELECT count(*) FROM kizuna.{table} WHERE municipality_code = ANY($1)"
                try:
                    async with conn.transaction():
                        other = await conn.fetchval(sql, [SAITAMA_CITY, KOCHI_CITY])
                except asyncpg.InsufficientPrivilegeError:
                    continue
                assert other == 0, (role, table)


class TestTheMunicipalityDraftsAndSubmits:
    @pytest.mark.usefixtures("submissions")
    async def test_a_supervisor_submits_a_draft_in_their_own_name(self, as_anyone: Opener) -> None:
        submit = (
            "UPDATE kizuna.municipality_status SET submission = 'submitted', submitted_at = now(), submitted_by = $3"
            " WHERE municipality_code = $1 AND fiscal_year = $2"
        )
        async with as_anyone(AppRole.SUPERVISOR, KAWAGOE) as conn:
            assert await refused(conn, submit, KAWAGOE, DRAFT_YEAR, uuid.uuid4())
            me = await conn.fetchval("SELECT kizuna.current_user_id()")
            assert await conn.execute(submit, KAWAGOE, DRAFT_YEAR, me) == "UPDATE 1"

    @pytest.mark.parametrize("role", [AppRole.COORDINATOR, AppRole.CASEWORKER, AppRole.MUNICIPAL_SYSTEM])
    @pytest.mark.usefixtures("submissions")
    async def test_only_a_supervisor_submits(self, as_anyone: Opener, role: AppRole) -> None:
        async with as_anyone(role, KAWAGOE) as conn:
            submit = (
                "UPDATE kizuna.municipality_status SET submission = 'submitted', submitted_at = now(),"
                " submitted_by = kizuna.current_user_id() WHERE municipality_code = $1 AND fiscal_year = $2"
            )
            assert await refused(conn, submit, KAWAGOE, DRAFT_YEAR)

    @pytest.mark.parametrize("role", [AppRole.COORDINATOR, AppRole.SUPERVISOR])
    @pytest.mark.usefixtures("submissions")
    async def test_drafters_edit_a_draft_and_nothing_submitted_or_accepted(
        self, as_anyone: Opener, role: AppRole
    ) -> None:
        edit = (
            "UPDATE kizuna.municipality_status SET carer_salons = 7 WHERE municipality_code = $1 AND fiscal_year = $2"
        )
        async with as_anyone(role, KAWAGOE) as conn:
            assert await conn.execute(edit, KAWAGOE, DRAFT_YEAR) == "UPDATE 1"
            for year in (SUBMITTED_YEAR, ACCEPTED_YEAR):
                assert await refused(conn, edit, KAWAGOE, year)
            assert await refused(conn, "DELETE FROM kizuna.municipality_status WHERE municipality_code = $1", KAWAGOE)

    @pytest.mark.usefixtures("submissions")
    async def test_a_caseworker_reads_and_writes_nothing(self, as_anyone: Opener) -> None:
        async with as_anyone(AppRole.CASEWORKER, KAWAGOE) as conn:
            assert await conn.fetchval(
                "SELECT count(*) FROM kizuna.municipality_status WHERE municipality_code = $1", KAWAGOE
            )
            edit = "UPDATE kizuna.municipality_status SET carer_salons = 7 WHERE municipality_code = $1"
            assert await refused(conn, edit, KAWAGOE)
            record = (
                "INSERT INTO kizuna.programme_activity (municipality_code, id, fiscal_year, kind, title, participants)"
                " VALUES ($1, $2, 2025, 'outreach_lecture', '出前授業', 10)"
            )
            assert await refused(conn, record, KAWAGOE, uuid.uuid4())


class TestIndicators:
    INSERT = (
        "INSERT INTO kizuna.indicator (prefecture_code, code, name, unit, figure, target, target_fiscal_year)"
        " VALUES ($1, 'sql_test', '試験', '人', 'support_staff_trained', 1, 2026)"
    )
    RETIRE = "UPDATE kizuna.indicator SET retired_at = now() WHERE prefecture_code = $1 AND code = $2"

    @pytest.mark.parametrize("role", list(AppRole), ids=str)
    async def test_every_role_reads_them(self, as_anyone: Opener, role: AppRole) -> None:
        home = SAITAMA_PREFECTURE if role in demo_users.PREFECTURE_ROLES else KAWAGOE
        async with as_anyone(role, home) as conn:
            assert await conn.fetchval("SELECT count(*) FROM kizuna.indicator WHERE prefecture_code = '11'") == 7

    @pytest.mark.usefixtures("kochi")
    async def test_an_analyst_adds_and_retires_its_own_prefectures_only(self, as_anyone: Opener) -> None:
        async with as_anyone(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE) as conn:
            assert await conn.execute(self.INSERT, "11") == "INSERT 0 1"
            assert await refused(conn, self.INSERT, "39")
            assert await conn.execute(self.RETIRE, "11", "one_stop_window") == "UPDATE 1"
            assert await refused(conn, self.RETIRE, "11", "one_stop_window")  # retired once, for good
            assert await refused(conn, self.RETIRE, "39", "young_carer_awareness_junior_high")
            assert await refused(conn, "UPDATE kizuna.indicator SET target = 1 WHERE prefecture_code = '11'")
            assert await refused(conn, "DELETE FROM kizuna.indicator WHERE prefecture_code = '11'")
        async with as_anyone(AppRole.PREFECTURE_ANALYST, KOCHI_PREFECTURE) as conn:
            assert await refused(conn, self.RETIRE, "11", "carer_salon")
            assert await conn.execute(self.RETIRE, "39", "young_carer_awareness_junior_high") == "UPDATE 1"

    @pytest.mark.parametrize("role", [*MUNICIPAL_ROLES, AppRole.PLATFORM_ADMIN], ids=str)
    async def test_no_other_role_adds_or_retires(self, as_anyone: Opener, role: AppRole) -> None:
        home = SAITAMA_PREFECTURE if role is AppRole.PLATFORM_ADMIN else KAWAGOE
        async with as_anyone(role, home) as conn:
            assert await refused(conn, self.INSERT, "11")
            assert await refused(conn, self.RETIRE, "11", "carer_salon")
