#!/usr/bin/env bash
# Soak: the system suite's long variants (tests/test_system_load.py and
# tests/test_system_faults.py, the tests marked `soak`, which every other run leaves out).
# The same scenarios and checks as the short variants every test run has: 32 clients
# against two processes on PostgreSQL and Redis and against embedded SQLite, then kill -9,
# PostgreSQL restarts, Redis stops and a webhook receiver outage, each repeated several
# times during a longer run. Every run
# prints its counts (sent, acked, stored, lost, duplicated, misattributed, 5xx, ...) in the
# "system suite counts" section at the end.
#
#   scripts/soak.sh                       # defaults below (about half an hour)
#   SOAK_SECONDS=1800 scripts/soak.sh     # half an hour per load run
#   scripts/soak.sh -k postgresql         # extra arguments go to pytest
#
# Settings (environment):
#   SOAK_SECONDS        each load run, seconds                (default 300; the test run uses 2.5)
#   SOAK_CLIENTS        concurrent clients                    (default 32)
#   SOAK_FAULT_SECONDS  each fault run, seconds               (default 240; the test run uses 3)
#   SOAK_FAULT_CYCLES   times each fault strikes in its run   (default 8; the test run uses 1)
#   VENV                the virtualenv with the test extras   (default .venv)
#
# PostgreSQL and Redis are private instances started and removed by the tests themselves
# (PostgreSQL's initdb/pg_ctl and redis-server must be installed); the shared ones on the
# standard ports are never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/pytest" ]; then
  echo "no pytest in $VENV: run scripts/test.sh once, or set VENV=/path/to/venv" >&2
  exit 1
fi
export SOAK_SECONDS=${SOAK_SECONDS:-300}
export SOAK_CLIENTS=${SOAK_CLIENTS:-32}
export SOAK_FAULT_SECONDS=${SOAK_FAULT_SECONDS:-240}
export SOAK_FAULT_CYCLES=${SOAK_FAULT_CYCLES:-8}
echo "soak: ${SOAK_CLIENTS} clients, load ${SOAK_SECONDS}s per run," \
  "faults ${SOAK_FAULT_CYCLES}x in ${SOAK_FAULT_SECONDS}s per run"
# The suite uses databases of its own; a MODERATION_DATABASE_URL would only make it skip.
exec env -u MODERATION_DATABASE_URL "$VENV/bin/pytest" -p no:cacheprovider -m soak \
  tests/test_system_load.py tests/test_system_faults.py "$@"
