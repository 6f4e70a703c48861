"""The write kit every domain's mutations share (DESIGN section 5, STYLE section 2).

A mutation resolver decodes its input ids (`input_key`), calls the domain's
`do_<action>(scope, …)` and maps the outcome to its payload; a `Refused` raised on the
way becomes the payload's `userErrors` (`Payload.refused`). The `do_<action>` function,
in the domain's `service.py`, does the rest in the request's transaction, in this order:

1. fetch what it acts on with the domain's `access_<thing>(scope, id)`, which refuses
   another tenant's id and a missing one with the same NOT_FOUND, and lock (`FOR UPDATE`)
   what its checks depend on, so that a concurrent request cannot change it between the
   check and the write;
2. check the rules, raising `Refused` before anything is written: a refusal is a user
   error, and the request's transaction still commits what was written before it;
3. for a create, look its idempotency key up (`check_idempotency_key`, then the domain's
   own read by key): a retry gets the first request's object back, unchanged, and a key
   reused for something else is a CONFLICT;
4. write, and write the audit event in the same transaction (`platform/audit.py`);
5. register what must happen only once the change is committed with
   `scope.after_commit` (a cache of what the change replaced).

A refused mutation has written nothing; a mutation whose answer carries errors is rolled
back whole by the request scope.
"""

from __future__ import annotations

import uuid
from typing import Self

import asyncpg

from kizuna.platform.i18n import Message
from kizuna.platform.scope import Scope
from kizuna.schema.errors import CodedError, Refused, UserErrorCode
from kizuna.schema.payloads import user_error
from kizuna.schema.relay import decode_global_id

MAX_IDEMPOTENCY_KEY_LENGTH = 200
IDEMPOTENCY_KEY_FIELD = "idempotencyKey"


def input_key(global_id: str, type_name: str, *, field: str, not_found: Message) -> uuid.UUID:
    """The row id in an input's global id. A malformed id is BAD_USER_INPUT; an id of
    another type is refused like an unknown id of the expected one (NOT_FOUND)."""
    try:
        found_type, key = decode_global_id(global_id)
    except CodedError:
        raise Refused(UserErrorCode.BAD_USER_INPUT, field, Message.MALFORMED_ID) from None
    if found_type != type_name:
        raise Refused(UserErrorCode.NOT_FOUND, field, not_found)
    return key


def check_idempotency_key(key: str | None) -> None:
    """Refuse an idempotency key that is empty or too long (None: the client sent none)."""
    if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        raise Refused(
            UserErrorCode.BAD_USER_INPUT,
            IDEMPOTENCY_KEY_FIELD,
            Message.IDEMPOTENCY_KEY_LENGTH,
            max=MAX_IDEMPOTENCY_KEY_LENGTH,
        )


def retried(earlier: asyncpg.Record | None, same: tuple[object, ...], columns: tuple[str, ...]) -> uuid.UUID | None:
    """The id of the record an earlier request wrote with this idempotency key (None: none
    did), read by the domain with its key; a key used for another record (`columns` of
    `earlier` other than `same`: another case, kind or date) is a CONFLICT."""
    if earlier is None:
        return None
    if tuple(earlier[c] for c in columns) != same:
        raise Refused(UserErrorCode.CONFLICT, IDEMPOTENCY_KEY_FIELD, Message.RECORD_KEY_REUSED)
    found: uuid.UUID = earlier["id"]
    return found


def inserted(record_id: uuid.UUID | None) -> uuid.UUID:
    """The id a keyed record's `INSERT … ON CONFLICT (municipality_code, idempotency_key)
    DO NOTHING RETURNING id` returned. None: a concurrent request used the key for a record
    of another case and committed first (one on the same case waited for the case's lock
    and found it as a retry); the record is each write's first change, so nothing is left
    to undo."""
    if record_id is None:
        raise Refused(UserErrorCode.CONFLICT, IDEMPOTENCY_KEY_FIELD, Message.RECORD_CHANGED_MEANWHILE)
    return record_id


def check_text(value: str, *, field: str, message: Message, most: int) -> None:
    """Refuse free text that is blank or longer than `most` characters (BAD_USER_INPUT
    on `field`; `message` says the bound as `{max}`)."""
    if not value.strip() or len(value) > most:
        raise Refused(UserErrorCode.BAD_USER_INPUT, field, message, max=most)


class Payload:
    """A mutation payload's base: its object field(s) default to None and `userErrors` to
    none, so a refusal is one call."""

    @classmethod
    def refused(cls, refusal: Refused, scope: Scope) -> Self:
        """The payload of a refused mutation: no object, the refusal in the caller's language."""
        return cls(user_errors=[user_error(refusal, scope.language)])  # type: ignore[call-arg]
