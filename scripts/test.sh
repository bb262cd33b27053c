#!/usr/bin/env bash
# Set up everything the tests need and run them: lint, types, then the whole suite on
# SQLite and again on PostgreSQL (there only the tests where the database matters: those
# marked any_database or database_incidental, and the browser tests, ran on the SQLite
# pass). Both passes run in PYTEST_WORKERS processes (default: cores + 1; pytest-xdist, a
# test file per worker at a time; each worker has a PostgreSQL database of its own,
# <db>_gw0...). Extra arguments go to pytest (both runs): -n 0 runs serially.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PG_URL=${MODERATION_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
# One worker more than the cores: many tests wait on a server process, Chromium or a
# socket, and the extra worker fills that time.
WORKERS=${PYTEST_WORKERS:-$(($(nproc) + 1))}
PARALLEL=(-n "$WORKERS" --dist loadfile)

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

echo "== ruff"; "$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check .
echo "== mypy"; "$VENV/bin/mypy"
echo "== tests on SQLite"
env -u MODERATION_DATABASE_URL "$VENV/bin/pytest" "${PARALLEL[@]}" "$@"
echo "== tests on PostgreSQL ($PG_URL)"
# The browser tests drive the same server code through Chromium on the SQLite pass; the
# PostgreSQL pass leaves them out (MODERATION_TEST_EVERYTHING=1 keeps them).
PG_ONLY=(-m "not browser")
[ -n "${MODERATION_TEST_EVERYTHING:-}" ] && PG_ONLY=()
MODERATION_DATABASE_URL="$PG_URL" "$VENV/bin/pytest" "${PARALLEL[@]}" "${PG_ONLY[@]}" "$@"
