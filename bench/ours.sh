#!/usr/bin/env bash
# Our service for the side-by-side benchmark, under the shared gunicorn_ctl.sh (the same
# gunicorn flags as Isso: sync workers, --preload).
#
#   ours.sh setup                  venv $OURS_VENV with this checkout installed (not editable)
#   ours.sh start BACKEND WORKERS  BACKEND sqlite (fresh file) or pg (fresh database + Redis)
#   ours.sh seed BACKEND RUN       the shared data set + prepared submissions for RUN
#   ours.sh rows BACKEND THREAD    rows stored in a thread (write reconciliation)
#   ours.sh stop
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=servers_env.sh
. "$HERE/servers_env.sh"
PORT=${OURS_PORT:-8084}
PG_DB=${BENCH_PG_DB:-moderation_bench}

backend_env() {
  local backend=$1
  echo "MODERATION_INSTANCE_PATH=$BENCH_WORK/ours-instance"
  echo "MODERATION_SECRET_KEY=benchmark-secret-key-not-for-production"
  echo "MODERATION_TRUSTED_PROXIES=1"
  echo "MODERATION_LOG_LEVEL=WARNING"
  echo "MODERATION_SESSION_COOKIE_SECURE=false"
  if [ "$backend" = pg ]; then
    echo "MODERATION_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/$PG_DB"
    echo "MODERATION_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/${BENCH_REDIS_DB:-5}"
  else
    echo "MODERATION_DATABASE_URL=sqlite:///$BENCH_WORK/ours.db"
    echo "MODERATION_RATELIMIT_STORAGE_URI=memory://"
  fi
}

with_env() { local backend=$1; shift; env $(backend_env "$backend") "$@"; }

fresh_database() {
  local backend=$1
  if [ "$backend" = pg ]; then
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB"
    redis-cli -n "${BENCH_REDIS_DB:-5}" flushdb >/dev/null
  else
    rm -f "$BENCH_WORK/ours.db" "$BENCH_WORK/ours.db-wal" "$BENCH_WORK/ours.db-shm"
  fi
  mkdir -p "$BENCH_WORK/ours-instance"
  with_env "$backend" "$VENV/bin/moderation" db upgrade >/dev/null 2>&1
}

cmd=${1:-}; shift || true
case "$cmd" in
setup)
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "$ROOT"
  "$VENV/bin/python" -c 'import importlib.metadata as m; print("moderation", m.version("moderation"), "gunicorn", m.version("gunicorn"))'
  ;;
start)
  backend=$1 workers=$2
  mkdir -p "$BENCH_WORK"
  fresh_database "$backend"
  # the WSGI entry point is the package's own factory; --chdir is not needed
  "$SHARED/gunicorn_ctl.sh" start ours "$VENV" "$PORT" "$workers" 'moderation:create_app()' /healthz \
    $(backend_env "$backend")
  ;;
seed)
  backend=$1 run=$2
  with_env "$backend" "$VENV/bin/python" "$HERE/seed_ours.py" dataset "$BENCH_WORK" "http://127.0.0.1:$PORT" "$run"
  ;;
queue)
  backend=$1 n=$2
  with_env "$backend" "$VENV/bin/python" "$HERE/seed_ours.py" queue "$n"
  ;;
rows)
  backend=$1 thread=$2
  with_env "$backend" "$VENV/bin/python" "$HERE/seed_ours.py" rows "$thread"
  ;;
stop)
  "$SHARED/gunicorn_ctl.sh" stop ours
  ;;
*)
  sed -n '2,10p' "$0" >&2; exit 2
  ;;
esac
