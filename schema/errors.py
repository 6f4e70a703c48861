"""Coded GraphQL errors (DESIGN section 5): `extensions.code`, never a stack trace or SQL."""

from __future__ import annotations

from graphql import GraphQLError

from kizuna.platform.errors import ErrorCode
from kizuna.platform.i18n import Language, Message
from kizuna.platform.vocabulary import LabelledEnum


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


class UserErrorCode(LabelledEnum):
    """Why a mutation's input was refused (a payload's `userErrors`, not a request error)."""

    BAD_USER_INPUT = ("BAD_USER_INPUT", "入力が正しくない")
    FORBIDDEN = ("FORBIDDEN", "この役割では行えない")
    NOT_FOUND = ("NOT_FOUND", "対象が見つからない")
    CONFLICT = ("CONFLICT", "既存のデータと重なる")


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
