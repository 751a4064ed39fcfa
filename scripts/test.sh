#!/usr/bin/env bash
# The whole suite: lint, then every test on SQLite and, side by side, every database test (tests/web) on PostgreSQL.
# PostgreSQL comes from TEST_DATABASE_URL, else a postgresql DATABASE_URL, else the local default.
# With CI=true an unreachable PostgreSQL fails the run instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
started=$(date +%s)

pg_url="${TEST_DATABASE_URL:-}"
if [ -z "$pg_url" ] && [[ "${DATABASE_URL:-}" == postgresql* ]]; then pg_url="$DATABASE_URL"; fi
pg_url="${pg_url:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"

if [ "${CI:-}" = "true" ]; then
  PIP_AUDIT_TIMEOUT=60 bash scripts/audit.sh  # ruff, bandit, pip-audit
else
  echo "== ruff"
  .venv/bin/ruff check .
fi

# The two passes run side by side (the machine has two cores; the PostgreSQL pass spends much of its time
# waiting on the server), each on its own database and Redis database; the PostgreSQL pass's output is
# printed when the SQLite pass is done.
pg_status=skipped
pg_log=$(mktemp)
if "$PY" scripts/db_reachable.py "$pg_url"; then
  (env -u DATABASE_URL TEST_DATABASE_URL="$pg_url" TEST_REDIS_URL="redis://127.0.0.1:6379/14" \
     "$PY" -m pytest -m "not browser" --durations=10 tests/web "$@" >"$pg_log" 2>&1; echo $? >"$pg_log.rc") &
  pg_pid=$!
  pg_status=running
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is unreachable and CI=true: failing (the suite must run on both databases)." >&2
  exit 1
else
  echo "!! PostgreSQL is unreachable: running on SQLite only. Set TEST_DATABASE_URL to include it." >&2
fi

echo "== tests on SQLite"
sqlite_rc=0
env -u DATABASE_URL -u TEST_DATABASE_URL "$PY" -m pytest --durations=10 "$@" || sqlite_rc=$?

pg_rc=0
if [ "$pg_status" = running ]; then
  wait "$pg_pid" || true
  pg_rc=$(cat "$pg_log.rc" 2>/dev/null || echo 1)
  echo "== tests on PostgreSQL: tests/web (tests/unit touch no database and the browser suite runs once,"
  echo "   both in the SQLite pass, to keep CI under 15 minutes; run the browser suite here with:"
  echo "   TEST_DATABASE_URL=... .venv/bin/python -m pytest tests/browser)"
  cat "$pg_log"
fi
rm -f "$pg_log" "$pg_log.rc"
if [ "$sqlite_rc" != 0 ] || [ "$pg_rc" != 0 ]; then
  echo "!! failed: SQLite pass exit $sqlite_rc, PostgreSQL pass exit $pg_rc" >&2
  exit 1
fi
echo "== make test took $(( $(date +%s) - started )) s"
