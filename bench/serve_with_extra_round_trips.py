"""`kizuna serve` with N more round trips to the database in every request that reads, to
measure what one statement's round trip costs a page (issue 18: the figures the request
transaction's round trips leave out of reach). Each is the cheapest statement there is,
`SELECT $1::text` of the request's tenant, sent just before the read audit's INSERT. Only
for bench/anchors.sh (`KIZUNA_BENCH_EXTRA_ROUND_TRIPS=N`); never a way to run Kizuna, and
not part of the package.
"""

from __future__ import annotations

import os

from kizuna.platform import audit, cli
from kizuna.platform.scope import Scope

EXTRA_ROUND_TRIPS = int(os.environ.get("KIZUNA_BENCH_EXTRA_ROUND_TRIPS", "1"))
_write_reads = audit._write_reads  # the hook this measurement needs


async def _write_reads_after_round_trips(scope: Scope) -> None:
    for _ in range(EXTRA_ROUND_TRIPS):
        await scope.tx.execute("SELECT $1::text")
    await _write_reads(scope)


if __name__ == "__main__":
    audit._write_reads = _write_reads_after_round_trips  # record_reads looks it up at call time
    cli.main()
