"""Benchmark: concurrent audited writes of one tenant, chained at write time (before
migration 0014) and written unsealed for the sealer (now).

Not a test: it prints figures (docs/benchmarks.md, "Audited writes"). A temporary embedded
PostgreSQL holds two databases, each seeded with さいたま市 (111007): one migrated to 0013,
written the old way (the tenant's advisory lock, the last link read, the chained row
inserted: the statements of platform/audit.py before 0014, copied here), and one at head,
written with `audit.record`. Each write is a request transaction as the request path
opens it: `begin_request`, the audit write, one read of the tenant (what a mutation does
after auditing, such as reading its row back), COMMIT. Clients run concurrently, the two
designs interleaved by round; the median round is printed, with the time the sealer then
takes to chain the new events.

    uv run python bench/audit_writes.py [--writes 400] [--clients 1 8 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from kizuna.platform import audit, audit_seal, embedded, migrate
from kizuna.platform.caller import Caller
from kizuna.platform.database import Database
from kizuna.platform.ids import uuid7
from kizuna.platform.provisioning import admin_connection
from kizuna.platform.scope import Scope, open_scope
from kizuna.platform.settings import DEFAULT_DEV_ISSUER
from kizuna.platform.urls import app_url, asyncpg_dsn
from kizuna.platform.vocabulary import AppRole
from kizuna.tenants import demo, demo_users

TENANT = "111007"
READ = "SELECT count(*) FROM kizuna.membership WHERE municipality_code = $1"

# The write of platform/audit.py before 0014.
LOCK_CHAIN = "SELECT pg_advisory_xact_lock(1264192001, $1::text::integer)"
LAST_LINK = "SELECT seq, hash FROM kizuna.audit_event WHERE municipality_code = $1 ORDER BY seq DESC LIMIT 1"
INSERT_CHAINED = """
INSERT INTO kizuna.audit_event
    (municipality_code, id, seq, occurred_at, subject, role, action, entity, entity_id, fields,
     request_id, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6::kizuna.app_role, $7, $8, $9, $10::text[], $11, $12, $13)
"""

Write = Callable[[Scope], Awaitable[None]]


async def write_chained(scope: Scope) -> None:
    tx, caller = scope.tx, scope.caller
    await tx.execute(LOCK_CHAIN)
    last = await tx.fetchrow(LAST_LINK)
    seq = 1 if last is None else last["seq"] + 1
    prev_hash = audit.GENESIS if last is None else bytes(last["hash"])
    event = {
        "municipality_code": caller.municipality_code,
        "seq": seq,
        "occurred_at": dt.datetime.now(dt.UTC),
        "subject": str(caller.user_id),
        "role": caller.role.value,
        "action": "bench.write",
        "entity": "person",
        "entity_id": uuid.uuid4(),
        "fields": ["family_name"],
        "request_id": scope.request_id,
    }
    values = [event[k] for k in ("seq", "occurred_at", "subject", "role", "action", "entity", "entity_id", "fields")]
    await tx.execute(INSERT_CHAINED, uuid7(), *values, scope.request_id, prev_hash, audit.link_hash(prev_hash, event))


async def write_unsealed(scope: Scope) -> None:
    await audit.record(scope, action="bench.write", entity="person", entity_id=uuid.uuid4(), fields=("family_name",))


async def prepare(server: str, name: str, revision: str) -> tuple[str, str]:
    admin = await migrate.ensure_database(server, name)
    await asyncio.to_thread(migrate.upgrade, admin, revision)
    app = asyncpg_dsn(app_url(admin, None))
    await demo.seed_demo(admin, app, prefecture="11", scale=0.2, municipalities=[TENANT])
    return admin, app


async def run_round(app: str, write: Write, *, writes: int, clients: int) -> tuple[float, list[float]]:
    """Seconds for `writes` audited request transactions by `clients` at once, and each one's latency."""
    me = next(u for u in demo_users.demo_users("11", [TENANT]) if u.role is AppRole.CASEWORKER)
    caller = Caller(me.user_id, DEFAULT_DEV_ISSUER, me.subject, AppRole.CASEWORKER, TENANT, me.organisation_id)
    database = await Database.connect(app, size=clients)
    latencies: list[float] = []

    async def client(count: int) -> None:
        for _ in range(count):
            start = time.perf_counter()
            async with open_scope(database, caller, request_id=uuid.uuid4().hex, readonly=False) as scope:
                await write(scope)
                await scope.tx.fetchval(READ)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(client(writes // clients) for _ in range(clients)))
    elapsed = time.perf_counter() - start
    await database.close()
    return elapsed, latencies


async def seal_seconds(admin: str) -> float:
    async with admin_connection(admin) as conn:
        start = time.perf_counter()
        await audit_seal.seal_tenant(conn, TENANT)
        return time.perf_counter() - start


async def main(writes: int, clients: list[int], rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="kizuna-bench-audit-") as tmp:
        server = embedded.start(Path(tmp) / "pgdata", cleanup="delete")
        _, before = await prepare(server, "bench_audit_before", "0013")
        after_admin, after = await prepare(server, "bench_audit_after", "head")
        print(f"{writes} audited writes of one tenant; load average {os.getloadavg()[0]:.1f}")
        print("clients  design                 seconds  writes/s  p50 ms  p99 ms   then sealed in")
        for count in clients:
            figures: dict[str, list[tuple[float, list[float], float]]] = {"before": [], "after": []}
            for _ in range(rounds):
                seconds, latencies = await run_round(before, write_chained, writes=writes, clients=count)
                figures["before"].append((seconds, latencies, 0.0))
                seconds, latencies = await run_round(after, write_unsealed, writes=writes, clients=count)
                figures["after"].append((seconds, latencies, await seal_seconds(after_admin)))
            for design, label in (("before", "chained at write (0013)"), ("after", "unsealed + sealer")):
                seconds, latencies, sealing = sorted(figures[design], key=lambda f: f[0])[rounds // 2]
                cuts = statistics.quantiles(latencies, n=100)
                sealed = f"{sealing * 1000:7.0f} ms" if design == "after" else ""
                print(
                    f"{count:7d}  {label:<22} {seconds:7.2f}  {len(latencies) / seconds:8.0f}"
                    f"  {cuts[49] * 1000:6.1f}  {cuts[98] * 1000:6.1f}  {sealed}"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=400, help="audited writes per round (default: %(default)s)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32], help="concurrent clients")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per design, interleaved (default: %(default)s)")
    args = parser.parse_args()
    asyncio.run(main(args.writes, args.clients, args.rounds))
