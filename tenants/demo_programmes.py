"""Municipality status (体制整備) and programme activity, by fiscal year: the prefecture's
own programmes with the figures of seeds 000 (Saitama) and 004 (Kochi), and each
municipality's trainings, lectures, seminars and surveys, sized by its population."""

from __future__ import annotations

import datetime as dt
import functools
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from kizuna.platform.ids import uuid7
from kizuna.platform.vocabulary import JusotekiStatus, ProgrammeKind, SubmissionStatus, SubmittedFigures
from kizuna.tenants.demo_calendar import AS_OF_DATE, JST, fiscal_year
from kizuna.tenants.demo_draft import Row
from kizuna.tenants.registry import LocalGovernment

COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "municipality_status": (
        "id", "fiscal_year", "one_stop_window", "complex_case_team", "jusoteki:jusoteki_status", "carer_salons",
        "childrens_places", "young_carer_coordinators", "kodomo_katei_center", "advisor_dispatch",
        "submission:submission_status", "submitted_at", "decided_at", "submitted_by",
    ),
    "programme_submission": ("id", "fiscal_year", "submission:submission_status", "submitted_at", "submitted_by"),
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


def status_rows(government: LocalGovernment, people: int, seed: int, submitter: uuid.UUID) -> list[Row]:
    """体制整備 for FY2022 on, more complete every year, as its supervisor (`submitter`)
    wrote them: drafts and submissions; the prefecture decides afterwards (`decisions`)."""
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
        plan = submission_plan(government, seed)[SubmittedFigures.MUNICIPALITY_STATUS, year]
        rows.append((
            _row_id(dt.date(year, 4, 1), rng), year, level > 0.8, level > 0.95, jusoteki.value, salons, places,
            coordinators, year >= 2024 and level > 0.7, advisor, plan.written.value, plan.submitted_at, None,
            None if plan.submitted_at is None else submitter,
        ))  # fmt: skip
    return rows


@dataclass(frozen=True, slots=True)
class PlannedSubmission:
    """How a municipality's figures of a year stand in the demo: `written` by its supervisor
    (a draft, or submitted), then `decided` by the prefecture's analyst (None: still waiting)."""

    written: SubmissionStatus
    submitted_at: dt.datetime | None
    decided: SubmissionStatus | None = None
    decided_at: dt.datetime | None = None
    comment: str | None = None


RETURN_COMMENTS: Final = {
    SubmittedFigures.MUNICIPALITY_STATUS: (
        "こどもの居場所の数が前年度から大きく減っています。集計方法をご確認のうえ再提出してください。"
    ),
    SubmittedFigures.PROGRAMMES: "研修の受講者数に重複計上の可能性があります。回ごとの実人数をご確認ください。",
}


@functools.cache
def submission_plan(government: LocalGovernment, seed: int) -> dict[tuple[SubmittedFigures, int], PlannedSubmission]:
    """Past years submitted and accepted; the current year a draft, waiting, returned with
    a comment, or (programme figures) accepted already."""
    rng = _rng(seed, government.code, "submissions")
    plan: dict[tuple[SubmittedFigures, int], PlannedSubmission] = {}
    for figures in SubmittedFigures:
        for year in FISCAL_YEARS:
            if year < fiscal_year(AS_OF_DATE):
                submitted = _office(dt.date(year + 1, 5, rng.randint(10, 31)), rng)
                decided = submitted + dt.timedelta(days=rng.randint(5, 30))
                plan[figures, year] = PlannedSubmission(
                    SubmissionStatus.SUBMITTED, submitted, SubmissionStatus.ACCEPTED, decided
                )
                continue
            state = rng.choices(
                (
                    SubmissionStatus.SUBMITTED,
                    SubmissionStatus.DRAFT,
                    SubmissionStatus.RETURNED,
                    SubmissionStatus.ACCEPTED,
                ),
                (40, 35, 15, 10),
            )[0]
            if state is SubmissionStatus.DRAFT:
                plan[figures, year] = PlannedSubmission(state, None)
                continue
            submitted = _office(AS_OF_DATE - dt.timedelta(days=rng.randint(10, 40)), rng)
            if state is SubmissionStatus.SUBMITTED:
                plan[figures, year] = PlannedSubmission(state, submitted)
                continue
            decided = submitted + dt.timedelta(days=rng.randint(2, 5))
            comment = RETURN_COMMENTS[figures] if state is SubmissionStatus.RETURNED else None
            plan[figures, year] = PlannedSubmission(SubmissionStatus.SUBMITTED, submitted, state, decided, comment)
    return plan


def programme_submission_rows(government: LocalGovernment, seed: int, submitter: uuid.UUID) -> list[Row]:
    """The submission of each year's programme figures, as its supervisor wrote it (no row: a draft)."""
    rng = _rng(seed, government.code, "programme_submission")
    return [
        (_row_id(dt.date(year, 4, 1), rng), year, plan.written.value, plan.submitted_at, submitter)
        for (figures, year), plan in submission_plan(government, seed).items()
        if figures is SubmittedFigures.PROGRAMMES and plan.submitted_at is not None
    ]


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
