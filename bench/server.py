"""Waiting for a `kizuna serve` that a benchmark started: one way for every script."""

from __future__ import annotations

import subprocess
import time

import httpx


def wait_until_ready(process: subprocess.Popen[bytes], port: int, *, seconds: float = 120) -> None:
    """Return once the server on `port` answers `/readyz`; kill it and stop the benchmark
    if it does not within `seconds` (a first start seeds its demo data first)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("Kizuna did not start")
