"""Signing keys of the trusted issuers: fixed (the development IdP) or fetched from a
JWKS URL, cached, and refetched on an unknown `kid` no more often than a set interval."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from kizuna.auth.issuers import MIN_REFETCH_SECONDS

log = logging.getLogger(__name__)

MAX_AGE_SECONDS = 3600
"""Keys are refetched after this long even when every `kid` is known (rotation, removal)."""


class KeySource(Protocol):
    async def key_set(self, kid: str | None) -> KeySet:
        """The keys to verify a token whose header names `kid`."""
        ...


class StaticKeys:
    def __init__(self, jwks: dict[str, Any]) -> None:
        self._keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]

    async def key_set(self, kid: str | None) -> KeySet:
        return self._keys


class RemoteJWKS:
    """A JWKS URL's keys. One fetch runs at a time; a failed fetch keeps the old keys."""

    def __init__(
        self,
        uri: str,
        http: httpx.AsyncClient,
        *,
        min_refetch_seconds: float = MIN_REFETCH_SECONDS,
        max_age_seconds: float = MAX_AGE_SECONDS,
    ) -> None:
        self.uri = uri
        self._http = http
        self._min_refetch = min_refetch_seconds
        self._max_age = max_age_seconds
        self._keys: KeySet | None = None
        self._kids: frozenset[str] = frozenset()
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key_set(self, kid: str | None) -> KeySet:
        if self._stale(kid):
            async with self._lock:
                if self._stale(kid):  # another request may have refetched while this one waited
                    await self._fetch()
        if self._keys is None:
            raise LookupError(f"no keys from {self.uri}")
        return self._keys

    def _stale(self, kid: str | None) -> bool:
        age = time.monotonic() - self._fetched_at
        if self._keys is None:  # never fetched successfully: retry, but not on every request
            return self.fetches == 0 or age > self._min_refetch
        if age > self._max_age:
            return True
        return kid is not None and kid not in self._kids and age > self._min_refetch

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        self.fetches += 1
        try:
            response = await self._http.get(self.uri, headers={"accept": "application/json"})
            response.raise_for_status()
            keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, JoseError) as exc:
            log.warning("could not fetch the JWKS at %s: %s", self.uri, exc)
            return
        self._keys = keys
        self._kids = frozenset(k.kid for k in keys.keys if k.kid)
