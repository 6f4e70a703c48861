"""The GraphQL documents the pages run, and the one way a page runs one.

Each document is a file in `documents/` named after its operation (`dashboard.graphql`
holds `query Dashboard`): the same operation an API client could send, validated against
the schema by tests/pages/test_documents.py. A page never reads the database any other
way: `run` sends its document through `GraphQLEndpoint.run`, so the page is authorised,
cost-limited, rate-limited and read-audited exactly as the API is, and refused the same.
The pages are in Japanese, so their requests ask the API for Japanese (`userErrors` are
shown inside the page), whatever language the browser prefers.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request

from kizuna.platform.errors import ErrorCode, RequestRefused
from kizuna.platform.i18n import Message
from kizuna.schema.http import GraphQLEndpoint, GraphQLRequest

log = logging.getLogger(__name__)

DOCUMENTS_DIR = Path(__file__).resolve().parent / "documents"


@dataclass(frozen=True, slots=True)
class Document:
    operation: str
    text: str


@functools.cache
def document(name: str) -> Document:
    """The registered document `documents/<name>.graphql`; its operation is `name` in
    PascalCase (`dashboard` → `Dashboard`)."""
    text = (DOCUMENTS_DIR / f"{name}.graphql").read_text(encoding="utf-8")
    return Document(operation="".join(part.capitalize() for part in name.split("_")), text=text)


def registered() -> list[str]:
    """The names of every registered document."""
    return sorted(path.stem for path in DOCUMENTS_DIR.glob("*.graphql"))


class PageRefused(Exception):
    """What a page says instead of its content: a status, the message a person reads, and
    whether signing in would help. Nothing of the tenant was shown."""

    def __init__(self, status: int, message: Message, *, request_id: str, sign_in: bool = False) -> None:
        super().__init__(message.name)
        self.status, self.message, self.request_id, self.sign_in = status, message, request_id, sign_in

    @classmethod
    def bad_request(cls, request_id: str) -> PageRefused:
        """The page's own parameters (its address) are not valid: nothing was run."""
        return cls(400, Message.PAGE_BAD_REQUEST, request_id=request_id)


# A refusal as the page says it. Forbidden and not found read the same, as they do in the
# API: a page must not tell that something exists where the visitor may not see it.
_REFUSALS: dict[str, tuple[int, Message]] = {
    ErrorCode.UNAUTHENTICATED: (401, Message.PAGE_SIGN_IN_NEEDED),
    ErrorCode.FORBIDDEN: (403, Message.PAGE_NOT_AVAILABLE),
    ErrorCode.NOT_FOUND: (403, Message.PAGE_NOT_AVAILABLE),
    ErrorCode.BAD_USER_INPUT: (400, Message.PAGE_BAD_REQUEST),
    ErrorCode.RATE_LIMITED: (429, Message.PAGE_RATE_LIMITED),
    ErrorCode.UNAVAILABLE: (503, Message.SERVICE_UNAVAILABLE),
}


def _refused(code: str, request_id: str) -> PageRefused:
    # ErrorCode is a StrEnum: the answer's code (text) finds its member's entry.
    status, message = _REFUSALS.get(code, (500, Message.INTERNAL_ERROR))
    return PageRefused(status, message, request_id=request_id, sign_in=status == 401)


def _asking_in_japanese(request: Request) -> Request:
    """`request` with `Accept-Language: ja` instead of the browser's: the API's messages
    are then in the pages' language, as a client asking in Japanese gets them."""
    headers = [(name, value) for name, value in request.scope["headers"] if name != b"accept-language"]
    return Request({**request.scope, "headers": [*headers, (b"accept-language", b"ja")]}, request.receive)


async def run(
    endpoint: GraphQLEndpoint,
    request: Request,
    name: str,
    request_id: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The data of the registered document `name` run for `request`'s visitor; PageRefused
    when the API refuses the request or any part of the answer. A page shows all of its
    answer or none of it. A page's GET may come from another site (a link, the IdP's
    redirect); a form's POST needs the session's same-origin proof, as every POST does
    (`Authenticator.caller`)."""
    registered_document = document(name)
    gql = GraphQLRequest(registered_document.text, variables, registered_document.operation)
    try:
        answer = await endpoint.run(_asking_in_japanese(request), gql, request_id, page=True)
    except RequestRefused as exc:
        raise _refused(exc.code, request_id) from None
    if not answer.executed:  # a registered document that does not validate is a defect
        log.error("page document %s does not validate (request %s): %s", name, request_id, answer.errors)
        raise _refused(ErrorCode.INTERNAL, request_id)
    if answer.errors:
        raise _refused(answer.errors[0]["extensions"]["code"], request_id)
    data: dict[str, Any] = answer.result.data or {}
    return data
