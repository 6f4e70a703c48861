"""`auditEvents(first:, after:, action:, entity:, actor:, objectId:, since:, before:)`: the
tenant's audit log, for supervisors."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

import asyncpg
import strawberry
from strawberry.types import Info

from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.audit import service
from kizuna.schema.audit.types import AuditActor, AuditActorInput, AuditEvent, AuditEventConnection, AuditEventEdge
from kizuna.schema.cost import CONNECTION_SIZE
from kizuna.schema.errors import bad_input
from kizuna.schema.permissions import Operation, require
from kizuna.schema.relay import (
    Keyset,
    decode_cursor,
    decode_global_id,
    encode_cursor,
    encode_global_id,
    node_type,
    node_type_of_audit_entity,
    page_info,
    page_size,
)


def to_event(row: asyncpg.Record) -> AuditEvent:
    # An entity that is a Node type is shown by its global id; others without an id.
    entity_type = node_type_of_audit_entity(row["entity"])
    entity_id, read = row["entity_id"], row["entity_ids"] or ()
    type_name = None if entity_type is None else entity_type.name
    global_id = None if type_name is None or entity_id is None else encode_global_id(type_name, entity_id)
    actor = row["actor_subject"]
    return AuditEvent(
        seq=row["seq"],
        occurred_at=row["occurred_at"],
        action=row["action"],
        entity=row["entity"],
        entity_id=None if global_id is None else strawberry.ID(global_id),
        entity_ids=[] if type_name is None else [strawberry.ID(encode_global_id(type_name, key)) for key in read],
        fields=list(row["fields"]),
        role=AppRole(row["role"]),
        actor=None if actor is None else AuditActor(issuer=row["actor_issuer"], subject=actor),
        request_id=row["request_id"],
    )


@strawberry.type
class AuditQueries:
    @strawberry.field(description="この団体の監査記録（新しい順。スーパーバイザーのみ）", directives=[CONNECTION_SIZE])
    async def audit_events(
        self,
        info: Info[Scope, Any],
        *,
        first: int | None = None,
        after: str | None = None,
        action: str | None = None,
        entity: str | None = None,
        actor: Annotated[AuditActorInput | None, strawberry.argument(description="この利用者の操作だけ")] = None,
        object_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="この対象（グローバルID）の記録だけ（閲覧・変更した人と日時）"),
        ] = None,
        since: Annotated[dt.datetime | None, strawberry.argument(description="この日時以後の記録だけ")] = None,
        before: Annotated[dt.datetime | None, strawberry.argument(description="この日時より前の記録だけ")] = None,
    ) -> AuditEventConnection | None:
        scope = info.context
        require(scope.caller, Operation.AUDIT_EVENTS)
        size = page_size(first)
        position = decode_cursor(after)
        event_filter = service.EventFilter(
            action=action,
            entity=entity,
            actor=None if actor is None else (actor.issuer, actor.subject),
            since=since,
            before=before,
        )
        if object_id is not None:
            event_filter = by_object(event_filter, object_id)
        rows = await service.event_page(scope.tx, event_filter, first=size, after=position)
        page = rows[:size]
        return AuditEventConnection(
            edges=[
                AuditEventEdge(node=to_event(row), cursor=encode_cursor(row["occurred_at"], row["id"])) for row in page
            ],
            page_info=page_info(
                [Keyset(row["occurred_at"], row["id"]) for row in page], has_next_page=len(rows) > size, after=position
            ),
        )


def by_object(event_filter: service.EventFilter, object_id: strawberry.ID) -> service.EventFilter:
    """The filter narrowed to one object's events. An id of another tenant's object is
    accepted like any other and finds nothing: the log is the tenant's own."""
    type_name, key = decode_global_id(object_id)
    found = node_type(type_name)
    entity = None if found is None else found.audit_entity
    if entity is None:  # a global type (an organisation): the log names no such object
        raise bad_input("This id names nothing the audit log records.")
    if event_filter.entity is not None and event_filter.entity != entity:
        raise bad_input("objectId and entity name different kinds of object.")
    return dataclasses.replace(event_filter, entity=entity, entity_id=key)
