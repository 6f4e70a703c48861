"""`kizuna serve` with the read audit switched off, to measure what it costs (issue 15, item
9: the page's figures before and after the read audit). Only for bench/anchors.sh
(`KIZUNA_BENCH_READ_AUDIT=0`, one worker: the switch lives in this process); never a way to
run Kizuna, and not part of the package.
"""

from __future__ import annotations

from typing import Any

from kizuna.platform import audit, cli


def _no_read_audit(*_args: Any, **_kwargs: Any) -> None:
    return None


if __name__ == "__main__":
    audit.record_reads = _no_read_audit  # every caller reads it through the module
    cli.main()
