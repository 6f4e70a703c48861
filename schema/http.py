"""GraphQL over HTTP (the GraphQL-over-HTTP specification) in front of the schema.

The order is what keeps it safe: the body is read only up to its size limit, the caller
is authenticated before the document is parsed (or, named by its hash, found among the
registered ones: schema/trusted_documents.py), the document's cost is admitted, then
the request scope (`platform/request_scope.py`) opens the tenant transaction, where the
database checks the membership, and only then does the schema execute, with the scope as
its context. Errors leave as coded GraphQL errors with the request id, never a stack
trace or SQL.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import DocumentNode, ExecutionResult, GraphQLError, OperationDefinitionNode, OperationType
from starlette.requests import Request
from starlette.responses import Response

from kizuna.platform.caller import Caller
from kizuna.platform.database import TRANSIENT_CONFLICTS, TransientConflict
from kizuna.platform.errors import ErrorCode, RequestRefused, error_entry
from kizuna.platform.ids import new_request_id
from kizuna.platform.ratelimit import RateLimiter
from kizuna.platform.request_scope import RequestScopes
from kizuna.platform.scope import Scope
from kizuna.platform.trusted_documents import HASH_PREFIX, parse_hash
from kizuna.schema.cost import MAX_COST
from kizuna.schema.errors import CodedError
from kizuna.schema.execution import NUL_MESSAGE, Executor
from kizuna.schema.ide.pages import IDE
from kizuna.schema.trusted_documents import TrustedDocuments

log = logging.getLogger(__name__)

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MAX_BODY_BYTES = 100_000
RATE_LIMIT_PAUSE = 1.0


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    query: str | None
    """The document's text; None when the request names a registered document by hash only."""
    variables: dict[str, Any] | None
    operation_name: str | None
    document_hash: str | None = None
    """The SHA-256 (hex) of a registered document: `documentId: "sha256:<hex>"` or Apollo's
    `extensions.persistedQuery.sha256Hash` (schema/trusted_documents.py)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What a GraphQL request produced; `executed` is False when its document did not
    parse or validate (nothing was read)."""

    result: ExecutionResult
    request_id: str
    executed: bool
    cost: dict[str, int] | None = None

    @property
    def errors(self) -> list[dict[str, Any]]:
        """The errors as the client receives them: coded, with the request id, an
        unexpected exception logged and reduced to INTERNAL."""
        return [_format_error(e, self.request_id) for e in self.result.errors or ()]

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.result.errors:
            body["errors"] = self.errors
        if self.executed:
            body["data"] = self.result.data
        if self.cost is not None:
            body["extensions"] = {"cost": self.cost}
        return body


def _media_type(request: Request) -> str:
    """The response type the client accepts, preferring the specification's own."""
    accept = request.headers.get("accept", "")
    if not accept:
        return JSON
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if GRAPHQL_RESPONSE in types:
        return GRAPHQL_RESPONSE
    if JSON in types or "*/*" in types or "application/*" in types:
        return JSON
    raise RequestRefused(406, ErrorCode.BAD_USER_INPUT, f"Accept {GRAPHQL_RESPONSE} or {JSON}.")


def _from_params(params: dict[str, Any], *, from_query_string: bool) -> GraphQLRequest:
    """The request's parameters; in a query string (GET) `variables` and `extensions` are JSON text."""
    document_hash = _document_hash(params.get("documentId"), _json_object(params, "extensions", from_query_string))
    query = params.get("query")
    if query is None and document_hash is None:
        raise RequestRefused(400, ErrorCode.BAD_USER_INPUT, "The request has no `query` string or `documentId`.")
    if query is not None and (not isinstance(query, str) or not query.strip()):
        raise RequestRefused(400, ErrorCode.BAD_USER_INPUT, "`query` must be a document's text.")
    variables = _json_object(params, "variables", from_query_string)
    if _holds_nul(variables):
        raise RequestRefused(400, ErrorCode.BAD_USER_INPUT, NUL_MESSAGE)
    operation_name = params.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestRefused(400, ErrorCode.BAD_USER_INPUT, "`operationName` must be a string.")
    return GraphQLRequest(query, variables, operation_name, document_hash)


def _holds_nul(value: Any) -> bool:
    """Whether a JSON value holds U+0000 in any string, key or value (see `NUL_MESSAGE`)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _json_object(params: dict[str, Any], name: str, from_query_string: bool) -> dict[str, Any] | None:
    value = params.get(name)
    if from_query_string and isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise RequestRefused(400, ErrorCode.BAD_USER_INPUT, f"`{name}` is not JSON.") from None
    if value is not None and not isinstance(value, dict):
        raise RequestRefused(400, ErrorCode.BAD_USER_INPUT, f"`{name}` must be an object.")
    return value


def _document_hash(document_id: Any, extensions: dict[str, Any] | None) -> str | None:
    """The hash of the registered document the request names, by the GraphQL-over-HTTP
    persisted documents' `documentId` or Apollo's persisted query extension (version 1)."""
    named: set[str] = set()
    if document_id is not None:
        hash_hex = parse_hash(document_id) if isinstance(document_id, str) else None
        if hash_hex is None or not document_id.startswith(HASH_PREFIX):
            message = f"`documentId` must be `{HASH_PREFIX}` and the document's SHA-256 in lower-case hex."
            raise RequestRefused(400, ErrorCode.BAD_USER_INPUT, message)
        named.add(hash_hex)
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is not None:
        sha256_hash = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        hash_hex = parse_hash(sha256_hash) if isinstance(sha256_hash, str) else None
        if hash_hex is None or hash_hex != sha256_hash or persisted.get("version") != 1:
            message = "`extensions.persistedQuery` must be `{version: 1, sha256Hash}`, the hash in lower-case hex."
            raise RequestRefused(400, ErrorCode.BAD_USER_INPUT, message)
        named.add(hash_hex)
    if len(named) > 1:
        message = "`documentId` and `extensions.persistedQuery` name different documents."
        raise RequestRefused(400, ErrorCode.BAD_USER_INPUT, message)
    return next(iter(named), None)


async def _bounded_body(request: Request, seconds: float) -> bytes:
    """The body, read no further than MAX_BODY_BYTES and for no longer than `seconds`:
    anyone may send a request, so a huge body is refused by its declared length or as soon
    as it passes the limit, and a slow one (a connection held open a byte at a time) when
    its time is up."""
    too_large = RequestRefused(413, ErrorCode.BAD_USER_INPUT, "The request body is too large.")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise too_large
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise too_large
                chunks.append(chunk)
    except TimeoutError:
        message = f"The request body did not arrive within {seconds:g} s."
        raise RequestRefused(408, ErrorCode.BAD_USER_INPUT, message, {"connection": "close"}) from None
    return b"".join(chunks)


async def _read_request(request: Request, body_seconds: float) -> GraphQLRequest:
    if request.method == "GET":
        return _from_params(dict(request.query_params), from_query_string=True)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise RequestRefused(415, ErrorCode.BAD_USER_INPUT, f"Send the request as {JSON}.")
    body = await _bounded_body(request, body_seconds)
    try:
        params = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise RequestRefused(400, ErrorCode.BAD_USER_INPUT, "The body is not JSON.") from None
    if not isinstance(params, dict):
        raise RequestRefused(400, ErrorCode.BAD_USER_INPUT, "The body must be a JSON object.")
    return _from_params(params, from_query_string=False)


def _format_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        # An unexpected exception: logged here with its request id, never sent.
        log.error("request %s failed", request_id, exc_info=original)
        internal = error_entry(ErrorCode.INTERNAL, "Internal error.", request_id)
        if error.path is not None:
            internal["path"] = error.path
        return internal
    formatted: dict[str, Any] = dict(error.formatted)
    extensions = dict(formatted.get("extensions") or {})
    if isinstance(original, CodedError):
        extensions.update(original.extensions or {})
    extensions.setdefault("code", ErrorCode.BAD_USER_INPUT.value)
    extensions["requestId"] = request_id
    formatted["extensions"] = extensions
    return formatted


class GraphQLEndpoint:
    """The endpoint for `/graphql`; the app's lifespan puts the request scopes on
    `app.state.scopes`. `ide` (development only) answers a browser's `GET` with its page."""

    def __init__(
        self,
        executor: Executor,
        documents: TrustedDocuments,
        rate_limiter: RateLimiter,
        *,
        ide: IDE | None,
        client_timeout: float,
    ) -> None:
        # Seconds a client has to send a request's body (its headers: platform/server_protocol.py).
        self.client_timeout = client_timeout
        self.executor = executor
        self.documents = documents
        self.rate_limiter = rate_limiter
        self.ide = ide

    async def handle(self, request: Request) -> Response:
        request_id = new_request_id()
        # Answers name people: no browser or proxy may keep one, whatever its status.
        headers = {"x-request-id": request_id, "cache-control": "no-store"}
        if request.method == "GET" and self.ide is not None and "text/html" in request.headers.get("accept", ""):
            return self.ide.page(request)
        media_type = JSON
        try:
            media_type = _media_type(request)
            gql = await _read_request(request, self.client_timeout)
            answer = await self.run(request, gql, request_id)
        except RequestRefused as exc:
            body = {"errors": [error_entry(exc.code, exc.message, request_id, **exc.extensions)]}
            return self._respond(exc.status, body, media_type, headers | exc.headers)
        except Exception:
            # Anything else is a defect: the traceback goes to the log with the request id,
            # the client gets the id alone.
            log.exception("request %s failed", request_id)
            body = {"errors": [error_entry(ErrorCode.INTERNAL, "Internal error.", request_id)]}
            return self._respond(500, body, media_type, headers)
        return self._result(answer, media_type, headers)

    async def run(self, request: Request, gql: GraphQLRequest, request_id: str, *, page: bool = False) -> Answer:
        """Run one GraphQL request for `request`'s caller: authenticate, parse and validate
        (or find the registered document the request names by hash), admit its cost, open
        the tenant transaction, execute, commit. Every page and export runs its documents
        through here too, so they are authorised, limited, audited and answered exactly as
        the API is (`page`: a browser's top-level navigation, see
        `RequestScopes.caller`). A refusal is a `RequestRefused`, raised before anything of
        the tenant was read."""
        scopes: RequestScopes = request.app.state.scopes
        caller = await scopes.caller(request, request_id, page=page)
        prepared = await self.documents.prepare(gql.query, gql.document_hash)
        operation = prepared.operation(gql.operation_name)
        if request.method == "GET" and operation is not None and operation.operation is not OperationType.QUERY:
            raise RequestRefused(405, ErrorCode.BAD_USER_INPUT, "Use POST for mutations.", {"allow": "POST"})
        document = prepared.document
        if prepared.errors or document is None:  # did not parse or validate: nothing is read
            return Answer(ExecutionResult(None, list(prepared.errors)), request_id, executed=False)
        if operation is None:
            raise RequestRefused(400, ErrorCode.BAD_USER_INPUT, "The document has no such operation.")
        if operation.operation is OperationType.SUBSCRIPTION:
            raise RequestRefused(400, ErrorCode.BAD_USER_INPUT, "Subscriptions are not supported.")
        cost = await self._admit(document, operation, gql.variables, caller)
        mutation = operation.operation is OperationType.MUTATION

        async def execute(scope: Scope) -> ExecutionResult:
            result = await self.executor.execute(
                document,
                context=scope,
                variables=gql.variables,
                operation_name=gql.operation_name,
            )
            # A field's statement the database chose to fail over a conflict aborted the
            # whole transaction: the request is run again (RequestScopes.run), not answered.
            for error in result.errors or ():
                if isinstance(error.original_error, TRANSIENT_CONFLICTS):
                    raise TransientConflict(str(error.original_error)) from error.original_error
            if mutation and result.errors:
                scope.roll_back()
            return result

        # Read-write for queries too: the audit events of what a query read are written
        # in its own transaction, just before its COMMIT (audit.record_reads).
        result = await scopes.run(request, caller, request_id, execute, readonly=False)
        return Answer(result, request_id, executed=True, cost=cost)

    async def _admit(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: dict[str, Any] | None,
        caller: Caller,
    ) -> dict[str, int]:
        """The document's cost, once it is known to be within the limit and the caller's
        rate limit has paid for it; a refusal leaves before any transaction opens.

        A rate-limited refusal is answered after a pause of up to `RATE_LIMIT_PAUSE`
        seconds, which costs the server nothing (a sleeping coroutine): a client that
        floods, and sends again as soon as it is answered, then sends about once a second
        per connection instead of as fast as the server can refuse, and everyone else's
        requests keep the server's time."""
        cost = self.executor.cost(document, operation, variables)
        reported = {"requested": cost, "limit": MAX_COST}
        if cost > MAX_COST:
            message = (
                f"This document could fetch up to {cost} objects and counts (its cost); the limit is {MAX_COST}"
                " a request. Ask for smaller pages (`first`), fewer aliases or fewer `totalCount`."
            )
            raise RequestRefused(400, ErrorCode.BAD_USER_INPUT, message, extensions={"cost": reported})
        user = (caller.issuer, caller.subject)
        wait = self.rate_limiter.take(user, cost)
        if wait is not None:
            await asyncio.sleep(min(wait, RATE_LIMIT_PAUSE))
            seconds = max(1, math.ceil(wait - RATE_LIMIT_PAUSE))
            message = f"Too many requests for your rate limit: try again in {seconds} s."
            raise RequestRefused(
                429, ErrorCode.RATE_LIMITED, message, {"retry-after": str(seconds)}, {"cost": reported}
            )
        return reported | {"remaining": self.rate_limiter.remaining(user)}

    def _result(self, answer: Answer, media_type: str, headers: dict[str, str]) -> Response:
        body = answer.body()
        # The specification's media type says a request error (the document did not
        # parse or validate, so nothing executed) with 400; plain JSON keeps 200.
        status = 400 if media_type == GRAPHQL_RESPONSE and not answer.executed else 200
        return self._respond(status, body, media_type, headers)

    @staticmethod
    def _respond(status: int, body: dict[str, Any], media_type: str, headers: dict[str, str]) -> Response:
        return Response(orjson.dumps(body), status_code=status, media_type=media_type, headers=headers)
