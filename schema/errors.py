"""Coded GraphQL errors (DESIGN section 5): `extensions.code`, never a stack trace or SQL."""

from __future__ import annotations

import enum
from typing import Any

from graphql import GraphQLError

from kizuna.platform.i18n import Language, Message


class ErrorCode(enum.StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL = "INTERNAL"
    UNAVAILABLE = "UNAVAILABLE"
    """The database is not there (stopped, restarting): HTTP 503 with `Retry-After`."""


UNAVAILABLE_MESSAGE = "The service is unavailable for a moment; try again shortly."
RETRY_AFTER_SECONDS = 5
"""What a 503 answer asks a client to wait: about what a database restart takes."""


def error_entry(code: ErrorCode, message: str, request_id: str, **extensions: Any) -> dict[str, Any]:
    """One entry of a response's `errors`, for an error no GraphQL execution produced."""
    return {"message": message, "extensions": {"code": code.value, "requestId": request_id, **extensions}}


class CodedError(GraphQLError):
    """An error whose message is safe to show: it says what, never another tenant's data."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message, extensions={"code": code.value})


def not_found() -> CodedError:
    # One message whether the id is unknown or belongs to another tenant.
    return CodedError(ErrorCode.NOT_FOUND, "No such object.")


def forbidden() -> CodedError:
    return CodedError(ErrorCode.FORBIDDEN, "Your role may not read this.")


def bad_input(message: str) -> CodedError:
    return CodedError(ErrorCode.BAD_USER_INPUT, message)


class UserErrorCode(enum.StrEnum):
    """Why a mutation's input was refused (a payload's `userErrors`, not a request error)."""

    BAD_USER_INPUT = "BAD_USER_INPUT"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"


class Refused(Exception):
    """A mutation's input breaks a rule. Services raise it before they write anything, so
    the payload can report it as a user error while the transaction still commits clean.
    The message is a catalogue key, rendered in the request's language by the GraphQL
    layer; it and its `params` must be as safe as a `CodedError`'s message: they never
    name another tenant's data."""

    def __init__(self, code: UserErrorCode, field: str | None, message: Message, **params: object) -> None:
        super().__init__(message.name)
        self.code, self.field, self.message, self.params = code, field, message, params

    def text(self, language: Language) -> str:
        return self.message.in_(language, **self.params)
