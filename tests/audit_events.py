"""The audit log as the tests read it (through the administrative connection)."""

from __future__ import annotations

import uuid

import asyncpg

# A change names its object in entity_id; a read event names every object it read in
# entity_ids (migration 0023).
EVENTS_OF_OBJECT_SQL = """
SELECT count(*) FROM kizuna.audit_event
WHERE municipality_code = $1 AND action = $2 AND (entity_id = $3 OR $3 = ANY (entity_ids))
"""


async def audited(admin_conn: asyncpg.Connection, action: str, entity_id: uuid.UUID, *, tenant: str = "111007") -> int:
    """How many `action` events of the tenant name the object."""
    count: int = await admin_conn.fetchval(EVENTS_OF_OBJECT_SQL, tenant, action, entity_id)
    return count
