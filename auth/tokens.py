"""Bearer-token validation against every trusted issuer.

The token's unverified `iss` only picks which issuer's keys to try; the signature is then
verified with those keys by joserfc (the JOSE library of authlib's authors, which authlib
builds on), and `iss`, `aud`, `exp`, `nbf` and `sub` are checked against that issuer.
Only asymmetric algorithms are allowed, so `alg: none` and an HMAC key made of a public
key are refused before any claim is read.
"""

from __future__ import annotations

import enum
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.util import json_b64decode, to_bytes

from kizuna.auth.identity import Identity
from kizuna.auth.issuers import ClaimMapping
from kizuna.auth.jwks import KeySource
from kizuna.platform.vocabulary import AppRole

ALLOWED_ALGORITHMS = ("RS256", "PS256", "ES256")
LEEWAY_SECONDS = 30


class TokenProblem(enum.Enum):
    """Why credentials were refused: a short name for the log and a sentence for the client.

    The sentence goes into `WWW-Authenticate`'s `error_description` (RFC 6750), so it is
    ASCII without quotes, and it never quotes the token or its claims' values.
    """

    MISSING = ("missing", "No bearer token or session was sent.")
    SCHEME = ("scheme", "The Authorization header must use the Bearer scheme.")
    FORMAT = ("format", "The token is not a JSON Web Token.")
    ALGORITHM = ("alg", "The token's algorithm is not accepted (RS256, PS256 or ES256 only).")
    ISSUER = ("issuer", "The token's issuer (iss) is not trusted here.")
    KEY = ("keys", "No key of the issuer matches the token's key id (kid).")
    SIGNATURE = ("signature", "The token's signature does not verify.")
    EXPIRED = ("expired", "The token has expired (exp).")
    NOT_YET_VALID = ("not yet valid", "The token is not valid yet (nbf or iat in the future).")
    AUDIENCE = ("audience", "The token is meant for another audience (aud).")
    CLAIMS = ("claims", "The token lacks a required claim (sub, exp) or one is malformed.")
    ID_TOKEN = ("id token", "An ID token is not an access token.")
    SIGNED_OUT = ("signed out", "The browser session has ended: sign in again.")

    def __init__(self, reason: str, description: str) -> None:
        self.reason = reason
        self.description = description

    @property
    def challenge(self) -> str:
        """The `WWW-Authenticate` value (RFC 6750 section 3): a request that sent no bearer
        credentials gets no error code, as the RFC asks; any other gets `invalid_token`
        with the reason."""
        if self in (TokenProblem.MISSING, TokenProblem.SCHEME):
            return 'Bearer realm="kizuna"'
        return f'Bearer realm="kizuna", error="invalid_token", error_description="{self.description}"'


class InvalidToken(Exception):
    """The token is missing, malformed, badly signed or its claims do not hold."""

    def __init__(self, problem: TokenProblem) -> None:
        super().__init__(problem.reason)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An issuer whose tokens Kizuna accepts, and what they may vouch for."""

    name: str
    issuer: str
    audience: str
    keys: KeySource
    roles: frozenset[AppRole]
    claims: ClaimMapping


IssuerLookup = Callable[[str], Awaitable[TrustedIssuer | None]]


class TokenValidator:
    """Validates bearer tokens; a token already validated is remembered until it expires.

    A client sends the same token with every request until it expires, and verifying a
    signature costs more than the rest of the check. The cache keeps the token's expiry
    and checks it on every use; revocation does not depend on it (the database checks
    the membership on every request).
    """

    def __init__(self, lookup: IssuerLookup, *, cache_size: int = 4096) -> None:
        self._lookup = lookup
        self._validated: OrderedDict[str, tuple[Identity, TrustedIssuer, int]] = OrderedDict()
        self._cache_size = cache_size

    async def validate(self, token: str) -> tuple[Identity, TrustedIssuer]:
        remembered = self._validated.get(token)
        if remembered is not None:
            identity, issuer, expires = remembered
            if time.time() < expires + LEEWAY_SECONDS:
                self._validated.move_to_end(token)
                return identity, issuer
            del self._validated[token]
        identity, issuer, expires = await self._verify(token)
        self._validated[token] = (identity, issuer, expires)
        if len(self._validated) > self._cache_size:
            self._validated.popitem(last=False)
        return identity, issuer

    async def _verify(self, token: str) -> tuple[Identity, TrustedIssuer, int]:
        header, unverified = _peek(token)
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise InvalidToken(TokenProblem.ALGORITHM)
        iss = unverified.get("iss")
        issuer = await self._lookup(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise InvalidToken(TokenProblem.ISSUER)
        kid = header.get("kid")
        try:
            keys = await issuer.keys.key_set(kid if isinstance(kid, str) else None)
        except LookupError:
            raise InvalidToken(TokenProblem.KEY) from None
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": issuer.issuer},
            aud={"essential": True, "value": issuer.audience},
            sub={"essential": True},
            exp={"essential": True},
        )
        try:
            decoded = jwt.decode(token, keys, algorithms=list(ALLOWED_ALGORITHMS))
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise InvalidToken(_problem(exc)) from None
        claims = decoded.claims
        # An ID token can carry the API's audience too (Keycloak with client id = audience);
        # it travels in the session and the logout URL, so it must not open the API.
        if "nonce" in claims or claims.get("typ") == "ID" or header.get("typ") in ("id_token", "id+jwt"):
            raise InvalidToken(TokenProblem.ID_TOKEN)
        return identity_from_claims(claims, issuer), issuer, _expiry(claims)


def identity_from_claims(claims: dict[str, Any], issuer: TrustedIssuer) -> Identity:
    """The identity in verified claims; InvalidToken when a claim is malformed."""
    subject = claims.get("sub")
    scope = claims.get("scope", "")
    if not isinstance(subject, str) or not subject or not isinstance(scope, str):
        raise InvalidToken(TokenProblem.CLAIMS)
    try:
        assertion = issuer.claims.assertion(claims)
    except ValueError:
        raise InvalidToken(TokenProblem.CLAIMS) from None
    return Identity(
        issuer=issuer.issuer,
        subject=subject,
        assertion=assertion,
        scopes=frozenset(scope.split()),
        display_name=issuer.claims.display_name_of(claims),
    )


_CLAIM_PROBLEMS = {
    "iss": TokenProblem.ISSUER,
    "aud": TokenProblem.AUDIENCE,
    "nbf": TokenProblem.NOT_YET_VALID,
    "iat": TokenProblem.NOT_YET_VALID,
}


def _problem(error: Exception) -> TokenProblem:
    """What a failed decode or claim check says about the token."""
    if isinstance(error, ExpiredTokenError):
        return TokenProblem.EXPIRED
    if isinstance(error, ClaimError):
        return _CLAIM_PROBLEMS.get(error.claim, TokenProblem.CLAIMS)
    if isinstance(error, BadSignatureError):
        return TokenProblem.SIGNATURE
    if isinstance(error, InvalidKeyIdError):
        return TokenProblem.KEY
    return TokenProblem.FORMAT


def _expiry(claims: dict[str, Any]) -> int:
    expires = claims["exp"]
    if not isinstance(expires, int):
        raise InvalidToken(TokenProblem.CLAIMS)
    return expires


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload, NOT verified: only to choose the issuer and key to verify with."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken(TokenProblem.FORMAT)
    try:
        header, payload = json_b64decode(to_bytes(parts[0])), json_b64decode(to_bytes(parts[1]))
    except (ValueError, TypeError):
        raise InvalidToken(TokenProblem.FORMAT) from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise InvalidToken(TokenProblem.FORMAT)
    return header, payload
