"""Benchmark: the prefecture overview from the published figures, and a full refresh with a
writer at work (issue 16, item 9).

Not a test: it prints figures (docs/benchmarks.md, "The prefecture's figures") and writes
JSON to bench/results/. Every tenant of the prefecture is seeded with the demo data at
`--scale` (20: about 15,000 cases across Saitama's 63 municipalities) in a data directory
of its own, then:

- refreshes (`refresh.refresh`, what `kizuna stats refresh` runs), each in a process
  of its own, while this process writes: a municipality's supervisor changes a case and
  commits, one request after the other, as the request path does (`Database.transaction`).
  The first is a full refresh (the figures removed before it: every group of tables goes
  through the disclosure control), the next `--refreshes` find nothing changed (each group
  published again as it was). The writer's latencies during the refreshes are printed
  beside those of the same writer alone: a refresh that made writers wait would show there;
- `prefectureStats` as the prefecture's analyst over HTTP (`kizuna serve`, its own refresh
  switched off), one client, one request after the other: the overview (the latest fiscal
  year, every figure of every municipality and the total) and the trends (`trends`: each
  figure's total row of every fiscal year). The machine may be shared: a reference request
  (`{ viewer { role } }`, the request path alone: token, transaction, audit) is measured
  in the same run, and each figure is also printed as a multiple of it.

    uv run python bench/stats_overview.py [--scale 20] [--requests 300] [--refreshes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime as dt
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from kizuna.auth import devidp
from kizuna.bench.cases_page import free_port, percentile
from kizuna.bench.server import wait_until_ready
from kizuna.platform.caller import Caller
from kizuna.platform.database import Database
from kizuna.platform.provisioning import admin_connection
from kizuna.platform.runtime import prepare
from kizuna.platform.settings import Settings
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.stats import refresh
from kizuna.schema.stats.publish import STATS_TABLES
from kizuna.tenants import demo, demo_users

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WRITER_TENANT = "111007"
TABLES = """tables { figure fiscalYear { year japanese } columns { category label }
  rows { municipalityCode values total withheld { column status } } }
  medians { fiscalYear { year } medians { municipalityCode days status } }"""
OVERVIEW = f"query($years: [Int!]) {{ prefectureStats(fiscalYears: $years) {{ computedAt threshold {TABLES} }} }}"
TRENDS = """{ prefectureStats { computedAt fiscalYears { year western japanese }
  trends { figure label columns { category label }
           years { fiscalYear { year western japanese } values total withheld { column status } } } } }"""
REFERENCE = "{ viewer { role } }"
# One write of the request path: a supervisor changes a case's risk level.
WRITE = "UPDATE kizuna.carer_case SET risk_level = $2::kizuna.risk_level WHERE municipality_code = $1 AND id = $3"
SOME_CASE = "SELECT id FROM kizuna.carer_case WHERE municipality_code = $1 ORDER BY id LIMIT 1"


def timed_refresh(admin_url: str, k: int, days: int, full: bool) -> tuple[float, int, int]:
    """One refresh in this (spawned) process: seconds, figures written, groups protected
    anew. `full`: the figures are removed first (by the superuser), so every group is."""

    async def run() -> tuple[float, int, int]:
        async with admin_connection(admin_url) as conn:
            if full:
                for table in STATS_TABLES:
                    await conn.execute(f"DELETE FROM stats.{table}")
            began = time.perf_counter()
            done = await refresh.refresh(conn, k=k, interval=dt.timedelta(days=days))
            return time.perf_counter() - began, sum(r.cells for r in done), sum(r.protected for r in done)

    return asyncio.run(run())


async def write_until(database: Database, caller: Caller, done: Any) -> list[float]:
    """The supervisor's writes, one after the other, until `done()`; their latencies."""
    async with database.transaction(caller, readonly=True) as tx:
        case_id = await tx.fetchval(SOME_CASE)
    latencies, level = [], 0
    while not done():
        began = time.perf_counter()
        async with database.transaction(caller, readonly=False) as tx:
            await tx.execute(WRITE, ("low", "medium")[level], case_id)
        latencies.append(time.perf_counter() - began)
        level = 1 - level
        await asyncio.sleep(0.005)
    return latencies


def summary(latencies: list[float]) -> dict[str, float]:
    return {
        "writes": len(latencies),
        "p50_ms": percentile(latencies, 50) * 1e3,
        "p99_ms": percentile(latencies, 99) * 1e3,
        "max_ms": max(latencies) * 1e3,
    }


def refreshes_with_a_writer(settings: Settings, admin: str, app: str, caller: Caller, count: int) -> dict[str, Any]:
    pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    async def run() -> dict[str, Any]:
        database = await Database.connect(app, size=2)
        try:
            quiet_until = time.perf_counter() + 5
            alone = await write_until(database, caller, lambda: time.perf_counter() > quiet_until)
            durations, during = [], []
            for number in range(count + 1):
                pending = pool.submit(
                    timed_refresh, admin, settings.stats_k, settings.stats_publication_days, number == 0
                )
                during += await write_until(database, caller, pending.done)
                durations.append(pending.result())
            return {"alone": summary(alone), "during": summary(during), "refreshes": durations}
        finally:
            await database.close()

    with pool:
        return asyncio.run(run())


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "kizuna.platform.cli", "serve", "--port", str(port)],
        env=os.environ
        | {"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_RATE_LIMIT": str(10**12), "KIZUNA_STATS_REFRESH": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_until_ready(process, port, seconds=300)
    return process


def measure(http: httpx.Client, body: dict[str, Any], requests: int) -> dict[str, float]:
    latencies, size = [], 0
    for _ in range(requests + 20):  # the first 20 warm the caches, and are not counted
        began = time.perf_counter()
        response = http.post("/graphql", json=body)
        latencies.append(time.perf_counter() - began)
        answer = response.json()
        assert response.status_code == 200 and "errors" not in answer, answer
        size = len(response.content)
    counted = latencies[20:]
    return {
        "requests": requests,
        "p50_ms": percentile(counted, 50) * 1e3,
        "p99_ms": percentile(counted, 99) * 1e3,
        "bytes": size,
    }


def report(name: str, measured: dict[str, float], reference: dict[str, float]) -> None:
    print(
        f"{name}: p50 {measured['p50_ms']:.1f} ms ({measured['p50_ms'] / reference['p50_ms']:.1f}x the reference),"
        f" p99 {measured['p99_ms']:.1f} ms, {measured['bytes']} bytes, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=20)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--refreshes", type=int, default=2, help="refreshes after the full one")
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".kizuna" / "bench-stats")
    args = parser.parse_args()

    settings = Settings.from_env(os.environ | {"KIZUNA_DATA_DIR": str(args.data_dir)})
    urls = prepare(settings, keep_running=True)
    began = time.perf_counter()
    seeded = asyncio.run(demo.seed_demo(urls.admin, urls.app, prefecture=settings.prefecture, scale=args.scale))
    print(f"seeded {seeded.municipalities} tenants in {time.perf_counter() - began:.1f} s", flush=True)
    writer = demo_users.find(settings.prefecture, AppRole.SUPERVISOR, WRITER_TENANT)
    analyst = demo_users.find(settings.prefecture, AppRole.PREFECTURE_ANALYST, f"{settings.prefecture}0001")
    assert writer is not None and analyst is not None
    caller = Caller(writer.user_id, settings.issuer, writer.subject, writer.role, WRITER_TENANT, writer.organisation_id)

    refreshing = refreshes_with_a_writer(settings, urls.admin, urls.app, caller, args.refreshes)
    for number, (seconds, figures, protected) in enumerate(refreshing["refreshes"]):
        kind = "full" if number == 0 else "nothing changed"
        print(f"refresh ({kind}): {seconds:.2f} s, {figures} figures, {protected} groups protected", flush=True)
    for when in ("alone", "during"):
        w = refreshing[when]
        print(
            f"writer {when:>6}: {w['writes']} writes, p50 {w['p50_ms']:.1f} ms, p99 {w['p99_ms']:.1f} ms,"
            f" max {w['max_ms']:.1f} ms",
            flush=True,
        )

    token = devidp.issue_access_token(
        devidp.load_or_create_key(settings.data_dir),
        issuer=settings.issuer,
        audience=settings.audience,
        subject=analyst.subject,
        scope="openid",
        ttl_seconds=3600,
        client_id="kizuna-bench",
    )
    port = free_port()
    server = start_server(settings.data_dir, port)
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            years = http.post("/graphql", json={"query": "{ prefectureStats { fiscalYears { year } } }"}).json()
            latest = max(y["year"] for y in years["data"]["prefectureStats"]["fiscalYears"])
            reference = measure(http, {"query": REFERENCE}, args.requests)
            print(f"reference {REFERENCE}: p50 {reference['p50_ms']:.1f} ms", flush=True)
            overview = measure(http, {"query": OVERVIEW, "variables": {"years": [latest]}}, args.requests)
            report(f"overview (FY{latest})", overview, reference)
            trends = measure(http, {"query": TRENDS}, args.requests)
            report("trends (every FY)", trends, reference)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=30)

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = RESULTS / f"stats_overview-{stamp}.json"
    result = {
        "scale": args.scale,
        "full_refresh_s": refreshing["refreshes"][0][0],
        "unchanged_refresh_s": [s for s, _, _ in refreshing["refreshes"][1:]],
        "writer": {"alone": refreshing["alone"], "during_refresh": refreshing["during"]},
        "reference": reference,
        "overview": overview,
        "trends": trends,
        "load_average": os.getloadavg(),
    }
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
