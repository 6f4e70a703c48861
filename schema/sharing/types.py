"""Participants, consents, emergency accesses, and the shared view an agency reads.

`SharedCase` and its parts are separate types with no other fields: an agency never
receives the staff `Case` type, so no field of it can be asked for."""

from __future__ import annotations

import datetime as dt

import strawberry

from kizuna.schema.cost import ListSize
from kizuna.schema.enums import ConsentGiver, MeetingKind, OrganisationKind
from kizuna.schema.payloads import ONE_USER_ERROR, UserError
from kizuna.schema.relay import Node
from kizuna.schema.sharing.service import MAX_NAMED
from kizuna.schema.tenants.types import Organization
from kizuna.schema.writes import Payload


@strawberry.type(description="ケースに参加する機関")
class CaseParticipant(Node):
    case_id: strawberry.ID = strawberry.field(description="ケースのグローバルID")
    organization: Organization
    role: str = strawberry.field(description="ケースでの役割")
    added_at: dt.datetime


@strawberry.type(description="情報共有への同意（変更せず、撤回と新しい同意で改める: ISO/IEC TS 27560）")
class Consent(Node):
    case_id: strawberry.ID
    given_by: ConsentGiver
    guardian_name: str | None = strawberry.field(description="保護者の氏名（保護者による同意のとき）")
    purpose: str = strawberry.field(description="目的")
    organization_ids: list[strawberry.ID] = strawberry.field(
        description="共有先の機関", directives=[ListSize(assumed_size=MAX_NAMED)]
    )
    organization_kinds: list[OrganisationKind] = strawberry.field(
        description="共有先の機関の種別", directives=[ListSize(assumed_size=len(OrganisationKind))]
    )
    given_at: dt.datetime
    expires_on: dt.date | None = strawberry.field(description="有効期限（この日まで）")
    withdrawn_at: dt.datetime | None
    withdrawal_reason: str | None


@strawberry.type(description="緊急時の閲覧（理由を記録し、24時間以内、スーパーバイザーが確認する）")
class EmergencyAccess(Node):
    case_id: strawberry.ID = strawberry.field(description="ケースのグローバルID")
    subject: str = strawberry.field(description="閲覧した利用者")
    reason: str
    granted_at: dt.datetime
    expires_at: dt.datetime


@strawberry.type(description="共有されたケースの会議（種類・日付・決定事項・次回見直し日のみ）")
class SharedMeeting:
    kind: MeetingKind
    held_on: dt.date
    decisions: str | None
    next_review_on: dt.date | None


@strawberry.type(description="共有されたケースの支援計画の目標（版・目標・期間のみ）")
class SharedPlanGoals:
    version: int
    goals: str
    period_start: dt.date
    period_end: dt.date


@strawberry.type(
    description="所属機関に共有されたケース（会議の決定事項と計画の目標のみ。アセスメント・記録・家族の情報は含まない）"
)
class SharedCase:
    case_id: strawberry.ID = strawberry.field(description="ケースのグローバルID（緊急時の閲覧で指定する）")
    # Estimates: 1,000 meetings and 1,000 plans in all are read, not a number per case.
    meetings: list[SharedMeeting] = strawberry.field(directives=[ListSize(assumed_size=20)])
    plan_goals: list[SharedPlanGoals] = strawberry.field(directives=[ListSize(assumed_size=10)])


@strawberry.input(description="ケースに機関を加える")
class AddCaseParticipantInput:
    case_id: strawberry.ID
    organization_id: strawberry.ID = strawberry.field(description="このテナントで活動する機関")
    role: str = strawberry.field(description="ケースでの役割（1〜100文字）")


@strawberry.input
class RemoveCaseParticipantInput:
    id: strawberry.ID


@strawberry.type
class CaseParticipantPayload(Payload):
    participant: CaseParticipant | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])


@strawberry.input(description="要保護児童対策地域協議会に登録する（理由を記録する）")
class RegisterCaseWithYotaikyoInput:
    case_id: strawberry.ID
    reason: str


@strawberry.input(description="要保護児童対策地域協議会への登録を解除する（理由を記録する）")
class DeregisterCaseFromYotaikyoInput:
    case_id: strawberry.ID
    reason: str


@strawberry.type
class YotaikyoPayload(Payload):
    case_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])


@strawberry.input(description="同意を記録する（記録した同意は変更できない）")
class RecordConsentInput:
    case_id: strawberry.ID
    given_by: ConsentGiver
    guardian_name: str | None = None
    purpose: str
    organization_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    organization_kinds: list[OrganisationKind] = strawberry.field(default_factory=list)
    expires_on: dt.date = strawberry.field(description="有効期限（明日から3年以内）")
    idempotency_key: str | None = None


@strawberry.input
class WithdrawConsentInput:
    consent_id: strawberry.ID
    reason: str | None = None


@strawberry.type
class ConsentPayload(Payload):
    consent: Consent | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])


@strawberry.input(description="同意によらずに参加機関と共有する（スーパーバイザーのみ、理由を記録する）")
class ShareCaseWithoutConsentInput:
    case_id: strawberry.ID
    organization_id: strawberry.ID
    reason: str
    idempotency_key: str | None = strawberry.field(
        default=None, description="再送しても二重に共有しないためのキー（同じキーの再送は最初の結果を返す。1〜200文字）"
    )


@strawberry.type
class ShareCaseWithoutConsentPayload(Payload):
    case_id: strawberry.ID | None = strawberry.field(default=None, description="共有したケースのグローバルID")
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])


@strawberry.input(description="緊急時の閲覧を始める（理由は10文字以上、1〜24時間）")
class OpenEmergencyAccessInput:
    case_id: strawberry.ID
    reason: str
    hours: int
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="再送しても二重に始めないためのキー（自分のキー。同じキーの再送は最初の結果を返す。1〜200文字）",
    )


@strawberry.type
class EmergencyAccessPayload(Payload):
    emergency_access: EmergencyAccess | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])
