"""The development IdP's signing key, its JWKS and the access tokens it signs."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

from kizuna.platform import private_file

KEY_FILE = "dev-idp-key.json"
ALGORITHM = "RS256"


def load_or_create_key(data_dir: Path) -> RSAKey:
    """The signing key, created on first use and kept private to this user (0600)."""

    def create() -> str:
        key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ALGORITHM}, auto_kid=True)
        return json.dumps(key.as_dict(private=True))

    return RSAKey.import_key(json.loads(private_file.read_or_create(data_dir / KEY_FILE, create)))


def jwks(key: RSAKey) -> dict[str, Any]:
    """The public JWKS document."""
    return {"keys": [key.as_dict(private=False)]}


def issue_access_token(
    key: RSAKey, *, issuer: str, audience: str, subject: str, scope: str, ttl_seconds: int, client_id: str
) -> str:
    """A JWT access token (RFC 9068, `typ` "at+jwt"), as the token endpoint issues them."""
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "client_id": client_id,
        "scope": scope,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        "jti": str(uuid.uuid4()),
    }
    header = {"alg": ALGORITHM, "kid": key.kid, "typ": "at+jwt"}
    token: str = jwt.encode(header, claims, key)
    return token
