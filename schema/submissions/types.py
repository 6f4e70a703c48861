"""A municipality's figures of a fiscal year, their submission, and the prefecture's decision."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from kizuna.schema.enums import JusotekiStatus, ProgrammeKind, SubmissionStatus, SubmittedFigures
from kizuna.schema.payloads import ONE_USER_ERROR, UserError
from kizuna.schema.relay import Node
from kizuna.schema.tenants.types import Municipality
from kizuna.schema.writes import Payload


@strawberry.type(description="市町村の体制整備の状況（年度ごと）。県が承認すると県の集計に入る")
class MunicipalityStatus:
    fiscal_year: int = strawberry.field(description="年度（西暦、4月〜翌3月）")
    one_stop_window: bool = strawberry.field(description="ワンストップ型総合相談窓口")
    complex_case_team: bool = strawberry.field(description="複合課題を調整するチーム")
    jusoteki: JusotekiStatus = strawberry.field(description="重層的支援体制整備事業")
    carer_salons: int = strawberry.field(description="介護者サロンの数")
    childrens_places: int = strawberry.field(description="こどもの居場所の数")
    young_carer_coordinators: int = strawberry.field(description="ヤングケアラー・コーディネーターの数")
    kodomo_katei_center: bool = strawberry.field(description="こども家庭センター（子ども家庭相談支援拠点）")
    advisor_dispatch: bool = strawberry.field(description="県のアドバイザー派遣")
    state: SubmissionStatus
    submitted_at: dt.datetime | None
    decided_at: dt.datetime | None
    return_comment: str | None = strawberry.field(description="県が差し戻した理由（次の判断まで残る）")


@strawberry.type(description="市町村（または県）の事業の実績（研修、セミナー、出前講座、認知度調査など）")
class ProgrammeActivity(Node):
    fiscal_year: int = strawberry.field(description="年度（西暦、4月〜翌3月）")
    kind: ProgrammeKind
    title: str
    held_on: dt.date | None
    participants: int | None = strawberry.field(description="参加者・受講者・登録者の数")
    companies: int | None = strawberry.field(description="受講企業の数")
    age_group: str | None = strawberry.field(description="認知度調査の年齢層")
    percent: Decimal | None = strawberry.field(description="認知度調査の割合（%）")


@strawberry.type(description="市町村が提出した年度の数値と、その状況（承認待ち・承認済み・差戻し）")
class Submission:
    municipality: Municipality
    fiscal_year: int = strawberry.field(description="年度（西暦、4月〜翌3月）")
    figures: SubmittedFigures
    state: SubmissionStatus
    submitted_at: dt.datetime | None
    decided_at: dt.datetime | None
    return_comment: str | None = strawberry.field(description="県が差し戻した理由（次の判断まで残る）")


@strawberry.input(description="年度の体制整備の状況を入力・修正する（作成中か差戻しの間だけ）")
class SaveMunicipalityStatusInput:
    fiscal_year: int
    one_stop_window: bool
    complex_case_team: bool
    jusoteki: JusotekiStatus
    carer_salons: int
    childrens_places: int
    young_carer_coordinators: int
    kodomo_katei_center: bool
    advisor_dispatch: bool


@strawberry.input(description="年度の体制整備の状況を県に提出する（スーパーバイザー）")
class SubmitMunicipalityStatusInput:
    fiscal_year: int


@strawberry.input(description="年度の事業の実績を県に提出する（スーパーバイザー）")
class SubmitProgrammeFiguresInput:
    fiscal_year: int


@strawberry.input(
    description="事業の実績を登録する（年度が作成中か差戻しの間だけ）。認知度調査は年齢層と割合、それ以外は参加者数か企業数"
)
class RecordProgrammeActivityInput:
    fiscal_year: int
    kind: ProgrammeKind
    title: str = strawberry.field(description="事業名（1〜200文字）")
    held_on: dt.date | None = None
    participants: int | None = None
    companies: int | None = None
    age_group: str | None = None
    percent: Decimal | None = None
    idempotency_key: str | None = strawberry.field(default=None, description="再送しても二重に登録しないためのキー")


@strawberry.input(description="事業の実績を取り消す（年度が作成中か差戻しの間だけ。修正は取消と再登録）")
class RemoveProgrammeActivityInput:
    id: strawberry.ID


@strawberry.input(description="市町村が提出した年度の数値を承認する（県の担当者）")
class AcceptSubmissionInput:
    municipality_code: str
    fiscal_year: int
    figures: SubmittedFigures


@strawberry.input(description="市町村の数値を理由を付けて差し戻す（承認済みのものも、訂正のため差し戻せる）")
class ReturnSubmissionInput:
    municipality_code: str
    fiscal_year: int
    figures: SubmittedFigures
    comment: str = strawberry.field(description="差し戻す理由（1〜1000文字）")


@strawberry.type
class MunicipalityStatusPayload(Payload):
    municipality_status: MunicipalityStatus | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])


@strawberry.type
class ProgrammeActivityPayload(Payload):
    programme_activity: ProgrammeActivity | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])


@strawberry.type
class RemoveProgrammeActivityPayload(Payload):
    removed_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])


@strawberry.type
class SubmissionPayload(Payload):
    submission: Submission | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])
