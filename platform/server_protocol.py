"""uvicorn's HTTP protocol with a deadline for a request's headers.

uvicorn closes a keep-alive connection that stays idle, but it waits for ever on one that
has opened and sends nothing, or sends its headers a byte at a time (slowloris): enough
of those hold every connection the server can take. This protocol gives each request
`seconds` from its first byte (or from the connection, for the first one) to complete its
headers, then closes the connection. The body has its own deadline in the endpoint that
reads it (schema/http.py).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HeaderDeadlineProtocol(HttpToolsProtocol):
    _deadline: asyncio.TimerHandle | None = None

    def __init__(self, *args: Any, deadline_seconds: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seconds = deadline_seconds

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self._seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def with_header_deadline(seconds: float) -> type[HeaderDeadlineProtocol]:
    """uvicorn's httptools protocol (`uvicorn.Config(..., http=...)`) with a header deadline.

    A partial of a module-level class, not a class made here: `kizuna serve --workers`
    pickles uvicorn's configuration, this included, into each worker it spawns. uvicorn
    only calls what it is given (uvicorn/server.py `create_protocol`), as a partial is.
    """
    return cast("type[HeaderDeadlineProtocol]", functools.partial(HeaderDeadlineProtocol, deadline_seconds=seconds))
