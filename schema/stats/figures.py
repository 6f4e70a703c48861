"""What the prefecture view publishes: each figure, its categories and their labels.

Counts of people's records (cases, referrals, closures, helper visits) go through
disclosure control; the municipality status and the programme counts describe
institutions and events that the prefecture publishes itself (seeds 000 and 001), entered
as totals rather than derived from anyone's record, and are shown as they are.
"""

from __future__ import annotations

from typing import Final

from kizuna.platform.vocabulary import CarerCategory, CaseStage, LabelledEnum, ProgrammeKind, ReferralSource


class Figure(LabelledEnum):
    CASES_BY_CATEGORY = ("cases_by_category", "新規ケース数（ケアラー区分別）")
    CASES_BY_STAGE = ("cases_by_stage", "新規ケース数（現在の段階別）")
    REFERRALS_BY_SOURCE = ("referrals_by_source", "新規の気づき・相談件数（経路別）")
    CLOSURES = ("closures", "終結件数")
    HELPER_VISITS = ("helper_visits", "子育て世帯ヘルパー派遣 訪問回数")
    MUNICIPALITY_STATUS = ("municipality_status", "体制整備の状況（承認済み）")
    PROGRAMMES = ("programmes", "事業の実施状況")


class CellStatus(LabelledEnum):
    """Why a figure is shown or not; zero is shown as zero."""

    SHOWN = ("shown", "公表")
    # One reason for every suppressed figure: "a small count" would tell that it lies
    # between 1 and k-1, which is what suppressing it hides.
    SUPPRESSED = ("suppressed", "秘匿（少数のため、または他の秘匿値が逆算されないため）")
    TOO_FEW = ("too_few", "非表示（中央値の元になるケースがk件未満）")
    NOT_REPORTED = ("not_reported", "報告なし（未提出・未承認）")


PROTECTED_TOGETHER: Final = (
    (Figure.CASES_BY_CATEGORY, Figure.CASES_BY_STAGE),
    (Figure.REFERRALS_BY_SOURCE,),
    (Figure.CLOSURES,),
    (Figure.HELPER_VISITS,),
)
"""Counts of people's records, published only through disclosure control, in the groups
protected together: the new cases by category and by stage count the same cases (each
municipality's total is one figure of both); referrals, closures and visits are other
records, and share no figure with them or with each other."""
PROTECTED: Final = tuple(figure for group in PROTECTED_TOGETHER for figure in group)

ONE_COLUMN = "all"
"""The category of a figure that is a single count per municipality (closures, visits)."""

# 体制整備, as seed 001's progress table counts municipalities; per municipality 1 or 0,
# except the numbers of salons and children's places.
STATUS_CATEGORIES: Final = {
    "window_and_team": "①ワンストップ型総合相談窓口と②複合課題を調整するチームの両方を設置",
    "window_only": "①ワンストップ型総合相談窓口のみ",
    "team_only": "②複合課題を調整するチームのみ",
    "window_or_team": "市町村総合相談支援体制構築",
    "jusoteki_implemented": "重層的支援体制整備事業実施",
    "jusoteki_preparation": "重層的支援体制整備事業への移行準備事業実施",
    "with_carer_salons": "ケアラーサロンのある市町村",
    "carer_salons": "ケアラーサロン数",
    "with_childrens_places": "子どもの居場所のある市町村",
    "childrens_places": "子どもの居場所数",
}
# Per programme kind: events held, and people (or companies) reached. Awareness surveys are
# percentages, not counts: the indicators read them.
PROGRAMME_KINDS: Final = tuple(k for k in ProgrammeKind if k is not ProgrammeKind.AWARENESS_SURVEY)
PROGRAMME_CATEGORIES: Final = {
    **{f"{k.value}:held": f"{k.label}（回数）" for k in PROGRAMME_KINDS},
    **{f"{k.value}:participants": f"{k.label}（参加者・登録者数）" for k in PROGRAMME_KINDS},
    f"{ProgrammeKind.BUSINESS_CARER_SEMINAR.value}:companies": "ビジネスケアラー支援セミナー（参加企業数）",
}

CATEGORIES: Final[dict[Figure, dict[str, str]]] = {
    Figure.CASES_BY_CATEGORY: {c.value: c.label for c in CarerCategory},
    Figure.CASES_BY_STAGE: {s.value: s.label for s in CaseStage},
    Figure.REFERRALS_BY_SOURCE: {s.value: s.label for s in ReferralSource},
    Figure.CLOSURES: {ONE_COLUMN: "終結"},
    Figure.HELPER_VISITS: {ONE_COLUMN: "訪問"},
    Figure.MUNICIPALITY_STATUS: STATUS_CATEGORIES,
    Figure.PROGRAMMES: PROGRAMME_CATEGORIES,
}
"""Every category of every figure, in the order a table shows them."""
