"""A response's head goes out with its body, in one write (platform/server_protocol.py),
and the bytes on the wire stay uvicorn's: a whole answer, a streamed one, HEAD, keep-alive,
`Expect: 100-continue`, and an application that fails before or after it starts answering.
Over real sockets, against a real uvicorn server with Kizuna's protocol."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

BODY = b"x" * 16_000


async def whole(_request: Request) -> Response:
    return Response(BODY, media_type="text/plain")


async def streamed(_request: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b"one ", b"two ", b"three"):
            yield part
            await asyncio.sleep(0.05)

    return StreamingResponse(parts(), media_type="text/plain")


async def echo(request: Request) -> Response:
    return PlainTextResponse((await request.body()).decode())


async def fails_before(_request: Request) -> Response:
    raise RuntimeError("before the answer")


class PausesAfterStarting:
    """Starts its answer, then takes a while for the body."""

    async def __call__(self, _scope: Any, _receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
        await asyncio.sleep(0.3)
        await send({"type": "http.response.body", "body": b"later"})


class FailsAfterStarting:
    """An ASGI application (not a request handler) that starts its answer, then fails."""

    async def __call__(self, _scope: Any, _receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]})
        raise RuntimeError("after the head")


APP = Starlette(
    routes=[
        Route("/whole", whole, methods=["GET", "HEAD"]),
        Route("/streamed", streamed),
        Route("/echo", echo, methods=["POST"]),
        Route("/fails-before", fails_before),
        Route("/pauses", PausesAfterStarting()),
        Route("/fails-after", FailsAfterStarting()),
    ]
)


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def read_all(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_a_whole_answer_arrives_head_and_body_together(serve: Any) -> None:
    with serve(APP) as running, connect(running.url) as sock:
        sock.sendall(b"GET /whole HTTP/1.1\r\nHost: kizuna\r\nConnection: close\r\n\r\n")
        first = sock.recv(65536)  # one write, one segment on loopback
        head, _, body = first.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"content-length: 16000" in head
        assert body == BODY
        assert read_all(sock) == b""


def test_the_head_waits_for_the_body_and_goes_out_with_it(serve: Any) -> None:
    with serve(APP) as running, connect(running.url) as sock:
        sock.sendall(b"GET /pauses HTTP/1.1\r\nHost: kizuna\r\nConnection: close\r\n\r\n")
        first = sock.recv(65536)  # uvicorn alone sends the head 0.3 s before the body
        assert first.startswith(b"HTTP/1.1 200 OK\r\n")
        assert first.endswith(b"\r\n\r\nlater")


def test_keep_alive_answers_each_request_whole_and_in_order(serve: Any) -> None:
    with serve(APP) as running, connect(running.url) as sock:
        for _ in range(3):
            sock.sendall(b"GET /whole HTTP/1.1\r\nHost: kizuna\r\n\r\n")
            received = b""
            while len(received) < len(BODY) or b"\r\n\r\n" not in received:
                received += sock.recv(65536)
            head, _, body = received.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            assert body == BODY


def test_head_sends_the_head_only(serve: Any) -> None:
    with serve(APP) as running, connect(running.url) as sock:
        sock.sendall(b"HEAD /whole HTTP/1.1\r\nHost: kizuna\r\nConnection: close\r\n\r\n")
        answer = read_all(sock)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"content-length: 16000" in answer
        assert answer.endswith(b"\r\n\r\n")


def test_a_streamed_answer_arrives_in_its_parts(serve: Any) -> None:
    with serve(APP) as running, connect(running.url) as sock:
        sock.sendall(b"GET /streamed HTTP/1.1\r\nHost: kizuna\r\nConnection: close\r\n\r\n")
        answer = read_all(sock)
        head, _, chunked = answer.partition(b"\r\n\r\n")
        assert b"transfer-encoding: chunked" in head
        assert chunked == b"4\r\none \r\n4\r\ntwo \r\n5\r\nthree\r\n0\r\n\r\n"


def test_expect_100_continue_is_answered_before_the_body_is_sent(serve: Any) -> None:
    with serve(APP) as running, connect(running.url) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: kizuna\r\nConnection: close\r\nContent-Length: 5\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"  # not held back
        sock.sendall(b"hello")
        answer = read_all(sock)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert answer.endswith(b"\r\n\r\nhello")


def test_an_application_that_fails_before_answering_gets_a_500(serve: Any) -> None:
    with serve(APP) as running, connect(running.url) as sock:
        sock.sendall(b"GET /fails-before HTTP/1.1\r\nHost: kizuna\r\nConnection: close\r\n\r\n")
        answer = read_all(sock)
        assert answer.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
        assert answer.endswith(b"\r\n\r\nInternal Server Error")


def test_an_application_that_fails_after_the_head_closes_the_connection(serve: Any) -> None:
    with serve(APP) as running, connect(running.url) as sock:
        sock.sendall(b"GET /fails-after HTTP/1.1\r\nHost: kizuna\r\n\r\n")
        answer = read_all(sock)  # the head, as uvicorn wrote it before, then the close
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"content-length: 10" in answer
        assert answer.endswith(b"\r\n\r\n")
