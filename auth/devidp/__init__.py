"""The embedded development identity provider (development only).

`load_or_create_key` keeps an RSA signing key in the data directory and `jwks` publishes
it. `create_dev_provider` serves an OpenID Connect provider on that key, built on
authlib's server classes: demo users sign in by choosing their name on a page, without a
password, so it must never be reachable in production. `issue_access_token` mints the
same access tokens for `kizuna dev-token`.

Rules the provider adds to authlib's defaults:
- an authorization request needs the `openid` scope, a nonce and PKCE with S256;
- an authorization code is accepted once within 60 seconds: its first presentation
  consumes it whatever the outcome, so a replayed code is always `invalid_grant`;
- redirect URIs match a registered URI exactly; a registered path ("/auth/callback/dev")
  stands for that path on the origin the browser used to reach the provider.

The package's modules, each importing only those listed before it:
- `keys`: the signing key, its JWKS and `issue_access_token`;
- `model`: `DevUser`, `DevClient` and the checks a client's registration must pass;
- `pages`: the sign-in, error and signed-out pages;
- `state`: the configuration and pending authorization codes, which outlive a request;
- `request`: Starlette requests read into authlib's form, within size limits;
- `server`: authlib's authorization server, clients and grants, for one request;
- `provider`: the endpoints and `create_dev_provider`.
"""

from __future__ import annotations

from kizuna.auth.devidp.keys import ALGORITHM, KEY_FILE, issue_access_token, jwks, load_or_create_key
from kizuna.auth.devidp.model import DevClient, DevUser
from kizuna.auth.devidp.provider import create_dev_provider

__all__ = [
    "ALGORITHM",
    "KEY_FILE",
    "DevClient",
    "DevUser",
    "create_dev_provider",
    "issue_access_token",
    "jwks",
    "load_or_create_key",
]
