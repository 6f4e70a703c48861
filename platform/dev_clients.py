"""The development IdP's registered clients: their ids and secrets, apart from the app so
that `kizuna dev-client` prints them without importing it."""

from __future__ import annotations

import hashlib
import hmac


def dev_system_client(municipality_code: str) -> str:
    return f"demo-system-{municipality_code}"


def dev_client_secret(session_secret: str, client_id: str) -> str:
    """A development client's secret, derived from the data directory's session secret so
    `kizuna dev-client` can print it without the server having to store it."""
    return hmac.new(session_secret.encode(), f"dev-client/{client_id}".encode(), hashlib.sha256).hexdigest()
