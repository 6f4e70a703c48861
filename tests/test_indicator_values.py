"""Indicator values (issue 16, item 3): the stats refresh computes each indicator's value by
fiscal year from accepted figures only (a submitted or returned year counts nothing), a
cumulative one from its `counted_from_fiscal_year`, a survey's only when every age group
was asked; a retired indicator gets none. Each expectation is worked out here from the rows
the test inserts and the demo's rows read past row security, not by the code under test.
Read through GraphQL by the prefecture's analyst (with the municipalities missing) and a
municipal supervisor (without them); nobody else, in GraphQL or in SQL.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import statistics
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest

from kizuna.platform import stats_refresh
from kizuna.platform.ids import uuid7
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.urls import asyncpg_dsn
from kizuna.platform.vocabulary import AppRole, IndicatorFigure
from kizuna.schema.stats import indicator_values, publish, refresh, sources
from kizuna.schema.stats.publish import STATS_TABLES
from kizuna.tenants.registry import for_prefecture
from kizuna.tests.test_exports import get, open_csv, open_xlsx

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
PREFECTURE = "110001"
YEAR = 2030
"""A fiscal year the demo leaves empty: the latest any figure stands for."""
REFUSED = asyncpg.InsufficientPrivilegeError
WHEN = dt.datetime(2031, 5, 20, 10, tzinfo=dt.UTC)
INTERVAL = dt.timedelta(days=30)
STATUS = """
INSERT INTO kizuna.municipality_status
    (municipality_code, id, fiscal_year, one_stop_window, complex_case_team, jusoteki, carer_salons, childrens_places,
     young_carer_coordinators, kodomo_katei_center, advisor_dispatch, submission, submitted_at, decided_at,
     return_comment)
VALUES ($1, $2, $3, $4, $5, 'none', $6, $7, 0, $8, false, $9, $10, $10, $11)
"""
PROGRAMMES = """
INSERT INTO kizuna.programme_submission (municipality_code, id, fiscal_year, submission, submitted_at, decided_at)
VALUES ($1, $2, $3, $4, $5, $6)
"""
ACTIVITY = """
INSERT INTO kizuna.programme_activity
    (municipality_code, id, fiscal_year, kind, title, participants, companies, age_group, percent)
VALUES ($1, $2, $3, $4, '試験', $5, $6, $7, $8)
"""
INDICATOR = """
INSERT INTO kizuna.indicator (prefecture_code, code, name, unit, figure, target, target_date, target_fiscal_year,
                              counted_from_fiscal_year, created_at, retired_at)
VALUES ('11', $1, '試験の指標', '人', $2, $3, $4, $5, $6, now() - interval '1 day', $7)
"""
# The truth past row security: a programme's total counts a municipality's accepted years
# and the prefecture's own rows, from a first fiscal year to a last.
TRUE_PROGRAMME_SUM = """
SELECT coalesce(sum(CASE WHEN $2 = 'companies' THEN a.companies ELSE a.participants END), 0)
FROM kizuna.programme_activity a
LEFT JOIN kizuna.programme_submission s ON s.municipality_code = a.municipality_code AND s.fiscal_year = a.fiscal_year
WHERE a.kind = $1::kizuna.programme_kind AND a.fiscal_year BETWEEN $3 AND $4 AND left(a.municipality_code, 2) = '11'
  AND (s.submission = 'accepted' OR a.municipality_code = '110001')
"""
VALUES_QUERY = """
query($all: Boolean!) {
  indicators(includeRetired: $all) {
    key baseline target deadline deadlinePassed retiredAt
    currentValue {
      fiscalYear { year japanese } value computedAt progress targetReached
      coverage { reported municipalities notReported }
    }
    values { fiscalYear { year } value }
  }
}"""


async def _empty_stats(admin_conn: asyncpg.Connection) -> None:
    for table in STATS_TABLES:
        await admin_conn.execute(f"DELETE FROM stats.{table}")


SEEDED = [SAITAMA_CITY, KAWAGOE, PREFECTURE]
ROWS = [
    (STATUS, SAITAMA_CITY, YEAR, False, True, 2, 31, True, "accepted", WHEN, None),
    (STATUS, KAWAGOE, YEAR, True, False, 4, 9, True, "returned", WHEN, "確認してください"),
    (PROGRAMMES, SAITAMA_CITY, YEAR, "accepted", WHEN, WHEN),
    (PROGRAMMES, KAWAGOE, YEAR, "submitted", WHEN, None),
    (ACTIVITY, SAITAMA_CITY, YEAR, "support_staff_training", 50, None, None, None),
    (ACTIVITY, SAITAMA_CITY, YEAR, "business_carer_seminar", 20, 12, None, None),
    (ACTIVITY, KAWAGOE, YEAR, "support_staff_training", 70, None, None, None),
    (ACTIVITY, KAWAGOE, YEAR, "business_carer_seminar", 15, 9, None, None),
    (ACTIVITY, PREFECTURE, YEAR, "support_staff_training", 100, None, None, None),
    (ACTIVITY, PREFECTURE, YEAR, "business_carer_seminar", 45, 30, None, None),
    (ACTIVITY, PREFECTURE, YEAR, "awareness_survey", None, None, "30代", Decimal("60.0")),
    (ACTIVITY, PREFECTURE, YEAR, "awareness_survey", None, None, "40代", Decimal("64.0")),
]
INDICATORS = [
    ("staff_from_2030", "support_staff_trained", Decimal(1000), None, YEAR, YEAR, None),
    ("retired_one", "municipalities_with_window_or_team", Decimal(63), dt.date(2021, 4, 1), None, None, WHEN),
]


async def _remove(admin_conn: asyncpg.Connection, year: int, codes: Sequence[str]) -> None:
    """The stats, the indicators `codes` and the seeded tenants' figures of `year` (named by
    tenant: on Citus, a DELETE without one is a two-phase commit over every shard)."""
    await _empty_stats(admin_conn)
    await admin_conn.execute("DELETE FROM kizuna.indicator WHERE prefecture_code = '11' AND code = ANY($1)", codes)
    for table in ("programme_activity", "programme_submission", "municipality_status"):
        await admin_conn.execute(
            f"DELETE FROM kizuna.{table} WHERE municipality_code = ANY($1) AND fiscal_year = $2", SEEDED, year
        )


@pytest.fixture(scope="module")
def refreshed(urls: DatabaseUrls) -> Iterator[None]:
    """FY2030's figures, as the superuser, committed (the refresh reads committed rows):
    さいたま市's status and programmes accepted; 川越市's status returned and its programmes
    submitted, not yet accepted; the prefecture's own training, seminar and a survey that
    asked two of its three age groups. Two indicators more: one counted from FY2030, one
    retired. Then one refresh for the module; all of it removed afterwards."""

    async def insert_and_refresh() -> None:
        conn = await asyncpg.connect(asyncpg_dsn(urls.admin))
        try:
            for sql, code, *args in ROWS:
                await conn.execute(sql, code, uuid7(), *args)
            for row in INDICATORS:
                await conn.execute(INDICATOR, *row)
            await _empty_stats(conn)
            await refresh.refresh(conn, k=5, interval=INTERVAL)
        finally:
            await conn.close()

    async def remove() -> None:
        conn = await asyncpg.connect(asyncpg_dsn(urls.admin))
        try:
            await _remove(conn, YEAR, [code for code, *_ in INDICATORS])
        finally:
            await conn.close()

    try:
        asyncio.run(insert_and_refresh())
        yield
    finally:
        asyncio.run(remove())


async def _published(admin_conn: asyncpg.Connection) -> dict[tuple[str, int], asyncpg.Record]:
    rows = await admin_conn.fetch("SELECT * FROM stats.indicator_value WHERE prefecture_code = '11'")
    return {(r["indicator_code"], r["fiscal_year"]): r for r in rows}


SAITAMA = [g.code for g in for_prefecture("11") if not g.is_prefecture]


@pytest.mark.usefixtures("refreshed")
class TestTheRefresh:
    async def test_status_figures_count_the_accepted_municipalities_of_the_year(
        self, admin_conn: asyncpg.Connection
    ) -> None:
        """FY2030: only さいたま市's accepted status counts (a team, no window; 2 salons; 31
        places); 川越市's returned one adds nothing and is missing, with the 61 silent."""
        published = await _published(admin_conn)
        expected = {"one_stop_window": 1, "carer_salon": 1, "childrens_places": 31}
        for code, value in expected.items():
            row = published[code, YEAR]
            assert row["value"] == value, code
            assert (row["reported"], row["municipalities"]) == (1, 63)
            assert row["not_reported"] == [m for m in SAITAMA if m != SAITAMA_CITY]
        # Every year with accepted statuses has its value, the demo's included.
        years = {r["fiscal_year"] for r in await admin_conn.fetch(
            "SELECT DISTINCT fiscal_year::int AS fiscal_year FROM kizuna.municipality_status"
            " WHERE submission = 'accepted' AND left(municipality_code, 2) = '11'"
        )}  # fmt: skip
        assert {y for code, y in published if code == "one_stop_window"} == years

    async def test_programmes_count_accepted_years_and_the_prefectures_own_from_the_first_year(
        self, admin_conn: asyncpg.Connection
    ) -> None:
        published = await _published(admin_conn)
        # Counted from FY2030: さいたま市's 50 and the prefecture's 100; 川越市's 70 waits.
        assert published["staff_from_2030", YEAR]["value"] == 150
        assert not [y for code, y in published if code == "staff_from_2030" and y < YEAR]
        # The seeded ones (seed 000): people from FY2021, companies from FY2024, on.
        for code, kind, column, first in (
            ("support_staff_trained", "support_staff_training", "participants", 2021),
            ("education_welfare_training", "education_welfare_training", "participants", 2021),
            ("business_carer_seminar_companies", "business_carer_seminar", "companies", 2024),
        ):
            for (found, year), row in published.items():
                if found == code:
                    assert year >= first
                    assert row["value"] == await admin_conn.fetchval(TRUE_PROGRAMME_SUM, kind, column, first, year)
        assert published["business_carer_seminar_companies", YEAR]["value"] == await admin_conn.fetchval(
            TRUE_PROGRAMME_SUM, "business_carer_seminar", "companies", 2024, YEAR - 1
        ) + (12 + 30)
        row = published["support_staff_trained", YEAR]
        assert (row["reported"], row["municipalities"]) == (1, 63)
        assert KAWAGOE in row["not_reported"]

    async def test_a_survey_counts_only_a_year_that_asked_every_group(self, admin_conn: asyncpg.Connection) -> None:
        """FY2030's survey asked 30代 and 40代, not 50代: the latest value is the year before
        that asked all three, their mean; a survey is the prefecture's own (no coverage)."""
        published = await _published(admin_conn)
        years = sorted(y for code, y in published if code == "community_center_awareness")
        assert years
        assert YEAR not in years
        percents = await admin_conn.fetch(
            "SELECT age_group, percent FROM kizuna.programme_activity WHERE municipality_code = $1"
            " AND kind = 'awareness_survey' AND fiscal_year = $2",
            PREFECTURE,
            years[-1],
        )
        assert sorted(r["age_group"] for r in percents) == ["30代", "40代", "50代"]
        row = published["community_center_awareness", years[-1]]
        assert row["value"] == statistics.mean(r["percent"] for r in percents).quantize(Decimal("0.01"))
        assert (row["reported"], row["municipalities"], row["not_reported"]) == (None, None, None)

    async def test_a_retired_indicator_is_not_computed(self, admin_conn: asyncpg.Connection) -> None:
        assert not [key for key in await _published(admin_conn) if key[0] == "retired_one"]

    async def test_the_values_never_read_the_protected_counts(self, admin_conn: asyncpg.Connection) -> None:
        """Cases, referrals, closures, visits and conference days removed, the same values:
        nothing about people's records reaches an indicator, where nothing is suppressed."""
        async with stats_refresh.as_stats(admin_conn, readonly=True):
            raw = publish.by_prefecture(await sources.read_every_tenant(admin_conn))["11"]
            more = await sources.read_for_indicators(admin_conn)
        assert raw.counts
        assert raw.conference_days
        without = dataclasses.replace(raw, counts=[], conference_days=[])
        computed = indicator_values.compute("11", raw, more)
        assert computed == indicator_values.compute("11", without, more)
        assert len(computed) == len(await _published(admin_conn))


def test_every_figure_has_one_way_to_compute_it() -> None:
    ways = [indicator_values.FROM_STATUS, indicator_values.FROM_PROGRAMMES, indicator_values.FROM_SURVEYS]
    assert sorted(f for way in ways for f in way) == sorted(IndicatorFigure)


@pytest.mark.parametrize(
    ("value", "baseline", "target", "progress", "reached"),
    [
        ("26", "26", "63", "0.0", False),  # at the baseline
        ("44.5", "26", "63", "50.0", False),
        ("63", "26", "63", "100.0", True),
        ("70", "26", "63", "118.9", True),  # past the target
        ("20", "26", "63", "-16.2", False),  # fell back
        ("49.9", None, "70", "71.3", False),  # no baseline: value / target
        ("10", "40", "20", "150.0", True),  # a target below its baseline, reached going down
        ("5", "5", "5", None, True),  # nowhere to go
    ],
)
def test_progress_from_baseline_to_target(
    value: str, baseline: str | None, target: str, progress: str | None, reached: bool
) -> None:
    start = None if baseline is None else Decimal(baseline)
    found = indicator_values.progress(Decimal(value), baseline=start, target=Decimal(target))
    assert found == (None if progress is None else Decimal(progress))
    assert indicator_values.target_reached(Decimal(value), baseline=start, target=Decimal(target)) is reached


def test_the_deadline_is_the_date_or_the_fiscal_years_last_day() -> None:
    assert indicator_values.deadline(dt.date(2027, 4, 1), None) == dt.date(2027, 4, 1)
    assert indicator_values.deadline(None, 2026) == dt.date(2027, 3, 31)


@pytest.mark.usefixtures("refreshed")
class TestThroughGraphQL:
    def test_the_analyst_reads_values_progress_and_who_is_missing(self, graphql: Callable[..., dict[str, Any]]) -> None:
        body = graphql(VALUES_QUERY, AppRole.PREFECTURE_ANALYST, PREFECTURE, {"all": True})
        by_key = {i["key"]: i for i in body["data"]["indicators"]}
        window = by_key["one_stop_window"]
        current = window["currentValue"]
        assert current["fiscalYear"] == {"year": YEAR, "japanese": "令和12年度"}
        assert Decimal(current["value"]) == 1
        # seed 001: 26 municipalities in FY2020, all 63 by 2027-04-01: (1 − 26) / (63 − 26)
        assert Decimal(current["progress"]) == ((Decimal(1) - 26) / (63 - 26) * 100).quantize(Decimal("0.1"))
        assert current["targetReached"] is False
        assert current["coverage"] == {
            "reported": 1,
            "municipalities": 63,
            "notReported": [m for m in SAITAMA if m != SAITAMA_CITY],
        }
        assert [v["fiscalYear"]["year"] for v in window["values"]][-1] == YEAR
        assert (window["deadline"], window["deadlinePassed"]) == ("2027-04-01", False)
        staff = by_key["staff_from_2030"]
        assert Decimal(staff["currentValue"]["progress"]) == Decimal("15.0")  # 150 of 1000, no baseline
        assert (staff["deadline"], staff["deadlinePassed"]) == ("2031-03-31", False)
        retired = by_key["retired_one"]
        assert retired["retiredAt"] is not None
        assert (retired["currentValue"], retired["values"], retired["deadlinePassed"]) == (None, [], True)

    def test_a_supervisor_reads_the_same_values_but_not_who_is_missing(
        self, graphql: Callable[..., dict[str, Any]]
    ) -> None:
        analyst = graphql(VALUES_QUERY, AppRole.PREFECTURE_ANALYST, PREFECTURE, {"all": False})["data"]["indicators"]
        supervisor = graphql(VALUES_QUERY, AppRole.SUPERVISOR, KAWAGOE, {"all": False})["data"]["indicators"]
        assert len(supervisor) == len(analyst) == 8
        for mine, theirs in zip(supervisor, analyst, strict=True):
            coverage = theirs["currentValue"] and theirs["currentValue"]["coverage"]
            if coverage:
                coverage["notReported"] = None
            assert mine == theirs

    @pytest.mark.parametrize("role", [AppRole.CASEWORKER, AppRole.COORDINATOR, AppRole.MUNICIPAL_SYSTEM])
    def test_every_other_role_is_refused(self, graphql: Callable[..., dict[str, Any]], role: AppRole) -> None:
        body = graphql(VALUES_QUERY, role, SAITAMA_CITY, {"all": False})
        assert body["data"]["indicators"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.usefixtures("refreshed")
def test_the_export_carries_the_current_values(
    http: httpx.Client, token: Callable[..., str], graphql: Callable[..., dict[str, Any]]
) -> None:
    """The indicators' CSV and xlsx (schema/pages/exports.py) say what `currentValue` says."""
    answer = graphql(VALUES_QUERY, AppRole.PREFECTURE_ANALYST, PREFECTURE, {"all": False})["data"]["indicators"]
    current = {i["key"]: i["currentValue"] for i in answer}
    as_csv = get(http, token, "/exports/indicators.csv", AppRole.PREFECTURE_ANALYST, PREFECTURE)
    header, *rows = open_csv(as_csv.content)
    xlsx = {row[0].value: [c.value for c in row] for row in open_xlsx(
        get(http, token, "/exports/indicators.xlsx", AppRole.PREFECTURE_ANALYST, PREFECTURE).content
    )}  # fmt: skip
    assert header[9:15] == ["現在値", "現在値の年度", "承認済みの市町村数", "市町村数", "進捗率（%）", "目標達成"]
    assert len(rows) == len(current) == 8
    for row in rows:
        value = current[row[0]]
        coverage = value["coverage"] or {"reported": "", "municipalities": ""}
        expected = [value["fiscalYear"]["japanese"], str(coverage["reported"]), str(coverage["municipalities"])]
        assert row[10:13] == expected, row[0]
        assert Decimal(row[9]) == Decimal(value["value"])
        assert Decimal(row[13]) == Decimal(value["progress"])
        assert row[14] == ("はい" if value["targetReached"] else "いいえ")
        assert Decimal(str(xlsx[row[0]][9])) == Decimal(value["value"])


@pytest.mark.usefixtures("refreshed")
class TestInSql:
    async def test_a_supervisor_is_not_granted_who_is_missing(self, as_user: Callable[..., Any]) -> None:
        async with as_user(AppRole.SUPERVISOR, KAWAGOE) as conn:
            assert await conn.fetchval("SELECT count(*) FROM stats.indicator_value WHERE prefecture_code = '11'")
            with pytest.raises(REFUSED):
                await conn.fetch("SELECT not_reported FROM stats.indicator_value")

    @pytest.mark.parametrize(
        ("role", "home"), [(AppRole.PREFECTURE_ANALYST, PREFECTURE), (AppRole.SUPERVISOR, KAWAGOE)]
    )
    async def test_another_prefectures_values_never_appear(
        self, admin_conn: asyncpg.Connection, as_user: Callable[..., Any], role: AppRole, home: str
    ) -> None:
        await admin_conn.execute(
            "INSERT INTO stats.indicator_value VALUES ('39', 'kodomo_katei_support_hubs', 2030, 20, 20, 34, '{}')"
            " ON CONFLICT DO NOTHING"
        )
        async with as_user(role, home) as conn:
            found = await conn.fetch("SELECT DISTINCT prefecture_code FROM stats.indicator_value")
        assert [r["prefecture_code"] for r in found] == ["11"]

    @pytest.mark.parametrize(
        "role", [r for r in AppRole if r not in (AppRole.PREFECTURE_ANALYST, AppRole.SUPERVISOR)], ids=str
    )
    async def test_no_other_role_reads_them(self, as_user: Callable[..., Any], role: AppRole) -> None:
        home = PREFECTURE if role is AppRole.PLATFORM_ADMIN else SAITAMA_CITY
        async with as_user(role, home) as conn:
            with pytest.raises(REFUSED):
                await conn.fetch("SELECT value FROM stats.indicator_value")


OWN_YEAR = 2031
RECORD = """
mutation($input: RecordProgrammeActivityInput!) {
  recordProgrammeActivity(input: $input) { programmeActivity { id participants } userErrors { field code } }
}"""
REMOVE = """
mutation($input: RemoveProgrammeActivityInput!) {
  removeProgrammeActivity(input: $input) { removedId userErrors { code } }
}"""
ADD = """
mutation($input: AddIndicatorInput!) { addIndicator(input: $input) { indicator { key } userErrors { code } } }
"""
LIST = f"{{ programmeActivities(fiscalYear: {OWN_YEAR}) {{ id participants }} }}"


@pytest.fixture
async def own_programmes_removed(admin_conn: asyncpg.Connection, tidy: Any) -> AsyncIterator[None]:
    """Afterwards, as the superuser: FY2031's programmes, the indicator added, the figures."""
    yield
    await _remove(admin_conn, OWN_YEAR, ["staff_from_2031"])


@pytest.mark.usefixtures("own_programmes_removed")
async def test_the_prefectures_staff_enter_its_own_programmes_and_they_count(
    graphql: Callable[..., dict[str, Any]], admin_conn: asyncpg.Connection
) -> None:
    """DESIGN section 1: prefecture staff enter the prefecture's programmes, in its own
    tenant (110001), with nothing to submit; the refresh counts them as they are. A
    municipality never sees them, and removing one takes it out."""

    def analyst(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        return graphql(query, AppRole.PREFECTURE_ANALYST, PREFECTURE, variables)

    training = {"fiscalYear": OWN_YEAR, "kind": "SUPPORT_STAFF_TRAINING", "title": "県の研修", "participants": 77}
    recorded = analyst(RECORD, {"input": training})["data"]["recordProgrammeActivity"]
    assert recorded["userErrors"] == []
    seminar = training | {
        "kind": "BUSINESS_CARER_SEMINAR",
        "title": "県のセミナー",
        "participants": 40,
        "companies": 25,
    }
    other = analyst(RECORD, {"input": seminar})["data"]["recordProgrammeActivity"]["programmeActivity"]
    listed = analyst(LIST, {})["data"]["programmeActivities"]
    assert sorted(a["participants"] for a in listed) == [40, 77]
    assert graphql(LIST, AppRole.SUPERVISOR, SAITAMA_CITY, {})["data"]["programmeActivities"] == []
    removed = analyst(REMOVE, {"input": {"id": other["id"]}})["data"]["removeProgrammeActivity"]
    assert removed == {"removedId": other["id"], "userErrors": []}
    new = {
        "key": "staff_from_2031",
        "name": "研修の受講者数（令和13年度から）",
        "unit": "人",
        "figure": "SUPPORT_STAFF_TRAINED",
        "target": "100",
        "targetFiscalYear": OWN_YEAR,
        "countedFromFiscalYear": OWN_YEAR,
    }
    assert analyst(ADD, {"input": new})["data"]["addIndicator"]["userErrors"] == []
    await refresh.refresh(admin_conn, k=5, interval=INTERVAL)
    assert await admin_conn.fetchval(
        "SELECT value FROM stats.indicator_value WHERE indicator_code = 'staff_from_2031' AND fiscal_year = $1",
        OWN_YEAR,
    ) == Decimal(77)


async def test_the_analyst_writes_no_municipalitys_programmes_in_sql(
    as_user: Callable[..., Any], admin_conn: asyncpg.Connection
) -> None:
    """Its INSERT and DELETE reach its own tenant's rows only (`tenant_isolation`; it
    updates none, 0029); it reads its municipalities' (`prefecture_reads`), and changes none."""
    theirs = await admin_conn.fetchval(
        "SELECT count(*) FROM kizuna.programme_activity WHERE municipality_code = $1", SAITAMA_CITY
    )
    assert theirs
    async with as_user(AppRole.PREFECTURE_ANALYST, PREFECTURE) as conn:
        assert await conn.fetchval(
            "SELECT count(*) FROM kizuna.programme_activity WHERE municipality_code = $1", SAITAMA_CITY
        )
        assert (
            await conn.execute("DELETE FROM kizuna.programme_activity WHERE municipality_code = $1", SAITAMA_CITY)
            == "DELETE 0"
        )
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            async with conn.transaction():  # a savepoint: the insert below runs in the same transaction
                await conn.execute(
                    "UPDATE kizuna.programme_activity SET participants = 0 WHERE municipality_code = $1", SAITAMA_CITY
                )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                "INSERT INTO kizuna.programme_activity (municipality_code, id, fiscal_year, kind, title, participants)"
                " VALUES ($1, $2, 2031, 'outreach_lecture', '試験', 1)",
                SAITAMA_CITY,
                uuid7(),
            )
