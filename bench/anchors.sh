#!/usr/bin/env bash
# Kizuna measured in the same run as the performance anchors (../shared/bench-anchors):
# the database's limit, raw asyncpg, PostGraphile v4 and v5, a minimal strawberry server.
#   bench/anchors.sh                 # after ../shared/bench-anchors/setup.sh, ~10 min
# Knobs: the anchors' own (ROUNDS, DURATION, TARGETS …), plus KIZUNA_BENCH_DIR,
# KIZUNA_BENCH_TENANT (111007), KIZUNA_BENCH_SCALE (12: about 1,600 cases, near the
# anchors' 1,500 per tenant), KIZUNA_BENCH_WORKERS (1; `kizuna serve --workers`) and
# KIZUNA_BENCH_PAGE (cases, referrals or node: bench/anchor_target.py; KIZUNA_BENCH_READ_AUDIT=0
# for the page without its read audit; KIZUNA_BENCH_EXTRA_ROUND_TRIPS=N for the page with N
# more round trips to the database, bench/serve_with_extra_round_trips.py); the anchors serve
# the cases page whatever Kizuna's is. Results land in the anchors' RESULTS_DIR (default
# here: bench/results/anchors).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
anchors="${ANCHORS_DIR:-$repo/../shared/bench-anchors}"
data_dir="${KIZUNA_BENCH_DIR:-$repo/.kizuna/bench-anchors}"
port="${KIZUNA_BENCH_PORT:-5410}"
cd "$repo"
eval "$(uv run python bench/anchor_target.py --data-dir "$data_dir" \
  --tenant "${KIZUNA_BENCH_TENANT:-111007}" --scale "${KIZUNA_BENCH_SCALE:-12}" \
  --page "${KIZUNA_BENCH_PAGE:-cases}")"
echo "Kizuna: tenant $KIZUNA_TENANT with $KIZUNA_CASES cases, page ${KIZUNA_BENCH_PAGE:-cases}"
export EXTRA_NAME="Kizuna ${KIZUNA_BENCH_PAGE:-cases} (tenant $KIZUNA_TENANT, $KIZUNA_CASES cases)"
export EXTRA_URL="http://127.0.0.1:$port/graphql"
export EXTRA_BODY="$KIZUNA_BODY"
export EXTRA_HEADERS="Authorization: Bearer $KIZUNA_TOKEN"
export EXTRA_CHECK_IDS=0
export EXTRA_EDGES="$KIZUNA_ITEMS"
export EXTRA_TOTAL="$KIZUNA_TOTAL"
# The load is one user's: the per-user rate limit (still computed) must not refuse it.
# KIZUNA_BENCH_READ_AUDIT=0 measures the page without its read audit (one worker only).
serve="-m kizuna.platform.cli"
if [ "${KIZUNA_BENCH_READ_AUDIT:-1}" = 0 ]; then
  serve="'$repo/bench/serve_without_read_audit.py'"
  EXTRA_NAME="$EXTRA_NAME, read audit off"
elif [ "${KIZUNA_BENCH_EXTRA_ROUND_TRIPS:-0}" != 0 ]; then
  serve="'$repo/bench/serve_with_extra_round_trips.py'"
  EXTRA_NAME="$EXTRA_NAME, round trips +$KIZUNA_BENCH_EXTRA_ROUND_TRIPS"
fi
export EXTRA_CMD="exec env KIZUNA_DATA_DIR='$data_dir' KIZUNA_RATE_LIMIT=1000000000000 KIZUNA_BENCH_EXTRA_ROUND_TRIPS='${KIZUNA_BENCH_EXTRA_ROUND_TRIPS:-0}' '$repo/.venv/bin/python' $serve serve --port $port --workers ${KIZUNA_BENCH_WORKERS:-1}"
export RESULTS_DIR="${RESULTS_DIR:-$repo/bench/results/anchors}"
mkdir -p "$RESULTS_DIR"
"$anchors/run_all.sh"
