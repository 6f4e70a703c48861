"""Benchmark: the whole country on Citus, and a rebalance under load (issue 18, item 7).

Not a test: it prints figures and writes JSON to bench/results/ (docs/benchmarks.md, "The
whole country on Citus", says what they were).

    uv run python bench/national.py [--scale 0.05] [--duration 60] [--clients 8] [--shards 32]

1. A Citus cluster as the suite starts one (`tests/citus/cluster.py`: a coordinator and two
   workers), with `wal_level = logical` for the shard moves and `--shards` shards a table;
   every municipality of Japan (1,741, `tenants/registry.py`) provisioned and seeded with
   the demo data at `--scale` (the fewest cases each, 8, at the default) before
   `deploy/citus/distribute.sql`, as a deployment loads its first data; the same on a plain
   embedded PostgreSQL (the same seed gives the same rows: the harness compares every
   case's and referral's id on both).
2. `kizuna serve` (one worker, the development IdP's key) on each, and a mixed load of a
   caseworker's pages over HTTP: the cases page, a case with its history (`node(id:)`),
   the referrals page, each for a random tenant with a token of that tenant's caseworker,
   `--clients` at a time for `--duration` seconds; then the same on PostgreSQL.
3. A third worker is started and added (`citus_add_node`), the load started again, and
   `citus_rebalance_start()` run under it until `citus_rebalance_status()` says it is done;
   the load goes on for a few seconds after.

Every answer is checked: HTTP 200 without GraphQL errors, every case and referral it holds
one that the harness read from that tenant's rows, every case's municipality the tenant's,
and a case of another tenant (one case request in ten asks for one) answered as null with
`NOT_FOUND`, as a case that does not exist. A failed
or wrong answer is counted and kept (the first five are printed), never retried by the
harness; the server itself runs once more a request whose transaction the database ended
over a conflict, and logs it: each phase's count of those is `run_again`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from kizuna.auth import devidp
from kizuna.bench.cases_page import UNLIMITED, free_port, percentile
from kizuna.bench.server import wait_until_ready
from kizuna.platform import embedded
from kizuna.platform.provisioning import admin_connection
from kizuna.platform.runtime import prepare
from kizuna.platform.settings import Settings
from kizuna.schema import root  # noqa: F401  (its import registers the node types the ids name)
from kizuna.schema.relay import decode_global_id, encode_global_id
from kizuna.tenants import demo
from kizuna.tenants.registry import SUPPORTED_PREFECTURES, for_prefecture
from kizuna.tests.citus.cluster import (
    CITUS_BUILD,
    DEPLOY,
    WORKER_HBA,
    Cluster,
    built_citus,
    prepare_node,
    run_deploy_script,
    start_cluster,
    start_node,
    stop_node,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CASES = (
    "{ cases(first: 20) { totalCount nodes { id municipality { code } stage category openedAt"
    " person { id familyName givenName } } } }"
)
CASE = (
    "query ($id: ID!) { node(id: $id) { ... on Case { id municipality { code } stage riskLevel"
    " person { id familyName givenName } history { kind fromStage toStage occurredAt } } } }"
)
REFERRALS = "{ referrals(first: 20) { totalCount nodes { id status urgency receivedAt childDisplayName } } }"
AFTER_MOVE_SECONDS = 5


@dataclass(frozen=True)
class Tenants:
    """What the harness seeded, read back from the database: ids by tenant."""

    cases: Mapping[str, tuple[uuid.UUID, ...]]
    referrals: Mapping[str, frozenset[uuid.UUID]]

    def tenant_of_case(self) -> dict[uuid.UUID, str]:
        return {case: code for code, ids in self.cases.items() for case in ids}


@dataclass
class Load:
    """The answers of one run of the load."""

    started: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    """Requests not answered 200 without errors (status, or the first error)."""
    leaks: list[str] = field(default_factory=list)
    """Answers holding a row of another tenant than the caller's."""
    by_page: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def summary(self, seconds: float) -> dict[str, Any]:
        return {
            "requests": len(self.latencies),
            "seconds": round(seconds, 1),
            "rps": round(len(self.latencies) / seconds, 1),
            "p50_ms": round(percentile(self.latencies, 50) * 1e3, 1),
            "p99_ms": round(percentile(self.latencies, 99) * 1e3, 1),
            "failures": len(self.failures),
            "leaks": len(self.leaks),
            "by_page": dict(self.by_page),
            "first_failures": self.failures[:5],
            "first_leaks": self.leaks[:5],
        }


def municipalities(prefecture: str) -> list[str]:
    return [g.code for g in for_prefecture(prefecture) if not g.is_prefecture]


async def seed_country(admin: str, app: str, scale: float, prefectures: Sequence[str]) -> dict[str, Any]:
    """Every municipality of every prefecture, a prefecture at a time (its registry, directory
    and demo users first, as `kizuna demo seed` does)."""
    began = time.perf_counter()
    tenants = 0
    for prefecture in prefectures:
        summary = await demo.seed_demo(
            admin, app, prefecture=prefecture, scale=scale, municipalities=municipalities(prefecture)
        )
        tenants += summary.municipalities
    async with admin_connection(admin) as conn:
        cases = await conn.fetchval("SELECT count(*) FROM kizuna.carer_case")
        referrals = await conn.fetchval("SELECT count(*) FROM kizuna.referral")
    return {
        "tenants": tenants,
        "cases": cases,
        "referrals": referrals,
        "seconds": round(time.perf_counter() - began, 1),
    }


async def read_tenants(admin: str) -> Tenants:
    cases: dict[str, list[uuid.UUID]] = defaultdict(list)
    referrals: dict[str, set[uuid.UUID]] = defaultdict(set)
    async with admin_connection(admin) as conn:
        for row in await conn.fetch("SELECT municipality_code, id FROM kizuna.carer_case ORDER BY id"):
            cases[row["municipality_code"]].append(row["id"])
        for row in await conn.fetch("SELECT municipality_code, id FROM kizuna.referral"):
            referrals[row["municipality_code"]].add(row["id"])
    return Tenants(
        {code: tuple(ids) for code, ids in cases.items()}, {code: frozenset(ids) for code, ids in referrals.items()}
    )


def caseworker_tokens(data_dir: Path, settings: Settings, codes: Sequence[str]) -> dict[str, str]:
    key = devidp.load_or_create_key(data_dir)
    return {
        code: devidp.issue_access_token(
            key,
            issuer=settings.issuer,
            audience=settings.audience,
            subject=f"demo:caseworker:{code}",
            scope="openid",
            ttl_seconds=4 * 3600,
            client_id="kizuna-bench",
        )
        for code in codes
    }


def start_server(data_dir: Path, port: int, database_url: str | None, log: Path) -> subprocess.Popen[bytes]:
    """`kizuna serve`, one worker, on `database_url` (None: the data directory's embedded one),
    its output appended to `log` (an internal error's traceback is there, by request id)."""
    env = os.environ | {"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_RATE_LIMIT": str(UNLIMITED)}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    with log.open("ab") as output:  # the server writes to its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "kizuna.platform.cli", "serve", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_until_ready(process, port)
    return process


def stop_server(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=30)


def leak_in(answer: dict[str, Any], page: str, tenant: str, tenants: Tenants, foreign: uuid.UUID | None) -> str | None:
    """Why an answer shows another tenant's row, or None."""
    data = answer["data"]
    if page == "cases":
        own = set(tenants.cases[tenant])
        for node in data["cases"]["nodes"]:
            if node["municipality"]["code"] != tenant or decode_global_id(node["id"])[1] not in own:
                return f"{tenant} cases page holds {node['id']} of {node['municipality']['code']}"
    elif page == "referrals":
        for node in data["referrals"]["nodes"]:
            if decode_global_id(node["id"])[1] not in tenants.referrals.get(tenant, frozenset()):
                return f"{tenant} referrals page holds {node['id']}"
    elif foreign is not None:
        if data["node"] is not None:
            return f"{tenant} read another tenant's case {foreign}"
    elif data["node"] is None or data["node"]["municipality"]["code"] != tenant:
        return f"{tenant} could not read its own case, or read it as another tenant's: {data['node']}"
    return None


async def run_load(
    url: str, tokens: Mapping[str, str], tenants: Tenants, *, clients: int, until: asyncio.Event, seed: int
) -> Load:
    """`clients` loops of random requests until `until` is set."""
    load = Load()
    codes = sorted(tokens)
    owner = tenants.tenant_of_case()
    all_cases = list(owner)
    rng = random.Random(seed)  # noqa: S311 (which tenant and page to request: no secret)
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=clients)) as http:

        async def client() -> None:
            while not until.is_set():
                tenant = rng.choice(codes)
                page = rng.choice(("cases", "case", "referrals"))
                foreign = None
                if page == "cases":
                    body: dict[str, Any] = {"query": CASES}
                elif page == "referrals":
                    body = {"query": REFERRALS}
                else:
                    case = rng.choice(tenants.cases[tenant])
                    if rng.random() < 0.1:
                        while owner[case := rng.choice(all_cases)] == tenant:
                            pass
                        foreign = case
                    body = {"query": CASE, "variables": {"id": encode_global_id("Case", case)}}
                started = time.perf_counter()
                try:
                    response = await http.post(url, json=body, headers={"authorization": f"Bearer {tokens[tenant]}"})
                except httpx.HTTPError as error:
                    load.failures.append(f"{tenant} {page}: {error!r}")
                    continue
                load.started.append(started)
                load.latencies.append(time.perf_counter() - started)
                load.by_page[page if foreign is None else "another_tenants_case"] += 1
                answer = (
                    response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
                )
                # Another tenant's case is answered as no such object: null, with NOT_FOUND.
                expected = [{"NOT_FOUND"}] if foreign is not None else [set()]
                codes_of_errors = {e.get("extensions", {}).get("code") for e in answer.get("errors", [])}
                if response.status_code != 200 or "data" not in answer or [codes_of_errors] != expected:
                    load.failures.append(f"{tenant} {page}: {response.status_code} {response.text[:200]}")
                elif leak := leak_in(answer, page, tenant, tenants, foreign):
                    load.leaks.append(leak)

        await asyncio.gather(*(client() for _ in range(clients)))
    return load


async def timed_load(
    url: str, tokens: Mapping[str, str], tenants: Tenants, *, clients: int, seconds: float, seed: int
) -> tuple[Load, float]:
    until = asyncio.Event()
    began = time.perf_counter()
    running = asyncio.create_task(run_load(url, tokens, tenants, clients=clients, until=until, seed=seed))
    await asyncio.sleep(seconds)
    until.set()
    load = await running
    return load, time.perf_counter() - began


async def placements(admin: str) -> dict[str, int]:
    async with admin_connection(admin) as conn:
        rows = await conn.fetch(
            "SELECT nodeport, count(*) AS shards FROM citus_shards GROUP BY nodeport ORDER BY nodeport"
        )
    return {str(r["nodeport"]): r["shards"] for r in rows}


async def rebalance_under_load(
    cluster: Cluster, url: str, tokens: Mapping[str, str], tenants: Tenants, *, clients: int, seed: int
) -> dict[str, Any]:
    """The load, `citus_rebalance_start()` a few seconds into it, its status polled every
    second until it is done, and the load a few seconds more."""
    admin = cluster.urls.admin
    before = await placements(admin)
    until = asyncio.Event()
    running = asyncio.create_task(run_load(url, tokens, tenants, clients=clients, until=until, seed=seed))
    await asyncio.sleep(AFTER_MOVE_SECONDS)
    async with admin_connection(admin) as conn:
        move_began = time.perf_counter()
        job = await conn.fetchval("SELECT citus_rebalance_start()")
        if job is None:
            raise SystemExit("citus_rebalance_start() found nothing to move")
        states = []
        while True:
            status = await conn.fetchrow(
                "SELECT state::text, details::text FROM citus_rebalance_status() WHERE job_id = $1", job
            )
            states.append(status["state"])
            if status["state"] in ("finished", "failed", "cancelled"):
                break
            await asyncio.sleep(1)
        move_ended = time.perf_counter()
        tasks = await conn.fetch(
            "SELECT status::text, count(*) AS n FROM pg_dist_background_task WHERE job_id = $1 GROUP BY 1", job
        )
        details = json.loads(status["details"]) if status["details"] else None
        # deploy/citus/README.md, step 5: every moved placement carries the coordinator's policies.
        differing = await conn.fetch((DEPLOY / "check-policies.sql").read_text())
    await asyncio.sleep(AFTER_MOVE_SECONDS)
    until.set()
    load = await running
    during = [t for t in load.started if move_began <= t <= move_ended]
    return {
        "job": job,
        "state": states[-1],
        "move_seconds": round(move_ended - move_began, 1),
        "tasks": {r["status"]: r["n"] for r in tasks},
        "details": details,
        "placements_before": before,
        "placements_after": await placements(admin),
        "placements_with_other_policies": len(differing),
        "requests_during_move": len(during),
        "load": load.summary(max(load.started) - min(load.started) if load.started else 1.0),
    }


def print_phase(name: str, summary: Mapping[str, Any]) -> None:
    print(
        f"{name}: {summary['requests']} requests in {summary['seconds']} s, {summary['rps']} req/s,"
        f" p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, failures {summary['failures']},"
        f" other tenants' rows {summary['leaks']}",
        *(f"\n  {line}" for line in summary["first_failures"] + summary["first_leaks"]),
        flush=True,
    )


def fill(cluster: Cluster, settings: Settings, args: argparse.Namespace, result: dict[str, Any]) -> Tenants:
    """Every tenant seeded on the cluster (then distributed) and on the plain PostgreSQL (left
    running); what both hold, once the harness has checked that it is the same."""
    prefectures = args.prefectures.split(",")
    admin, app = cluster.urls.admin, cluster.urls.app
    result["citus_seed"] = asyncio.run(seed_country(admin, app, args.scale, prefectures))
    began = time.perf_counter()
    asyncio.run(run_deploy_script(admin, "distribute.sql"))
    result["citus_seed"]["distribute_seconds"] = round(time.perf_counter() - began, 1)
    print(f"Citus: seeded {result['citus_seed']}", flush=True)
    plain = prepare(settings, keep_running=True)
    result["plain_seed"] = asyncio.run(seed_country(plain.admin, plain.app, args.scale, prefectures))
    print(f"PostgreSQL: seeded {result['plain_seed']}", flush=True)
    on_citus, on_plain = asyncio.run(read_tenants(admin)), asyncio.run(read_tenants(plain.admin))
    if on_citus != on_plain:
        raise SystemExit("the two databases do not hold the same cases and referrals")
    return on_citus


def measure(
    name: str,
    *,
    database_url: str | None,
    data_dir: Path,
    tokens: Mapping[str, str],
    tenants: Tenants,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """A server on one database, 5 s of load discarded, then `--duration` seconds measured."""
    port = free_port()
    server = start_server(data_dir, port, database_url, args.server_log)
    try:
        url = f"http://127.0.0.1:{port}/graphql"
        asyncio.run(timed_load(url, tokens, tenants, clients=args.clients, seconds=5, seed=args.seed))
        load, seconds = asyncio.run(
            timed_load(url, tokens, tenants, clients=args.clients, seconds=args.duration, seed=args.seed)
        )
    finally:
        stop_server(server)
    summary = load.summary(seconds) | {"load_average": os.getloadavg()}
    print_phase(name, summary)
    return summary


def add_worker_and_rebalance(
    cluster: Cluster, *, data_dir: Path, tokens: Mapping[str, str], tenants: Tenants, args: argparse.Namespace
) -> dict[str, Any]:
    """A third worker, started and added, then the rebalance under load; the worker is stopped at the end."""
    worker = start_node(
        cluster.coordinator.pgdata.parent / "worker3",
        cluster.coordinator.socket_dir,
        CITUS_BUILD,
        WORKER_HBA,
        node_settings(args),
    )
    try:
        asyncio.run(prepare_node(worker))

        async def add_worker() -> None:
            async with admin_connection(cluster.urls.admin) as conn:
                await conn.execute("SELECT citus_add_node($1, $2)", str(worker.socket_dir), worker.port)

        asyncio.run(add_worker())
        port = free_port()
        server = start_server(data_dir, port, cluster.urls.admin, args.server_log)
        try:
            url = f"http://127.0.0.1:{port}/graphql"
            move = asyncio.run(
                rebalance_under_load(cluster, url, tokens, tenants, clients=args.clients, seed=args.seed + 1)
            )
        finally:
            stop_server(server)
    finally:
        stop_node(worker)
    print_phase("citus, during and around the rebalance", move["load"])
    print(
        f"rebalance: {move['state']} in {move['move_seconds']} s, {move['tasks']};"
        f" {move['requests_during_move']} requests during the move; shards by node port"
        f" {move['placements_before']} -> {move['placements_after']};"
        f" placements whose policies differ from the coordinator's: {move['placements_with_other_policies']}",
        flush=True,
    )
    return move | {"load_average": os.getloadavg()}


RUN_AGAIN = "ended its transaction over a conflict"
"""What `kizuna serve` logs for a request it runs once more (platform/request_scope.py)."""


def runs_again(log: Path) -> int:
    """How many requests the servers writing `log` ran once more, the database having ended
    their transaction over a conflict (answered all the same, unless a failure says so)."""
    if not log.exists():
        return 0
    with log.open(encoding="utf-8", errors="replace") as lines:
        return sum(RUN_AGAIN in line for line in lines)


def counted_since(before: int, log: Path, phase: str) -> int:
    count = runs_again(log) - before
    print(f"{phase}: {count} requests run once more after the database ended their transaction over a conflict")
    return count


def node_settings(args: argparse.Namespace) -> dict[str, str]:
    """Logical replication, for the shard moves without blocking writes (`shard_transfer_mode` 'auto')."""
    return {"citus.shard_count": str(args.shards), "wal_level": "logical"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.05, help="demo scale (0.05: 8 cases a municipality)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load on each database")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--shards", type=int, default=32, help="shards a table (a deployment's 32; the suite's 4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--prefectures", default=",".join(SUPPORTED_PREFECTURES), help="comma-separated (a quick run); default: all"
    )
    args = parser.parse_args()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    RESULTS.mkdir(parents=True, exist_ok=True)
    args.server_log = RESULTS / f"national-{stamp}-servers.log"

    result: dict[str, Any] = {"arguments": vars(args), "load_average_start": os.getloadavg()}
    citus = built_citus()
    with tempfile.TemporaryDirectory(prefix="kizuna-national-") as temporary:
        base = Path(temporary)
        plain_dir = base / "plain"
        settings = Settings.from_env(os.environ | {"KIZUNA_DATA_DIR": str(plain_dir)})
        with start_cluster(base / "citus", citus, 2, node_settings(args)) as cluster:
            try:
                tenants = fill(cluster, settings, args, result)
                tokens = caseworker_tokens(plain_dir, settings, sorted(tenants.cases))
                result["tenants_loaded"] = len(tokens)
                before = runs_again(args.server_log)
                result["citus"] = measure(
                    "citus",
                    database_url=cluster.urls.admin,
                    data_dir=plain_dir,
                    tokens=tokens,
                    tenants=tenants,
                    args=args,
                )
                result["citus"]["run_again"] = counted_since(before, args.server_log, "citus")
                before = runs_again(args.server_log)
                result["postgresql"] = measure(
                    "postgresql", database_url=None, data_dir=plain_dir, tokens=tokens, tenants=tenants, args=args
                )
                result["postgresql"]["run_again"] = counted_since(before, args.server_log, "postgresql")
            finally:
                embedded.stop(plain_dir / "pgdata")
            before = runs_again(args.server_log)
            result["rebalance"] = add_worker_and_rebalance(
                cluster, data_dir=plain_dir, tokens=tokens, tenants=tenants, args=args
            )
            result["rebalance"]["load"]["run_again"] = counted_since(before, args.server_log, "the rebalance")
            # The coordinator's log goes with the temporary directory: kept beside the figures.
            shutil.copyfile(cluster.coordinator.pgdata / "log", RESULTS / f"national-{stamp}-coordinator.log")

    path = RESULTS / f"national-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
