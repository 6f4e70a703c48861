"""Benchmark: `cases(first: 50)` over HTTP against the raw asyncpg transaction of the same SQL.

Not a test: it prints figures and writes JSON to bench/results/. Both measurements run in
the same process run, interleaved by round, on the same database and tenant, because the
machine is shared and noisy: compare the ratio, not the absolute rates.

    uv run python bench/cases_page.py [--duration 20] [--rounds 3] [--connections 32] [--scale 20]

Kizuna's side is the whole request: HTTP (uvicorn, one worker), token validation, the
membership check in `kizuna.begin_request`, GraphQL execution, the page statement and the
count. The raw side is `Database.transaction` + the same two statements, no HTTP, no
GraphQL, with as many concurrent coroutines as Kizuna has clients. The load generator for
HTTP is wrk (Debian's `wrk`) when installed, else a Python httpx loop (noted in the output).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import uvloop

from kizuna.bench.server import wait_until_ready
from kizuna.bench.target import prepare_target
from kizuna.platform.caller import Caller
from kizuna.platform.database import Database
from kizuna.schema.cases import service

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
QUERY = (
    "{ cases(first: 50) { totalCount edges { node { id municipality { code } stage category openedAt"
    " person { id familyName givenName } leadOrganization { id name } } } } }"
)
BODY = {"query": QUERY}


@dataclass
class Measurement:
    target: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int = 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- raw asyncpg: the same transaction, no HTTP, no GraphQL ---------------------------


async def raw_loop(database: Database, caller: Caller, *, seconds: float, clients: int) -> Measurement:
    page_sql = service.page_sql(51, False, None, False, False)
    count_sql = service.count_sql(False, None, False)
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        while (started := time.perf_counter()) < stop_at:
            async with database.transaction(caller, readonly=True) as tx:
                rows = await tx.fetch(page_sql)
                await tx.fetchval(count_sql)
            assert len(rows) == 51
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - began
    return Measurement(
        "raw asyncpg",
        len(latencies),
        elapsed,
        len(latencies) / elapsed,
        percentile(latencies, 50) * 1e3,
        percentile(latencies, 99) * 1e3,
    )


# --- Kizuna over HTTP -----------------------------------------------------------------


def wrk_measure(url: str, token: str, *, seconds: int, clients: int) -> Measurement:
    script = Path(tempfile.mkdtemp()) / "graphql.lua"
    body_file = script.with_name("body.json")
    body_file.write_text(json.dumps(BODY))
    script.write_text(
        'local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))\n'
        'wrk.method = "POST"; wrk.body = f:read("*a"); f:close()\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        'wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")\n'
        "function done(s, latency, r)\n"
        '  io.write(string.format("RESULT %d %d %d %d %d\\n", s.requests, s.duration,'
        " s.errors.status + s.errors.connect + s.errors.read + s.errors.timeout,"
        " latency:percentile(50), latency:percentile(99)))\n"
        "end\n"
    )
    output = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "-s", str(script), url],
        env=os.environ | {"BODY_FILE": str(body_file), "TOKEN": token},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT"))
    requests, duration_us, errors, p50, p99 = (int(x) for x in line.split()[1:])
    elapsed = duration_us / 1e6
    return Measurement("Kizuna over HTTP (wrk)", requests, elapsed, requests / elapsed, p50 / 1e3, p99 / 1e3, errors)


async def httpx_measure(url: str, token: str, *, seconds: float, clients: int) -> Measurement:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=clients)) as http:

        async def client() -> None:
            nonlocal errors
            while (started := time.perf_counter()) < stop_at:
                response = await http.post(url, json=BODY, headers=headers)
                if response.status_code != 200:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return Measurement(
        "Kizuna over HTTP (httpx)",
        len(latencies),
        elapsed,
        len(latencies) / elapsed,
        percentile(latencies, 50) * 1e3,
        percentile(latencies, 99) * 1e3,
        errors,
    )


UNLIMITED = 10**12


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "kizuna.platform.cli", "serve", "--port", str(port)],
        # The load is one user's: the per-user rate limit (still computed) must not refuse it.
        env=os.environ | {"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_RATE_LIMIT": str(UNLIMITED)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_until_ready(process, port)
    return process


def check_answer(url: str, token: str, expected_total: int) -> dict[str, Any]:
    response = httpx.post(url, json=BODY, headers={"authorization": f"Bearer {token}"}, timeout=30)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    cases = body["data"]["cases"]
    assert len(cases["edges"]) == 50, len(cases["edges"])
    assert cases["totalCount"] == expected_total, (cases["totalCount"], expected_total)
    return {"bytes": len(response.content), "totalCount": cases["totalCount"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--scale", type=float, default=20)
    parser.add_argument("--tenant", default="111007")
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".kizuna" / "bench")
    args = parser.parse_args()

    target = prepare_target(args.data_dir, tenant=args.tenant, scale=args.scale)
    settings, urls, token, caller, total = target.settings, target.urls, target.token, target.caller, target.cases
    port = free_port()
    url = f"http://127.0.0.1:{port}/graphql"
    server = start_server(settings.data_dir, port)
    use_wrk = shutil.which("wrk") is not None
    rounds: list[dict[str, Any]] = []
    try:
        answer = check_answer(url, token, total)
        print(
            f"tenant {args.tenant}: {total} cases; response {answer['bytes']} bytes; load generator "
            f"{'wrk' if use_wrk else 'httpx (install Debian wrk for lower client overhead)'}",
            flush=True,
        )
        for number in range(1, args.rounds + 1):
            # warm-up, discarded
            asyncio.run(httpx_measure(url, token, seconds=3, clients=args.connections))
            kizuna = (
                wrk_measure(url, token, seconds=args.duration, clients=args.connections)
                if use_wrk
                else asyncio.run(httpx_measure(url, token, seconds=args.duration, clients=args.connections))
            )

            async def raw() -> Measurement:
                database = await Database.connect(urls.app, size=args.connections)
                try:
                    await raw_loop(database, caller, seconds=3, clients=args.connections)  # warm-up
                    return await raw_loop(database, caller, seconds=args.duration, clients=args.connections)
                finally:
                    await database.close()

            raw_result = uvloop.run(raw())  # the server runs on uvloop too
            rounds.append({"kizuna": asdict(kizuna), "raw": asdict(raw_result), "ratio": kizuna.rps / raw_result.rps})
            print(
                f"round {number}: Kizuna {kizuna.rps:7.1f} req/s"
                f" p50 {kizuna.p50_ms:6.1f} ms p99 {kizuna.p99_ms:6.1f} ms"
                f" | raw {raw_result.rps:7.1f} tx/s p50 {raw_result.p50_ms:6.1f} ms p99 {raw_result.p99_ms:6.1f} ms"
                f" | ratio {kizuna.rps / raw_result.rps:.3f}",
                flush=True,
            )
        check_answer(url, token, total)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=30)

    median = statistics.median(r["ratio"] for r in rounds)
    kizuna_rps = statistics.median(r["kizuna"]["rps"] for r in rounds)
    raw_rps = statistics.median(r["raw"]["rps"] for r in rounds)
    print(f"median: Kizuna {kizuna_rps:.1f} req/s, raw asyncpg {raw_rps:.1f} tx/s, ratio {median:.3f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    result = {
        "tenant": args.tenant,
        "cases": total,
        "scale": args.scale,
        "connections": args.connections,
        "duration_s": args.duration,
        "load_generator": "wrk" if use_wrk else "httpx",
        "rounds": rounds,
        "median": {"kizuna_rps": kizuna_rps, "raw_rps": raw_rps, "ratio": median},
        "load_average": os.getloadavg(),
    }
    path = RESULTS / f"cases_page-{stamp}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
