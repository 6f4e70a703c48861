"""People, their households and who cares for whom, and how each is made from its row
(the care relationships of a page of people in one statement)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from kizuna.platform import audit
from kizuna.platform.scope import Scope
from kizuna.schema.cost import ListSize
from kizuna.schema.enums import CaredForCondition, CareTask
from kizuna.schema.errors import not_found
from kizuna.schema.payloads import ONE_USER_ERROR, UserError
from kizuna.schema.people import service
from kizuna.schema.relay import Keyset, Node, PageInfo, decode_global_id, encode_cursor, encode_global_id
from kizuna.schema.tenants.types import Organization
from kizuna.schema.writes import Payload

# A person's care relationships are the family's: not capped, so an estimate for the cost
# (docs/security-model.md, "Query cost").
CARE_RELATIONSHIPS_ASSUMED = 10


@strawberry.type(description="世帯")
class Household(Node):
    name: str = strawberry.field(description="世帯の呼び名（例：山田家）")


@strawberry.type(description="人（ケアラー、ケアを受ける人、世帯員）")
class Person(Node):
    family_name: str = strawberry.field(description="姓")
    given_name: str = strawberry.field(description="名")
    details: strawberry.Private[asyncpg.Record | None] = None
    """The person's row (people/service `_PERSON_COLUMNS`); None when the person came with
    another object's row (a case's), and then read once when a field below is asked for."""
    care: strawberry.Private[list[CareRelationship] | None] = None
    """Their care relationships when the page read them for every person at once."""

    async def _row(self, info: Info[Scope, Any]) -> asyncpg.Record:
        if self.details is None:
            # Every person of the answer that needs its row is read in the same statement.
            self.details = await info.context.per_request(person_rows).load(decode_global_id(self.id)[1])
            if self.details is None:  # deleted by this very request: not reachable today
                raise not_found()
        return self.details

    @strawberry.field(description="姓のふりがな")
    async def family_name_kana(self, info: Info[Scope, Any]) -> str:
        value: str = (await self._row(info))["family_name_kana"]
        return value

    @strawberry.field(description="名のふりがな")
    async def given_name_kana(self, info: Info[Scope, Any]) -> str:
        value: str = (await self._row(info))["given_name_kana"]
        return value

    @strawberry.field(description="生年月日")
    async def birth_date(self, info: Info[Scope, Any]) -> dt.date:
        value: dt.date = (await self._row(info))["birth_date"]
        return value

    @strawberry.field(description="世帯")
    async def household(self, info: Info[Scope, Any]) -> Household:
        row = await self._row(info)
        return to_household(row["household_id"], row["household_name"])

    @strawberry.field(description="在籍する学校（子どもの場合）")
    async def school(self, info: Info[Scope, Any]) -> Organization | None:
        row = await self._row(info)
        if row["school_id"] is None:
            return None
        return Organization.of(row["school_id"], row["school_name"], row["school_kind"])

    @strawberry.field(description="学年（1〜12、小学1年が1）")
    async def school_grade(self, info: Info[Scope, Any]) -> int | None:
        value: int | None = (await self._row(info))["school_grade"]
        return value

    @strawberry.field(description="登録日時")
    async def created_at(self, info: Info[Scope, Any]) -> dt.datetime:
        value: dt.datetime = (await self._row(info))["created_at"]
        return value

    @strawberry.field(
        description="この人が重複として統合された先の人（統合されていなければ null）。統合された人は一覧・検索・"
        "重複候補に出ず、この人を指していた記録はすべて統合先に移っている"
    )
    async def merged_into(self, info: Info[Scope, Any]) -> Person | None:
        merged_into_id = (await self._row(info))["merged_into_id"]
        if merged_into_id is None:  # every person of a list: merged people are not listed
            return None
        row = await service.person_by_id(info.context.tx, merged_into_id)
        if row is None:  # not reachable: a foreign key holds it
            return None
        audit.record_reads(info.context, "person", (merged_into_id,))
        return to_person(row)

    @strawberry.field(
        description="ケアの関係：この人がケアをしている相手と、この人をケアしている人（carer がこの人なら前者）",
        directives=[ListSize(assumed_size=CARE_RELATIONSHIPS_ASSUMED)],
    )
    async def care_relationships(self, info: Info[Scope, Any]) -> list[CareRelationship]:
        if self.care is None:
            self.care = await info.context.per_request(care_of_people).load(self)
        return self.care


def person_rows(scope: Scope) -> DataLoader[uuid.UUID, asyncpg.Record | None]:
    """The request's loader of person rows: the people of a page of cases, in one statement."""

    async def load(keys: Sequence[uuid.UUID]) -> list[asyncpg.Record | None]:
        found = {row["id"]: row for row in await service.people_by_ids(scope.tx, keys)}
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


def care_of_people(scope: Scope) -> DataLoader[Person, list[CareRelationship]]:
    """The request's loader of care relationships: every person's of the answer at once."""

    async def load(people: Sequence[Person]) -> list[list[CareRelationship]]:
        return await care_relationships_of(scope, people)

    # Keyed by the person's global id: two objects of one person share their answer.
    return DataLoader(load_fn=load, cache_key_fn=lambda person: person.id)


def to_household(household_id: uuid.UUID, name: str) -> Household:
    return Household(id=strawberry.ID(encode_global_id("Household", household_id)), name=name)


@strawberry.type(description="ケアの関係（誰が誰をケアしているか）")
class CareRelationship(Node):
    carer: Person = strawberry.field(description="ケアをしている人")
    cared_for: Person = strawberry.field(description="ケアを受けている人")
    relationship: str = strawberry.field(description="続柄（ケアをしている人から見た、ケアを受けている人。例：母）")
    conditions: list[CaredForCondition] = strawberry.field(
        description="ケアを受けている人の状態", directives=[ListSize(assumed_size=len(CaredForCondition))]
    )
    tasks: list[CareTask] = strawberry.field(
        description="ケアの内容", directives=[ListSize(assumed_size=len(CareTask))]
    )
    hours_per_week: float = strawberry.field(description="1週間のケアの時間（0〜168）")


def to_person(row: asyncpg.Record) -> Person:
    """A person from a row of `service._PERSON_COLUMNS`: every field is plain data."""
    return Person(
        id=strawberry.ID(encode_global_id("Person", row["id"])),
        family_name=row["family_name"],
        given_name=row["given_name"],
        details=row,
    )


def _named(person_id: uuid.UUID, family_name: str, given_name: str) -> Person:
    return Person(
        id=strawberry.ID(encode_global_id("Person", person_id)), family_name=family_name, given_name=given_name
    )


def to_care_relationship(row: asyncpg.Record) -> CareRelationship:
    """From a row of `service.CARE_OF`, both people named."""
    return CareRelationship(
        id=strawberry.ID(encode_global_id("CareRelationship", row["id"])),
        carer=_named(row["carer_person_id"], row["carer_family_name"], row["carer_given_name"]),
        cared_for=_named(row["cared_for_person_id"], row["cared_for_family_name"], row["cared_for_given_name"]),
        relationship=row["relationship"],
        conditions=[CaredForCondition(c) for c in row["conditions"]],
        tasks=[CareTask(t) for t in row["tasks"]],
        hours_per_week=float(row["hours_per_week"]),
    )


async def care_relationships_of(scope: Scope, people: Sequence[Person]) -> list[list[CareRelationship]]:
    """The care relationships of each of `people` (either side), read in one statement."""
    keys = [decode_global_id(person.id)[1] for person in people]
    by_person: dict[uuid.UUID, list[CareRelationship]] = {key: [] for key in keys}
    rows = await service.care_of(scope.tx, keys)
    audit.record_reads(scope, "person", {r[side] for r in rows for side in ("carer_person_id", "cared_for_person_id")})
    for row in rows:
        relationship = to_care_relationship(row)
        for side in (row["carer_person_id"], row["cared_for_person_id"]):
            if side in by_person:
                by_person[side].append(relationship)
    return [by_person[key] for key in keys]


@strawberry.type
class PersonEdge:
    node: Person
    position: strawberry.Private[Keyset]

    @strawberry.field
    def cursor(self) -> str:
        """Made only when asked for: most pages never read their cursors."""
        return encode_cursor(self.position.at, self.position.id)


@strawberry.type(description="人の一覧（Relay connection）")
class PersonConnection:
    edges: list[PersonEdge]
    page_info: PageInfo
    total_count: int | None = strawberry.field(default=None, description="件数（選択されたときだけ数える）")

    @strawberry.field
    def nodes(self) -> list[Person]:
        return [edge.node for edge in self.edges]


@strawberry.input(description="人を登録する（登録の前に、同じ人がいないか探す）")
class CreatePersonInput:
    family_name: str = strawberry.field(description="姓（1〜100文字）")
    given_name: str = strawberry.field(description="名（1〜100文字）")
    family_name_kana: str = strawberry.field(description="姓のふりがな（ひらがなかカタカナ）")
    given_name_kana: str = strawberry.field(description="名のふりがな（ひらがなかカタカナ）")
    birth_date: dt.date = strawberry.field(description="生年月日")
    household_id: strawberry.ID | None = strawberry.field(default=None, description="既存の世帯（どちらか一方）")
    household_name: str | None = strawberry.field(default=None, description="新しい世帯の呼び名（どちらか一方）")
    school_id: strawberry.ID | None = strawberry.field(default=None, description="在籍する学校（組織の名簿の学校）")
    school_grade: int | None = strawberry.field(default=None, description="学年（1〜12、学校を指定したとき）")
    confirmed_not_duplicate: bool = strawberry.field(
        default=False,
        description="同じ氏名（またはふりがな）と生年月日の人がいても、別の人として登録する（候補を確かめたうえで）",
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="再送しても二重に登録しないためのキー（同じキーの再送は最初の結果を返す）"
    )


@strawberry.type
class CreatePersonPayload(Payload):
    person: Person | None = None
    duplicates: list[Person] = strawberry.field(
        default_factory=list,
        description="同じ氏名（またはふりがな）と生年月日の、登録済みの人（このときは登録していない）",
        directives=[ListSize(assumed_size=service.MAX_DUPLICATES)],
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])


@strawberry.input(description="ケアの関係を登録する")
class AddCareRelationshipInput:
    carer_id: strawberry.ID = strawberry.field(description="ケアをしている人")
    cared_for_id: strawberry.ID = strawberry.field(description="ケアを受けている人")
    relationship: str = strawberry.field(description="続柄（ケアをしている人から見た相手、1〜50文字）")
    hours_per_week: float = strawberry.field(description="1週間のケアの時間（0〜168、小数は1桁まで）")
    conditions: list[CaredForCondition] = strawberry.field(default_factory=list, description="ケアを受けている人の状態")
    tasks: list[CareTask] = strawberry.field(default_factory=list, description="ケアの内容")
    idempotency_key: str | None = strawberry.field(
        default=None, description="再送しても二重に登録しないためのキー（同じキーの再送は最初の結果を返す）"
    )


@strawberry.input(description="ケアの関係を削除する")
class RemoveCareRelationshipInput:
    id: strawberry.ID = strawberry.field(description="ケアの関係のグローバルID")


@strawberry.type
class CareRelationshipPayload(Payload):
    """What adding and removing a care relationship answer (removing: as it was)."""

    care_relationship: CareRelationship | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list, directives=[ONE_USER_ERROR])
