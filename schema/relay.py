"""Relay object identification and cursor pagination.

Global IDs are opaque: base64url of one type byte and the row's 16-byte UUID (23
characters). They carry no tenant and no counter; an id of another tenant's object
resolves exactly like an unknown one.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from dataclasses import dataclass

import strawberry

from kizuna.schema.errors import bad_input

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50


# One byte per Node type; never reuse a retired number.
TYPE_TAGS = {"Case": 1, "Person": 2, "Referral": 3, "Organization": 4, "Membership": 5}
_TAG_BYTES = {name: bytes([tag]) for name, tag in TYPE_TAGS.items()}
_TYPE_BY_TAG = {tag: name for name, tag in TYPE_TAGS.items()}
_GLOBAL_ID_LENGTH = 23  # base64url of 17 bytes, unpadded


def encode_global_id(type_name: str, key: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(_TAG_BYTES[type_name] + key.bytes)[:_GLOBAL_ID_LENGTH].decode()


def decode_global_id(global_id: str) -> tuple[str, uuid.UUID]:
    """Split a global id; anything malformed is BAD_USER_INPUT."""
    if len(global_id) != _GLOBAL_ID_LENGTH:
        raise bad_input("Malformed id.")
    try:
        raw = base64.urlsafe_b64decode(global_id + "=")
    except (ValueError, binascii.Error):
        raise bad_input("Malformed id.") from None
    type_name = _TYPE_BY_TAG.get(raw[0])
    if type_name is None or len(raw) != 17:
        raise bad_input("Malformed id.")
    return type_name, uuid.UUID(bytes=raw[1:])


def page_size(first: int | None) -> int:
    """The validated page size; it is written into the SQL as a literal (see cases/service)."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise bad_input(f"`first` must be between 0 and {MAX_PAGE_SIZE}.")
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


def encode_sequence_cursor(seq: int) -> str:
    """A cursor in a list ordered by a sequence number (the audit log's `seq`, descending)."""
    return base64.urlsafe_b64encode(f"seq|{seq}".encode()).decode().rstrip("=")


def decode_sequence_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, _, seq = base64.urlsafe_b64decode(padded.encode("ascii")).decode().partition("|")
        if kind != "seq" or not seq.isdigit():
            raise ValueError(cursor)
        return int(seq)
    except (ValueError, UnicodeError, binascii.Error):
        raise bad_input("Malformed cursor.") from None


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


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
