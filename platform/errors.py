"""The codes every error answer carries (DESIGN section 5): `extensions.code` and the
request id, never a stack trace or SQL. GraphQL execution errors build on these in
`schema/errors.py`; pages and the request scope use them directly."""

from __future__ import annotations

import enum
from typing import Any


class ErrorCode(enum.StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL = "INTERNAL"
    UNAVAILABLE = "UNAVAILABLE"
    """The database is not there (stopped, restarting), or kept ending the request's
    transaction over conflicts with concurrent ones: HTTP 503 with `Retry-After`."""
    # Trusted documents (issue 18, item 5), named as Apollo's and GraphQL Yoga's clients and
    # servers name them, so that those clients recognise them: HTTP 400, nothing executed.
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    """No document is registered under the hash the request names."""
    PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
    """`KIZUNA_TRUSTED_DOCUMENTS=only`, and the document the request sent is not registered."""


UNAVAILABLE_MESSAGE = "The service is unavailable for a moment; try again shortly."
RETRY_AFTER_SECONDS = 5
"""What a 503 answer asks a client to wait: about what a database restart takes."""


def error_entry(code: ErrorCode, message: str, request_id: str, **extensions: Any) -> dict[str, Any]:
    """One entry of a response's `errors`, for an error no GraphQL execution produced."""
    return {"message": message, "extensions": {"code": code.value, "requestId": request_id, **extensions}}


class RequestRefused(Exception):
    """A request refused before or instead of its work (no credentials, no membership, a
    malformed request, the database away): nothing of it was committed. The message is
    safe to send; it never names another tenant's data."""

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.extensions = extensions or {}
