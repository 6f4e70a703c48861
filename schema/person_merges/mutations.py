"""`mergePeople` and `undoPersonMerge`: each in the request's transaction with its audit
events; a broken rule is a user error and writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform import audit
from kizuna.platform.i18n import Message
from kizuna.platform.scope import Scope
from kizuna.schema.errors import Refused
from kizuna.schema.people import service as people
from kizuna.schema.people.types import Person, to_person
from kizuna.schema.person_merges import service
from kizuna.schema.person_merges.types import MergePeopleInput, PersonMergePayload, UndoPersonMergeInput
from kizuna.schema.writes import input_key


def _person_key(global_id: str, field: str) -> uuid.UUID:
    return input_key(global_id, "Person", field=field, not_found=Message.NO_SUCH_PERSON)


async def _answer(scope: Scope, kept_id: uuid.UUID, duplicate_id: uuid.UUID) -> PersonMergePayload:
    """Both people as the change left them (read, so audited as read)."""
    found: dict[uuid.UUID, Person] = {}
    for person_id in (kept_id, duplicate_id):
        row = await people.person_by_id(scope.tx, person_id)
        if row is not None:
            found[person_id] = to_person(row)
    audit.record_reads(scope, "person", found.keys())
    return PersonMergePayload(kept=found.get(kept_id), duplicate=found.get(duplicate_id))


@strawberry.type
class PersonMergeMutations:
    @strawberry.mutation(
        description="重複して登録された人を統合する。重複の人を指す記録（ケース、同意、ケアの関係）を"
        "すべて残す人に移し、重複の人は記録と履歴を残したまま一覧・検索・重複候補から外れる。取り消せる。監査記録を残す"
    )
    async def merge_people(
        self,
        info: Info[Scope, Any],
        input: MergePeopleInput,  # noqa: A002  (Relay's name for a mutation's one argument)
    ) -> PersonMergePayload:
        scope = info.context
        try:
            keep_id = _person_key(input.keep_person_id, "keepPersonId")
            duplicate_id = _person_key(input.duplicate_person_id, "duplicatePersonId")
            await service.do_merge_people(scope, keep_id, duplicate_id, input.reason)
        except Refused as refusal:
            return PersonMergePayload.refused(refusal, scope)
        return await _answer(scope, keep_id, duplicate_id)

    @strawberry.mutation(
        description="人の統合を取り消す。統合で移した記録をすべて重複の人に戻す（その後に変わった記録があれば取り消せない）。"
        "監査記録を残す"
    )
    async def undo_person_merge(
        self,
        info: Info[Scope, Any],
        input: UndoPersonMergeInput,  # noqa: A002
    ) -> PersonMergePayload:
        scope = info.context
        try:
            duplicate_id = _person_key(input.duplicate_person_id, "duplicatePersonId")
            kept_id = await service.do_undo_person_merge(scope, duplicate_id, input.reason)
        except Refused as refusal:
            return PersonMergePayload.refused(refusal, scope)
        return await _answer(scope, kept_id, duplicate_id)
