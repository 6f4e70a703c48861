"""Demo data: deterministic, synthetic, believable data for every tenant of a prefecture.

`seed_demo` provisions over the administrative connection only what must exist before a
request can be made (the prefecture's registry, the organisations directory, one
membership per role and tenant: `tenants/demo_users.py`), then writes every tenant's data through
`Database.transaction` as that tenant's demo supervisor (the prefecture's analyst for the
prefecture tenant), under the application role and row security, exactly as requests do:
one transaction per tenant (two tenants at a time), one multi-row INSERT per table, never
COPY. A tenant that already holds data is skipped, so seeding twice inserts nothing new;
`remove_demo_data` (development's `kizuna demo seed --reset`) starts afresh.

Organisation and membership ids are uuid5 of stable names (the same on every run and in
`demo_users`); every other id is a UUIDv7 from a `random.Random` seeded with (seed,
municipality), so the same seed and scale give the same rows. Dates run from FY2022 to
`demo_calendar.AS_OF` (FY2025, 令和7年度), fixed so that a seed always gives the same data.

Sizing: `data/population.csv` holds approximate populations of the 2020 census (令和2年
国勢調査) of every municipality of Saitama (63) and Kochi (34). A municipality gets
`max(8, round(population × scale / 10,000))` cases (さいたま市: 132 at scale 1, 2,648 at
scale 20), so that every stage can show even in a village; referrals, households and the
rest follow the cases.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import functools
import io
import itertools
import math
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib.resources import files
from typing import Any, Final

from kizuna.platform.caller import Caller
from kizuna.platform.database import Database, TenantTransaction
from kizuna.platform.ids import uuid7
from kizuna.platform.models import TENANT_TABLES
from kizuna.platform.provisioning import (
    MembershipRow,
    OrganisationRow,
    UserRow,
    add_memberships,
    admin_connection,
    has_organisations,
    registered_codes,
    remove_tenant_rows,
    remove_users_and_organisations,
    upsert_organisations,
    upsert_registry,
    upsert_users,
)
from kizuna.platform.settings import DEFAULT_DEV_ISSUER
from kizuna.platform.vocabulary import AppRole, JusotekiStatus, OrganisationKind, ProgrammeKind, SubmissionStatus
from kizuna.tenants import demo_casework, demo_draft
from kizuna.tenants.demo_calendar import AS_OF_DATE, JST, fiscal_year
from kizuna.tenants.demo_draft import Row
from kizuna.tenants.demo_users import DemoUser, demo_users, membership_id, organisation_id, selected
from kizuna.tenants.registry import LocalGovernment, for_prefecture, prefecture_tenant_code

MIN_CASES: Final = 8
PEOPLE_PER_CASE: Final = 10_000
SEEDING_TENANTS: Final = 2
"""Tenants seeded at the same time, each in its own transaction and connection."""

PREFECTURE_DEPARTMENTS: Final = {
    "11": ("埼玉県 福祉部 地域包括ケア課", "埼玉県 企画財政部 行政・デジタル改革課"),
    "39": ("高知県 子ども・福祉政策部 地域福祉政策課", "高知県 総務部 デジタル政策課"),
}
SAITAMA_WARDS: Final = ("西区", "北区", "大宮区", "見沼区", "中央区", "桜区", "浦和区", "南区", "緑区", "岩槻区")
DISTRICTS: Final = ("中央地区", "東部地区", "西部地区", "南部地区", "北部地区")
ORDINALS: Final = "一二三四五六七八"
NICKNAMES: Final = (
    "ひかり",
    "あおぞら",
    "つばさ",
    "なごみ",
    "さくら",
    "かがやき",
    "ひだまり",
    "みらい",
    "けやき",
    "こもれび",
)


@dataclass(frozen=True)
class DemoSummary:
    municipalities: int
    """Tenants whose data this call wrote (a tenant that already held data is skipped)."""
    rows: dict[str, int]
    """Table name -> rows inserted by this call."""
    users: tuple[DemoUser, ...]


# --- the organisations directory -------------------------------------------------------


def stem(name: str) -> str:
    """さいたま市 -> さいたま, 東秩父村 -> 東秩父."""
    return name[:-1] if name.endswith(("市", "町", "村")) else name


@functools.cache
def _populations() -> Mapping[str, int]:
    text = (files("kizuna.tenants") / "data" / "population.csv").read_text(encoding="utf-8")
    return {row["code"]: int(row["population"]) for row in csv.DictReader(io.StringIO(text, newline=""))}


def population(code: str) -> int:
    """Residents of a municipality (2020 census, approximately)."""
    return _populations()[code]


def case_count(code: str, scale: float) -> int:
    return max(MIN_CASES, round(population(code) * scale / PEOPLE_PER_CASE))


def districts(government: LocalGovernment) -> tuple[str, ...]:
    if government.code == "111007":  # the designated city's ten wards
        return SAITAMA_WARDS
    people = population(government.code)
    return DISTRICTS[: 5 if people >= 300_000 else 3 if people >= 100_000 else 2 if people >= 40_000 else 1]


def _count(people: int, per: int, most: int) -> int:
    return max(1, min(most, math.ceil(people / per)))


@functools.cache
def organisations(government: LocalGovernment) -> tuple[OrganisationRow, ...]:
    """A tenant's organisations, always the same (ids and names) for the same government."""
    if government.is_prefecture:
        care, digital = PREFECTURE_DEPARTMENTS.get(government.prefecture_code, (f"{government.name} 福祉部",) * 2)
        kind = OrganisationKind.PREFECTURE_DEPARTMENT
        return (
            OrganisationRow(organisation_id(government.code, "care"), kind, care, government.code),
            OrganisationRow(organisation_id(government.code, "digital"), kind, digital, government.code),
        )
    return tuple(
        OrganisationRow(organisation_id(government.code, key), kind, name, government.code)
        for key, kind, name in _municipal_organisations(government)
    )


def _municipal_organisations(government: LocalGovernment) -> list[tuple[str, OrganisationKind, str]]:
    name, short, people, k = government.name, stem(government.name), population(government.code), OrganisationKind
    prefecture = prefecture_name(government.prefecture_code)
    areas = districts(government)
    nick = [NICKNAMES[(int(government.code) + 3 * i) % len(NICKNAMES)] for i in range(4)]
    rows = [
        ("department", k.MUNICIPAL_DEPARTMENT, f"{name} こども家庭課"),
        ("education", k.MUNICIPAL_DEPARTMENT, f"{name}教育委員会 学校教育課"),
        ("information", k.MUNICIPAL_DEPARTMENT, f"{name} 情報政策課"),
        ("council", k.SOCIAL_WELFARE_COUNCIL, f"{name}社会福祉協議会"),
    ]
    schools = ((k.ELEMENTARY_SCHOOL, 60_000, 8, "小学校"), (k.JUNIOR_HIGH_SCHOOL, 120_000, 5, "中学校"))
    for kind, per, most, suffix in schools:
        rows += [
            (f"{kind.value}/{i}", kind, f"{name}立{short}第{ORDINALS[i]}{suffix}")
            for i in range(_count(people, per, most))
        ]
    rows += [
        (f"high_school/{i}", k.HIGH_SCHOOL, f"{prefecture}立{short}{('', '東', '西')[i]}高等学校")
        for i in range(_count(people, 250_000, 3))
    ]
    for i, area in enumerate(areas):
        label = name if len(areas) == 1 else f"{name}{area}"
        rows.append((f"community/{i}", k.COMMUNITY_GENERAL_SUPPORT_CENTER, f"{label}地域包括支援センター"))
        rows.append((f"health/{i}", k.HEALTH_WELFARE_CENTER, f"{label}保健福祉センター"))
    rows.append(("disability/0", k.DISABILITY_CONSULTATION, f"{name}基幹相談支援センター"))
    rows += [
        (f"care/{i}", k.CARE_MANAGEMENT_OFFICE, f"居宅介護支援事業所{nick[i]}")
        for i in range(_count(people, 150_000, 3))
    ]
    rows += [
        ("helpers/0", k.HOME_HELP_PROVIDER, f"ヘルパーステーション{nick[3]}"),
        ("medical/0", k.MEDICAL_INSTITUTION, f"{short}中央病院"),
        ("npo/0", k.NPO, f"NPO法人 こどもの居場所{nick[1]}"),
    ]
    if people >= 100_000:
        rows += [
            ("disability/1", k.DISABILITY_CONSULTATION, f"相談支援事業所{nick[2]}"),
            ("medical/1", k.MEDICAL_INSTITUTION, f"{nick[0]}メンタルクリニック"),
            ("helpers/1", k.HOME_HELP_PROVIDER, f"訪問介護事業所{nick[0]}"),
        ]
    return rows


def prefecture_name(prefecture_code: str) -> str:
    return for_prefecture(prefecture_code)[0].name


# --- generating a tenant's rows --------------------------------------------------------


def tenant_plan(government: LocalGovernment, users: Sequence[DemoUser]) -> demo_draft.TenantPlan:
    def staff(role: AppRole) -> demo_draft.StaffMember:
        user = next(u for u in users if u.role is role and u.municipality_code == government.code)
        return demo_draft.StaffMember(str(user.user_id), user.display_name, user.organisation_id)

    return demo_draft.TenantPlan(
        code=government.code,
        districts=districts(government),
        organisations=organisations(government),
        caseworker=staff(AppRole.CASEWORKER),
        supervisor=staff(AppRole.SUPERVISOR),
        coordinator=staff(AppRole.COORDINATOR),
        school_staff=staff(AppRole.SCHOOL_STAFF),
        school_social_worker=staff(AppRole.SCHOOL_SOCIAL_WORKER),
        welfare_worker=staff(AppRole.WELFARE_WORKER),
        prefecture_department=organisation_id(prefecture_tenant_code(government.prefecture_code), "care"),
    )


def tenant_rows(government: LocalGovernment, *, scale: float, seed: int) -> dict[str, list[Row]]:
    """Every row `seed_demo` writes into one tenant (without the tenant code), by table."""
    if government.is_prefecture:
        return {"programme_activity": prefecture_programmes(government, seed)}
    users = demo_users(government.prefecture_code, [government.code])
    cases = case_count(government.code, scale)
    rows = demo_casework.generate_casework(tenant_plan(government, users), cases=cases, seed=seed)
    schools = [o.name for o in organisations(government) if o.kind is OrganisationKind.JUNIOR_HIGH_SCHOOL]
    people = population(government.code)
    rows["municipality_status"] = status_rows(government, people, seed)
    rows["programme_activity"] = municipal_programmes(government, people, schools, seed)
    return rows


def column_names(table: str) -> tuple[str, ...]:
    """The columns of a table's rows, in order, after the tenant code."""
    return tuple(c.split(":")[0] for c in demo_draft.COLUMNS.get(table) or COLUMNS[table])


# PostgreSQL binds at most 32,767 parameters to one statement.
MAX_PARAMETERS: Final = 32_767


def rows_per_insert(table: str) -> int:
    """How many rows one INSERT of `table` carries: as many as its parameters allow."""
    return (MAX_PARAMETERS - 1) // len(column_names(table))


@functools.cache
def insert_sql(table: str, rows: int) -> str:
    """A multi-row INSERT … VALUES of `rows` rows: $1 is the tenant (the transaction passes
    it), then each row's columns in order. VALUES, because Citus routes it to the tenant's
    shard, where it refuses an INSERT … SELECT from a function under row security
    (docs/scale-out.md, finding 4). One text per table and row count, prepared once."""
    names = column_names(table)
    width = len(names)
    values = ", ".join(
        "($1, " + ", ".join(f"${2 + row * width + column}" for column in range(width)) + ")" for row in range(rows)
    )
    return f"INSERT INTO kizuna.{table} (municipality_code, {', '.join(names)}) VALUES {values}"


# --- municipality status and programmes ------------------------------------------------

COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "municipality_status": (
        "id", "fiscal_year", "one_stop_window", "complex_case_team", "jusoteki:jusoteki_status", "carer_salons",
        "childrens_places", "young_carer_coordinators", "kodomo_katei_center", "advisor_dispatch",
        "submission:submission_status", "submitted_at", "decided_at",
    ),
    "programme_activity": (
        "id", "fiscal_year", "kind:programme_kind", "title", "held_on", "participants", "companies", "age_group",
        "percent",
    ),
}  # fmt: skip
FISCAL_YEARS: Final = range(2022, fiscal_year(AS_OF_DATE) + 1)
ADVISOR_DISPATCH_FY2024: Final = frozenset(  # seed 000: dispatched or planned in 令和6年度
    {"行田市", "草加市", "志木市", "所沢市", "飯能市", "入間市", "熊谷市", "本庄市", "春日部市", "朝霞市"}
)
P = ProgrammeKind
# (fiscal year, kind, title, held on (None: end of the year or AS_OF), participants, companies)
SAITAMA_PROGRAMMES: Final[tuple[tuple[int, ProgrammeKind, str, dt.date | None, int, int | None], ...]] = (
    (2022, P.LINE_CONSULTATION_REGISTRATION, "ヤングケアラーLINE相談 登録者数（累計、R4.9.20開設）", None, 418, None),
    (2022, P.ONLINE_SALON, "ヤングケアラーオンラインサロン", None, 96, None),
    (2022, P.SUPPORT_STAFF_TRAINING, "ケアラー支援関係機関向け研修", None, 612, None),
    (2022, P.SUPPORT_STAFF_TRAINING, "地域福祉活動者向け研修", None, 288, None),
    (2022, P.EDUCATION_WELFARE_TRAINING, "ヤングケアラー支援のための教育・福祉合同研修", None, 298, None),
    (2023, P.LINE_CONSULTATION_REGISTRATION, "ヤングケアラーLINE相談 登録者数（累計）", None, 746, None),
    (2023, P.ONLINE_SALON, "ヤングケアラーオンラインサロン", None, 188, None),
    (2023, P.SUPPORT_STAFF_TRAINING, "ケアラー支援関係機関向け研修", None, 655, None),
    (2023, P.SUPPORT_STAFF_TRAINING, "地域福祉活動者向け研修", None, 312, None),
    (2023, P.EDUCATION_WELFARE_TRAINING, "ヤングケアラー支援のための教育・福祉合同研修", None, 334, None),
    (2023, P.BUSINESS_CARER_SEMINAR, "働き方改革セミナー（仕事と介護の両立）", None, 164, 121),
    # FY2024 (令和6年度): the figures of seed 000
    (2024, P.LINE_CONSULTATION_REGISTRATION, "ヤングケアラー・若者ケアラーLINE相談 登録者数（累計、R7.2.10現在）",
     dt.date(2025, 2, 10), 907, None),
    (2024, P.ONLINE_SALON, "オンラインサロン（Zoom・YouTubeLive・リアル・メタバースの合計、R7.1末現在）",
     dt.date(2025, 1, 31), 279, None),
    (2024, P.SUPPORT_STAFF_TRAINING,
     "ケアラー支援関係機関向け研修（ケアラー・ヤングケアラー支援基礎研修・実践研修、全6回）",
     dt.date(2025, 2, 10), 704, None),
    (2024, P.SUPPORT_STAFF_TRAINING,
     "地域福祉活動者向け研修「ヤングケアラーの理解を深め支援を考えるセミナー」（全5回）",
     None, 340, None),
    (2024, P.EDUCATION_WELFARE_TRAINING, "ヤングケアラー支援のための教育・福祉合同研修（全5回）", None, 361, None),
    (2024, P.SUPPORT_STAFF_TRAINING, "介護者サロン設置・運営研修", dt.date(2025, 2, 10), 403, None),
    (2024, P.SUPPORT_STAFF_TRAINING, "重層的支援体制整備事業研修", None, 138, None),
    (2024, P.SUPPORT_STAFF_TRAINING, "総合相談支援体制構築に係る説明会・情報交換会", None, 321, None),
    (2024, P.BUSINESS_CARER_SEMINAR, "労働セミナー「働きながら介護をする人たち」（動画配信、R7.1末現在）",
     dt.date(2025, 1, 31), 131, 96),
    (2024, P.BUSINESS_CARER_SEMINAR, "働き方改革セミナー「経営戦略としての介護離職防止対策〜仕事と介護の両立支援〜」",
     dt.date(2025, 1, 31), 250, 183),
    (2025, P.LINE_CONSULTATION_REGISTRATION, "ヤングケアラー・若者ケアラーLINE相談 登録者数（累計）", None, 1092, None),
    (2025, P.ONLINE_SALON, "オンラインサロン（メタバース開催を拡充）", None, 121, None),
    (2025, P.SUPPORT_STAFF_TRAINING, "ケアラー支援関係機関向け研修", None, 468, None),
    (2025, P.SUPPORT_STAFF_TRAINING, "地域福祉活動者向け研修", None, 226, None),
    (2025, P.EDUCATION_WELFARE_TRAINING, "ヤングケアラー支援のための教育・福祉合同研修", None, 244, None),
    (2025, P.BUSINESS_CARER_SEMINAR, "仕事と介護の両立支援セミナー（経営者・人事労務担当者向け）", None, 188, 142),
)  # fmt: skip
KOCHI_PROGRAMMES: Final[tuple[tuple[int, ProgrammeKind, str, dt.date | None, int, int | None], ...]] = tuple(
    row
    for year, staff, joint, companies in (
        (2022, 164, 86, 0),
        (2023, 181, 94, 0),
        (2024, 197, 102, 41),
        (2025, 142, 77, 47),
    )
    for row in (
        (year, P.SUPPORT_STAFF_TRAINING, "ヤングケアラー支援研修（市町村・関係機関職員向け）", None, staff, None),
        (year, P.EDUCATION_WELFARE_TRAINING, "SSW・児童福祉関係者合同研修（早期発見ネットワーク）", None, joint, None),
        *(
            [(year, P.BUSINESS_CARER_SEMINAR, "仕事と介護の両立支援セミナー", None, companies + 17, companies)]
            if companies
            else []
        ),
    )
)
# outreach lectures per year: (count, title)
LECTURES: Final[dict[str, dict[int, tuple[tuple[int, str], ...]]]] = {
    "11": {
        2022: ((6, "県政出前講座「ヤングケアラーについて」"),),
        2023: ((9, "県政出前講座「ヤングケアラー支援スタートブックについて」"),),
        2024: (
            (15, "県政出前講座「ヤングケアラー支援スタートブックについて」"),
            (5, "県政出前講座「ビジネスケアラー支援について〜仕事と介護の両立のために〜」"),
        ),
        2025: (
            (11, "県政出前講座「ヤングケアラー支援スタートブックについて」"),
            (6, "県政出前講座「ビジネスケアラー支援について〜仕事と介護の両立のために〜」"),
        ),
    },
    "39": {
        year: ((count, "ヤングケアラー出前授業（県立学校）"),)
        for year, count in ((2022, 4), (2023, 6), (2024, 8), (2025, 5))
    },
}
# awareness surveys: title, age groups, percent by fiscal year (seed 000's target: 70 % by FY2026
# for 30-50代; seed 004's baseline: 中2 15.8 %, 高2 13.2 % in the national survey of R3.3)
SURVEYS: Final[dict[str, tuple[tuple[str, tuple[str, ...], dict[int, tuple[str, ...]]], ...]]] = {
    "11": (
        (
            "地域包括支援センターの認知度（県政世論調査）",
            ("30代", "40代", "50代"),
            {2022: ("33.8", "40.2", "49.5"), 2023: ("36.1", "43.0", "51.7"), 2024: ("39.4", "46.3", "54.8"),
             2025: ("42.7", "49.1", "57.9")},
        ),
    ),
    "39": (
        (
            "ヤングケアラーの認知度（中高生）",
            ("中学2年生", "高校2年生"),
            {2022: ("27.9", "24.6"), 2023: ("38.4", "34.1"), 2024: ("47.5", "43.2"), 2025: ("54.1", "50.3")},
        ),
        (
            "ヤングケアラーの認知度（県民）",
            ("18歳以上",),
            {2022: ("34.6",), 2023: ("41.8",), 2024: ("48.9",), 2025: ("53.0",)},
        ),
    ),
}  # fmt: skip


def _rng(seed: int, code: str, purpose: str) -> random.Random:
    return random.Random(f"{seed}:{code}:{purpose}")  # noqa: S311 (synthetic data, not secrets)


def _office(day: dt.date, rng: random.Random) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9), JST) + dt.timedelta(minutes=rng.randint(0, 510))


def _day_in(year: int, rng: random.Random) -> dt.date:
    start, end = dt.date(year, 4, 1), min(dt.date(year + 1, 3, 31), AS_OF_DATE)
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def _row_id(day: dt.date, rng: random.Random) -> uuid.UUID:
    return uuid7(int(dt.datetime.combine(day, dt.time(9), JST).timestamp() * 1000), rng)


def status_rows(government: LocalGovernment, people: int, seed: int) -> list[Row]:
    """体制整備 for FY2022 on, more complete every year; past years accepted, the current one open."""
    rng = _rng(seed, government.code, "status")
    maturity = rng.random() + (0.3 if people >= 200_000 else 0.15 if people >= 50_000 else 0.0)
    rows: list[Row] = []
    for year in FISCAL_YEARS:
        level, years = maturity + 0.25 * (year - 2022), year - 2022
        jusoteki = (
            JusotekiStatus.IMPLEMENTED
            if level > 1.25
            else JusotekiStatus.TRANSITION_PREPARATION
            if level > 0.85
            else JusotekiStatus.NONE
        )
        salons = max(int(year >= 2024), round(people / 40_000 * (0.5 + 0.25 * years) * (0.5 + level / 2)))
        places = max(1, round(people / 9_000 * (0.7 + 0.12 * years)))
        coordinators = max(int(level > 0.9), round(people / 300_000 * (1 + years)))
        if year == 2024 and government.prefecture_code == "11":
            advisor = government.name in ADVISOR_DISPATCH_FY2024
        else:
            advisor = rng.random() < 0.1
        submission, submitted, decided = _submission(year, rng)
        rows.append((
            _row_id(dt.date(year, 4, 1), rng), year, level > 0.8, level > 0.95, jusoteki.value, salons, places,
            coordinators, year >= 2024 and level > 0.7, advisor, submission.value, submitted, decided,
        ))  # fmt: skip
    return rows


def _submission(year: int, rng: random.Random) -> tuple[SubmissionStatus, dt.datetime | None, dt.datetime | None]:
    if year < fiscal_year(AS_OF_DATE):
        submitted = _office(dt.date(year + 1, 5, rng.randint(10, 31)), rng)
        return SubmissionStatus.ACCEPTED, submitted, submitted + dt.timedelta(days=rng.randint(5, 30))
    status = rng.choices((SubmissionStatus.SUBMITTED, SubmissionStatus.DRAFT, SubmissionStatus.RETURNED), (45, 45, 10))[
        0
    ]
    if status is SubmissionStatus.DRAFT:
        return status, None, None
    submitted = _office(AS_OF_DATE - dt.timedelta(days=rng.randint(10, 40)), rng)
    decided = submitted + dt.timedelta(days=rng.randint(2, 5)) if status is SubmissionStatus.RETURNED else None
    return status, submitted, decided


def _programme(
    year: int,
    kind: ProgrammeKind,
    title: str,
    rng: random.Random,
    *,
    held: dt.date | None = None,
    participants: int | None = None,
    companies: int | None = None,
    survey: tuple[str, Decimal] | None = None,
) -> Row:
    held = held or _day_in(year, rng)
    group, percent = survey or (None, None)
    return (_row_id(held, rng), year, kind.value, title, held, participants, companies, group, percent)


def municipal_programmes(government: LocalGovernment, people: int, schools: Sequence[str], seed: int) -> list[Row]:
    """A municipality's own trainings, lectures at schools, seminars and surveys."""
    rng, name = _rng(seed, government.code, "programmes"), government.name
    rows: list[Row] = []
    for year in FISCAL_YEARS:
        years = year - 2022
        for n in range(1 + (people >= 100_000) + (people >= 500_000)):
            title = f"{name} ケアラー・ヤングケアラー支援研修（第{n + 1}回）"
            rows.append(
                _programme(
                    year, P.SUPPORT_STAFF_TRAINING, title, rng, participants=rng.randint(12, 30) + people // 25_000
                )
            )
        for _ in range(round(people / 150_000 + 0.5 * years + rng.random())):
            title = f"ヤングケアラー出前授業（{rng.choice(schools)}）"
            rows.append(_programme(year, P.OUTREACH_LECTURE, title, rng, participants=rng.randint(60, 200)))
        if people >= 200_000 and year >= 2023:
            title = f"{name} 仕事と介護の両立セミナー"
            rows.append(
                _programme(
                    year,
                    P.BUSINESS_CARER_SEMINAR,
                    title,
                    rng,
                    participants=rng.randint(30, 120),
                    companies=rng.randint(10, 40),
                )
            )
        if year >= 2024 and rng.random() < 0.3:
            title = f"{name} 教育・福祉合同研修（ヤングケアラー支援）"
            rows.append(_programme(year, P.EDUCATION_WELFARE_TRAINING, title, rng, participants=rng.randint(20, 80)))
        if people >= 100_000 and year in (2022, 2024):
            title = f"{name} ヤングケアラー実態調査（「ヤングケアラー」を聞いたことがある割合）"
            for group, base in (("小学6年生", 16), ("中学2年生", 22), ("高校2年生", 19)):
                percent = Decimal(f"{base + 7 * years + rng.uniform(-3, 3):.1f}")
                rows.append(_programme(year, P.AWARENESS_SURVEY, title, rng, survey=(group, percent)))
    return rows


def prefecture_programmes(government: LocalGovernment, seed: int) -> list[Row]:
    """The prefecture's own programmes: seed 000's figures for Saitama, seed 004's for Kochi."""
    rng, code = _rng(seed, government.code, "programmes"), government.prefecture_code
    table = SAITAMA_PROGRAMMES if code == "11" else KOCHI_PROGRAMMES if code == "39" else ()
    rows: list[Row] = []
    for year, kind, title, held, participants, companies in table:
        day = held or min(dt.date(year + 1, 3, 31), AS_OF_DATE)
        rows.append(_programme(year, kind, title, rng, held=day, participants=participants, companies=companies))
    for year, lectures in LECTURES.get(code, {}).items():
        for count, title in lectures:
            for _ in range(count):
                rows.append(_programme(year, P.OUTREACH_LECTURE, title, rng, participants=rng.randint(15, 120)))
    for title, groups, by_year in SURVEYS.get(code, ()):
        for year, percents in by_year.items():
            held = min(dt.date(year + 1, 1, 31), AS_OF_DATE)
            for group, percent in zip(groups, percents, strict=True):
                rows.append(
                    _programme(year, P.AWARENESS_SURVEY, title, rng, held=held, survey=(group, Decimal(percent)))
                )
    return rows


# --- the database ----------------------------------------------------------------------

HOLDS_CASEWORK = "SELECT EXISTS (SELECT 1 FROM kizuna.household WHERE municipality_code = $1)"
HOLDS_PROGRAMMES = "SELECT EXISTS (SELECT 1 FROM kizuna.programme_activity WHERE municipality_code = $1)"


async def is_seeded(admin_url: str) -> bool:
    """True once organisations are onboarded: demo data or a real deployment's, and
    `kizuna serve` must not add demo data to a real deployment."""
    async with admin_connection(admin_url) as conn:
        return await has_organisations(conn)


async def development_users(admin_url: str) -> int:
    """How many users of the development IdP the database holds: the demo's, whose
    memberships would let anyone in wherever a development server reaches the database."""
    async with admin_connection(admin_url) as conn:
        count: int = await conn.fetchval("SELECT count(*) FROM kizuna.app_user WHERE issuer = $1", DEFAULT_DEV_ISSUER)
        return count


async def remove_demo_data(admin_url: str) -> int:
    """Remove what seeding and the demo's requests wrote: every tenant's rows (audit log
    included), the users and the organisations; the registry stays. One transaction over
    the administrative connection; returns the tenant rows removed.

    Development only: `kizuna demo seed --reset` refuses to call it in any other mode.
    Until seeding runs again, `is_seeded` is False, so an interrupted reset is finished by
    the next `kizuna serve` or `kizuna demo seed`.
    """
    children_first = tuple(reversed(TENANT_TABLES))
    async with admin_connection(admin_url) as conn, conn.transaction():
        removed = 0
        for code in await registered_codes(conn):
            removed += await remove_tenant_rows(conn, code, children_first)
        await remove_users_and_organisations(conn)
    return removed


async def _provision(
    admin_url: str,
    prefecture: str,
    governments: Sequence[LocalGovernment],
    users: Sequence[DemoUser],
    issuer: str,
) -> int:
    """Registry, organisations, users and memberships; returns how many memberships are new."""
    directory = {o.id: o for g in (for_prefecture(prefecture)[0], *governments) for o in organisations(g)}
    async with admin_connection(admin_url) as conn:
        await upsert_registry(conn, for_prefecture(prefecture))
        await upsert_organisations(conn, directory.values())
        ids = await upsert_users(conn, [UserRow(u.user_id, issuer, u.subject) for u in users])
        if strays := [u.subject for u in users if ids[(issuer, u.subject)] != u.user_id]:
            # Only a data directory migrated from before revision 0004 holds demo users
            # under other ids; its demo data stays usable, but cannot be extended.
            raise RuntimeError(
                f"demo users {strays[:3]} are registered under other ids: this data directory predates"
                " revision 0004; stop the server (kizuna db stop) and remove it to seed afresh"
            )
        added = 0
        for government in governments:
            rows = [
                MembershipRow(membership_id(u), u.user_id, u.display_name, u.role, u.organisation_id)
                for u in users
                if u.municipality_code == government.code
            ]
            added += await add_memberships(conn, government.code, rows)
        return added


async def _seed_tenant(
    database: Database,
    government: LocalGovernment,
    users: Sequence[DemoUser],
    *,
    issuer: str,
    scale: float,
    seed: int,
) -> dict[str, int]:
    """One transaction as the tenant's demo supervisor (prefecture: analyst); {} if it already held data."""
    role = AppRole.PREFECTURE_ANALYST if government.is_prefecture else AppRole.SUPERVISOR
    user = next(u for u in users if u.role is role and u.municipality_code == government.code)
    caller = Caller(user.user_id, issuer, user.subject, role, government.code, user.organisation_id)
    async with database.transaction(caller, readonly=False) as tx:
        if await tx.fetchval(HOLDS_PROGRAMMES if government.is_prefecture else HOLDS_CASEWORK):
            return {}
        # In a thread: the event loop meanwhile sends another tenant's rows to the server.
        rows = await asyncio.to_thread(tenant_rows, government, scale=scale, seed=seed)
        return await _insert(tx, rows)


async def _insert(tx: TenantTransaction, rows: Mapping[str, Sequence[Sequence[Any]]]) -> dict[str, int]:
    """A few statements per table: the server inserts thousands of rows in one execution,
    where one execution per row cost the most of a first start."""
    counts: dict[str, int] = {}
    for table in TENANT_TABLES:  # parents first
        if table_rows := rows.get(table):
            size = rows_per_insert(table)
            for start in range(0, len(table_rows), size):
                chunk = table_rows[start : start + size]
                await tx.execute(insert_sql(table, len(chunk)), *itertools.chain.from_iterable(chunk))
            counts[table] = len(table_rows)
    return counts


async def seed_demo(
    admin_url: str,
    app_dsn: str,
    *,
    prefecture: str = "11",
    scale: float = 1.0,
    seed: int = 0,
    municipalities: Sequence[str] | None = None,
    issuer: str = DEFAULT_DEV_ISSUER,
) -> DemoSummary:
    """Provision and seed the prefecture tenant and its municipalities (or only
    `municipalities`); the demo users are those of the development IdP, `issuer`."""
    if not scale > 0:
        raise ValueError("scale must be positive")
    governments = selected(prefecture, municipalities)
    users = demo_users(prefecture, [g.code for g in governments])
    totals = dict.fromkeys(TENANT_TABLES, 0)
    totals["membership"] = await _provision(admin_url, prefecture, governments, users, issuer)
    pending = iter(governments)

    async def seed_pending() -> list[dict[str, int]]:
        return [await _seed_tenant(database, g, users, issuer=issuer, scale=scale, seed=seed) for g in pending]

    database = await Database.connect(app_dsn, size=SEEDING_TENANTS)
    try:
        # A few tenants at a time, so the client's work (generating rows) and the server's
        # (inserting them) overlap; each tenant's rows depend on its own seed only.
        done = await asyncio.gather(*(seed_pending() for _ in range(SEEDING_TENANTS)))
    finally:
        await database.close()
    tenants = [counts for worker in done for counts in worker]
    for counts in tenants:
        for table, count in counts.items():
            totals[table] += count
    return DemoSummary(municipalities=sum(bool(c) for c in tenants), rows=totals, users=users)
