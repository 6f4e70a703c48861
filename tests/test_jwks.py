"""JWKS caching against a real HTTP server: an unknown `kid` refetches once, not more
often than the interval, and a failed fetch keeps the keys already known."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kizuna.auth.jwks import RemoteJWKS


@dataclass
class KeyServer:
    """What the IdP publishes; tests rotate keys and break the endpoint."""

    keys: list[RSAKey] = field(default_factory=list)
    failing: bool = False
    requests: int = 0

    async def jwks(self, _: Request) -> Response:
        self.requests += 1
        if self.failing:
            return JSONResponse({"error": "down"}, status_code=503)
        return JSONResponse({"keys": [k.as_dict(private=False) for k in self.keys]})


@pytest.fixture(scope="module")
def published(serve: Any) -> Iterator[tuple[KeyServer, str]]:
    keys = KeyServer()
    app = Starlette(routes=[Route("/jwks", keys.jwks)])
    with serve(app) as running:
        yield keys, f"{running.url}/jwks"


def key() -> RSAKey:
    return RSAKey.generate_key(2048, auto_kid=True)


async def test_unknown_kid_refetches_at_most_once_per_interval(published: tuple[KeyServer, str]) -> None:
    server, uri = published
    first, rotated = key(), key()
    server.keys, server.failing, server.requests = [first], False, 0
    async with httpx.AsyncClient() as http:
        jwks = RemoteJWKS(uri, http, min_refetch_seconds=3600)
        assert (await jwks.key_set(first.kid)).get_by_kid(first.kid)
        await jwks.key_set(first.kid)
        assert server.requests == 1
        server.keys = [first, rotated]
        # A kid minted after the first fetch, within the interval: no new request.
        await jwks.key_set(rotated.kid)
        await jwks.key_set("made-up-kid")
        assert server.requests == 1


async def test_unknown_kid_after_the_interval_picks_up_a_rotated_key(published: tuple[KeyServer, str]) -> None:
    server, uri = published
    first, rotated = key(), key()
    server.keys, server.failing, server.requests = [first], False, 0
    async with httpx.AsyncClient() as http:
        jwks = RemoteJWKS(uri, http, min_refetch_seconds=0)
        await jwks.key_set(first.kid)
        server.keys = [rotated]
        assert (await jwks.key_set(rotated.kid)).get_by_kid(rotated.kid)
        assert server.requests == 2


async def test_a_failed_fetch_keeps_the_known_keys(published: tuple[KeyServer, str]) -> None:
    server, uri = published
    first = key()
    server.keys, server.failing, server.requests = [first], False, 0
    async with httpx.AsyncClient() as http:
        jwks = RemoteJWKS(uri, http, min_refetch_seconds=0, max_age_seconds=0)
        await jwks.key_set(first.kid)
        server.failing = True
        assert (await jwks.key_set(first.kid)).get_by_kid(first.kid)


async def test_no_keys_at_all_is_an_error(published: tuple[KeyServer, str]) -> None:
    server, uri = published
    server.failing, server.requests = True, 0
    async with httpx.AsyncClient() as http:
        jwks = RemoteJWKS(uri, http, min_refetch_seconds=3600)
        with pytest.raises(LookupError):
            await jwks.key_set("any")
        with pytest.raises(LookupError):
            await jwks.key_set("any")
        assert server.requests == 1
