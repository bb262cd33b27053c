#!/usr/bin/env bash
# Set up everything the tests need and run them: lint, types, the whole suite on SQLite and
# again on PostgreSQL (there only the tests where the database matters: those not marked
# any_database or database_incidental, and not the browser tests, run on the SQLite pass).
#
# The three run at the same time: each spends part of its time waiting (on a server process,
# Chromium, PostgreSQL, a socket) and together they keep the cores busy. They share nothing:
# the SQLite pass uses SQLite files in its own temporary folders, the PostgreSQL pass a
# database per worker (<db>_gw0...) that nothing else uses, tests on the shared Redis keep
# their keys under a prefix of their own, and servers listen on free ports. The SQLite pass
# prints as it goes; lint and the PostgreSQL pass print when they are done, and the command
# fails if any of them failed. Each pass runs in pytest-xdist workers (a test file per worker
# at a time): SQLITE_WORKERS (default twice the cores + 1) and POSTGRESQL_WORKERS (default
# the cores).
# Extra arguments go to pytest (both passes): -n 0 runs each pass in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PG_URL=${MODERATION_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
# More workers than cores: many SQLite-pass tests wait on a server process, Chromium or a
# socket, and the other workers fill that time; the PostgreSQL pass's tests mostly compute.
# (On 2 cores, 5 + 2 kept both busy to the end in a simulation from per-file CPU and wait
# times; 4 + 2 left 8 % idle, 3 + 3 18 %.)
# PYTEST_WORKERS, as before, sets both.
SQLITE_WORKERS=${SQLITE_WORKERS:-${PYTEST_WORKERS:-$((2 * $(nproc) + 1))}}
POSTGRESQL_WORKERS=${POSTGRESQL_WORKERS:-${PYTEST_WORKERS:-$(nproc)}}

# Debian's Chromium for the browser tests (never a browser download).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian's chromium"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "the browser tests need Debian's chromium: sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi

scripts/services.sh

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
# The editable install follows the code by itself: install again only in a new venv, or when
# pyproject.toml (dependencies, entry points) changed since. pip's isolated build of the
# editable wheel fetches its build backend from the index each time: most of a minute.
# (Another install of the package in the venv, such as `pip install .`, is replaced.)
STAMP="$VENV/.moderation-installed"
INSTALLED="$(sha256sum pyproject.toml | cut -d' ' -f1) $PWD"
FOUND=$("$VENV/bin/python" -I -c 'import importlib.util as u; print(u.find_spec("moderation").origin)' 2>/dev/null || true)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$INSTALLED" ] || [ "$FOUND" != "$PWD/moderation/__init__.py" ]; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -e '.[test]'
  echo "$INSTALLED" >"$STAMP"
fi

# The browser tests drive the same server code through Chromium on the SQLite pass; the
# PostgreSQL pass leaves them out (MODERATION_TEST_EVERYTHING=1 keeps them).
PG_ONLY=(-m "not browser")
[ -n "${MODERATION_TEST_EVERYTHING:-}" ] && PG_ONLY=()

# Python keeps compiled modules (and pytest its assert-rewritten test modules) in
# __pycache__ folders, ignored by git. With PYTHONDONTWRITEBYTECODE set (some images and
# shells set it) nothing is kept, and each of the ~10 pytest processes, and each server the
# tests start, compiles the tests and the package again and rewrites every test module's
# asserts: 5.7 of a test process's 8.4 s of start-up and collection CPU. Cached files are
# checked against their source, so a changed file is compiled again.
unset PYTHONDONTWRITEBYTECODE

OUTPUT=$(mktemp -d)
BACKGROUND=()
# Ctrl-C reaches the background runs too (they would ignore it); any other end stops them.
trap 'kill "${BACKGROUND[@]}" 2>/dev/null || true; rm -rf "$OUTPUT"' EXIT

lint() {
  "$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check . && "$VENV/bin/mypy"
}
(trap - INT && lint) >"$OUTPUT/lint" 2>&1 &
BACKGROUND+=($!)
# A cache folder of its own: each pass keeps its own last failures (--lf reruns them).
(trap - INT && exec env MODERATION_DATABASE_URL="$PG_URL" "$VENV/bin/pytest" \
  -n "$POSTGRESQL_WORKERS" --dist loadfile -o cache_dir=.pytest_cache_postgresql \
  "${PG_ONLY[@]}" "$@") >"$OUTPUT/postgresql" 2>&1 &
BACKGROUND+=($!)

echo "== tests on SQLite (ruff, mypy and the PostgreSQL pass run alongside; they print after)"
sqlite=0
env -u MODERATION_DATABASE_URL "$VENV/bin/pytest" -n "$SQLITE_WORKERS" --dist loadfile "$@" ||
  sqlite=$?
lint=0
wait "${BACKGROUND[0]}" || lint=$?
echo "== ruff, ruff format --check, mypy"
cat "$OUTPUT/lint"
postgresql=0
wait "${BACKGROUND[1]}" || postgresql=$?
echo "== tests on PostgreSQL ($PG_URL)"
cat "$OUTPUT/postgresql"
BACKGROUND=()

# pytest's 5 is "no tests collected": a selection (-k, -m) may fall on one database only.
verdict() { case $1 in 0) echo passed ;; 5) echo "no tests" ;; *) echo "FAILED (exit $1)" ;; esac; }
echo "== lint: $(verdict $lint); SQLite: $(verdict $sqlite); PostgreSQL: $(verdict $postgresql)"
[ "$lint" = 0 ] || exit "$lint"
if [ "$sqlite" = 5 ] && [ "$postgresql" = 5 ]; then exit 5; fi
for status in "$sqlite" "$postgresql"; do
  [ "$status" = 0 ] || [ "$status" = 5 ] || exit "$status"
done
