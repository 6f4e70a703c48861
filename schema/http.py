"""GraphQL over HTTP (the GraphQL-over-HTTP specification) in front of the schema.

The order is what keeps it safe: the token is validated before anything is parsed or
read, then the database opens the tenant transaction and checks the membership, and only
then does the schema execute. Errors leave as coded GraphQL errors with the request id,
never a stack trace or SQL.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from graphql import DocumentNode, GraphQLError, GraphQLSyntaxError, OperationType, get_operation_ast, parse
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry import Schema
from strawberry.exceptions import MissingQueryError
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType as StrawberryOperationType

from kizuna.auth.bearer import authenticate
from kizuna.auth.tokens import InvalidToken, TokenValidator
from kizuna.platform.database import Database, NoMembership, RequestContext
from kizuna.schema.context import Context
from kizuna.schema.errors import CodedError, ErrorCode

log = logging.getLogger(__name__)

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MAX_BODY_BYTES = 100_000


class _RollBack(Exception):
    """A mutation answered with errors: undo whatever it wrote."""

    def __init__(self, result: ExecutionResult) -> None:
        super().__init__()
        self.result = result


class RequestError(Exception):
    """The HTTP request is not a well-formed GraphQL request: nothing was executed."""

    def __init__(self, status: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


@lru_cache(maxsize=256)
def _parse(query: str) -> DocumentNode:
    return parse(query)


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


async def _read_request(request: Request) -> GraphQLRequest:
    if request.method == "GET":
        return _from_params(dict(request.query_params), variables_are_json=True)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise RequestError(415, ErrorCode.BAD_USER_INPUT, f"Send the request as {JSON}.")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise RequestError(413, ErrorCode.BAD_USER_INPUT, "The request body is too large.")
    try:
        params = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise RequestError(400, ErrorCode.BAD_USER_INPUT, "The body is not JSON.") from None
    if not isinstance(params, dict):
        raise RequestError(400, ErrorCode.BAD_USER_INPUT, "The body must be a JSON object.")
    return _from_params(params, variables_are_json=False)


def _operation_type(gql: GraphQLRequest) -> OperationType | None:
    """The operation's type, or None when the document does not parse or name one
    (the schema then reports that error itself, before any resolver runs)."""
    try:
        operation = get_operation_ast(_parse(gql.query), gql.operation_name)
    except GraphQLSyntaxError:
        return None
    return None if operation is None else operation.operation


def _error(code: ErrorCode, message: str, request_id: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code.value, "requestId": request_id}}


def _format_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        # An unexpected exception: logged here with its request id, never sent.
        log.error("request %s failed", request_id, exc_info=original)
        internal = _error(ErrorCode.INTERNAL, "Internal error.", request_id)
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
    """The endpoint for `/graphql`; the app's lifespan puts the pool on `app.state.database`."""

    def __init__(self, schema: Schema, validator: TokenValidator, *, prefecture_code: str, graphiql: bool) -> None:
        self.schema = schema
        self.validator = validator
        self.prefecture_code = prefecture_code
        self.graphiql = graphiql

    async def handle(self, request: Request) -> Response:
        request_id = uuid.uuid4().hex
        headers = {"x-request-id": request_id}
        if request.method == "GET" and self.graphiql and "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(get_graphql_ide_html(), headers=headers)
        media_type = JSON
        try:
            media_type = _media_type(request)
            gql = await _read_request(request)
            principal = authenticate(request, self.validator)
            operation = _operation_type(gql)
            if request.method == "GET" and operation not in (OperationType.QUERY, None):
                raise RequestError(405, ErrorCode.BAD_USER_INPUT, "Use POST for mutations.", {"allow": "POST"})
            context = RequestContext(
                role=principal.role,
                municipality_code=principal.municipality_code,
                subject=principal.subject,
                organisation_id=principal.organisation_id,
                request_id=request_id,
            )
            readonly = operation is not OperationType.MUTATION
            database: Database = request.app.state.database
            async with database.transaction(context, readonly=readonly) as tx:
                result = await self.schema.execute(
                    gql.query,
                    variable_values=gql.variables,
                    context_value=Context(
                        principal=principal, tx=tx, request_id=request_id, prefecture_code=self.prefecture_code
                    ),
                    operation_name=gql.operation_name,
                    allowed_operation_types=(StrawberryOperationType.QUERY, StrawberryOperationType.MUTATION),
                )
                if not readonly and result.errors:
                    raise _RollBack(result)
        except _RollBack as rolled_back:
            result = rolled_back.result
        except (CannotGetOperationTypeError, InvalidOperationTypeError, MissingQueryError):
            body = {"errors": [_error(ErrorCode.BAD_USER_INPUT, "The document has no such operation.", request_id)]}
            return self._respond(400, body, media_type, headers)
        except RequestError as exc:
            return self._respond(
                exc.status, {"errors": [_error(exc.code, exc.message, request_id)]}, media_type, headers | exc.headers
            )
        except InvalidToken:
            body = {"errors": [_error(ErrorCode.UNAUTHENTICATED, "A valid bearer token is required.", request_id)]}
            return self._respond(401, body, media_type, headers | {"www-authenticate": 'Bearer realm="kizuna"'})
        except NoMembership:
            body = {
                "errors": [_error(ErrorCode.FORBIDDEN, "No active membership for this tenant and role.", request_id)]
            }
            return self._respond(403, body, media_type, headers)
        return self._result(result, media_type, headers)

    def _result(self, result: ExecutionResult, media_type: str, headers: dict[str, str]) -> Response:
        request_id = headers["x-request-id"]
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [_format_error(e, request_id) for e in result.errors]
        if not isinstance(result, PreExecutionError) or result.data is not None:
            body["data"] = result.data
        # The specification's media type says a request error (the document did not
        # parse or validate, so nothing executed) with 400; plain JSON keeps 200.
        status = 400 if media_type == GRAPHQL_RESPONSE and "data" not in body else 200
        return self._respond(status, body, media_type, headers)

    @staticmethod
    def _respond(status: int, body: dict[str, Any], media_type: str, headers: dict[str, str]) -> Response:
        return Response(orjson.dumps(body), status_code=status, media_type=media_type, headers=headers)
