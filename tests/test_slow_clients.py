"""Clients that hold the server or the database: headers or a body sent slowly, and
statements or transactions that run long. Each is cut off, over real sockets."""

from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from kizuna.platform.app import create_app
from kizuna.platform.settings import Settings


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def closed_after(sock: socket.socket) -> float:
    """Seconds until the server closed the connection (reading what it sent first)."""
    started = time.monotonic()
    while sock.recv(4096):
        pass
    return time.monotonic() - started


def test_headers_sent_too_slowly_are_cut_off(serve: Any, settings: Settings, urls: Any, signing_key: Any) -> None:
    app = create_app(settings, urls.app, dev_key=signing_key)
    with serve(app, header_seconds=1.0) as running, connect(running.url) as silent, connect(running.url) as dribbling:
        dribbling.sendall(b"POST /graphql HTTP/1.1\r\nHost: kizuna\r\n")
        time.sleep(0.5)
        dribbling.sendall(b"Content-Type: application/json\r\n")  # still not the end of the headers
        assert closed_after(silent) < 3
        assert closed_after(dribbling) < 3
        with connect(running.url) as prompt:  # a client that sends its headers at once is answered
            prompt.sendall(b"GET /healthz HTTP/1.1\r\nHost: kizuna\r\nConnection: close\r\n\r\n")
            assert prompt.recv(4096).startswith(b"HTTP/1.1 200")


def test_a_body_sent_too_slowly_is_refused(serve: Any, data_dir: Any, urls: Any, signing_key: Any) -> None:
    impatient = Settings.from_env({"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_CLIENT_TIMEOUT": "1"})
    app = create_app(impatient, urls.app, dev_key=signing_key)
    with serve(app) as running, connect(running.url) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: kizuna\r\nContent-Type: application/json\r\n"
            b"Content-Length: 60\r\n\r\n" + b'{"query": "{ viewer'
        )
        started = time.monotonic()
        answer = sock.recv(65536)
        assert time.monotonic() - started < 3
        assert answer.startswith(b"HTTP/1.1 408")
        assert b'"code":"BAD_USER_INPUT"' in answer
        assert b"did not arrive within 1 s" in answer


async def test_the_login_has_a_statement_and_an_idle_transaction_timeout(app_conn: asyncpg.Connection) -> None:
    assert await app_conn.fetchval("SHOW statement_timeout") == "10s"
    assert await app_conn.fetchval("SHOW idle_in_transaction_session_timeout") == "1min"
