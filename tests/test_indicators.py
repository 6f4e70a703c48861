"""The prefecture's indicators through GraphQL (issue 16, item 3): seeded with the values of
seeds 000 and 004 (tenants/data/indicators.csv), read by the prefecture's analyst and by
municipal supervisors of that prefecture, added and retired (never deleted) by the
analyst of that prefecture only. The database's own refusals are in
tests/test_submissions_sql.py (`TestIndicators`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from kizuna.platform.vocabulary import AppRole
from kizuna.tenants import indicators
from kizuna.tests.test_submissions_sql import kochi  # noqa: F401  (a fixture: 高知県 and 高知市)

KAWAGOE = "112011"
PREFECTURE = "110001"
FIELDS = (
    "key name unit figure baseline baselineFiscalYear target targetDate targetFiscalYear countedFromFiscalYear"
    " retiredAt"
)
LIST = f"query($all: Boolean!) {{ indicators(includeRetired: $all) {{ {FIELDS} }} }}"
ADD = f"""
mutation($input: AddIndicatorInput!) {{
  addIndicator(input: $input) {{ indicator {{ {FIELDS} }} userErrors {{ field code }} }}
}}"""
RETIRE = f"""
mutation($input: RetireIndicatorInput!) {{
  retireIndicator(input: $input) {{ indicator {{ {FIELDS} }} userErrors {{ field code }} }}
}}"""
NEW = {
    "key": "university_staff_trained",
    "name": "大学教職員等向け研修の受講者数",
    "unit": "人",
    "figure": "SUPPORT_STAFF_TRAINED",
    "target": "500",
    "targetFiscalYear": 2026,
    "countedFromFiscalYear": 2025,
}


def decimal_or_none(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@pytest.fixture
async def keeps_seeded_indicators(admin_conn: asyncpg.Connection, tidy: Any) -> AsyncIterator[None]:
    """Afterwards, as the superuser: the indicators as seeded (added ones gone, none retired)."""
    yield
    seeded = [r.code for r in indicators.for_prefecture("11")]
    await admin_conn.execute("DELETE FROM kizuna.indicator WHERE prefecture_code = '11' AND NOT code = ANY($1)", seeded)
    await admin_conn.execute("UPDATE kizuna.indicator SET retired_at = NULL WHERE prefecture_code = '11'")


@pytest.mark.parametrize("role", [AppRole.PREFECTURE_ANALYST, AppRole.SUPERVISOR])
def test_saitamas_seven_as_the_seeds_have_them(graphql: Callable[..., dict[str, Any]], role: AppRole) -> None:
    home = PREFECTURE if role is AppRole.PREFECTURE_ANALYST else KAWAGOE
    got = graphql(LIST, role, home, {"all": False})["data"]["indicators"]
    expected = indicators.for_prefecture("11")
    assert len(got) == len(expected) == 7
    by_key = {i["key"]: i for i in got}
    for row in expected:
        found = by_key[row.code]
        assert (found["name"], found["unit"], found["figure"].lower()) == (row.name, row.unit, row.figure.value)
        assert decimal_or_none(found["baseline"]) == row.baseline
        assert found["baselineFiscalYear"] == row.baseline_fiscal_year
        assert Decimal(found["target"]) == row.target
        assert found["targetDate"] == (row.target_date and row.target_date.isoformat())
        assert found["targetFiscalYear"] == row.target_fiscal_year
        assert found["countedFromFiscalYear"] == row.counted_from_fiscal_year
    # seed 000, 指標⑤: 6,000人（令和3〜8年度の累計）
    assert by_key["support_staff_trained"] | {"retiredAt": None} == by_key["support_staff_trained"]
    assert (by_key["support_staff_trained"]["countedFromFiscalYear"], by_key["support_staff_trained"]["target"]) == (
        2021,
        "6000.00",
    )


def test_kochis_four_for_kochi(kochi: Any, graphql: Callable[..., dict[str, Any]]) -> None:  # noqa: F811
    assert {r.code for r in indicators.for_prefecture("39")} == {
        "young_carer_awareness_junior_high",
        "young_carer_awareness_high_school",
        "young_carer_awareness_residents",
        "kodomo_katei_support_hubs",
    }
    junior_high = next(r for r in indicators.for_prefecture("39") if r.code == "young_carer_awareness_junior_high")
    # seed 004: 中学2年生：15.8% (全国：R3年3月調査) → 令和6年度末 70%
    assert (junior_high.baseline, junior_high.target, junior_high.target_fiscal_year) == (
        Decimal("15.8"),
        Decimal(70),
        2024,
    )
    # Saitama's analyst never sees them.
    keys = {
        i["key"] for i in graphql(LIST, AppRole.PREFECTURE_ANALYST, PREFECTURE, {"all": True})["data"]["indicators"]
    }
    assert not keys & {r.code for r in indicators.for_prefecture("39")}


@pytest.mark.usefixtures("keeps_seeded_indicators", "kochi")
class TestAddAndRetire:
    def test_added_once_retired_once_kept(self, graphql: Callable[..., dict[str, Any]]) -> None:
        def run(document: str, variables: dict[str, Any]) -> dict[str, Any]:
            return graphql(document, AppRole.PREFECTURE_ANALYST, PREFECTURE, variables)

        added = run(ADD, {"input": NEW})["data"]["addIndicator"]
        assert added["userErrors"] == []
        again = run(ADD, {"input": NEW})["data"]["addIndicator"]
        assert again == added  # the key is the idempotency key
        other = run(ADD, {"input": NEW | {"target": "600"}})["data"]["addIndicator"]
        assert other["userErrors"] == [{"field": "key", "code": "CONFLICT"}]

        retired = run(RETIRE, {"input": {"key": NEW["key"]}})["data"]["retireIndicator"]["indicator"]
        assert dt.datetime.fromisoformat(retired["retiredAt"])
        assert run(RETIRE, {"input": {"key": NEW["key"]}})["data"]["retireIndicator"]["userErrors"] == [
            {"field": "key", "code": "CONFLICT"}
        ]
        live = {i["key"] for i in run(LIST, {"all": False})["data"]["indicators"]}
        kept = {i["key"] for i in run(LIST, {"all": True})["data"]["indicators"]}
        assert NEW["key"] in kept - live
        # A retired key stays taken (its history would otherwise change meaning): a retry of
        # the add answers the indicator as it is, retired, and brings nothing back.
        retry = run(ADD, {"input": NEW})["data"]["addIndicator"]
        assert retry["indicator"]["retiredAt"] == retired["retiredAt"]
        assert run(ADD, {"input": NEW | {"name": "別の指標"}})["data"]["addIndicator"]["userErrors"] == [
            {"field": "key", "code": "CONFLICT"}
        ]

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"key": "Bad Key"}, "key"),
            ({"name": " "}, "name"),
            ({"unit": "x" * 21}, "unit"),
            ({"baseline": "5"}, "baseline"),
            ({"targetFiscalYear": None}, "targetDate"),
            ({"countedFromFiscalYear": 1999}, "countedFromFiscalYear"),
        ],
    )
    async def test_bad_input_writes_nothing(
        self, graphql: Callable[..., dict[str, Any]], admin_conn: asyncpg.Connection, change: dict[str, Any], field: str
    ) -> None:
        before = await admin_conn.fetch("SELECT * FROM kizuna.indicator ORDER BY prefecture_code, code")
        body = graphql(ADD, AppRole.PREFECTURE_ANALYST, PREFECTURE, {"input": NEW | change})
        assert body["data"]["addIndicator"]["userErrors"] == [{"field": field, "code": "BAD_USER_INPUT"}]
        assert await admin_conn.fetch("SELECT * FROM kizuna.indicator ORDER BY prefecture_code, code") == before

    async def test_another_prefectures_indicator_is_not_found_and_unchanged(
        self,
        graphql: Callable[..., dict[str, Any]],
        admin_conn: asyncpg.Connection,
    ) -> None:
        theirs = "SELECT retired_at FROM kizuna.indicator WHERE prefecture_code = '39'"
        before = await admin_conn.fetch(theirs)
        answers = [
            graphql(RETIRE, AppRole.PREFECTURE_ANALYST, PREFECTURE, {"input": {"key": key}})["data"]["retireIndicator"]
            for key in ("young_carer_awareness_junior_high", "no_such_indicator")
        ]
        assert answers[0] == answers[1] == {"indicator": None, "userErrors": [{"field": "key", "code": "NOT_FOUND"}]}
        assert await admin_conn.fetch(theirs) == before
