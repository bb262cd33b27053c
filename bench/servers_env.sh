# Sourced by bench/ours.sh and bench/floor.sh (after they set HERE, their own folder): where
# the checkout, the shared harness, the benchmark's virtualenv and its work folder are, and
# the PostgreSQL server their fresh databases are made on.
ROOT=$(cd "$HERE/.." && pwd)
SHARED=${BENCH_SHARED:-$(cd "$ROOT/../shared/bench" && pwd)}
VENV=${OURS_VENV:-/tmp/ours-bench-venv}
export BENCH_WORK=${BENCH_WORK:-/tmp/isso-bench}
PG_ADMIN=${BENCH_PG_ADMIN:-postgresql://postgres@127.0.0.1:5432/postgres}
