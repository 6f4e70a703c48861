"""The stats read path (issue 16, items 1 and 4), tried in SQL as each role and through
GraphQL: a prefecture's analyst reads the published figures of its own prefecture and no
tenant table about people; a municipality's supervisor reads its own municipality's raw
figures and nobody else's; every other role reads nothing of `stats`; nothing the
prefecture is sent names a person, a case or any row.

The figures here are written by the superuser (committed first: on Citus a placement
written by one role cannot be read by another in the same transaction) and removed
afterwards, so these tests hold whatever the disclosure control decides;
tests/test_stats_refresh.py runs the real refresh.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import graphql
import pytest
from strawberry.printer import print_schema

from kizuna.platform.caller import Caller
from kizuna.platform.database import Database
from kizuna.platform.models import TENANT_TABLES
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.scope import open_scope
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.execution import Executor
from kizuna.schema.root import build_schema
from kizuna.schema.stats.publish import STATS_TABLES

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
SAITAMA_PREFECTURE = "110001"
KOCHI_CITY = "392014"
REFUSED = asyncpg.InsufficientPrivilegeError
COMPUTED_AT = dt.datetime(2026, 4, 2, 3, 0, tzinfo=dt.UTC)
"""When the published figures were counted (their edition); the raw ones are of a refresh since."""
REFRESHED_AT = COMPUTED_AT + dt.timedelta(days=9)
NEXT_EDITION_AT = COMPUTED_AT + dt.timedelta(days=30)
# What the superuser writes: さいたま市's young carers shown, 川越市's suppressed (a count of
# 3), 川越市's young adult carers 0 (shown as 0), the total; and a figure of Kochi's.
PUBLISHED = [
    ("11", "cases_by_category", 2024, SAITAMA_CITY, "young_carer", 12, "shown"),
    ("11", "cases_by_category", 2024, KAWAGOE, "young_carer", None, "suppressed"),
    ("11", "cases_by_category", 2024, KAWAGOE, "young_adult_carer", 0, "shown"),
    ("11", "cases_by_category", 2024, SAITAMA_CITY, "young_adult_carer", None, "suppressed"),
    ("11", "cases_by_category", 2024, "total", "young_carer", 15, "shown"),
    ("11", "cases_by_category", 2024, SAITAMA_CITY, "total", 14, "shown"),
    ("11", "cases_by_category", 2024, KAWAGOE, "total", None, "suppressed"),
    ("39", "cases_by_category", 2024, KOCHI_CITY, "young_carer", 777, "shown"),
]
RAW = [
    (SAITAMA_CITY, "cases_by_category", 2024, "young_carer", 12),
    (SAITAMA_CITY, "cases_by_category", 2024, "young_adult_carer", 2),
    (KAWAGOE, "cases_by_category", 2024, "young_carer", 3),
    (KOCHI_CITY, "cases_by_category", 2024, "young_carer", 777),
]
MEDIANS = [("11", 2024, SAITAMA_CITY, 21.5, "shown"), ("11", 2024, KAWAGOE, None, "too_few")]
RAW_MEDIANS = [(SAITAMA_CITY, 2024, 21.5, 9), (KAWAGOE, 2024, 30, 2)]
# Roles the matrix gives nothing of the figures.
OTHER_ROLES = [r for r in AppRole if r not in (AppRole.PREFECTURE_ANALYST, AppRole.SUPERVISOR)]
QUERY = """
query($figures: [Figure!], $years: [Int!]) {
  prefectureStats(figures: $figures, fiscalYears: $years) {
    computedAt nextEditionAt threshold unsuppressed
    fiscalYears { year western japanese }
    tables { figure label fiscalYear { year japanese } columns { category label }
             rows { municipalityCode values total withheld { column status } } }
    medians { fiscalYear { year } medians { municipalityCode days status } }
  }
}"""
TRENDS = """
query($years: [Int!], $latest: Boolean! = false) {
  prefectureStats(figures: [CASES_BY_CATEGORY], fiscalYears: $years, latestFiscalYear: $latest) {
    fiscalYears { year }
    tables { fiscalYear { year } rows { municipalityCode values total withheld { column status } } }
    medians { fiscalYear { year } }
    trends { figure label columns { category label }
             years { fiscalYear { year japanese } values total withheld { column status } } }
  }
}"""


def statuses(row: dict[str, Any]) -> list[str]:
    """Each value's status: SHOWN unless the row says why it is withheld."""
    why = {w["column"]: w["status"] for w in row["withheld"]}
    return [why.get(column, "SHOWN") for column in range(len(row["values"]))]


def total_status(row: dict[str, Any]) -> str:
    return next((w["status"] for w in row["withheld"] if w["column"] is None), "SHOWN")


def home_of(role: AppRole) -> str:
    return SAITAMA_PREFECTURE if role in (AppRole.PREFECTURE_ANALYST, AppRole.PLATFORM_ADMIN) else SAITAMA_CITY


async def _empty_stats(admin_conn: asyncpg.Connection) -> None:
    for table in STATS_TABLES:
        await admin_conn.execute(f"DELETE FROM stats.{table}")


@pytest.fixture
async def figures(admin_conn: asyncpg.Connection) -> AsyncIterator[None]:
    await _empty_stats(admin_conn)
    await admin_conn.executemany(
        "INSERT INTO stats.publication (prefecture_code, computed_at, k, edition_at, next_edition_at)"
        " VALUES ($1, $2, 5, $3, $4)",
        [(code, REFRESHED_AT, COMPUTED_AT, NEXT_EDITION_AT) for code in ("11", "39")],
    )
    await admin_conn.executemany("INSERT INTO stats.published_count VALUES ($1, $2, $3, $4, $5, $6, $7)", PUBLISHED)
    await admin_conn.executemany("INSERT INTO stats.raw_count VALUES ($1, $2, $3, $4, $5)", RAW)
    await admin_conn.executemany("INSERT INTO stats.published_median VALUES ($1, $2, $3, $4, $5)", MEDIANS)
    await admin_conn.executemany("INSERT INTO stats.raw_median VALUES ($1, $2, $3, $4)", RAW_MEDIANS)
    yield
    await _empty_stats(admin_conn)


@pytest.fixture
async def an_earlier_year(figures: None, admin_conn: asyncpg.Connection) -> None:
    """FY2023 as well: the total of the young carers, and a median (what lists a year)."""
    await admin_conn.execute(
        "INSERT INTO stats.published_count VALUES ('11', 'cases_by_category', 2023, 'total', 'young_carer', 9, 'shown')"
    )
    await admin_conn.execute(f"INSERT INTO stats.published_median VALUES ('11', 2023, '{SAITAMA_CITY}', 20, 'shown')")


@pytest.mark.usefixtures("figures")
class TestTheAnalystInSql:
    async def test_reads_the_published_figures_of_its_own_prefecture_only(self, as_user: Callable[..., Any]) -> None:
        async with as_user(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE) as conn:
            # Not even naming Kochi's prefecture finds its figures: row security.
            rows = await conn.fetch("SELECT prefecture_code, area FROM stats.published_count")
            kochi = await conn.fetch("SELECT * FROM stats.published_count WHERE prefecture_code = '39'")
            medians = await conn.fetch("SELECT DISTINCT prefecture_code FROM stats.published_median")
        assert {r["prefecture_code"] for r in rows} == {"11"}
        assert KOCHI_CITY not in {r["area"] for r in rows}
        assert kochi == []
        assert [r["prefecture_code"] for r in medians] == ["11"]

    @pytest.mark.parametrize("table", ["raw_count", "raw_median"])
    async def test_cannot_read_the_raw_figures(self, as_user: Callable[..., Any], table: str) -> None:
        async with as_user(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE) as conn:
            with pytest.raises(REFUSED):
                await conn.fetch(f"SELECT * FROM stats.{table}")

    async def test_reads_no_tenant_table_about_people(self, as_user: Callable[..., Any]) -> None:
        """What the analyst was granted before stays: its own membership, and the figures
        and submission states of its prefecture's municipalities (institutions and events,
        which it accepts: 0024); every table about people is refused."""
        readable = {}
        for table in TENANT_TABLES:
            async with as_user(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE) as conn:
                try:
                    rows = await conn.fetch(f"SELECT municipality_code FROM kizuna.{table}")
                except REFUSED:
                    continue
                readable[table] = {r["municipality_code"] for r in rows}
        assert set(readable) <= {"membership", "municipality_status", "programme_activity", "programme_submission"}
        assert readable["membership"] <= {SAITAMA_PREFECTURE}
        assert all(code.startswith("11") for codes in readable.values() for code in codes)

    @pytest.mark.parametrize("table", ["published_table", "published_edition"])
    async def test_cannot_read_what_only_the_refresh_reads(self, as_user: Callable[..., Any], table: str) -> None:
        async with as_user(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE) as conn:
            with pytest.raises(REFUSED):
                await conn.fetch(f"SELECT * FROM stats.{table}")

    @pytest.mark.parametrize(
        "statement",
        [
            "INSERT INTO stats.published_count VALUES ('11', 'closures', 2024, 'total', 'all', 1, 'shown')",
            "UPDATE stats.published_count SET value = 1",
            "DELETE FROM stats.published_count",
            "UPDATE stats.publication SET computed_at = now()",
        ],
    )
    async def test_cannot_change_the_figures(self, as_user: Callable[..., Any], statement: str) -> None:
        async with as_user(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE) as conn:
            with pytest.raises(REFUSED):
                await conn.execute(statement)


@pytest.mark.usefixtures("figures")
class TestTheSupervisorInSql:
    async def test_reads_the_raw_figures_of_its_own_municipality_only(self, as_user: Callable[..., Any]) -> None:
        async with as_user(AppRole.SUPERVISOR, SAITAMA_CITY) as conn:
            rows = await conn.fetch("SELECT municipality_code, value FROM stats.raw_count")
            kawagoe = await conn.fetch("SELECT * FROM stats.raw_count WHERE municipality_code = $1", KAWAGOE)
            medians = await conn.fetch("SELECT municipality_code FROM stats.raw_median")
        assert {r["municipality_code"] for r in rows} == {SAITAMA_CITY}
        assert kawagoe == []
        assert [r["municipality_code"] for r in medians] == [SAITAMA_CITY]

    @pytest.mark.parametrize("table", ["published_count", "published_median", "published_edition"])
    async def test_cannot_read_the_published_figures(self, as_user: Callable[..., Any], table: str) -> None:
        async with as_user(AppRole.SUPERVISOR, SAITAMA_CITY) as conn:
            with pytest.raises(REFUSED):
                await conn.fetch(f"SELECT * FROM stats.{table}")

    async def test_cannot_change_its_raw_figures(self, as_user: Callable[..., Any]) -> None:
        async with as_user(AppRole.SUPERVISOR, SAITAMA_CITY) as conn:
            with pytest.raises(REFUSED):
                await conn.execute("UPDATE stats.raw_count SET value = 0")


@pytest.mark.usefixtures("figures")
class TestASuppressedCount:
    async def test_cannot_be_read_from_the_raw_figures_by_any_app_role(self, as_user: Callable[..., Any]) -> None:
        """川越市's young carers (3) are suppressed for the prefecture: no app role other than
        川越市's own supervisor reads the 3, from `stats` or from the cases themselves."""
        for role in AppRole:
            async with as_user(role, home_of(role)) as conn:
                try:
                    rows = await conn.fetch("SELECT value FROM stats.raw_count WHERE municipality_code = $1", KAWAGOE)
                except REFUSED:
                    rows = []
                assert rows == [], role
            async with as_user(role, home_of(role)) as conn:
                try:
                    cases = await conn.fetch("SELECT id FROM kizuna.carer_case WHERE municipality_code = $1", KAWAGOE)
                except REFUSED:
                    cases = []
                assert cases == [], role


@pytest.mark.usefixtures("figures")
class TestEveryOtherRoleInSql:
    @pytest.mark.parametrize("role", OTHER_ROLES, ids=str)
    @pytest.mark.parametrize("table", STATS_TABLES)
    async def test_reads_nothing_of_stats(self, as_user: Callable[..., Any], role: AppRole, table: str) -> None:
        async with as_user(role, home_of(role)) as conn:
            with pytest.raises(REFUSED):
                await conn.fetch(f"SELECT * FROM stats.{table}")


@pytest.mark.usefixtures("figures")
class TestTheStatsRole:
    async def test_the_request_login_cannot_become_it(self, app_conn: asyncpg.Connection) -> None:
        async with app_conn.transaction():
            with pytest.raises(REFUSED):
                await app_conn.execute("SET LOCAL ROLE kizuna_stats")

    @pytest.mark.parametrize(
        "statement",
        [
            "SELECT family_name FROM kizuna.person",
            "SELECT birth_date FROM kizuna.person",
            "SELECT noticed FROM kizuna.referral",
            "SELECT decisions FROM kizuna.meeting",
            "SELECT assigned_worker_name FROM kizuna.carer_case",
            "SELECT observations FROM kizuna.helper_visit",
            "SELECT summary FROM kizuna.contact_log",
        ],
    )
    async def test_reads_no_name_and_no_free_text(self, admin_conn: asyncpg.Connection, statement: str) -> None:
        async with admin_conn.transaction():
            await admin_conn.execute("SET LOCAL ROLE kizuna_stats")
            with pytest.raises(REFUSED):
                await admin_conn.fetch(statement)

    async def test_reads_every_tenant_of_what_it_may(self, admin_conn: asyncpg.Connection) -> None:
        everything = await admin_conn.fetch("SELECT municipality_code, count(*) FROM kizuna.carer_case GROUP BY 1")
        async with admin_conn.transaction():
            await admin_conn.execute("SET LOCAL ROLE kizuna_stats")
            seen = await admin_conn.fetch("SELECT municipality_code, count(*) FROM kizuna.carer_case GROUP BY 1")
        assert sorted(seen) == sorted(everything)
        assert len(seen) >= 2


@pytest.mark.usefixtures("figures")
class TestThroughGraphQL:
    def test_the_analyst_gets_every_municipality_of_its_prefecture_suppressed(
        self, graphql: Callable[..., dict[str, Any]]
    ) -> None:
        body = graphql(QUERY, AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE, {"figures": ["CASES_BY_CATEGORY"]})
        stats = body["data"]["prefectureStats"]
        assert (stats["computedAt"], stats["nextEditionAt"]) == (COMPUTED_AT.isoformat(), NEXT_EDITION_AT.isoformat())
        assert (stats["threshold"], stats["unsuppressed"]) == (5, False)
        assert stats["fiscalYears"] == [{"year": 2024, "western": "2024年度", "japanese": "令和6年度"}]
        (table,) = stats["tables"]
        assert table["fiscalYear"] == {"year": 2024, "japanese": "令和6年度"}
        columns = [c["category"] for c in table["columns"]]
        rows = {
            r["municipalityCode"]: dict(zip(columns, zip(r["values"], statuses(r), strict=True), strict=True))
            for r in table["rows"]
        }
        assert rows[SAITAMA_CITY]["young_carer"] == (12, "SHOWN")
        assert rows[SAITAMA_CITY]["young_adult_carer"] == (None, "SUPPRESSED")
        assert rows[KAWAGOE]["young_carer"] == (None, "SUPPRESSED")
        assert rows[KAWAGOE]["young_adult_carer"] == (0, "SHOWN")
        assert rows[None]["young_carer"] == (15, "SHOWN")
        totals = {r["municipalityCode"]: (r["total"], total_status(r)) for r in table["rows"]}
        assert (totals[SAITAMA_CITY], totals[KAWAGOE]) == ((14, "SHOWN"), (None, "SUPPRESSED"))
        # Every municipality of Saitama is a row; none of another prefecture.
        codes = set(rows) - {None}
        assert len(codes) == 63
        assert all(code.startswith("11") for code in codes)
        medians = {m["municipalityCode"]: (m["days"], m["status"]) for m in stats["medians"][0]["medians"]}
        assert medians == {SAITAMA_CITY: (21.5, "SHOWN"), KAWAGOE: (None, "TOO_FEW")}

    def test_the_supervisor_gets_its_own_municipality_unsuppressed(
        self, graphql: Callable[..., dict[str, Any]]
    ) -> None:
        body = graphql(QUERY, AppRole.SUPERVISOR, KAWAGOE, {"figures": ["CASES_BY_CATEGORY"], "years": [2024]})
        stats = body["data"]["prefectureStats"]
        assert (stats["threshold"], stats["unsuppressed"]) == (None, True)
        assert (stats["computedAt"], stats["nextEditionAt"]) == (REFRESHED_AT.isoformat(), None)
        (table,) = stats["tables"]
        (row,) = table["rows"]
        columns = [c["category"] for c in table["columns"]]
        assert row["municipalityCode"] == KAWAGOE
        assert dict(zip(columns, row["values"], strict=True))["young_carer"] == 3
        assert row["withheld"] == []
        assert row["total"] == 3
        assert stats["medians"][0]["medians"] == [{"municipalityCode": KAWAGOE, "days": 30.0, "status": "SHOWN"}]

    @pytest.mark.parametrize(
        ("role", "tenant", "area"),
        [(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE, None), (AppRole.SUPERVISOR, KAWAGOE, KAWAGOE)],
        ids=["analyst", "supervisor"],
    )
    def test_a_trend_is_each_years_total_row_as_its_table_has_it(
        self, graphql: Callable[..., dict[str, Any]], role: AppRole, tenant: str, area: str | None
    ) -> None:
        """The analyst's trend is the prefecture's total row of every year's table (the same
        gaps, for the same reasons: nothing more is sent); the supervisor's its own row."""
        stats = graphql(TRENDS, role, tenant)["data"]["prefectureStats"]
        (trend,) = stats["trends"]
        assert (trend["figure"], trend["label"]) == ("CASES_BY_CATEGORY", "新規ケース数（ケアラー区分別）")
        assert [y["fiscalYear"] for y in trend["years"]] == [{"year": 2024, "japanese": "令和6年度"}]
        rows = {
            t["fiscalYear"]["year"]: next(r for r in t["rows"] if r["municipalityCode"] == area)
            for t in stats["tables"]
        }
        for year in trend["years"]:
            row = rows[year["fiscalYear"]["year"]]
            assert (year["values"], year["total"], year["withheld"]) == (row["values"], row["total"], row["withheld"])
        (year,) = trend["years"]
        columns = [c["category"] for c in trend["columns"]]
        if role is AppRole.PREFECTURE_ANALYST:
            # A count the total row does not publish is a gap with its reason, never 0.
            assert dict(zip(columns, statuses(year), strict=True))["young_adult_carer"] == "NOT_REPORTED"
            assert (year["values"][columns.index("young_carer")], year["total"], total_status(year)) == (
                15,
                None,
                "NOT_REPORTED",
            )
        else:
            assert (year["values"][columns.index("young_carer")], year["total"], year["withheld"]) == (3, 3, [])

    @pytest.mark.usefixtures("an_earlier_year")
    def test_the_tables_of_the_latest_year_and_the_trend_of_every_year(
        self, graphql: Callable[..., dict[str, Any]]
    ) -> None:
        stats = graphql(TRENDS, AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE, {"latest": True})["data"]
        stats = stats["prefectureStats"]
        assert [y["fiscalYear"]["year"] for y in stats["trends"][0]["years"]] == [2023, 2024]
        assert [t["fiscalYear"]["year"] for t in stats["tables"]] == [2024]
        assert [m["fiscalYear"]["year"] for m in stats["medians"]] == [2024]
        # Every year with figures is listed whatever the tables' years; a year without is none.
        asked = {"years": [2023, 2031], "latest": True}
        stats = graphql(TRENDS, AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE, asked)["data"]["prefectureStats"]
        assert stats["fiscalYears"] == [{"year": 2023}, {"year": 2024}]
        assert [t["fiscalYear"]["year"] for t in stats["tables"]] == [2023]
        stats = graphql(TRENDS, AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE, {"years": [2031]})["data"]
        assert (stats["prefectureStats"]["tables"], stats["prefectureStats"]["medians"]) == ([], [])
        assert len(stats["prefectureStats"]["trends"][0]["years"]) == 2

    @pytest.mark.parametrize("role", OTHER_ROLES, ids=str)
    def test_every_other_role_is_refused(self, graphql: Callable[..., dict[str, Any]], role: AppRole) -> None:
        body = graphql(QUERY, role, home_of(role))
        assert body["data"]["prefectureStats"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def statements_for(urls: DatabaseUrls, analyst: Any, query: str) -> list[str]:
    """The statements the analyst's `query` sends to `stats`."""
    seen: list[str] = []
    database = await Database.connect(urls.app, size=1, on_statement=seen.append)
    caller = Caller(
        analyst.user_id,
        "https://idp.example/",
        analyst.subject,
        analyst.role,
        SAITAMA_PREFECTURE,
        analyst.organisation_id,
    )
    executor = Executor(build_schema(), introspection=False)
    prepared = executor.prepare(query)
    assert prepared.document is not None
    try:
        async with open_scope(database, caller, request_id=uuid.uuid4().hex, readonly=True) as scope:
            result = await executor.execute(prepared.document, variables=None, context=scope, operation_name=None)
        assert result.errors is None, result.errors
    finally:
        await database.close()
    return [s for s in seen if "stats." in s]


@pytest.mark.usefixtures("figures")
async def test_only_the_parts_selected_are_read(urls: DatabaseUrls, user: Callable[..., Any]) -> None:
    analyst = user(AppRole.PREFECTURE_ANALYST, SAITAMA_PREFECTURE)
    # The publication and the years, always; then one statement for each part selected.
    years = await statements_for(urls, analyst, "{ prefectureStats { computedAt fiscalYears { year } } }")
    assert len(years) == 2
    everything = "{ prefectureStats { tables { label } medians { medians { days } } trends { label } } }"
    read = await statements_for(urls, analyst, everything)
    assert read[:2] == years
    assert [("stats.published_count" in s, "area = 'total'" in s, "published_median" in s) for s in read[2:]] == [
        (True, False, False),
        (False, False, True),
        (True, True, False),
    ]


# Fields that would name or point at a person, a case or a row, in any type the figures reach.
ROW_LEVEL = {
    "id",
    "name",
    "familyName",
    "givenName",
    "familyNameKana",
    "givenNameKana",
    "birthDate",
    "caseId",
    "personId",
    "householdId",
    "subject",
    "noticed",
    "summary",
    "decisions",
}


def test_nothing_the_figures_reach_names_a_person_or_a_row() -> None:
    """Walk every type reachable from `prefectureStats` in the printed SDL: no ID, no Node,
    no name, nothing row-level; only scalars, enums and the stats types."""
    schema = graphql.build_schema(print_schema(build_schema()))
    assert schema.query_type is not None
    field = schema.query_type.fields["prefectureStats"]
    seen: set[str] = set()
    pending = [graphql.get_named_type(field.type)]
    while pending:
        named = pending.pop()
        if named.name in seen:
            continue
        seen.add(named.name)
        assert named.name != "ID"
        if isinstance(named, graphql.GraphQLObjectType):
            assert not named.interfaces, named.name
            for name, child in named.fields.items():
                assert name not in ROW_LEVEL, f"{named.name}.{name}"
                pending.append(graphql.get_named_type(child.type))
    assert seen >= {"PrefectureStats", "StatsTable", "StatsRow", "FiscalYear", "CellStatus", "Figure"}
    assert seen <= {
        "StatsWithheld",
        "PrefectureStats",
        "StatsTable",
        "StatsRow",
        "StatsColumn",
        "FiscalYear",
        "CellStatus",
        "Figure",
        "StatsMedian",
        "StatsMedians",
        "StatsTrend",
        "StatsTrendYear",
        "DateTime",
        "String",
        "Int",
        "Float",
        "Boolean",
    }


async def test_the_list_of_stats_tables_is_the_schemas(admin_conn: asyncpg.Connection) -> None:
    """`publish.STATS_TABLES`, which the tests above try as every role, names every table of `stats`."""
    tables = await admin_conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'stats'")
    assert sorted(r["tablename"] for r in tables) == sorted(STATS_TABLES)
