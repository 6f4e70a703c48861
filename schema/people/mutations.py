"""`createPerson` (search before create), `addCareRelationship` and
`removeCareRelationship`. Each is audited in the request's transaction; a broken rule is a
user error and writes nothing."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform import audit
from kizuna.platform.i18n import Message
from kizuna.platform.scope import Scope
from kizuna.schema.errors import Refused, UserErrorCode
from kizuna.schema.payloads import user_error
from kizuna.schema.people import service
from kizuna.schema.people.types import (
    AddCareRelationshipInput,
    CareRelationshipPayload,
    CreatePersonInput,
    CreatePersonPayload,
    RemoveCareRelationshipInput,
    to_care_relationship,
    to_person,
)
from kizuna.schema.writes import input_key


def _person_key(global_id: str, field: str) -> uuid.UUID:
    return input_key(global_id, "Person", field=field, not_found=Message.NO_SUCH_PERSON)


@strawberry.type
class PersonMutations:
    @strawberry.mutation(
        description="人を登録する。同じ氏名（またはふりがな）と生年月日の人がいれば登録せず、候補を返す"
        "（confirmedNotDuplicate で登録）。監査記録を残す"
    )
    async def create_person(
        self,
        info: Info[Scope, Any],
        input: CreatePersonInput,  # noqa: A002  (Relay's name for a mutation's one argument)
    ) -> CreatePersonPayload:
        scope = info.context
        try:
            new = service.NewPerson(
                family_name=input.family_name,
                given_name=input.given_name,
                family_name_kana=input.family_name_kana,
                given_name_kana=input.given_name_kana,
                birth_date=input.birth_date,
                household_id=None
                if input.household_id is None
                else input_key(
                    input.household_id, "Household", field="householdId", not_found=Message.NO_SUCH_HOUSEHOLD
                ),
                household_name=input.household_name,
                school_id=None
                if input.school_id is None
                else input_key(
                    input.school_id, "Organization", field="schoolId", not_found=Message.NO_SUCH_ORGANISATION
                ),
                school_grade=input.school_grade,
                confirmed_not_duplicate=input.confirmed_not_duplicate,
                idempotency_key=input.idempotency_key,
            )
            created = await service.do_create_person(scope, new)
        except Refused as refusal:
            return CreatePersonPayload.refused(refusal, scope)
        if created.person_id is None:
            audit.record_reads(scope, "person", (row["id"] for row in created.duplicates))
            possible = Refused(UserErrorCode.CONFLICT, "confirmedNotDuplicate", Message.POSSIBLE_DUPLICATES)
            return CreatePersonPayload(
                duplicates=[to_person(row) for row in created.duplicates],
                user_errors=[user_error(possible, scope.language)],
            )
        row = await service.person_by_id(scope.tx, created.person_id)
        return CreatePersonPayload(person=None if row is None else to_person(row))

    @strawberry.mutation(
        description="ケアの関係（誰が誰を、どんな状態の人を、何を、週何時間）を登録する。監査記録を残す"
    )
    async def add_care_relationship(
        self,
        info: Info[Scope, Any],
        input: AddCareRelationshipInput,  # noqa: A002
    ) -> CareRelationshipPayload:
        scope = info.context
        try:
            new = service.NewCareRelationship(
                carer_id=_person_key(input.carer_id, "carerId"),
                cared_for_id=_person_key(input.cared_for_id, "caredForId"),
                relationship=input.relationship,
                hours_per_week=Decimal(str(input.hours_per_week)),  # the value as written
                conditions=input.conditions,
                tasks=input.tasks,
                idempotency_key=input.idempotency_key,
            )
            relationship_id = await service.do_add_care_relationship(scope, new)
        except Refused as refusal:
            return CareRelationshipPayload.refused(refusal, scope)
        row = await service.care_by_id(scope.tx, relationship_id)
        return CareRelationshipPayload(care_relationship=None if row is None else to_care_relationship(row))

    @strawberry.mutation(description="ケアの関係を削除する（削除前の内容を返す）。監査記録を残す")
    async def remove_care_relationship(
        self,
        info: Info[Scope, Any],
        input: RemoveCareRelationshipInput,  # noqa: A002
    ) -> CareRelationshipPayload:
        scope = info.context
        try:
            key = input_key(input.id, "CareRelationship", field="id", not_found=Message.NO_SUCH_CARE_RELATIONSHIP)
            row = await service.do_remove_care_relationship(scope, key)
        except Refused as refusal:
            return CareRelationshipPayload.refused(refusal, scope)
        return CareRelationshipPayload(care_relationship=to_care_relationship(row))
