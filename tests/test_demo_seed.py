"""The demo seed (`kizuna.tenants.demo`) on its own embedded PostgreSQL.

Self-contained: the module starts a throwaway server, migrates two databases and seeds
さいたま市 (111007), 川越市 (112011) and 埼玉県 (110001) through the application role.
Every count is taken as the superuser, behind row security.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from kizuna.platform import embedded, migrate
from kizuna.platform.models import GLOBAL_TABLES, TENANT_TABLES
from kizuna.platform.settings import DEFAULT_DEV_ISSUER
from kizuna.platform.urls import app_url, asyncpg_dsn
from kizuna.platform.vocabulary import (
    AppRole,
    ApprovalSubject,
    CarerCategory,
    CareTask,
    CaseStage,
    ReferralSource,
    ReferralStatus,
    SubmissionStatus,
    SubmittedFigures,
)
from kizuna.schema.cases import dispatch_rules, workflow
from kizuna.tenants import demo, demo_calendar, demo_municipalities, demo_programmes, demo_users
from kizuna.tenants.registry import by_code, for_prefecture

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
PREFECTURE = "110001"
SEEDED = [SAITAMA_CITY, KAWAGOE, PREFECTURE]
# Written by requests, not by the seed.
LEFT_EMPTY = {"emergency_access", "case_share", "audit_event", "audit_seal", "person_merge"}
CASEWORK_TABLES = [t for t in TENANT_TABLES if t not in LEFT_EMPTY]


@dataclass(frozen=True)
class Seeded:
    admin: str
    app: str
    summary: demo.DemoSummary


def fresh_database(server_url: str, name: str) -> tuple[str, str]:
    admin = asyncio.run(migrate.ensure_database(server_url, name))
    migrate.upgrade(admin)
    return admin, asyncpg_dsn(app_url(admin, None))


def fetch(admin: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(asyncpg_dsn(admin))
        try:
            rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
            return rows
        finally:
            await conn.close()

    return asyncio.run(run())


def value(admin: str, sql: str, *args: Any) -> Any:
    return fetch(admin, sql, *args)[0][0]


def counts(admin: str, code: str) -> dict[str, int]:
    return {
        t: value(admin, f"SELECT count(*) FROM kizuna.{t} WHERE municipality_code = $1", code) for t in TENANT_TABLES
    }


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    # removed (stopped and deleted) when the test process exits
    return embedded.start(tmp_path_factory.mktemp("demo_seed") / "pg", cleanup="delete")


@pytest.fixture(scope="module")
def seeded(server_url: str) -> Seeded:
    admin, app = fresh_database(server_url, "kizuna_demo_a")
    summary = asyncio.run(demo.seed_demo(admin, app, prefecture="11", municipalities=SEEDED))
    return Seeded(admin, app, summary)


def test_summary_counts_what_was_inserted(seeded: Seeded) -> None:
    assert seeded.summary.municipalities == 3
    assert seeded.summary.users == demo_users.demo_users("11", SEEDED)
    for table in TENANT_TABLES:
        in_db = value(seeded.admin, f"SELECT count(*) FROM kizuna.{table} WHERE municipality_code = ANY($1)", SEEDED)
        assert seeded.summary.rows[table] == in_db, table


@pytest.mark.parametrize("table", CASEWORK_TABLES)
def test_every_tenant_table_has_rows(seeded: Seeded, table: str) -> None:
    assert counts(seeded.admin, SAITAMA_CITY)[table] > 0
    assert counts(seeded.admin, KAWAGOE)[table] > 0 or table in {"helper_dispatch", "helper_visit"}


def test_the_seed_leaves_the_planner_its_statistics(seeded: Seeded) -> None:
    """Analyzed by the seed itself (`last_analyze`; autovacuum's would be `last_autoanalyze`):
    without statistics the cases page read and sorted a whole tenant (tenants/demo.py)."""
    rows = fetch(
        seeded.admin,
        "SELECT relname, last_analyze FROM pg_stat_user_tables WHERE schemaname = 'kizuna' AND relname = ANY($1)",
        [*GLOBAL_TABLES, *TENANT_TABLES],
    )
    assert sorted(r["relname"] for r in rows) == sorted((*GLOBAL_TABLES, *TENANT_TABLES))
    assert [r["relname"] for r in rows if r["last_analyze"] is None] == []
    cases = value(seeded.admin, "SELECT count(*) FROM kizuna.carer_case")
    assert value(seeded.admin, "SELECT reltuples FROM pg_class WHERE oid = 'kizuna.carer_case'::regclass") == cases


def test_every_stage_and_category_occurs(seeded: Seeded) -> None:
    rows = fetch(
        seeded.admin,
        "SELECT DISTINCT stage, category FROM kizuna.carer_case WHERE municipality_code = $1",
        SAITAMA_CITY,
    )
    assert {r["stage"] for r in rows} == {s.value for s in CaseStage}
    assert {r["category"] for r in rows} == {c.value for c in CarerCategory}
    # the GraphQL tests filter on this pair
    assert ("support", "young_carer") in {(r["stage"], r["category"]) for r in rows}


def test_the_prefecture_holds_programmes_only(seeded: Seeded) -> None:
    held = counts(seeded.admin, PREFECTURE)
    assert held["programme_activity"] > 0
    assert held["membership"] == len(demo_users.PREFECTURE_ROLES)
    assert {t for t, n in held.items() if n} == {"programme_activity", "membership"}
    figures = {
        (r["kind"], r["participants"])
        for r in fetch(
            seeded.admin,
            "SELECT kind, participants FROM kizuna.programme_activity"
            " WHERE municipality_code = $1 AND fiscal_year = 2024",
            PREFECTURE,
        )
    }
    # seed 000's figures for 令和6年度
    for kind, participants in (
        ("line_consultation_registration", 907),
        ("online_salon", 279),
        ("support_staff_training", 704),
        ("support_staff_training", 340),
        ("education_welfare_training", 361),
    ):
        assert (kind, participants) in figures
    lectures = value(
        seeded.admin,
        "SELECT count(*) FROM kizuna.programme_activity WHERE municipality_code = $1 AND fiscal_year = 2024"
        " AND kind = 'outreach_lecture'",
        PREFECTURE,
    )
    assert lectures == 15 + 5


def test_carers_are_of_their_category_age(seeded: Seeded) -> None:
    rows = fetch(
        seeded.admin,
        "SELECT c.category, p.birth_date, (c.opened_at AT TIME ZONE 'Asia/Tokyo')::date AS opened,"
        " p.school_organisation_id, p.school_grade"
        " FROM kizuna.carer_case c JOIN kizuna.person p"
        "   ON p.municipality_code = c.municipality_code AND p.id = c.person_id"
        " WHERE c.municipality_code = ANY($1)",
        SEEDED,
    )
    assert rows
    for row in rows:
        years = workflow.age(row["birth_date"], row["opened"])
        category = CarerCategory(row["category"])
        if category is CarerCategory.YOUNG_CARER:
            assert years < 18, row
            assert row["school_organisation_id"] is not None, row
            assert 1 <= row["school_grade"] <= 12, row
        elif category is CarerCategory.YOUNG_ADULT_CARER:
            assert 18 <= years <= 39, row
        elif category is CarerCategory.BUSINESS_CARER:
            assert 18 <= years <= 64, row
        else:
            assert years >= 18, row


def test_schools_match_grades(seeded: Seeded) -> None:
    rows = fetch(
        seeded.admin,
        "SELECT p.school_grade, o.kind FROM kizuna.person p"
        " JOIN kizuna.organisation o ON o.id = p.school_organisation_id WHERE p.municipality_code = $1",
        SAITAMA_CITY,
    )
    assert rows
    for row in rows:
        assert row["kind"] == demo_calendar.school_kind(row["school_grade"]).value


def test_names_have_matching_readings(seeded: Seeded) -> None:
    katakana = re.compile(r"[\u30a0-\u30ff]+")
    rows = fetch(
        seeded.admin,
        "SELECT h.name AS household, p.family_name, p.family_name_kana, p.given_name_kana FROM kizuna.person p"
        " JOIN kizuna.household h ON h.municipality_code = p.municipality_code AND h.id = p.household_id"
        " WHERE p.municipality_code = $1",
        SAITAMA_CITY,
    )
    for row in rows:
        assert katakana.fullmatch(row["family_name_kana"]), row
        assert katakana.fullmatch(row["given_name_kana"]), row
        assert row["household"] == f"{row['family_name']}家"
    sizes = fetch(
        seeded.admin,
        "SELECT count(*) AS n FROM kizuna.person WHERE municipality_code = $1 GROUP BY household_id",
        SAITAMA_CITY,
    )
    assert {r["n"] for r in sizes} <= set(range(2, 7))


def test_case_history_leads_to_the_current_stage(seeded: Seeded) -> None:
    rows = fetch(
        seeded.admin,
        "SELECT c.id, c.stage, c.opened_at, c.closed_at,"
        " array_agg(e.kind ORDER BY e.occurred_at, e.id) AS kinds,"
        " array_agg(e.to_stage ORDER BY e.occurred_at, e.id) FILTER (WHERE e.to_stage IS NOT NULL) AS stages,"
        " min(e.occurred_at) AS first_at"
        " FROM kizuna.carer_case c JOIN kizuna.case_event e"
        "   ON e.municipality_code = c.municipality_code AND e.case_id = c.id"
        " WHERE c.municipality_code = $1 GROUP BY c.municipality_code, c.id",
        SAITAMA_CITY,
    )
    assert len(rows) == value(
        seeded.admin, "SELECT count(*) FROM kizuna.carer_case WHERE municipality_code = $1", SAITAMA_CITY
    )
    for row in rows:
        assert row["kinds"][0] == "opened", row
        assert row["first_at"] == row["opened_at"], row
        assert row["stages"][0] == "intake", row
        assert row["stages"][-1] == row["stage"], row
        assert (row["closed_at"] is not None) == (row["stage"] == "closed")
    kinds = {k for r in rows for k in r["kinds"]}
    assert {"opened", "stage_changed", "assigned", "approval_requested", "approved", "rejected", "reopened"} <= kinds


def test_every_case_history_walks_the_workflow(seeded: Seeded) -> None:
    """Replayed in time order, each seeded move is one the workflow allows, with the
    event kind of its edge and a supervisor's approval decided before it and used once."""
    moves = fetch(
        seeded.admin,
        "SELECT case_id, occurred_at AS at, kind, from_stage, to_stage FROM kizuna.case_event"
        " WHERE municipality_code = ANY($1) AND to_stage IS NOT NULL ORDER BY case_id, occurred_at, id",
        [SAITAMA_CITY, KAWAGOE],
    )
    approvals = fetch(
        seeded.admin,
        "SELECT case_id, decided_at AS at, subject FROM kizuna.approval"
        " WHERE municipality_code = ANY($1) AND status = 'approved' ORDER BY case_id, decided_at",
        [SAITAMA_CITY, KAWAGOE],
    )
    # approvals first where a move and a decision share a moment
    timeline = sorted(
        [(a["case_id"], a["at"], 0, a) for a in approvals] + [(m["case_id"], m["at"], 1, m) for m in moves]
    )
    approved: dict[Any, list[ApprovalSubject]] = {}
    stage: dict[Any, CaseStage] = {}
    walked: set[tuple[CaseStage, CaseStage]] = set()
    for case_id, _, is_move, row in timeline:
        held = approved.setdefault(case_id, [])
        if not is_move:
            held.append(ApprovalSubject(row["subject"]))
            continue
        target = CaseStage(row["to_stage"])
        if row["kind"] == "opened":
            assert case_id not in stage, row
            assert target is workflow.INITIAL_STAGE, row
        else:
            source = stage[case_id]
            assert row["from_stage"] == source.value, row
            assert workflow.check_transition(source, target, approved=held) is None, (row, held)
            edge = workflow.transition(source, target)
            assert edge is not None
            assert row["kind"] == edge.event.value, row
            if edge.approval is not None:
                held.remove(edge.approval)
            walked.add((source, target))
        stage[case_id] = target
    assert walked == {(t.source, t.target) for t in workflow.TRANSITIONS}  # every edge is seeded somewhere


def test_approvals_and_plans(seeded: Seeded) -> None:
    rows = fetch(
        seeded.admin, "SELECT DISTINCT subject, status FROM kizuna.approval WHERE municipality_code = $1", SAITAMA_CITY
    )
    pairs = {(r["subject"], r["status"]) for r in rows}
    assert {("support_plan", "approved"), ("support_plan", "rejected"), ("support_plan", "requested")} <= pairs
    assert {("closure", "approved"), ("closure", "requested")} <= pairs
    closed_without_approval = value(
        seeded.admin,
        "SELECT count(*) FROM kizuna.carer_case c WHERE c.municipality_code = $1 AND c.stage = 'closed'"
        " AND NOT EXISTS (SELECT 1 FROM kizuna.approval a WHERE a.municipality_code = c.municipality_code"
        "   AND a.case_id = c.id AND a.subject = 'closure' AND a.status = 'approved')",
        SAITAMA_CITY,
    )
    assert closed_without_approval == 0
    assert (
        value(seeded.admin, "SELECT max(version) FROM kizuna.support_plan WHERE municipality_code = $1", SAITAMA_CITY)
        > 1
    )


def test_meetings_referrals_and_dispatches(seeded: Seeded) -> None:
    meeting_kinds = fetch(
        seeded.admin, "SELECT DISTINCT kind FROM kizuna.meeting WHERE municipality_code = $1", SAITAMA_CITY
    )
    assert len(meeting_kinds) == 4
    referrals = fetch(
        seeded.admin, "SELECT DISTINCT source, status FROM kizuna.referral WHERE municipality_code = $1", SAITAMA_CITY
    )
    assert {r["status"] for r in referrals} == {s.value for s in ReferralStatus}
    assert {ReferralSource.SCHOOL.value, ReferralSource.LINE_CONSULTATION.value} <= {r["source"] for r in referrals}
    for code in (SAITAMA_CITY, KAWAGOE):
        for role in (AppRole.SCHOOL_STAFF, AppRole.SCHOOL_SOCIAL_WORKER, AppRole.WELFARE_WORKER):
            referrer = next(u for u in demo_users.demo_users("11", [code]) if u.role is role)
            own = value(
                seeded.admin,
                "SELECT count(*) FROM kizuna.referral WHERE municipality_code = $1 AND referrer_organisation_id = $2"
                " AND referrer_subject = $3",
                code,
                referrer.organisation_id,
                str(referrer.user_id),
            )
            assert own > 0, (code, role)


def test_every_dispatch_and_visit_keeps_the_rules(seeded: Seeded) -> None:
    dispatches = fetch(
        seeded.admin,
        "SELECT id, period_start, period_end, extended_until FROM kizuna.helper_dispatch WHERE municipality_code = $1",
        SAITAMA_CITY,
    )
    visits = fetch(
        seeded.admin,
        "SELECT dispatch_id, visited_on, minutes, tasks FROM kizuna.helper_visit WHERE municipality_code = $1"
        " ORDER BY dispatch_id, visited_on",
        SAITAMA_CITY,
    )
    assert visits
    periods: dict[Any, dispatch_rules.ServicePeriod | None] = {}
    for d in dispatches:
        if d["period_start"] is None:  # not decided yet
            periods[d["id"]] = None
            continue
        assert dispatch_rules.check_period(d["period_start"], d["period_end"]) is None, d
        decided = dispatch_rules.ServicePeriod(d["period_start"], d["period_end"])
        if d["extended_until"] is not None:
            assert dispatch_rules.check_extension(decided, d["extended_until"]) is None, d
        periods[d["id"]] = dispatch_rules.ServicePeriod(d["period_start"], d["period_end"], d["extended_until"])
    earlier: dict[Any, list[Any]] = {}
    for visit in visits:
        days = earlier.setdefault(visit["dispatch_id"], [])
        refusal = dispatch_rules.check_visit(periods[visit["dispatch_id"]], visit["visited_on"], visit["minutes"], days)
        assert refusal is None, visit
        assert dispatch_rules.check_visit_tasks([CareTask(t) for t in visit["tasks"]]) is None, visit
        days.append(visit["visited_on"])


def test_municipality_status_by_fiscal_year(seeded: Seeded) -> None:
    rows = fetch(
        seeded.admin,
        "SELECT fiscal_year, submission, one_stop_window FROM kizuna.municipality_status WHERE municipality_code = $1"
        " ORDER BY fiscal_year",
        KAWAGOE,
    )
    assert [r["fiscal_year"] for r in rows] == [2022, 2023, 2024, 2025]
    assert [r["submission"] for r in rows[:3]] == [SubmissionStatus.ACCEPTED.value] * 3


def test_the_demo_has_every_state_of_a_submission() -> None:
    """Over the prefecture, this year's figures are drafts, waiting, returned with a
    comment and accepted; past years' are accepted."""
    this_year = demo_calendar.fiscal_year(demo_calendar.AS_OF_DATE)
    states: set[tuple[SubmittedFigures, SubmissionStatus]] = set()
    for government in for_prefecture("11")[1:]:
        for (figures, year), plan in demo_programmes.submission_plan(government, 0).items():
            final = plan.decided or plan.written
            if year < this_year:
                assert final is SubmissionStatus.ACCEPTED
            else:
                states.add((figures, final))
                assert (plan.comment is not None) == (final is SubmissionStatus.RETURNED)
    assert states == {(f, s) for f in SubmittedFigures for s in SubmissionStatus}


@pytest.mark.parametrize("table", ["municipality_status", "programme_submission"])
def test_the_prefecture_decided_as_the_plan_says(seeded: Seeded, table: str) -> None:
    figures = {"municipality_status": SubmittedFigures.MUNICIPALITY_STATUS}.get(table, SubmittedFigures.PROGRAMMES)
    analyst = next(
        u for u in seeded.summary.users if u.role is AppRole.PREFECTURE_ANALYST and u.municipality_code == PREFECTURE
    )
    for code in (SAITAMA_CITY, KAWAGOE):
        rows = fetch(
            seeded.admin,
            f"SELECT fiscal_year, submission, decided_at, decided_by, return_comment FROM kizuna.{table}"
            " WHERE municipality_code = $1",
            code,
        )
        held = {r["fiscal_year"]: r for r in rows}
        government = by_code(code)
        assert government is not None
        for (kind, year), plan in demo_programmes.submission_plan(government, 0).items():
            if kind is not figures:
                continue
            if plan.submitted_at is None and figures is SubmittedFigures.PROGRAMMES:
                assert year not in held  # a draft of programme figures has no row yet
                continue
            row = held[year]
            assert row["submission"] == (plan.decided or plan.written).value
            assert row["decided_at"] == plan.decided_at
            assert row["decided_by"] == (analyst.user_id if plan.decided else None)
            assert row["return_comment"] == plan.comment


def test_memberships_are_the_demo_users(seeded: Seeded) -> None:
    rows = fetch(
        seeded.admin,
        "SELECT u.issuer, u.subject, m.user_id, m.display_name, m.role, m.municipality_code, m.organisation_id"
        " FROM kizuna.membership m JOIN kizuna.app_user u ON u.id = m.user_id WHERE m.municipality_code = ANY($1)",
        SEEDED,
    )
    in_db = {tuple(r.values()) for r in rows}
    expected = {
        (DEFAULT_DEV_ISSUER, u.subject, u.user_id, u.display_name, u.role.value, u.municipality_code, u.organisation_id)
        for u in seeded.summary.users
    }
    assert in_db == expected
    organisations = {r["id"] for r in fetch(seeded.admin, "SELECT id FROM kizuna.organisation")}
    assert {u.organisation_id for u in seeded.summary.users} <= organisations


def test_a_second_run_inserts_nothing(seeded: Seeded) -> None:
    before = {code: counts(seeded.admin, code) for code in SEEDED}
    again = asyncio.run(demo.seed_demo(seeded.admin, seeded.app, prefecture="11", municipalities=SEEDED))
    assert again.municipalities == 0
    assert set(again.rows.values()) == {0}
    assert {code: counts(seeded.admin, code) for code in SEEDED} == before
    assert asyncio.run(demo.is_seeded(seeded.admin))


def test_same_seed_same_rows_on_a_fresh_database(server_url: str, seeded: Seeded) -> None:
    admin, app = fresh_database(server_url, "kizuna_demo_b")
    assert not asyncio.run(demo.is_seeded(admin))
    asyncio.run(demo.seed_demo(admin, app, prefecture="11", municipalities=SEEDED))
    sql = "SELECT id, stage, opened_at FROM kizuna.carer_case WHERE municipality_code = $1 ORDER BY id"
    for code in (SAITAMA_CITY, KAWAGOE):
        assert [tuple(r) for r in fetch(admin, sql, code)] == [tuple(r) for r in fetch(seeded.admin, sql, code)]
    assert counts(admin, PREFECTURE) == counts(seeded.admin, PREFECTURE)


def test_rows_are_deterministic_and_depend_on_the_seed() -> None:
    kawagoe = by_code(KAWAGOE)
    assert kawagoe is not None
    first = demo.tenant_rows(kawagoe, scale=1, seed=0)
    assert first == demo.tenant_rows(kawagoe, scale=1, seed=0)
    other = demo.tenant_rows(kawagoe, scale=1, seed=1)
    assert {r[0] for r in other["carer_case"]}.isdisjoint(r[0] for r in first["carer_case"])


def test_demo_users_one_per_role_and_tenant() -> None:
    users = demo_users.demo_users("11")
    assert len({u.municipality_code for u in users}) == 64
    by_tenant: dict[str, list[AppRole]] = {}
    for u in users:
        by_tenant.setdefault(u.municipality_code, []).append(u.role)
        assert u.subject == f"demo:{u.role.value}:{u.municipality_code}"
        assert u.display_name
    assert sorted(by_tenant.pop(PREFECTURE)) == sorted([AppRole.PREFECTURE_ANALYST, AppRole.PLATFORM_ADMIN])
    municipal = sorted(r for r in AppRole if r not in (AppRole.PREFECTURE_ANALYST, AppRole.PLATFORM_ADMIN))
    assert all(sorted(roles) == municipal for roles in by_tenant.values())
    assert demo_users.demo_users("11", SEEDED) == tuple(u for u in users if u.municipality_code in SEEDED)
    assert {u.municipality_code for u in demo_users.demo_users("39")} >= {"390003", "392014"}
    with pytest.raises(ValueError, match="not local governments"):
        demo_users.demo_users("11", ["392014"])


def test_sizing_by_population() -> None:
    assert demo.case_count(SAITAMA_CITY, 1) >= 50  # a full page of cases for the GraphQL tests
    assert 2000 <= demo.case_count(SAITAMA_CITY, 20) <= 3000
    assert demo.case_count("113697", 1) == demo.MIN_CASES  # 東秩父村
    counted = {g.code for p in ("11", "39") for g in for_prefecture(p) if not g.is_prefecture}
    assert all(demo_municipalities.population(code) != demo_municipalities.UNCOUNTED_POPULATION for code in counted)
    assert demo.case_count("131016", 1) == demo.MIN_CASES  # 千代田区: no census figure in data/


def test_a_municipality_of_any_prefecture_can_be_seeded(server_url: str) -> None:
    """The registry holds every local government: a Tokyo special ward and a Hokkaido village
    are provisioned and seeded like a Saitama city, through the request path."""
    admin, app = fresh_database(server_url, "kizuna_demo_national")
    for prefecture, code in (("13", "131016"), ("01", "014036")):  # 千代田区, 泊村
        summary = asyncio.run(demo.seed_demo(admin, app, prefecture=prefecture, scale=0.1, municipalities=[code]))
        assert summary.municipalities == 1
        assert value(admin, "SELECT count(*) FROM kizuna.carer_case WHERE municipality_code = $1", code) == (
            demo.MIN_CASES
        )
    # Tokyo's registry was written with its special wards (migration 0033's kind).
    assert value(admin, "SELECT count(*) FROM kizuna.municipality WHERE kind = 'special_ward'") == 23


def test_scale_20_seeds_a_city_sized_for_benchmarks(server_url: str) -> None:
    admin, app = fresh_database(server_url, "kizuna_demo_scale20")
    summary = asyncio.run(demo.seed_demo(admin, app, prefecture="11", scale=20, municipalities=[KAWAGOE]))
    expected = demo.case_count(KAWAGOE, 20)
    assert expected > 500
    assert summary.rows["carer_case"] == expected
    assert value(admin, "SELECT count(*) FROM kizuna.carer_case WHERE municipality_code = $1", KAWAGOE) == expected
