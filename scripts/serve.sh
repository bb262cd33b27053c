#!/usr/bin/env bash
# Set up (once) and run the service on its embedded default: SQLite in ./instance,
# one process with threads, at http://127.0.0.1:8000. Extra arguments go to `moderation serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/moderation" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet -e .
fi
exec "$VENV/bin/moderation" serve "$@"
