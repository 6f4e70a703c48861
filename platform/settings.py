"""Settings, read once from the environment (README lists every variable)."""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from kizuna.tenants.registry import SUPPORTED_PREFECTURES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The development IdP's `iss`: a name rather than a URL, so that it is the same whatever
# address the server is reached on (the demo users keep their memberships) and no client
# expects to find the IdP at it. Migration 0007 moved the users of the old default,
# `http://127.0.0.1:8000/dev-idp`, to it.
DEFAULT_DEV_ISSUER = "urn:kizuna:dev-idp"
E = TypeVar("E", bound=enum.StrEnum)


class TrustedDocuments(enum.StrEnum):
    """Which GraphQL documents `/graphql` runs (`KIZUNA_TRUSTED_DOCUMENTS`)."""

    ALLOW = "allow"
    """Registered documents by their hash, and any other document sent as text."""
    ONLY = "only"
    """Registered documents only (by hash, or as their exact text), and the server's own pages'."""


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None
    """Administrative URL (migrations, provisioning). None: the embedded server."""
    app_database_password: str | None
    """Password of the kizuna_app login role on an external server."""
    data_dir: Path
    prefecture: str
    development: bool
    issuer: str
    audience: str
    token_ttl_seconds: int
    statement_cache_size: int
    pool_size: int
    idp_file: Path | None
    """TOML file of the trusted identity providers; None (and no KIZUNA_IDPS): the development IdP."""
    session_idle_seconds: int
    session_absolute_seconds: int
    rate_limit: int
    """Cost points a minute per user across the deployment (platform/ratelimit.py)."""
    rate_limit_processes: int
    """How many server processes share the deployment's rate limit."""
    client_timeout_seconds: int
    """Seconds a client has to send a request's headers, and then its body."""
    stats_k: int
    """Disclosure control's threshold: counts from 1 to k-1 are suppressed (issue 16)."""
    stats_refresh_seconds: int
    """Seconds between `kizuna serve`'s refreshes of the prefecture's figures; 0: never."""
    stats_publication_days: int
    """Days between two editions of the prefecture's counts: the refreshes in between publish the one in force."""
    trusted_documents: TrustedDocuments
    """Whether `/graphql` runs any document or registered documents only (issue 18, item 5)."""
    environ: dict[str, str]
    """The environment the settings were read from (issuers read their own variables)."""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        prefecture = env.get("KIZUNA_PREFECTURE", "11")
        if prefecture not in SUPPORTED_PREFECTURES:
            raise SettingsError(f"KIZUNA_PREFECTURE={prefecture!r}: supported are {', '.join(SUPPORTED_PREFECTURES)}")
        development = env.get("KIZUNA_ENV", "development") == "development"
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            app_database_password=env.get("KIZUNA_APP_DB_PASSWORD") or None,
            data_dir=Path(env.get("KIZUNA_DATA_DIR", str(PROJECT_ROOT / ".kizuna"))).resolve(),
            prefecture=prefecture,
            development=development,
            issuer=env.get("KIZUNA_ISSUER", DEFAULT_DEV_ISSUER),
            audience=env.get("KIZUNA_AUDIENCE", "kizuna"),
            token_ttl_seconds=_int(env, "KIZUNA_TOKEN_TTL", 3600),
            statement_cache_size=_int(env, "KIZUNA_STATEMENT_CACHE_SIZE", 100),
            pool_size=_int(env, "KIZUNA_POOL_SIZE", default_pool_size()),
            idp_file=Path(env["KIZUNA_IDP_FILE"]) if env.get("KIZUNA_IDP_FILE") else None,
            session_idle_seconds=_int(env, "KIZUNA_SESSION_IDLE", 30 * 60),
            session_absolute_seconds=_int(env, "KIZUNA_SESSION_MAX", 8 * 3600),
            rate_limit=_positive(env, "KIZUNA_RATE_LIMIT", 100_000),
            rate_limit_processes=_positive(env, "KIZUNA_RATE_LIMIT_PROCESSES", 1),
            client_timeout_seconds=_positive(env, "KIZUNA_CLIENT_TIMEOUT", 10),
            stats_k=_at_least(env, "KIZUNA_STATS_K", 5, 2),
            stats_refresh_seconds=_int(env, "KIZUNA_STATS_REFRESH", 900),
            stats_publication_days=_positive(env, "KIZUNA_STATS_PUBLICATION_DAYS", 30),
            trusted_documents=_choice(env, "KIZUNA_TRUSTED_DOCUMENTS", TrustedDocuments, TrustedDocuments.ALLOW),
            environ=env,
        )


def default_pool_size() -> int:
    """Four connections a core, at least 8. Every request commits a write (its read audit)
    and holds its connection while the database flushes it, which takes no CPU: with two
    connections a core the cores waited (the cases page +10% with 8 instead of 4 on two
    cores; 16 measured the same as 8, 32 less: docs/benchmarks.md)."""
    return max(8, 4 * (os.cpu_count() or 1))


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None
    if value < 0:
        raise SettingsError(f"{name}={raw!r} must not be negative")
    return value


def _choice(env: dict[str, str], name: str, choices: type[E], default: E) -> E:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return choices(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: one of {', '.join(choices)}") from None


def _positive(env: dict[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value == 0:
        raise SettingsError(f"{name} must be positive")
    return value


def _at_least(env: dict[str, str], name: str, default: int, floor: int) -> int:
    value = _int(env, name, default)
    if value < floor:
        raise SettingsError(f"{name} must be {floor} or more")
    return value
