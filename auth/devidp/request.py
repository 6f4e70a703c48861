"""Starlette requests as authlib reads them: the parameters of a GET's query or of a POST's
urlencoded body, parsed within size limits, and a check of Basic credentials."""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Sequence
from urllib.parse import parse_qsl

# authlib ships no type information: its classes are Any to mypy, so each subclass below
# needs `type: ignore[misc]`, and its methods carry the types.
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError, OAuth2Payload, OAuth2Request
from starlette.requests import Request

_FORM = "application/x-www-form-urlencoded"
_MAX_BODY_BYTES = 64 * 1024
_MAX_FIELDS = 100


class _Payload(OAuth2Payload):  # type: ignore[misc]
    """Request parameters as authlib reads them: `data` keeps the first value of each name,
    `datalist` every value, so that authlib can refuse repeated parameters."""

    def __init__(self, items: Sequence[tuple[str, str]]) -> None:
        self.items = tuple(items)
        self._data: dict[str, str] = {}
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in items:
            self._data.setdefault(name, value)
            self._datalist[name].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class AuthlibRequest(OAuth2Request):  # type: ignore[misc]
    """A Starlette request for authlib. The parameters are the query of a GET and the body
    of a POST; authlib's `form` is the body only."""

    def __init__(self, request: Request, items: Sequence[tuple[str, str]]) -> None:
        # authlib raises InsecureTransportError here for plain http beyond loopback.
        super().__init__(request.method, str(request.url), headers=request.headers)
        self.payload = _Payload(items)
        self._form = self.payload.data if request.method == "POST" else {}

    @property
    def form(self) -> dict[str, str]:
        return self._form


async def authlib_request(request: Request) -> AuthlibRequest:
    if request.method != "POST":
        return AuthlibRequest(request, request.query_params.multi_items())
    if request.headers.get("content-type", "").partition(";")[0].strip().lower() != _FORM:
        raise InvalidRequestError("The body must be application/x-www-form-urlencoded.")
    # Parsed here rather than by `request.form()`, which needs python-multipart even for
    # urlencoded bodies; the size and field limits keep a hostile body cheap.
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_BODY_BYTES:
            raise InvalidRequestError("The body is too large.")
    try:
        items = parse_qsl(body.decode(), keep_blank_values=True, errors="strict", max_num_fields=_MAX_FIELDS)
    except ValueError:  # invalid UTF-8, or too many fields
        raise InvalidRequestError("The body is not a valid form.") from None
    return AuthlibRequest(request, items)


def check_basic_credentials(request: Request) -> None:
    # authlib decodes Basic credentials as UTF-8 without catching the error (a 500).
    parts = request.headers.get("authorization", "").split(None, 1)  # as authlib splits it
    if len(parts) != 2 or parts[0].lower() != "basic":
        return
    try:
        base64.b64decode(parts[1], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClientError("Malformed Basic credentials.", status_code=401) from None
