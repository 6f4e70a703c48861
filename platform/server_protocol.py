"""uvicorn's HTTP protocol with a deadline for a request's headers, writing each
response's head with its body.

uvicorn closes a keep-alive connection that stays idle, but it waits for ever on one that
has opened and sends nothing, or sends its headers a byte at a time (slowloris): enough
of those hold every connection the server can take. This protocol gives each request
`seconds` from its first byte (or from the connection, for the first one) to complete its
headers, then closes the connection. The body has its own deadline in the endpoint that
reads it (schema/http.py).

uvicorn writes a response's head as soon as the application starts the response, and its
body when it arrives, right after for an answer sent whole: two system calls and two TCP
segments where one does (`OneWriteCycle`).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, cast

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle


class _HeldWrites:
    """A transport that keeps what is written until `release`, and passes on the rest."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self._held: list[bytes] = []

    def write(self, data: bytes) -> None:
        self._held.append(data)

    def release(self) -> None:
        """Write what was held, in one write (nothing to a connection already closing)."""
        held, self._held = self._held, []
        if held and not self.transport.is_closing():
            self.transport.write(b"".join(held))

    def close(self) -> None:
        self.release()
        self.transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class OneWriteCycle(RequestResponseCycle):
    """uvicorn's request-response cycle, whose response head waits for the first part of
    the body and goes out with it, in one write. The bytes sent are uvicorn's own; a
    streamed body's later parts are written as they come."""

    async def send(self, message: ASGISendEvent) -> None:
        if message["type"] == "http.response.start" and not self.response_started:
            held = _HeldWrites(self.transport)
            self.transport = held  # type: ignore[assignment]
            try:
                await super().send(message)
            except BaseException:
                self.transport = held.transport
                raise
            return
        if not isinstance(self.transport, _HeldWrites):
            await super().send(message)
            return
        held = self.transport
        try:
            await super().send(message)
        finally:
            self.transport = held.transport
            held.release()


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
        # The cycle uvicorn just made for this request (none if it refused the request).
        if type(self.cycle) is RequestResponseCycle:
            self.cycle.__class__ = OneWriteCycle

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
    """uvicorn's httptools protocol (`uvicorn.Config(..., http=...)`) with a header deadline
    and one write a response.

    A partial of a module-level class, not a class made here: `kizuna serve --workers`
    pickles uvicorn's configuration, this included, into each worker it spawns. uvicorn
    only calls what it is given (uvicorn/server.py `create_protocol`), as a partial is.
    """
    return cast("type[HeaderDeadlineProtocol]", functools.partial(HeaderDeadlineProtocol, deadline_seconds=seconds))
