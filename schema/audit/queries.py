"""`auditEvents(first:, after:, action:, entity:)`: the tenant's audit log, for supervisors."""

from __future__ import annotations

from typing import Any

import asyncpg
import strawberry
from strawberry.types import Info

from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.audit import service
from kizuna.schema.audit.types import AuditActor, AuditEvent, AuditEventConnection, AuditEventEdge
from kizuna.schema.permissions import Operation, require
from kizuna.schema.relay import Keyset, decode_cursor, encode_cursor, encode_global_id, page_info, page_size

# Entities whose ids are Node ids; others are shown without an id.
NODE_TYPES = {"membership": "Membership", "case": "Case", "person": "Person", "referral": "Referral"}


def to_event(row: asyncpg.Record) -> AuditEvent:
    node_type = NODE_TYPES.get(row["entity"])
    entity_id = row["entity_id"]
    global_id = None if node_type is None or entity_id is None else encode_global_id(node_type, entity_id)
    actor = row["actor_subject"]
    return AuditEvent(
        seq=row["seq"],
        occurred_at=row["occurred_at"],
        action=row["action"],
        entity=row["entity"],
        entity_id=None if global_id is None else strawberry.ID(global_id),
        fields=list(row["fields"]),
        role=AppRole(row["role"]),
        actor=None if actor is None else AuditActor(issuer=row["actor_issuer"], subject=actor),
        request_id=row["request_id"],
    )


@strawberry.type
class AuditQueries:
    @strawberry.field(description="この団体の監査記録（新しい順。スーパーバイザーのみ）")
    async def audit_events(
        self,
        info: Info[Scope, Any],
        first: int | None = None,
        after: str | None = None,
        action: str | None = None,
        entity: str | None = None,
    ) -> AuditEventConnection | None:
        scope = info.context
        require(scope.caller, Operation.AUDIT_EVENTS)
        size = page_size(first)
        position = decode_cursor(after)
        rows = await service.event_page(scope.tx, first=size, after=position, action=action, entity=entity)
        page = rows[:size]
        return AuditEventConnection(
            edges=[
                AuditEventEdge(node=to_event(row), cursor=encode_cursor(row["occurred_at"], row["id"])) for row in page
            ],
            page_info=page_info(
                [Keyset(row["occurred_at"], row["id"]) for row in page], has_next_page=len(rows) > size, after=position
            ),
        )
