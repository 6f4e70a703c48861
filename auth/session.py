"""The browser session: a signed cookie holding who signed in, with an idle and an
absolute timeout, and the check that a cookie-authenticated request is not cross-site.

Starlette's SessionMiddleware signs the cookie (itsdangerous) and sets it HttpOnly and
SameSite=Lax (Secure outside development). The cookie is re-issued, and its signature's
timestamp renewed, whenever the session is used in a new second, so the middleware's
`max_age` is the idle timeout; the absolute timeout is the sign-in time kept inside the
session.
"""

from __future__ import annotations

import secrets
import time
import uuid
from pathlib import Path
from typing import Any

from starlette.requests import HTTPConnection, Request

from kizuna.auth.identity import Identity
from kizuna.auth.issuers import Assertion
from kizuna.platform import private_file
from kizuna.platform.settings import Settings
from kizuna.platform.vocabulary import AppRole

COOKIE = "kizuna_session"
# Outside development: the __Host- prefix makes browsers refuse the cookie unless it is
# Secure, for this host only and for every path, so a sibling subdomain cannot plant one.
SECURE_COOKIE = "__Host-kizuna_session"
CSRF_HEADER = "kizuna-csrf"
SECRET_FILE = "session-secret"  # noqa: S105  (a file name, not a secret)
MIN_SECRET_LENGTH = 32
_KEY = "signed_in"


def load_or_create_secret(data_dir: Path, configured: str | None, *, development: bool = True) -> str:
    """The cookie-signing secret: KIZUNA_SESSION_SECRET, else (development only) one kept
    in the data directory (0600). Production requires it: every instance must share it."""
    if configured:
        if len(configured) < MIN_SECRET_LENGTH:
            raise ValueError(f"KIZUNA_SESSION_SECRET must be at least {MIN_SECRET_LENGTH} characters")
        return configured
    if not development:
        raise ValueError("KIZUNA_SESSION_SECRET is required outside development (the same on every instance)")
    return private_file.read_or_create(data_dir / SECRET_FILE, lambda: secrets.token_urlsafe(48)).strip()


def session_secret(settings: Settings) -> str:
    """The deployment's cookie-signing secret; ValueError naming the setting when it is
    missing or too short where it is required."""
    return load_or_create_secret(
        settings.data_dir, settings.environ.get("KIZUNA_SESSION_SECRET"), development=settings.development
    )


def sign_in(
    request: Request, identity: Identity, *, issuer_name: str, id_token: str | None, session_epoch: int
) -> None:
    """Start a fresh session for `identity` (whatever the cookie held before is dropped,
    so a session fixed by someone else before sign-in is worth nothing). `session_epoch`
    is the user's sign-out count now: a later sign-out ends this session."""
    request.session.clear()
    now = int(time.time())
    request.session[_KEY] = {
        "iss": identity.issuer,
        "sub": identity.subject,
        "name": identity.display_name,
        "via": issuer_name,
        "roles": None if identity.assertion.roles is None else sorted(r.value for r in identity.assertion.roles),
        "municipality": identity.assertion.municipality_code,
        "organisation": str(identity.assertion.organisation_id) if identity.assertion.organisation_id else None,
        "at": now,
        "seen": now,
        "epoch": session_epoch,
        "id_token": id_token,
    }


def session_identity(connection: HTTPConnection, *, idle_seconds: int, absolute_seconds: int) -> Identity | None:
    """The identity of a live session, None without one; an expired one is cleared."""
    if "session" not in connection.scope:
        return None
    data: dict[str, Any] | None = connection.session.get(_KEY)
    if data is None:
        return None
    now = int(time.time())
    if (
        not isinstance(data.get("epoch"), int)
        or now - data["at"] > absolute_seconds
        or now - data["seen"] > idle_seconds
    ):
        connection.session.clear()
        return None
    if data["seen"] != now:
        # Assigned, not changed in place: the middleware re-issues the cookie (and renews
        # its signature's timestamp, which enforces the idle timeout) only for a session it
        # saw modified, and a change inside the nested dict goes unnoticed.
        connection.session[_KEY] = data | {"seen": now}
    organisation = data.get("organisation")
    return Identity(
        issuer=data["iss"],
        subject=data["sub"],
        assertion=Assertion(
            roles=None if data.get("roles") is None else frozenset(AppRole(r) for r in data["roles"]),
            municipality_code=data.get("municipality"),
            organisation_id=uuid.UUID(organisation) if organisation else None,
        ),
        display_name=data.get("name"),
        session_epoch=data["epoch"],
    )


_SIGNED_OUT = "signed_out"


def session_issuer_name(connection: HTTPConnection) -> str | None:
    data = connection.session.get(_KEY) if "session" in connection.scope else None
    return None if data is None else str(data["via"])


def chosen_municipality(connection: HTTPConnection) -> str | None:
    """The municipality picked with the session's switch, if any."""
    return connection.session.get("municipality") if "session" in connection.scope else None


def choose_municipality(request: Request, code: str) -> None:
    request.session["municipality"] = code


def note_signed_out(request: Request) -> None:
    """Remember, in the now empty session, that a sign-out is complete: `/` says so once."""
    request.session[_SIGNED_OUT] = True


def take_signed_out_note(request: Request) -> bool:
    return bool(request.session.pop(_SIGNED_OUT, False))


def sign_out(request: Request) -> str | None:
    """End the session; returns the ID token to hint the IdP's logout with."""
    data = request.session.get(_KEY) or {}
    request.session.clear()
    id_token: str | None = data.get("id_token")
    return id_token


def is_same_origin(connection: HTTPConnection, *, require_proof: bool) -> bool:
    """Whether a cookie-authenticated request provably comes from Kizuna's own pages.

    A browser sends `Origin` with every POST and `Sec-Fetch-Site` with every request; a
    page on another site can send neither our custom header (that would need a CORS
    preflight we never answer) nor a forged `Origin`. `require_proof` (state-changing
    requests) refuses a request that shows none of the three.
    """
    if connection.headers.get(CSRF_HEADER) == "1":
        return True
    origin = connection.headers.get("origin")
    if origin is not None:
        own = f"{connection.url.scheme}://{connection.url.netloc}"
        return origin == own
    site = connection.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    return not require_proof


def is_navigation(connection: HTTPConnection) -> bool:
    """Whether the browser says that the request opens a page in its own window (a link,
    a typed address, a redirect), not a fetch, a frame or an image another page embeds."""
    return connection.headers.get("sec-fetch-mode") == "navigate" and connection.headers.get("sec-fetch-dest") in (
        "document",
        None,
    )
