"""Who may use the development IdP: its demo users and registered clients, the checks a
client's registration must pass, and how its path-form URIs resolve."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_GRANT_TYPES = frozenset({"authorization_code", "client_credentials"})
CONFIDENTIAL_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
# A host[:port] that can go into a Content-Security-Policy source list as it is.
_NETLOC = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]+)?|\[[0-9A-Fa-f:.]+\](:[0-9]+)?")


@dataclass(frozen=True, slots=True)
class DevUser:
    subject: str
    """The `sub` of the user's tokens, e.g. "demo:caseworker:111007"."""
    display_name: str
    """The `name` claim, e.g. "さいたま市 ケースワーカー 山田 太郎"."""
    description: str
    """Shown on the sign-in page, e.g. "さいたま市 · ケースワーカー"; the page groups users
    under the text before the first " · " (here the municipality)."""


@dataclass(frozen=True, slots=True)
class DevClient:
    """A registered client. A URI is absolute (http or https), or a path such as
    "/auth/callback/dev" meaning that path on the origin of the request the provider is
    answering. A client without a secret is public: it authenticates with "none"."""

    client_id: str
    client_secret: str | None
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    scope: str
    """The scopes the client may ask for, space separated; asking for none grants them all."""
    subject: str | None = None
    """The `sub` of its client-credentials tokens; None: the client_id."""


def check_client(client: DevClient, audience: str) -> None:
    if not set(client.grant_types) <= _GRANT_TYPES:
        raise ValueError(f"{client.client_id}: grant types must be among {sorted(_GRANT_TYPES)}")
    if "client_credentials" in client.grant_types and client.client_secret is None:
        raise ValueError(f"{client.client_id}: client credentials need a client secret")
    # Access tokens are signed with the same key as ID tokens; were a client named like the
    # audience, an access token would pass as that client's id_token_hint at logout.
    if client.client_id == audience:
        raise ValueError(f"{client.client_id}: a client id must differ from the audience")
    for uri in (*client.redirect_uris, *client.post_logout_redirect_uris):
        parts = urlsplit(uri)
        same_origin_path = uri.startswith("/") and not uri.startswith("//")
        absolute = parts.scheme in ("http", "https") and _NETLOC.fullmatch(parts.netloc) is not None
        if parts.fragment or not (same_origin_path or absolute):
            raise ValueError(f"{client.client_id}: {uri!r} is neither an http(s) URL nor a path")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def absolute_uri(uri: str, origin: str) -> str:
    return origin + uri if uri.startswith("/") else uri
