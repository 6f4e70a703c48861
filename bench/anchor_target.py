"""Prepare Kizuna as the extra target of ../shared/bench-anchors (see bench/anchors.sh).

Seeds the benchmark tenant if needed and prints shell assignments: the bearer token, the
tenant and its number of cases (the anchors check `totalCount` against it).
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from kizuna.bench.target import prepare_target


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--tenant", default="111007")
    parser.add_argument("--scale", type=float, default=12)
    args = parser.parse_args()
    target = prepare_target(args.data_dir, tenant=args.tenant, scale=args.scale)
    print(f"KIZUNA_TOKEN={shlex.quote(target.token)}")
    print(f"KIZUNA_TENANT={target.tenant}")
    print(f"KIZUNA_CASES={target.cases}")


if __name__ == "__main__":
    main()
