"""The issuers Kizuna trusts at run time: configured IdPs found through OIDC discovery,
or the development IdP when none is configured.

An issuer's discovery document is fetched when the app starts; one that cannot be
reached then is retried when a token names an unknown `iss`, at most once a minute, so
one IdP being down never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App

from kizuna.auth.issuers import ClaimMapping, IssuerConfig
from kizuna.auth.jwks import RemoteJWKS, StaticKeys
from kizuna.auth.tokens import TrustedIssuer
from kizuna.platform.vocabulary import AppRole

log = logging.getLogger(__name__)

DISCOVERY_RETRY_SECONDS = 60.0
WELL_KNOWN = "/.well-known/openid-configuration"


@dataclass(frozen=True, slots=True)
class DevIssuer:
    """The embedded development IdP, reached in-process (no HTTP round trip to itself)."""

    issuer: str
    audience: str
    jwks: dict[str, Any]
    client_id: str
    client_secret: str
    transport: httpx.AsyncBaseTransport
    """Carries the token request to the provider app inside this process."""


class Trust:
    """Trusted issuers by `iss` (bearer tokens) and by name (browser sign-in)."""

    def __init__(self, configs: Sequence[IssuerConfig], http: httpx.AsyncClient, dev: DevIssuer | None = None) -> None:
        self._configs = {c.name: c for c in configs}
        self._http = http
        self._by_iss: dict[str, TrustedIssuer] = {}
        self._by_name: dict[str, TrustedIssuer] = {}
        self._last_attempt = float("-inf")
        # Read by every GraphQL request, so kept rather than rebuilt each time.
        self.issuers: frozenset[str] = frozenset()
        """The `iss` of every issuer discovered so far (memberships may name only these)."""
        self._lock = asyncio.Lock()
        self.oauth = OAuth()
        self.labels: dict[str, str] = {c.name: c.label or c.name for c in configs}
        if dev is not None:
            self._add_dev(dev)

    def _add_dev(self, dev: DevIssuer) -> None:
        trusted = TrustedIssuer(
            name="dev",
            issuer=dev.issuer,
            audience=dev.audience,
            keys=StaticKeys(dev.jwks),
            roles=frozenset(AppRole),
            claims=ClaimMapping(),
        )
        self._add(trusted)
        self.labels["dev"] = "開発用IdP（デモ利用者）"
        # Endpoints are paths on this server for the browser; the token request goes
        # through the in-process transport, so its host is never resolved (a loopback
        # name, which authlib accepts over http).
        self.oauth.register(
            "dev",
            client_id=dev.client_id,
            client_secret=dev.client_secret,
            authorize_url="/dev-idp/authorize",
            access_token_url="http://localhost/token",  # noqa: S106  (a URL, not a secret)
            issuer=dev.issuer,
            jwks=dev.jwks,
            end_session_endpoint="/dev-idp/logout",
            id_token_signing_alg_values_supported=["RS256"],
            client_kwargs={"scope": "openid profile", "code_challenge_method": "S256", "transport": dev.transport},
        )

    async def start(self) -> None:
        """Discover every configured issuer; failures are logged and retried later."""
        await self._discover_missing()

    async def lookup(self, iss: str) -> TrustedIssuer | None:
        trusted = self._by_iss.get(iss)
        if trusted is None and self._retry_due():
            await self._discover_missing()
            trusted = self._by_iss.get(iss)
        return trusted

    def by_name(self, name: str) -> TrustedIssuer | None:
        return self._by_name.get(name)

    def is_configured(self, name: str) -> bool:
        return name in self._configs or name in self._by_name

    async def discovered(self, name: str) -> TrustedIssuer | None:
        """A configured issuer, discovering it again (at most once a minute) if its
        discovery failed so far."""
        if name in self._configs and name not in self._by_name and self._retry_due():
            await self._discover_missing()
        return self._by_name.get(name)

    def _retry_due(self) -> bool:
        """Some issuer is still undiscovered and the last attempt is a minute old."""
        undiscovered = any(name not in self._by_name for name in self._configs)
        return undiscovered and time.monotonic() - self._last_attempt > DISCOVERY_RETRY_SECONDS

    def client(self, name: str) -> StarletteOAuth2App | None:
        """authlib's client for browser sign-in at the named issuer."""
        if name not in self._by_name:
            return None
        client: StarletteOAuth2App = self.oauth.create_client(name)
        return client

    @property
    def names(self) -> list[str]:
        return list(self.labels)

    async def _discover_missing(self) -> None:
        async with self._lock:
            self._last_attempt = time.monotonic()
            missing = [c for name, c in self._configs.items() if name not in self._by_name]
            results = await asyncio.gather(*(self._discover(c) for c in missing), return_exceptions=True)
        for config, result in zip(missing, results, strict=True):
            if isinstance(result, BaseException):
                log.error("issuer %s: discovery at %s failed: %s", config.name, config.discovery_url, result)

    async def _discover(self, config: IssuerConfig) -> None:
        response = await self._http.get(config.discovery_url, headers={"accept": "application/json"})
        response.raise_for_status()
        metadata: dict[str, Any] = response.json()
        issuer = metadata.get("issuer")
        # OIDC Discovery 4.3: the document must name the issuer it was fetched for; an
        # attacker-controlled document cannot claim another issuer's tokens.
        if not isinstance(issuer, str) or issuer.rstrip("/") + WELL_KNOWN != config.discovery_url:
            raise ValueError(f"discovery names issuer {issuer!r}")
        if issuer in self._by_iss:  # two configurations for one IdP: the first one stands
            raise ValueError(f"issuer {issuer!r} is already configured under another name")
        jwks_uri = metadata.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise ValueError("discovery has no jwks_uri")
        trusted = TrustedIssuer(
            name=config.name,
            issuer=issuer,
            audience=config.audience,
            keys=RemoteJWKS(jwks_uri, self._http, min_refetch_seconds=config.jwks_refetch_seconds),
            roles=config.roles,
            claims=config.claims,
        )
        self.oauth.register(
            config.name,
            client_id=config.client_id,
            client_secret=config.client_secret,
            server_metadata_url=config.discovery_url,
            client_kwargs={"scope": config.scope, "code_challenge_method": "S256"},
        )
        self._add(trusted)

    def _add(self, trusted: TrustedIssuer) -> None:
        self._by_iss[trusted.issuer] = self._by_name[trusted.name] = trusted
        self.issuers = frozenset(self._by_iss)
