"""A case's records as the schema shows them, and the inputs that write them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import strawberry
from strawberry.types import Info

from kizuna.platform import audit
from kizuna.platform.scope import Scope
from kizuna.schema.cost import ListSize
from kizuna.schema.enums import ContactKind, MeetingKind
from kizuna.schema.payloads import ONE_USER_ERROR, UserError
from kizuna.schema.records.loaders import CaseRecords
from kizuna.schema.records.service import MAX_PARTICIPANTS
from kizuna.schema.relay import Keyset, Node, PageInfo, encode_cursor, encode_global_id, page_info
from kizuna.schema.tenants.types import Organization
from kizuna.schema.writes import Payload

IDEMPOTENCY_KEY = "再送しても二重に登録しないためのキー（同じキーの再送は最初の結果を返す）"


@strawberry.type(description="アセスメント（家族全体の状況と、ケアが本人に与えている影響。0 なし〜3 深刻）")
class Assessment(Node):
    case_id: strawberry.ID = strawberry.field(description="ケースのグローバルID")
    assessed_on: dt.date = strawberry.field(description="アセスメントの日")
    care_hours_per_week: float = strawberry.field(description="1週間のケアの時間（0〜168）")
    school_attendance_effect: int = strawberry.field(description="登校への影響（0〜3）")
    study_effect: int = strawberry.field(description="学習への影響（0〜3）")
    health_effect: int = strawberry.field(description="健康への影響（0〜3）")
    sleep_effect: int = strawberry.field(description="睡眠への影響（0〜3）")
    friendship_effect: int = strawberry.field(description="友人関係への影響（0〜3）")
    future_plans_effect: int = strawberry.field(description="進路・将来への影響（0〜3）")
    own_wishes: str | None = strawberry.field(description="本人の意向")
    family_situation: str | None = strawberry.field(
        description="世帯の状況（世帯員、ほかに手助けする人、変化）。誰が誰をケアしているかはケアの関係に記録する"
    )
    notes: str | None = strawberry.field(description="所見・メモ")


@strawberry.type(description="会議の参加者")
class MeetingParticipant:
    name: str = strawberry.field(description="参加者の氏名（または役職）")
    organization: Organization | None = strawberry.field(description="参加者の所属機関")


@strawberry.type(description="会議（ケース検討会議、関係機関を含めた会議、進行管理会議、要対協実務者会議）")
class Meeting(Node):
    case_id: strawberry.ID | None = strawberry.field(
        description="ケースのグローバルID（要対協の実務者会議など、一つのケースについてでない会議は null）"
    )
    kind: MeetingKind
    held_on: dt.date = strawberry.field(description="開催日")
    decisions: str | None = strawberry.field(description="決定事項")
    next_review_on: dt.date | None = strawberry.field(description="次回の見直し日")
    key: strawberry.Private[uuid.UUID]

    @strawberry.field(description="参加者", directives=[ListSize(assumed_size=MAX_PARTICIPANTS)])
    async def participants(self, info: Info[Scope, Any]) -> list[MeetingParticipant]:
        rows = await info.context.per_request(CaseRecords).participants.load(self.key)
        return [
            MeetingParticipant(
                name=row["participant_name"],
                organization=None
                if row["org_id"] is None
                else Organization.of(row["org_id"], row["org_name"], row["org_kind"]),
            )
            for row in rows
        ]


@strawberry.type(description="支援記録（面談、家庭訪問、同行訪問、電話）")
class ContactLog(Node):
    case_id: strawberry.ID = strawberry.field(description="ケースのグローバルID")
    kind: ContactKind
    contacted_at: dt.datetime = strawberry.field(description="日時")
    summary: str = strawberry.field(description="内容")


@strawberry.type
class ContactLogEdge:
    node: ContactLog
    position: strawberry.Private[Keyset]

    @strawberry.field
    def cursor(self) -> str:
        return encode_cursor(self.position.at, self.position.id)


@strawberry.type(description="支援記録の一覧（新しい順、Relay connection）")
class ContactLogConnection:
    edges: list[ContactLogEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[ContactLog]:
        return [edge.node for edge in self.edges]


def to_assessment(scope: Scope, row: asyncpg.Record) -> Assessment:
    """An assessment as the answer shows it; its read is audited here."""
    audit.record_reads(scope, "assessment", (row["id"],))
    return Assessment(
        id=strawberry.ID(encode_global_id("Assessment", row["id"])),
        case_id=strawberry.ID(encode_global_id("Case", row["case_id"])),
        assessed_on=row["assessed_on"],
        care_hours_per_week=float(row["care_hours_per_week"]),
        school_attendance_effect=row["school_attendance_effect"],
        study_effect=row["study_effect"],
        health_effect=row["health_effect"],
        sleep_effect=row["sleep_effect"],
        friendship_effect=row["friendship_effect"],
        future_plans_effect=row["future_plans_effect"],
        own_wishes=row["own_wishes"],
        family_situation=row["family_situation"],
        notes=row["notes"],
    )


def to_meeting(scope: Scope, row: asyncpg.Record) -> Meeting:
    """A meeting as the answer shows it (its participants when asked); its read is audited here."""
    audit.record_reads(scope, "meeting", (row["id"],))
    return Meeting(
        id=strawberry.ID(encode_global_id("Meeting", row["id"])),
        case_id=None if row["case_id"] is None else strawberry.ID(encode_global_id("Case", row["case_id"])),
        kind=MeetingKind(row["kind"]),
        held_on=row["held_on"],
        decisions=row["decisions"],
        next_review_on=row["next_review_on"],
        key=row["id"],
    )


def to_contact_log(scope: Scope, row: asyncpg.Record) -> ContactLog:
    """A contact log as the answer shows it; its read is audited here."""
    audit.record_reads(scope, "contact_log", (row["id"],))
    return ContactLog(
        id=strawberry.ID(encode_global_id("ContactLog", row["id"])),
        case_id=strawberry.ID(encode_global_id("Case", row["case_id"])),
        kind=ContactKind(row["kind"]),
        contacted_at=row["contacted_at"],
        summary=row["summary"],
    )


def contact_log_page(
    scope: Scope, rows: list[asyncpg.Record], *, size: int, after: Keyset | None
) -> ContactLogConnection:
    """A page from up to `size + 1` rows, newest first (the extra one: a next page exists)."""
    page = rows[:size]
    positions = [Keyset(r["contacted_at"], r["id"]) for r in page]
    return ContactLogConnection(
        edges=[ContactLogEdge(node=to_contact_log(scope, r), position=p) for r, p in zip(page, positions, strict=True)],
        page_info=page_info(positions, has_next_page=len(rows) > size, after=after),
    )


@strawberry.input(description="アセスメントを記録する（終結していないケース）")
class RecordAssessmentInput:
    case_id: strawberry.ID
    assessed_on: dt.date = strawberry.field(description="アセスメントの日（今日まで）")
    care_hours_per_week: float = strawberry.field(description="1週間のケアの時間（0〜168、小数は1桁まで）")
    school_attendance_effect: int = strawberry.field(description="登校への影響（0 なし〜3 深刻）")
    study_effect: int = strawberry.field(description="学習への影響（0〜3）")
    health_effect: int = strawberry.field(description="健康への影響（0〜3）")
    sleep_effect: int = strawberry.field(description="睡眠への影響（0〜3）")
    friendship_effect: int = strawberry.field(description="友人関係への影響（0〜3）")
    future_plans_effect: int = strawberry.field(description="進路・将来への影響（0〜3）")
    own_wishes: str | None = strawberry.field(default=None, description="本人の意向（1〜4000文字）")
    family_situation: str | None = strawberry.field(default=None, description="世帯の状況（1〜4000文字）")
    notes: str | None = strawberry.field(default=None, description="所見・メモ（1〜4000文字）")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="会議の参加者")
class MeetingParticipantInput:
    name: str = strawberry.field(description="氏名（または役職、1〜100文字）")
    organization_id: strawberry.ID | None = strawberry.field(
        default=None, description="所属機関（この団体の区域の機関）"
    )


@strawberry.input(
    description="開催した会議を記録する（終結していないケース）。支援中のケースの進行管理会議は、ケースを進行管理に進める"
)
class RecordMeetingInput:
    case_id: strawberry.ID
    kind: MeetingKind
    held_on: dt.date = strawberry.field(description="開催日（今日まで）")
    participants: list[MeetingParticipantInput] = strawberry.field(description="参加者（1〜50人）")
    decisions: str = strawberry.field(description="決定事項（1〜4000文字）")
    next_review_on: dt.date | None = strawberry.field(default=None, description="次回の見直し日（開催日以降）")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="支援記録を書く（終結していないケース）")
class RecordContactInput:
    case_id: strawberry.ID
    kind: ContactKind
    contacted_at: dt.datetime = strawberry.field(description="日時（タイムゾーン付き、今まで）")
    summary: str = strawberry.field(description="内容（1〜4000文字）")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type
class RecordAssessmentPayload(Payload):
    assessment: Assessment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])


@strawberry.type
class RecordMeetingPayload(Payload):
    meeting: Meeting | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])


@strawberry.type
class RecordContactPayload(Payload):
    contact_log: ContactLog | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])
