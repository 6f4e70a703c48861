"""What the development IdP keeps between requests: its configuration and its pending
authorization codes."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

# authlib ships no type information: its classes are Any to mypy, so each subclass below
# needs `type: ignore[misc]`, and its methods carry the types.
from authlib.oidc.core import AuthorizationCodeMixin
from joserfc.jwk import KeySet, RSAKey

from kizuna.auth.devidp.model import DevClient, DevUser


@dataclass(frozen=True, slots=True)
class AuthorizationCode(AuthorizationCodeMixin):  # type: ignore[misc]
    client_id: str
    redirect_uri: str
    scope: str
    subject: str
    nonce: str
    auth_time: int
    code_challenge: str
    code_challenge_method: str
    expires_at: float
    """On the monotonic clock."""

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


class ProviderState:
    """The provider's configuration and its pending authorization codes: everything that
    outlives a request. The provider's endpoints (`provider._Provider`) build on it."""

    def __init__(
        self,
        *,
        key: RSAKey,
        issuer: str,
        audience: str,
        users: Sequence[DevUser],
        clients: Sequence[DevClient],
        token_ttl_seconds: int,
    ) -> None:
        self.key = key
        self.public_keys = KeySet([RSAKey.import_key(key.as_dict(private=False))])
        self.issuer = issuer
        self.audience = audience
        self.token_ttl_seconds = token_ttl_seconds
        self.users = {user.subject: user for user in users}
        self.clients = {client.client_id: client for client in clients}
        self.users_in_order = tuple(users)
        self.scopes_supported = sorted({scope for client in clients for scope in client.scope.split()})
        self.grant_types_supported = sorted({grant for client in clients for grant in client.grant_types})
        self._codes: dict[str, AuthorizationCode] = {}

    def save_code(self, code: str, authorization_code: AuthorizationCode) -> None:
        now = time.monotonic()
        for expired in [name for name, pending in self._codes.items() if pending.expires_at <= now]:
            del self._codes[expired]
        self._codes[code] = authorization_code

    def take_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """The code if it is live and was issued to `client_id`. Taking a code removes it,
        so each code is presented once, whatever the outcome of that presentation."""
        pending = self._codes.pop(code, None)
        if pending is None or pending.client_id != client_id or pending.expires_at <= time.monotonic():
            return None
        return pending

    def nonce_pending(self, client_id: str, nonce: str) -> bool:
        return any(code.client_id == client_id and code.nonce == nonce for code in self._codes.values())
