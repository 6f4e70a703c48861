"""The application factory: routes, the database pool and the token validator."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kizuna.auth.tokens import TokenValidator
from kizuna.platform import migrate
from kizuna.platform.database import Database
from kizuna.platform.settings import Settings
from kizuna.schema.execution import Executor
from kizuna.schema.http import GraphQLEndpoint
from kizuna.schema.root import build_schema


def create_app(settings: Settings, app_dsn: str, *, jwks: dict[str, Any]) -> Starlette:
    validator = TokenValidator.from_jwks(jwks, issuer=settings.issuer, audience=settings.audience)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        database = await Database.connect(
            app_dsn, size=settings.pool_size, statement_cache_size=settings.statement_cache_size
        )
        app.state.database = database
        try:
            yield
        finally:
            await database.close()

    endpoint = GraphQLEndpoint(
        Executor(build_schema(), introspection=settings.development),
        validator,
        prefecture_code=settings.prefecture,
        graphiql=settings.development,
    )

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        """Ready when the database answers and its migrations are at head."""
        database: Database = request.app.state.database
        try:
            revision = await database.schema_revision()
        except Exception:  # noqa: BLE001  (any failure to reach the database means not ready)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        if not migrate.is_at_head(revision):
            return JSONResponse({"status": "unavailable", "migrations": "behind"}, status_code=503)
        return JSONResponse({"status": "ready", "revision": revision})

    async def jwks_document(_: Request) -> Response:
        return JSONResponse(jwks)

    routes = [
        Route("/graphql", endpoint.handle, methods=["GET", "POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    if settings.development:
        routes.append(Route("/dev-idp/jwks.json", jwks_document, methods=["GET"]))
    return Starlette(routes=routes, lifespan=lifespan)
