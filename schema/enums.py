"""Every GraphQL enum, declared one way: English member names as values, the members'
Japanese labels as descriptions (DESIGN section 5). `tests/test_schema_export.py` walks the
printed schema for an enum or a value without one. Types import the enums from here, so
none is used before it is declared."""

from __future__ import annotations

import enum

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

from kizuna.platform.vocabulary import (
    AppRole,
    ApprovalStatus,
    ApprovalSubject,
    CaredForCondition,
    CarerCategory,
    CareTask,
    CaseEventKind,
    CaseStage,
    ConsentGiver,
    ContactKind,
    DispatchStatus,
    IndicatorFigure,
    JusotekiStatus,
    MeetingKind,
    OrganisationKind,
    ProgrammeKind,
    ReferralSource,
    ReferralStatus,
    RiskLevel,
    SubmissionStatus,
    SubmittedFigures,
    Urgency,
)
from kizuna.schema.errors import UserErrorCode
from kizuna.tenants.registry import MunicipalityKind

__all__ = [
    "AppRole",
    "ApprovalStatus",
    "ApprovalSubject",
    "CareTask",
    "CaredForCondition",
    "CarerCategory",
    "CaseEventKind",
    "CaseStage",
    "ConsentGiver",
    "ContactKind",
    "DispatchStatus",
    "IndicatorFigure",
    "JusotekiStatus",
    "MeetingKind",
    "MunicipalityKind",
    "OrganisationKind",
    "ProgrammeKind",
    "ReferralSource",
    "ReferralStatus",
    "RiskLevel",
    "SubmissionStatus",
    "SubmittedFigures",
    "Urgency",
    "UserErrorCode",
    "graphql_enum",
]


def graphql_enum(enum_cls: type[enum.Enum], description: str) -> None:
    """Make `enum_cls` a GraphQL enum described by `description`, each value by its
    member's `label`; a member without a label fails here, at import."""
    strawberry.enum(enum_cls, description=description)
    definition: StrawberryEnumDefinition = enum_cls.__strawberry_definition__  # type: ignore[attr-defined]
    for value in definition.values:
        label = getattr(enum_cls(value.value), "label", None)
        if not isinstance(label, str) or not label:
            raise TypeError(f"{enum_cls.__name__}.{value.name} has no Japanese label")
        value.description = label


graphql_enum(AppRole, "利用者の役割")
graphql_enum(CaseStage, "ケースの段階（相談受理 → … → 終結）")
graphql_enum(CarerCategory, "ケアラーの区分")
graphql_enum(ReferralSource, "気づき・相談の経路")
graphql_enum(ReferralStatus, "気づき・相談の状況")
graphql_enum(Urgency, "緊急度")
graphql_enum(OrganisationKind, "機関の種別")
graphql_enum(MunicipalityKind, "地方公共団体の種別")
graphql_enum(UserErrorCode, "入力を受け付けなかった理由")
graphql_enum(CareTask, "ケアの内容")
graphql_enum(ApprovalSubject, "承認の対象")
graphql_enum(ApprovalStatus, "承認の状況")
graphql_enum(CaredForCondition, "ケアを受ける人の状態")
graphql_enum(CaseEventKind, "ケースの経過の種類")
graphql_enum(RiskLevel, "リスクの程度")
graphql_enum(DispatchStatus, "ヘルパー派遣の状況（申請 → 同行調査 → 派遣計画 → 決定通知 → 派遣 ⇄ モニタリング → 終了）")
graphql_enum(MeetingKind, "会議の種類")
graphql_enum(ContactKind, "支援記録の種類")
graphql_enum(ConsentGiver, "同意した人")
graphql_enum(JusotekiStatus, "重層的支援体制整備事業の状況")
graphql_enum(ProgrammeKind, "事業の種類（研修、セミナー、出前講座、サロン、LINE相談、認知度調査）")
graphql_enum(SubmissionStatus, "市町村が提出した数値の状況（作成中 → 提出済み → 承認済み、または差戻し）")
graphql_enum(SubmittedFigures, "市町村が年度ごとに提出するもの")
graphql_enum(IndicatorFigure, "指標を測る数値（集計の方法が決まっているものだけ）")
