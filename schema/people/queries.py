"""`people(search:, first:, after:)` and the Node types of people, households and care
relationships (read by the roles that read cases; the database refuses the others)."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform import audit
from kizuna.platform.scope import Scope
from kizuna.schema.cost import CONNECTION_SIZE
from kizuna.schema.people import service
from kizuna.schema.people.types import (
    CareRelationship,
    Household,
    Person,
    PersonConnection,
    PersonEdge,
    care_relationships_of,
    to_care_relationship,
    to_household,
    to_person,
)
from kizuna.schema.permissions import Operation, require
from kizuna.schema.relay import Keyset, decode_cursor, page_info, page_size, register_node
from kizuna.schema.selection import selected_names, selected_names_under


@strawberry.type
class PersonQueries:
    @strawberry.field(
        description="このテナントの人（新しい順）。search は氏名かふりがなの先頭一致（全角・半角、ひらがな・カタカナ、"
        "旧字・異体字、空白の違いは同じとみなす）",
        directives=[CONNECTION_SIZE],
    )
    async def people(
        self,
        info: Info[Scope, Any],
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> PersonConnection | None:
        scope = info.context
        require(scope.caller, Operation.PEOPLE)
        size = page_size(first)
        keyset = decode_cursor(after)
        key_range = None if search is None else service.search_range(search)
        if search is not None and key_range is None:  # only spaces: nothing to search for
            return PersonConnection(edges=[], page_info=page_info([], has_next_page=False, after=keyset), total_count=0)
        rows = await service.person_page(scope.tx, key_range, first=size, after=keyset)
        counted = "totalCount" in selected_names(info)
        total = await service.person_count(scope.tx, key_range) if counted else None
        page = rows[:size]
        audit.record_reads(scope, "person", (r["id"] for r in page))
        people = [to_person(r) for r in page]
        if people and _asks_for_care(info):
            for person, care in zip(people, await care_relationships_of(scope, people), strict=True):
                person.care = care
        positions = [Keyset(r["created_at"], r["id"]) for r in page]
        return PersonConnection(
            edges=[PersonEdge(node=p, position=k) for p, k in zip(people, positions, strict=True)],
            page_info=page_info(positions, has_next_page=len(rows) > size, after=keyset),
            total_count=total,
        )


def _asks_for_care(info: Info[Scope, Any]) -> bool:
    """Whether the page's people are asked for their care relationships: then one
    statement reads them for the whole page, not one per person."""
    wanted = "careRelationships"
    return wanted in selected_names_under(info, "edges", "node") or wanted in selected_names_under(info, "nodes")


async def _person_node(scope: Scope, key: uuid.UUID) -> Person | None:
    require(scope.caller, Operation.NODE_PERSON)
    row = await service.person_by_id(scope.tx, key)
    if row is None:
        return None
    audit.record_reads(scope, "person", (row["id"],))
    return to_person(row)


async def _household_node(scope: Scope, key: uuid.UUID) -> Household | None:
    require(scope.caller, Operation.NODE_HOUSEHOLD)
    row = await service.household_by_id(scope.tx, key)
    return None if row is None else to_household(row["id"], row["name"])


async def _care_node(scope: Scope, key: uuid.UUID) -> CareRelationship | None:
    require(scope.caller, Operation.NODE_CARE_RELATIONSHIP)
    row = await service.care_by_id(scope.tx, key)
    return None if row is None else to_care_relationship(row)


register_node("Person", tag=2, graphql_type=Person, table="person", resolve=_person_node)
register_node("Household", tag=20, graphql_type=Household, table="household", resolve=_household_node)
register_node("CareRelationship", tag=21, graphql_type=CareRelationship, table="care_relationship", resolve=_care_node)
