"""Reading the bearer token of an HTTP request."""

from __future__ import annotations

from starlette.requests import Request

from kizuna.auth.principal import Principal
from kizuna.auth.tokens import InvalidToken, TokenValidator


def authenticate(request: Request, validator: TokenValidator) -> Principal:
    """The caller of `request`; InvalidToken when there is no valid bearer token."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("missing")
    return validator.validate(token.strip())
