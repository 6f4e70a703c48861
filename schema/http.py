"""GraphQL over HTTP (the GraphQL-over-HTTP specification) in front of the schema.

The order is what keeps it safe: the body is read only up to its size limit, the caller
is authenticated before the document is parsed, then the database opens the tenant
transaction and checks the membership, and only then does the schema execute. Errors
leave as coded GraphQL errors with the request id, never a stack trace or SQL.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import DocumentNode, ExecutionResult, GraphQLError, OperationDefinitionNode, OperationType
from starlette.requests import Request
from starlette.responses import Response

from kizuna.auth.caller import Authenticator, BadSelection, CrossSite
from kizuna.auth.memberships import Forbidden, MembershipDirectory
from kizuna.auth.principal import Principal
from kizuna.auth.tokens import InvalidToken, TokenProblem
from kizuna.platform.database import Database, DatabaseUnavailable, NoMembership, RequestContext
from kizuna.platform.i18n import negotiate
from kizuna.platform.ratelimit import RateLimiter
from kizuna.schema.context import Context
from kizuna.schema.cost import MAX_COST
from kizuna.schema.errors import (
    RETRY_AFTER_SECONDS,
    UNAVAILABLE_MESSAGE,
    CodedError,
    ErrorCode,
    error_entry,
)
from kizuna.schema.execution import Executor
from kizuna.schema.ide.pages import IDE

log = logging.getLogger(__name__)

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MAX_BODY_BYTES = 100_000
RATE_LIMIT_PAUSE = 1.0


class _RollBack(Exception):
    """A mutation answered with errors: undo whatever it wrote."""

    def __init__(self, result: ExecutionResult) -> None:
        super().__init__()
        self.result = result


class RequestError(Exception):
    """The HTTP request is not a well-formed GraphQL request: nothing was executed."""

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}
        self.extensions = extensions or {}


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


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
    raise RequestError(406, ErrorCode.BAD_USER_INPUT, f"Accept {GRAPHQL_RESPONSE} or {JSON}.")


def _from_params(params: dict[str, Any], *, variables_are_json: bool) -> GraphQLRequest:
    query = params.get("query")
    if not isinstance(query, str) or not query.strip():
        raise RequestError(400, ErrorCode.BAD_USER_INPUT, "The request has no `query` string.")
    variables = params.get("variables")
    if variables_are_json and isinstance(variables, str):
        try:
            variables = orjson.loads(variables)
        except orjson.JSONDecodeError:
            raise RequestError(400, ErrorCode.BAD_USER_INPUT, "`variables` is not JSON.") from None
    if variables is not None and not isinstance(variables, dict):
        raise RequestError(400, ErrorCode.BAD_USER_INPUT, "`variables` must be an object.")
    operation_name = params.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestError(400, ErrorCode.BAD_USER_INPUT, "`operationName` must be a string.")
    return GraphQLRequest(query, variables, operation_name)


async def _bounded_body(request: Request, seconds: float) -> bytes:
    """The body, read no further than MAX_BODY_BYTES and for no longer than `seconds`:
    anyone may send a request, so a huge body is refused by its declared length or as soon
    as it passes the limit, and a slow one (a connection held open a byte at a time) when
    its time is up."""
    too_large = RequestError(413, ErrorCode.BAD_USER_INPUT, "The request body is too large.")
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
        raise RequestError(408, ErrorCode.BAD_USER_INPUT, message, {"connection": "close"}) from None
    return b"".join(chunks)


async def _read_request(request: Request, body_seconds: float) -> GraphQLRequest:
    if request.method == "GET":
        return _from_params(dict(request.query_params), variables_are_json=True)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise RequestError(415, ErrorCode.BAD_USER_INPUT, f"Send the request as {JSON}.")
    body = await _bounded_body(request, body_seconds)
    try:
        params = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise RequestError(400, ErrorCode.BAD_USER_INPUT, "The body is not JSON.") from None
    if not isinstance(params, dict):
        raise RequestError(400, ErrorCode.BAD_USER_INPUT, "The body must be a JSON object.")
    return _from_params(params, variables_are_json=False)


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
    """The endpoint for `/graphql`; the app's lifespan puts the pool on `app.state.database`.
    `ide` (development only) answers a browser's `GET` with its page."""

    def __init__(
        self,
        executor: Executor,
        authenticator: Authenticator,
        rate_limiter: RateLimiter,
        *,
        prefecture_code: str,
        ide: IDE | None,
        client_timeout: float,
    ) -> None:
        # Seconds a client has to send a request's body (its headers: platform/server_protocol.py).
        self.client_timeout = client_timeout
        self.executor = executor
        self.authenticator = authenticator
        self.rate_limiter = rate_limiter
        self.prefecture_code = prefecture_code
        self.ide = ide

    async def handle(self, request: Request) -> Response:  # noqa: PLR0911  (one answer for each way a request ends)
        request_id = uuid.uuid4().hex
        # Answers name people: no browser or proxy may keep one, whatever its status.
        headers = {"x-request-id": request_id, "cache-control": "no-store"}
        if request.method == "GET" and self.ide is not None and "text/html" in request.headers.get("accept", ""):
            return self.ide.page(request)
        media_type = JSON
        try:
            media_type = _media_type(request)
            gql = await _read_request(request, self.client_timeout)
            directory: MembershipDirectory = request.app.state.memberships
            principal = await self._principal(request, directory, request_id)
            prepared = self.executor.prepare(gql.query)
            operation = prepared.operation(gql.operation_name)
            if request.method == "GET" and operation is not None and operation.operation is not OperationType.QUERY:
                raise RequestError(405, ErrorCode.BAD_USER_INPUT, "Use POST for mutations.", {"allow": "POST"})
            if prepared.errors or prepared.document is None:  # did not parse or validate: nothing is read
                return self._result(ExecutionResult(None, list(prepared.errors)), media_type, headers, executed=False)
            if operation is None:
                raise RequestError(400, ErrorCode.BAD_USER_INPUT, "The document has no such operation.")
            if operation.operation is OperationType.SUBSCRIPTION:
                raise RequestError(400, ErrorCode.BAD_USER_INPUT, "Subscriptions are not supported.")
            cost = await self._admit(prepared.document, operation, gql.variables, principal)
            context = RequestContext(
                role=principal.role,
                municipality_code=principal.municipality_code,
                user_id=principal.user_id,
                organisation_id=principal.organisation_id,
                request_id=request_id,
            )
            readonly = operation.operation is OperationType.QUERY
            database: Database = request.app.state.database
            changed: list[tuple[str, str]] = []
            async with database.transaction(context, readonly=readonly) as tx:
                result = await self.executor.execute(
                    prepared.document,
                    context=Context(
                        principal=principal,
                        tx=tx,
                        request_id=request_id,
                        prefecture_code=self.prefecture_code,
                        trusted_issuers=self.authenticator.trust.issuers,
                        language=negotiate(request.headers.get("accept-language")),
                        membership_changed=lambda issuer, subject: changed.append((issuer, subject)),
                    ),
                    variables=gql.variables,
                    operation_name=gql.operation_name,
                )
                if not readonly and result.errors:
                    raise _RollBack(result)
            # After COMMIT: a sign-in in between must not cache the memberships of before.
            for issuer, subject in changed:
                directory.forget(issuer, subject)
        except _RollBack as rolled_back:
            result = rolled_back.result
        except RequestError as exc:
            body = {"errors": [error_entry(exc.code, exc.message, request_id, **exc.extensions)]}
            return self._respond(exc.status, body, media_type, headers | exc.headers)
        except NoMembership:
            # Revoked since the membership was cached: forget it, so the next request
            # sees the database's current memberships.
            log.info("request %s: the database found no active membership (revoked?)", request_id)
            directory.forget(principal.issuer, principal.subject)
            message = "No active membership for this tenant and role."
            return self._respond(
                403, {"errors": [error_entry(ErrorCode.FORBIDDEN, message, request_id)]}, media_type, headers
            )
        except DatabaseUnavailable as exc:
            # One line per request: an outage is not a defect, and a traceback each would bury the log.
            log.warning("request %s: the database is unavailable (%s)", request_id, exc)
            body = {"errors": [error_entry(ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE, request_id)]}
            return self._respond(503, body, media_type, headers | {"retry-after": str(RETRY_AFTER_SECONDS)})
        except Exception:
            # Anything else is a defect: the traceback goes to the log with the request id,
            # the client gets the id alone.
            log.exception("request %s failed", request_id)
            body = {"errors": [error_entry(ErrorCode.INTERNAL, "Internal error.", request_id)]}
            return self._respond(500, body, media_type, headers)
        return self._result(result, media_type, headers, executed=True, cost=cost)

    async def _admit(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: dict[str, Any] | None,
        principal: Principal,
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
                f"This document could fetch up to {cost} rows and counts (its cost); the limit is {MAX_COST}"
                " a request. Ask for smaller pages (`first`), fewer aliases or fewer `totalCount`."
            )
            raise RequestError(400, ErrorCode.BAD_USER_INPUT, message, extensions={"cost": reported})
        user = (principal.issuer, principal.subject)
        wait = self.rate_limiter.take(user, cost)
        if wait is not None:
            await asyncio.sleep(min(wait, RATE_LIMIT_PAUSE))
            seconds = max(1, math.ceil(wait - RATE_LIMIT_PAUSE))
            message = f"Too many requests for your rate limit: try again in {seconds} s."
            raise RequestError(429, ErrorCode.RATE_LIMITED, message, {"retry-after": str(seconds)}, {"cost": reported})
        return reported | {"remaining": self.rate_limiter.remaining(user)}

    async def _principal(self, request: Request, directory: MembershipDirectory, request_id: str) -> Principal:
        """The caller, or the coded refusal: 401 without valid credentials, 403 without a
        membership to act through or for a cross-site cookie request. Refusals are logged
        with the request id and the client address, never with the credentials."""
        client = request.client.host if request.client else "-"
        try:
            return await self.authenticator.principal(request, directory)
        except InvalidToken as exc:
            problem = exc.problem
            log.log(
                logging.INFO if problem is TokenProblem.MISSING else logging.WARNING,
                "request %s from %s: credentials refused (%s)",
                request_id,
                client,
                problem.reason,
            )
            challenge = {"www-authenticate": problem.challenge}
            raise RequestError(401, ErrorCode.UNAUTHENTICATED, problem.description, challenge) from None
        except BadSelection as exc:
            raise RequestError(400, ErrorCode.BAD_USER_INPUT, str(exc)) from None
        except CrossSite:
            log.warning("request %s from %s: cross-site cookie request refused", request_id, client)
            message = "A cookie-authenticated request must come from Kizuna's own pages."
            raise RequestError(403, ErrorCode.FORBIDDEN, message) from None
        except Forbidden as exc:
            log.info("request %s from %s: no membership to act through (%s)", request_id, client, exc)
            raise RequestError(403, ErrorCode.FORBIDDEN, str(exc)) from None

    def _result(
        self,
        result: ExecutionResult,
        media_type: str,
        headers: dict[str, str],
        *,
        executed: bool,
        cost: dict[str, int] | None = None,
    ) -> Response:
        request_id = headers["x-request-id"]
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [_format_error(e, request_id) for e in result.errors]
        if executed:
            body["data"] = result.data
        if cost is not None:
            body["extensions"] = {"cost": cost}
        # The specification's media type says a request error (the document did not
        # parse or validate, so nothing executed) with 400; plain JSON keeps 200.
        status = 400 if media_type == GRAPHQL_RESPONSE and not executed else 200
        return self._respond(status, body, media_type, headers)

    @staticmethod
    def _respond(status: int, body: dict[str, Any], media_type: str, headers: dict[str, str]) -> Response:
        return Response(orjson.dumps(body), status_code=status, media_type=media_type, headers=headers)
