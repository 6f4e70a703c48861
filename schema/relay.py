"""Relay object identification and cursor pagination.

Global IDs are opaque: base64url of one type byte and the row's 16-byte UUID (23
characters). They carry no tenant and no counter; an id of another tenant's object
resolves exactly like an unknown one. Each domain registers its Node types
(`register_node`): no central list names them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import strawberry

from kizuna.platform.scope import Scope
from kizuna.schema.errors import bad_input
from kizuna.schema.rows import Converted

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50


_GLOBAL_ID_LENGTH = 23  # base64url of 17 bytes, unpadded
# Type bytes once used and since retired: an old id must never name a new type.
RETIRED_TAGS: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class NodeType:
    """A Node type as its domain registers it (`register_node`)."""

    name: str
    tag: int
    """The type's byte in its global ids; never changed, never reused."""
    graphql_type: type
    table: str | None
    """The tenant table behind it (None for a global one such as the organisation
    directory): the isolation tests walk every registered type through it."""
    resolve: Callable[[Scope, uuid.UUID], Awaitable[Any]]
    """`node(id:)` for this type: the object, or None for an id the scope may not see,
    exactly as for an unknown id."""
    audit_entity: str | None
    """What the audit log calls it (`audit_event.entity`): its table's name unless named."""


_BY_NAME: dict[str, NodeType] = {}
_BY_TAG: dict[int, NodeType] = {}
_BY_AUDIT_ENTITY: dict[str, NodeType] = {}
_TAG_BYTE: dict[str, bytes] = {}  # by type name: the first byte of its global ids


def register_node(
    name: str,
    *,
    tag: int,
    graphql_type: type,
    table: str | None,
    resolve: Callable[[Scope, uuid.UUID], Awaitable[Any]],
    audit_entity: str | None = None,
) -> None:
    """Make `name` a Node type: its global ids, and what `node(id:)` returns for them.
    Each domain registers its own types when its module is imported."""
    if name in _BY_NAME or tag in _BY_TAG or tag in RETIRED_TAGS or not 0 < tag < 256:
        raise ValueError(f"Node type {name} or its tag {tag} is taken, retired or out of range")
    entity = audit_entity or table
    if entity is not None and entity in _BY_AUDIT_ENTITY:
        raise ValueError(f"Audit entity {entity} already names {_BY_AUDIT_ENTITY[entity].name}")
    node_type = NodeType(name, tag, graphql_type, table, resolve, entity)
    _BY_NAME[name] = _BY_TAG[tag] = node_type
    _TAG_BYTE[name] = bytes((tag,))
    if entity is not None:
        _BY_AUDIT_ENTITY[entity] = node_type


def node_types() -> tuple[NodeType, ...]:
    """Every registered Node type, by tag."""
    return tuple(_BY_TAG[tag] for tag in sorted(_BY_TAG))


def node_type(name: str) -> NodeType | None:
    return _BY_NAME.get(name)


def node_type_of_audit_entity(entity: str) -> NodeType | None:
    """The Node type whose objects the audit log names `entity`, if any."""
    return _BY_AUDIT_ENTITY.get(entity)


_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def encode_global_id(type_name: str, key: uuid.UUID) -> str:
    # base64.urlsafe_b64encode, without its two extra calls: a page encodes some 150 ids.
    raw = _TAG_BYTE[type_name] + key.bytes
    return binascii.b2a_base64(raw, newline=False)[:_GLOBAL_ID_LENGTH].translate(_URL_SAFE).decode()


def global_id_in_row(type_name: str, key_column: str) -> Converted:
    """A row's object's global id, from its key in `key_column` (schema/rows.py)."""
    return Converted(key_column, functools.partial(encode_global_id, type_name))


def decode_global_id(global_id: str) -> tuple[str, uuid.UUID]:
    """Split a global id; anything malformed is BAD_USER_INPUT."""
    if len(global_id) != _GLOBAL_ID_LENGTH:
        raise bad_input("Malformed id.")
    try:
        raw = base64.urlsafe_b64decode(global_id + "=")
    except (ValueError, binascii.Error):
        raise bad_input("Malformed id.") from None
    found = _BY_TAG.get(raw[0])
    if found is None or len(raw) != 17:
        raise bad_input("Malformed id.")
    return found.name, uuid.UUID(bytes=raw[1:])


def page_size(first: int | None, *, argument: str = "first") -> int:
    """The validated page size (of `first`, or the list's own `argument`); it is written
    into the SQL as a literal (see cases/service)."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise bad_input(f"`{argument}` must be between 0 and {MAX_PAGE_SIZE}.")
    return first


@dataclass(frozen=True, slots=True)
class Keyset:
    """A position in a list ordered by (timestamp DESC, id DESC)."""

    at: dt.datetime
    id: uuid.UUID


def encode_cursor(at: dt.datetime, key: uuid.UUID) -> str:
    raw = f"{at.isoformat()}|{key}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Keyset | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, _, key = base64.urlsafe_b64decode(padded.encode("ascii")).decode().partition("|")
        parsed = dt.datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive timestamp")
        return Keyset(at=parsed, id=uuid.UUID(key))
    except (ValueError, UnicodeError, binascii.Error):
        raise bad_input("Malformed cursor.") from None


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


SHOWS_ROWS = frozenset({"edges", "nodes", "pageInfo"})
"""A connection's fields that show its page's rows (a cursor names its row): a document that
selects none of them (`totalCount` alone) needs no page, and reads no object."""


def page_info(positions: list[Keyset], *, has_next_page: bool, after: Keyset | None) -> PageInfo:
    """Relay page information for a page whose rows sit at `positions`."""
    return PageInfo(
        has_next_page=has_next_page,
        has_previous_page=after is not None,
        start_cursor=encode_cursor(positions[0].at, positions[0].id) if positions else None,
        end_cursor=encode_cursor(positions[-1].at, positions[-1].id) if positions else None,
    )


@strawberry.interface(description="An object with an opaque global id (Relay).")
class Node:
    id: strawberry.ID
