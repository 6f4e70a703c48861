"""The benchmark tenant, shared by bench/cases_page.py and bench/anchor_target.py.

Seeds the tenant if needed (demo data at the given scale), settles the audit log that earlier
runs left (`settle_audit_log`), and gives a caseworker's token, caller (as the request
transaction takes it) and the tenant's number of cases.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from kizuna.auth import devidp
from kizuna.platform import audit_seal
from kizuna.platform.caller import Caller
from kizuna.platform.database import Database
from kizuna.platform.provisioning import admin_connection
from kizuna.platform.runtime import DatabaseUrls, prepare
from kizuna.platform.settings import Settings
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.cases import service
from kizuna.tenants import demo


@dataclass(frozen=True)
class BenchTarget:
    settings: Settings
    urls: DatabaseUrls
    tenant: str
    token: str
    caller: Caller
    cases: int


async def settle_audit_log(admin_url: str) -> None:
    """Seal what earlier runs left unsealed and vacuum the log, so that a run does not pay
    for the one before it: the sealer's backlog and the dead rows its links left
    (docs/benchmarks.md, session 27)."""
    async with admin_connection(admin_url) as conn:
        await audit_seal.seal_pending(conn)
        await conn.execute("VACUUM (ANALYZE) kizuna.audit_event")


def prepare_target(data_dir: Path, *, tenant: str, scale: float) -> BenchTarget:
    settings = Settings.from_env(os.environ | {"KIZUNA_DATA_DIR": str(data_dir)})
    urls = prepare(settings, keep_running=True)
    summary = asyncio.run(
        demo.seed_demo(
            urls.admin, urls.app, prefecture=settings.prefecture, scale=scale, municipalities=[tenant, "110001"]
        )
    )
    asyncio.run(settle_audit_log(urls.admin))
    user = next(u for u in summary.users if u.role is AppRole.CASEWORKER and u.municipality_code == tenant)
    key = devidp.load_or_create_key(settings.data_dir)
    token = devidp.issue_access_token(
        key,
        issuer=settings.issuer,
        audience=settings.audience,
        subject=user.subject,
        scope="openid",
        ttl_seconds=4 * 3600,
        client_id="kizuna-bench",
    )
    caller = Caller(
        user_id=user.user_id,
        issuer=settings.issuer,
        subject=user.subject,
        role=user.role,
        municipality_code=tenant,
        organisation_id=user.organisation_id,
    )

    async def count() -> int:
        database = await Database.connect(urls.app, size=1)
        try:
            async with database.transaction(caller, readonly=True) as tx:
                return await service.case_count(tx, service.CaseFilter())
        finally:
            await database.close()

    return BenchTarget(settings, urls, tenant, token, caller, asyncio.run(count()))
