"""The identity providers Kizuna trusts, from a TOML file and the environment.

Each `[issuers.<name>]` gives the provider's discovery URL, Kizuna's client at it, the
audience its access tokens must carry, the roles it may vouch for, and where its claims
say role, municipality and organisation. Any scalar can come from the environment
instead, as ``KIZUNA_IDP_<NAME>_<KEY>`` (secrets belong there, not in the file; `roles`
comma-separated), and
``KIZUNA_IDPS=staff,school`` declares issuers that live in the environment only.
`deploy/keycloak/kizuna-idp.toml` is a worked example.
"""

from __future__ import annotations

import re
import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kizuna.platform.vocabulary import AppRole

# Here, not in auth/jwks.py, so that reading the configuration (and the caller's identity,
# which names an issuer's assertion) does not import the HTTP client.
MIN_REFETCH_SECONDS = 60
"""An unknown `kid` refetches the JWKS at most this often: a flood of tokens with made-up
kids must not turn Kizuna into a load generator against the IdP."""

_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,31}", re.ASCII)
_MUNICIPALITY = re.compile(r"[0-9]{6}", re.ASCII)
_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_SCALARS = ("discovery_url", "client_id", "client_secret", "audience", "scope", "label")


class IssuerConfigError(ValueError):
    """The issuer configuration is invalid; the message names the issuer and the key."""


@dataclass(frozen=True, slots=True)
class Assertion:
    """What an issuer's claims say about the caller; None where they say nothing."""

    roles: frozenset[AppRole] | None = None
    """None: the issuer's claims are not read for roles. A set, empty included, is what a
    configured role claim names: a token without it names none (it does not name all)."""
    municipality_code: str | None = None
    organisation_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class ClaimMapping:
    role: str | None = None
    municipality: str | None = None
    organisation: str | None = None
    display_name: str | None = "name"
    role_values: Mapping[str, AppRole] = field(default_factory=dict)

    def assertion(self, claims: Mapping[str, Any]) -> Assertion:
        """The claims' assertion; a claim present but malformed raises ValueError."""
        roles: frozenset[AppRole] | None = None
        if self.role is not None:
            raw = _lookup(claims, self.role)
            values = [] if raw is None else [raw] if isinstance(raw, str) else raw
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ValueError("role claim")
            # An IdP holds roles for other applications too: only mapped values count.
            mapped = (self.role_values.get(v) if self.role_values else _app_role(v) for v in values)
            roles = frozenset(r for r in mapped if r is not None)
        municipality = _lookup(claims, self.municipality) if self.municipality else None
        if municipality is not None and not (isinstance(municipality, str) and _MUNICIPALITY.fullmatch(municipality)):
            raise ValueError("municipality claim")
        organisation = _lookup(claims, self.organisation) if self.organisation else None
        if organisation is not None and not isinstance(organisation, str):
            raise ValueError("organisation claim")
        return Assertion(
            roles=roles,
            municipality_code=municipality,
            organisation_id=uuid.UUID(organisation) if organisation is not None else None,
        )

    def display_name_of(self, claims: Mapping[str, Any]) -> str | None:
        value = _lookup(claims, self.display_name) if self.display_name else None
        return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class IssuerConfig:
    name: str
    discovery_url: str
    client_id: str
    client_secret: str | None
    audience: str
    roles: frozenset[AppRole]
    scope: str = "openid profile"
    label: str = ""
    claims: ClaimMapping = field(default_factory=ClaimMapping)
    jwks_refetch_seconds: int = MIN_REFETCH_SECONDS
    """An unknown `kid` refetches the issuer's JWKS at most this often."""


def load_issuers(path: Path | None, environ: Mapping[str, str]) -> tuple[IssuerConfig, ...]:
    """The configured issuers; empty when neither a file nor KIZUNA_IDPS names any."""
    tables: dict[str, dict[str, Any]] = {}
    if path is not None:
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise IssuerConfigError(f"KIZUNA_IDP_FILE={path}: {exc}") from None
        issuers = document.get("issuers", {})
        if not isinstance(issuers, dict):
            raise IssuerConfigError(f"{path}: [issuers] must be a table")
        tables.update({name: dict(table) for name, table in issuers.items()})
    for name in filter(None, (n.strip() for n in environ.get("KIZUNA_IDPS", "").split(","))):
        tables.setdefault(name, {})
    return tuple(_issuer(name, table, environ) for name, table in sorted(tables.items()))


def _issuer(name: str, table: dict[str, Any], environ: Mapping[str, str]) -> IssuerConfig:
    if not _NAME.fullmatch(name):
        raise IssuerConfigError(f"issuer name {name!r}: lowercase letters, digits and '-'")
    prefix = f"KIZUNA_IDP_{name.upper().replace('-', '_')}_"
    for key in _SCALARS:
        if environ.get(prefix + key.upper()):
            table[key] = environ[prefix + key.upper()]
    if environ.get(prefix + "JWKS_REFETCH_SECONDS"):
        table["jwks_refetch_seconds"] = environ[prefix + "JWKS_REFETCH_SECONDS"]
    if environ.get(prefix + "ROLES"):
        table["roles"] = [r.strip() for r in environ[prefix + "ROLES"].split(",") if r.strip()]

    def text(key: str, *, required: bool = True, default: str = "") -> str:
        value = table.get(key, default)
        if not isinstance(value, str) or (required and not value):
            raise IssuerConfigError(f"issuer {name}: `{key}` is required (or {prefix}{key.upper()})")
        return value

    discovery_url = text("discovery_url")
    parts = urlsplit(discovery_url)
    if not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)):
        raise IssuerConfigError(f"issuer {name}: discovery_url must use https (plain http only on loopback)")
    raw_roles = table.get("roles")
    if not isinstance(raw_roles, list) or not raw_roles:
        raise IssuerConfigError(f"issuer {name}: `roles` must list the Kizuna roles it may vouch for")
    claims = table.get("claims", {})
    if not isinstance(claims, dict):
        raise IssuerConfigError(f"issuer {name}: [claims] must be a table")
    role_values = claims.get("role_values", {})
    if not isinstance(role_values, dict):
        raise IssuerConfigError(f"issuer {name}: [claims.role_values] must be a table")
    try:
        roles = frozenset(AppRole(r) for r in raw_roles)
        mapping = ClaimMapping(
            role=claims.get("role"),
            municipality=claims.get("municipality"),
            organisation=claims.get("organisation"),
            display_name=claims.get("display_name", "name"),
            role_values={str(k): AppRole(v) for k, v in role_values.items()},
        )
    except ValueError as exc:
        raise IssuerConfigError(f"issuer {name}: {exc}") from None
    try:
        refetch = int(table.get("jwks_refetch_seconds", MIN_REFETCH_SECONDS))
    except (TypeError, ValueError):
        refetch = -1
    if refetch < 1:
        raise IssuerConfigError(f"issuer {name}: `jwks_refetch_seconds` must be a whole number of seconds, at least 1")
    return IssuerConfig(
        name=name,
        jwks_refetch_seconds=refetch,
        discovery_url=discovery_url,
        client_id=text("client_id"),
        client_secret=text("client_secret", required=False) or None,
        audience=text("audience"),
        roles=roles,
        scope=text("scope", required=False, default="openid profile"),
        label=text("label", required=False, default=name),
        claims=mapping,
    )


def _lookup(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by name, or by a dotted path into nested objects ("realm_access.roles")."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _app_role(value: str) -> AppRole | None:
    try:
        return AppRole(value)
    except ValueError:
        return None
