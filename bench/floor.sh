#!/usr/bin/env bash
# The Flask floor of a comment post (bench/floor/app.py) under the shared gunicorn_ctl.sh, the
# same gunicorn flags as Isso and ours; runs in our bench venv (same Flask and SQLAlchemy).
#
#   floor.sh start BACKEND WORKERS  BACKEND sqlite (fresh file) or pg (fresh database)
#   floor.sh seed BACKEND RUN       the post body ({{N}} made unique per request by wrk)
#   floor.sh rows BACKEND THREAD    rows stored in a thread (write reconciliation)
#   floor.sh stop
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=servers_env.sh
. "$HERE/servers_env.sh"
PORT=${FLOOR_PORT:-8085}
PG_DB=${BENCH_FLOOR_PG_DB:-moderation_floor}

url() {
  if [ "$1" = pg ]; then echo "postgresql+psycopg://postgres@127.0.0.1:5432/$PG_DB"
  else echo "sqlite:///$BENCH_WORK/floor.db"; fi
}
py() { local backend=$1; shift; FLOOR_DATABASE_URL=$(url "$backend") PYTHONPATH="$HERE/floor" "$VENV/bin/python" -c "$@"; }

cmd=${1:-}; shift || true
case "$cmd" in
start)
  backend=$1 workers=$2
  mkdir -p "$BENCH_WORK"
  if [ "$backend" = pg ]; then
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB"
  else
    rm -f "$BENCH_WORK/floor.db" "$BENCH_WORK/floor.db-wal" "$BENCH_WORK/floor.db-shm"
  fi
  py "$backend" 'import app; app.create()'
  "$SHARED/gunicorn_ctl.sh" start floor "$VENV" "$PORT" "$workers" app:app /healthz \
    "PYTHONPATH=$HERE/floor" "FLOOR_DATABASE_URL=$(url "$backend")"
  ;;
seed)
  # the same comment as Isso's and ours, each request from another email ({{N}})
  printf '%s' '{"comment": "Benchmark comment {{N}}: Lorem ipsum dolor sit amet, *consectetur* adipiscing elit, sed do **eiusmod** tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis `nostrud()` exercitation ullamco laboris.", "author": "Bench User", "email": "bench{{N}}@bench.example.com"}' \
    >"$BENCH_WORK/floor-post.json"
  ;;
rows)
  backend=$1 thread=$2
  py "$backend" "import app, json, sys; print(json.dumps({'rows': app.rows(sys.argv[1])}))" "$thread"
  ;;
stop)
  "$SHARED/gunicorn_ctl.sh" stop floor
  ;;
*)
  sed -n '2,9p' "$0" >&2; exit 2 ;;
esac
