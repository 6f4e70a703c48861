"""Prepare Kizuna as the extra target of ../shared/bench-anchors (see bench/anchors.sh).

Seeds the benchmark tenant if needed and prints shell assignments: the bearer token, the
tenant, the page's request body, and what the anchors check in each answer (the number of
items and `totalCount`). The pages (`--page`):

- `cases`: the anchors' own page, the 50 most recent cases (bench/cases-query.json);
- `referrals`: the 50 most recent referrals, with their organisation and care tasks;
- `node`: one case by its global id (`node(id:)`), the tenant's newest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
from pathlib import Path

from kizuna.bench.target import BenchTarget, prepare_target
from kizuna.platform.database import Database
from kizuna.schema.cases import queries as _registers_the_case_node  # noqa: F401
from kizuna.schema.cases import service as cases
from kizuna.schema.referrals import service as referrals
from kizuna.schema.relay import encode_global_id

HERE = Path(__file__).resolve().parent
PAGE_SIZE = 50
REFERRALS = (
    "{ referrals(first: 50) { totalCount edges { node { id source status urgency receivedAt childDisplayName"
    " referrerOrganization { id name } careTasks } } } }"
)
NODE = (
    "query Case($id: ID!) { node(id: $id) { id ... on Case { stage category openedAt"
    " person { id familyName givenName } leadOrganization { id name } } } }"
)


async def page_body(target: BenchTarget, page: str) -> tuple[dict[str, object], int, int | None]:
    """The request body, the number of items and the total the anchors check."""
    if page == "cases":
        body = json.loads((HERE / "cases-query.json").read_text(encoding="utf-8"))
        return body, min(PAGE_SIZE, target.cases), target.cases
    database = await Database.connect(target.urls.app, size=1)
    try:
        async with database.transaction(target.caller, readonly=True) as tx:
            if page == "referrals":
                total = await referrals.referral_count(tx)
                body = {"query": REFERRALS}
                items, counted = min(PAGE_SIZE, total), total
            else:
                newest = (await cases.case_page(tx, cases.CaseFilter(), first=1, after=None))[0]
                body = {"query": NODE, "variables": {"id": encode_global_id("Case", newest["id"])}}
                items, counted = 0, None
    finally:
        await database.close()
    return body, items, counted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--tenant", default="111007")
    parser.add_argument("--scale", type=float, default=12)
    parser.add_argument("--page", choices=("cases", "referrals", "node"), default="cases")
    args = parser.parse_args()
    target = prepare_target(args.data_dir, tenant=args.tenant, scale=args.scale)
    body, items, total = asyncio.run(page_body(target, args.page))
    path = args.data_dir.resolve() / f"bench-{args.page}.json"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    print(f"KIZUNA_TOKEN={shlex.quote(target.token)}")
    print(f"KIZUNA_TENANT={target.tenant}")
    print(f"KIZUNA_CASES={target.cases}")
    print(f"KIZUNA_BODY={shlex.quote(str(path))}")
    print(f"KIZUNA_ITEMS={items}")
    print(f"KIZUNA_TOTAL={'' if total is None else total}")


if __name__ == "__main__":
    main()
