"""Bearer-token validation: signature against the issuer's JWKS, then the claims.

joserfc (the JOSE library of authlib's authors, which authlib itself now builds on)
does the cryptography. Only asymmetric algorithms are allowed, so a token signed with
`none` or with an HMAC key made of a public key is refused before its claims are read.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import OrderedDict
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from kizuna.auth.principal import MUNICIPALITY_CLAIM, ORGANISATION_CLAIM, ROLE_CLAIM, Principal
from kizuna.platform.vocabulary import AppRole

ALLOWED_ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 30
_MUNICIPALITY = re.compile(r"[0-9]{6}", re.ASCII)


class InvalidToken(Exception):
    """The token is missing, malformed, badly signed or its claims do not hold."""


class TokenValidator:
    """Validates bearer tokens; a token already validated is remembered until it expires.

    A client sends the same token with every request until it expires, and verifying an
    RS256 signature costs more than the rest of the check. The cache keeps the token's
    expiry and checks it again on every use; revocation does not depend on it (the
    database checks the membership on every request).
    """

    def __init__(self, keys: KeySet, *, issuer: str, audience: str, cache_size: int = 4096) -> None:
        self._keys = keys
        self._validated: OrderedDict[str, tuple[Principal, int]] = OrderedDict()
        self._cache_size = cache_size
        self._claims = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            sub={"essential": True},
            exp={"essential": True},
        )

    @classmethod
    def from_jwks(cls, jwks: dict[str, Any], *, issuer: str, audience: str) -> TokenValidator:
        return cls(KeySet.import_key_set(jwks), issuer=issuer, audience=audience)  # type: ignore[arg-type]

    def validate(self, token: str) -> Principal:
        remembered = self._validated.get(token)
        if remembered is not None:
            principal, expires = remembered
            if time.time() < expires + LEEWAY_SECONDS:
                self._validated.move_to_end(token)
                return principal
            del self._validated[token]
        principal, expires = self._verify(token)
        self._validated[token] = (principal, expires)
        if len(self._validated) > self._cache_size:
            self._validated.popitem(last=False)
        return principal

    def _verify(self, token: str) -> tuple[Principal, int]:
        try:
            decoded = jwt.decode(token, self._keys, algorithms=list(ALLOWED_ALGORITHMS))
            self._claims.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise InvalidToken(type(exc).__name__) from None
        expires = decoded.claims["exp"]
        if not isinstance(expires, int):
            raise InvalidToken("exp")
        return principal_from_claims(decoded.claims), expires


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        role = AppRole(claims[ROLE_CLAIM])
        municipality = claims[MUNICIPALITY_CLAIM]
        organisation = uuid.UUID(claims[ORGANISATION_CLAIM])
    except (KeyError, ValueError, TypeError, AttributeError):
        raise InvalidToken("claims") from None
    subject = claims["sub"]
    if not isinstance(municipality, str) or not _MUNICIPALITY.fullmatch(municipality):
        raise InvalidToken("claims")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("claims")
    return Principal(subject=subject, role=role, municipality_code=municipality, organisation_id=organisation)
