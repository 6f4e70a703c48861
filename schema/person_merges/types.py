"""The inputs and the payload of merging two people and of undoing a merge."""

from __future__ import annotations

import strawberry

from kizuna.schema.payloads import ONE_USER_ERROR, UserError
from kizuna.schema.people.types import Person
from kizuna.schema.writes import Payload


@strawberry.input(description="重複して登録された人を、残す人に統合する")
class MergePeopleInput:
    keep_person_id: strawberry.ID = strawberry.field(description="残す人")
    duplicate_person_id: strawberry.ID = strawberry.field(
        description="重複の人（この人を指すケース、同意、ケアの関係はすべて残す人に移る）"
    )
    reason: str = strawberry.field(description="統合の理由（1〜1000文字）")


@strawberry.input(description="人の統合を取り消す（統合で移した記録を、重複の人に戻す）")
class UndoPersonMergeInput:
    duplicate_person_id: strawberry.ID = strawberry.field(description="統合された（重複の）人")
    reason: str = strawberry.field(description="取り消しの理由（1〜1000文字）")


@strawberry.type
class PersonMergePayload(Payload):
    """What merging and undoing answer: both people as they are afterwards."""

    kept: Person | None = strawberry.field(default=None, description="残す人")
    duplicate: Person | None = strawberry.field(default=None, description="重複の人")
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])
