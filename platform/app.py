"""The application factory: routes, sign-in, the database pool and the token validator."""

from __future__ import annotations

import contextlib
import html
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from kizuna.auth import devidp, session
from kizuna.auth.browser import BrowserSignIn
from kizuna.auth.caller import Authenticator
from kizuna.auth.issuers import IssuerConfig
from kizuna.auth.memberships import MembershipDirectory
from kizuna.auth.tokens import TokenValidator
from kizuna.auth.trust import DevIssuer, Trust
from kizuna.platform import migrate
from kizuna.platform.database import Database, DatabaseUnavailable
from kizuna.platform.dev_clients import dev_client_secret, dev_system_client
from kizuna.platform.errors import RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE, ErrorCode, error_entry
from kizuna.platform.i18n import Message, negotiate
from kizuna.platform.ids import new_request_id
from kizuna.platform.ratelimit import RateLimiter
from kizuna.platform.request_scope import RequestScopes
from kizuna.platform.settings import Settings
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.execution import Executor
from kizuna.schema.http import GraphQLEndpoint
from kizuna.schema.ide import npm
from kizuna.schema.ide.pages import IDE
from kizuna.schema.memberships.service import TrustedIssuers
from kizuna.schema.pages.case import CasePages
from kizuna.schema.pages.documents import document as page_document
from kizuna.schema.pages.documents import registered as page_documents
from kizuna.schema.pages.exports import INDICATORS_DOCUMENT, STATS_DOCUMENT, Exports
from kizuna.schema.pages.home import Pages
from kizuna.schema.pages.school import SchoolPages
from kizuna.schema.root import build_schema
from kizuna.schema.trusted_documents import TrustedDocuments
from kizuna.tenants import demo_users
from kizuna.tenants.registry import for_prefecture

log = logging.getLogger(__name__)

DEV_WEB_CLIENT = "kizuna-web"
GRAPHQL_PATH = "/graphql"
_GRAPHQL_METHODS = ("GET", "POST")


def create_app(
    settings: Settings,
    app_dsn: str,
    *,
    issuers: Sequence[IssuerConfig] = (),
    dev_key: RSAKey | None = None,
) -> Starlette:
    """Kizuna's ASGI app, one per server process. With no `issuers` (development only) the
    embedded development IdP signs people in; `dev_key` is its signing key (default: the
    data directory's). The jobs beside the server (the audit sealer, the stats refresh) are
    not the app's: `kizuna serve` runs them once, whatever its workers
    (platform/serving.py `jobs_beside`)."""
    if not issuers and not settings.development:
        raise ValueError("production mode needs at least one configured identity provider")
    session_secret = session.session_secret(settings)
    http = httpx.AsyncClient(timeout=10.0, follow_redirects=False)
    routes: list[BaseRoute] = []
    dev: DevIssuer | None = None
    if not issuers:
        key = dev_key or devidp.load_or_create_key(settings.data_dir)
        provider = _dev_provider(settings, key, session_secret)
        routes.append(Mount("/dev-idp", app=provider))
        dev = DevIssuer(
            issuer=settings.issuer,
            audience=settings.audience,
            jwks=devidp.jwks(key),
            client_id=DEV_WEB_CLIENT,
            client_secret=dev_client_secret(session_secret, DEV_WEB_CLIENT),
            transport=httpx.ASGITransport(app=provider),
        )
    trust = Trust(issuers, http, dev)
    authenticator = Authenticator(
        TokenValidator(trust.lookup),
        trust,
        idle_seconds=settings.session_idle_seconds,
        absolute_seconds=settings.session_absolute_seconds,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        database = await Database.connect(
            app_dsn, size=settings.pool_size, statement_cache_size=settings.statement_cache_size
        )
        directory = MembershipDirectory(database)
        app.state.database = database
        app.state.memberships = directory
        app.state.trust = trust
        await documents.load(database)
        app.state.scopes = RequestScopes(
            database,
            directory,
            authenticator,
            provided={Settings: settings, TrustedIssuers: TrustedIssuers(lambda: trust.issuers)},
        )
        try:
            await trust.start()
            yield
        finally:
            await database.close()
            await http.aclose()

    ide = IDE(npm.graphiql_dir(settings.data_dir)) if settings.development else None
    executor = Executor(build_schema(), introspection=settings.development)
    documents = TrustedDocuments(executor, settings.trusted_documents, _own_documents())
    endpoint = GraphQLEndpoint(
        executor,
        documents,
        RateLimiter(settings.rate_limit, processes=settings.rate_limit_processes),
        ide=ide,
        client_timeout=settings.client_timeout_seconds,
    )

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        """Ready when the database answers and its migrations are at head."""
        database: Database = request.app.state.database
        try:
            revision = await database.schema_revision()
        except DatabaseUnavailable:
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        if not migrate.is_at_head(revision):
            return JSONResponse({"status": "unavailable", "migrations": "behind"}, status_code=503)
        return JSONResponse({"status": "ready", "revision": revision})

    browser = BrowserSignIn(authenticator)
    routes += [
        Route(GRAPHQL_PATH, endpoint.handle, methods=list(_GRAPHQL_METHODS)),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *Pages(endpoint).routes(),
        *SchoolPages(endpoint).routes(),
        *browser.routes(),
        *Exports(endpoint).routes(),
        *CasePages(endpoint).routes(),
        *(ide.routes() if ide is not None else []),
    ]
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=session_secret,
            session_cookie=session.COOKIE if settings.development else session.SECURE_COOKIE,
            max_age=settings.session_idle_seconds,
            same_site="lax",
            https_only=not settings.development,
        )
    ]
    return KizunaApp(
        endpoint,
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={DatabaseUnavailable: _unavailable, Exception: _internal_error},
    )


class KizunaApp(Starlette):
    """Starlette, with the API's calls to `/graphql` taken straight to the endpoint.

    A call without cookies (a bearer token, or nothing) has nothing for the middleware to
    do: the session middleware would find no session and the endpoint answers its own
    errors, never raising. Going round them, and the router, saved 70 to 110 µs of a
    request's server CPU (docs/benchmarks.md). A request with cookies (Kizuna's own
    pages, the IDE), another method or another path takes the whole stack, session and all.
    """

    def __init__(self, endpoint: GraphQLEndpoint, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._graphql = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == GRAPHQL_PATH
            and scope["method"] in _GRAPHQL_METHODS
            and not _has_cookies(scope)
        ):
            scope["app"] = self
            scope["session"] = {}  # what the session middleware gives a request without its cookie
            response = await self._graphql.handle(Request(scope, receive, send))
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _has_cookies(scope: Scope) -> bool:
    return any(name == b"cookie" for name, _ in scope["headers"])


def _own_documents() -> list[str]:
    """The documents the server's own pages and exports run: trusted by construction
    (schema/trusted_documents.py)."""
    return [page_document(name).text for name in page_documents()] + [STATS_DOCUMENT, INDICATORS_DOCUMENT]


# What a page or an endpoint other than /graphql (which answers its own errors) says when
# it fails: a coded JSON error, or for a browser a short page in its language; never a
# traceback or SQL.
_ERROR_PAGE = """<!doctype html><html lang="{language}"><head><meta charset="utf-8"><title>Kizuna</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 2rem auto"><h1>Kizuna 絆</h1>
<p>{message}</p><p><small>{request_id_label}: {request_id}</small></p><p><a href="/">Kizuna</a></p></body></html>"""
_ERROR_HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "vary": "Accept, Accept-Language",
}
_PAGE_MESSAGES = {ErrorCode.UNAVAILABLE: Message.SERVICE_UNAVAILABLE, ErrorCode.INTERNAL: Message.INTERNAL_ERROR}


def _error_response(request: Request, status: int, code: ErrorCode, message: str, request_id: str) -> Response:
    """`message` is for developers (JSON); a person reads the page's own text."""
    headers = _ERROR_HEADERS | {"x-request-id": request_id}
    if "text/html" in request.headers.get("accept", ""):
        language = negotiate(request.headers.get("accept-language"))
        page = _ERROR_PAGE.format(
            language=language,
            message=html.escape(_PAGE_MESSAGES[code].in_(language)),
            request_id_label=html.escape(Message.REQUEST_ID.in_(language)),
            request_id=request_id,
        )
        return HTMLResponse(page, status_code=status, headers=headers)
    return JSONResponse({"errors": [error_entry(code, message, request_id)]}, status_code=status, headers=headers)


async def _unavailable(request: Request, exc: Exception) -> Response:
    """The database is not there: 503, logged in one line (an outage is not a defect)."""
    request_id = new_request_id()
    log.warning("request %s %s: the database is unavailable (%s)", request_id, request.url.path, exc)
    response = _error_response(request, 503, ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE, request_id)
    response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
    return response


async def _internal_error(request: Request, exc: Exception) -> Response:
    """Anything else: 500 with a request id. Starlette raises the exception again after
    this answer so that the server logs its traceback (uvicorn does, once); the note puts
    the request id into that traceback."""
    request_id = new_request_id()
    exc.add_note(f"request id {request_id} ({request.method} {request.url.path})")
    return _error_response(request, 500, ErrorCode.INTERNAL, "Internal error.", request_id)


def _dev_provider(settings: Settings, key: RSAKey, session_secret: str) -> Starlette:
    users = demo_users.demo_users(settings.prefecture)
    names = {g.code: g.name for g in for_prefecture(settings.prefecture)}
    clients = [
        devidp.DevClient(
            client_id=DEV_WEB_CLIENT,
            client_secret=dev_client_secret(session_secret, DEV_WEB_CLIENT),
            redirect_uris=("/auth/callback/dev",),
            post_logout_redirect_uris=("/auth/signed-out/dev",),
            grant_types=("authorization_code",),
            scope="openid profile",
        ),
        *(
            devidp.DevClient(
                client_id=dev_system_client(u.municipality_code),
                client_secret=dev_client_secret(session_secret, dev_system_client(u.municipality_code)),
                redirect_uris=(),
                post_logout_redirect_uris=(),
                grant_types=("client_credentials",),
                scope=f"municipality:{u.municipality_code}",
                subject=u.subject,
            )
            for u in users
            if u.role is AppRole.MUNICIPAL_SYSTEM
        ),
    ]
    return devidp.create_dev_provider(
        key=key,
        issuer=settings.issuer,
        audience=settings.audience,
        users=[
            devidp.DevUser(u.subject, u.display_name, f"{names[u.municipality_code]} · {u.role.label}")
            for u in users
            if u.role is not AppRole.MUNICIPAL_SYSTEM
        ],
        clients=clients,
        token_ttl_seconds=settings.token_ttl_seconds,
    )
