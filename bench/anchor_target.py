"""Prepare Kizuna as the extra target of ../shared/bench-anchors (see bench/anchors.sh).

Seeds the benchmark tenant if needed and prints shell assignments: the bearer token, the
tenant and its number of cases (the anchors check `totalCount` against it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
from pathlib import Path

from kizuna.auth import devidp
from kizuna.auth.principal import Principal
from kizuna.platform.database import Database, RequestContext
from kizuna.platform.runtime import prepare
from kizuna.platform.settings import Settings
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.cases import service
from kizuna.tenants import demo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--tenant", default="111007")
    parser.add_argument("--scale", type=float, default=12)
    args = parser.parse_args()
    settings = Settings.from_env(os.environ | {"KIZUNA_DATA_DIR": str(args.data_dir)})
    urls = prepare(settings, keep_running=True)
    summary = asyncio.run(
        demo.seed_demo(
            urls.admin,
            urls.app,
            prefecture=settings.prefecture,
            scale=args.scale,
            municipalities=[args.tenant, "110001"],
        )
    )
    user = next(u for u in summary.users if u.role is AppRole.CASEWORKER and u.municipality_code == args.tenant)
    principal = Principal(
        subject=user.subject, role=user.role, municipality_code=args.tenant, organisation_id=user.organisation_id
    )
    key = devidp.load_or_create_key(settings.data_dir)
    token = devidp.issue_token(key, principal, issuer=settings.issuer, audience=settings.audience, ttl_seconds=4 * 3600)
    context = RequestContext(
        role=user.role,
        municipality_code=args.tenant,
        subject=user.subject,
        organisation_id=user.organisation_id,
        request_id="bench",
    )

    async def count() -> int:
        database = await Database.connect(urls.app, size=1)
        try:
            async with database.transaction(context, readonly=True) as tx:
                return await service.case_count(tx, service.CaseFilter())
        finally:
            await database.close()

    print(f"KIZUNA_TOKEN={shlex.quote(token)}")
    print(f"KIZUNA_TENANT={args.tenant}")
    print(f"KIZUNA_CASES={asyncio.run(count())}")


if __name__ == "__main__":
    main()
