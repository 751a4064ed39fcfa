#!/usr/bin/env bash
# The whole suite: lint, then every test on SQLite and, side by side, every database test on PostgreSQL
# (all but the browser tests and the pure ones, marked `pure`: README "Tests").
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

# The passes run side by side, each on its own database and Redis database: the SQLite pass, the browser
# suite (also on SQLite; it spends most of its time waiting on Chromium) and the PostgreSQL pass (it spends
# much of its time waiting on the server), so the machine's two cores are kept busy. The SQLite pass prints
# as it goes, the others when it is done. With arguments (`scripts/test.sh tests/api/test_api.py`) the SQLite pass and the
# PostgreSQL pass run those (the PostgreSQL pass without browser and pure tests).
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
passes=()

start_pass() {  # start_pass NAME COMMAND...: run it in the background, its output, exit code and time in $logs
  local name=$1
  shift
  passes+=("$name")
  (pass_started=$(date +%s)
   rc=0
   "$@" >"$logs/$name.log" 2>&1 || rc=$?
   echo "== the $name pass took $(( $(date +%s) - pass_started )) s" >>"$logs/$name.log"
   echo "$rc" >"$logs/$name.rc") &
}

postgresql_pass() {  # every selected test but the browser and pure ones; "none left" (exit code 5) is no failure
  local rc=0
  env -u DATABASE_URL TEST_DATABASE_URL="$pg_url" TEST_REDIS_URL="redis://127.0.0.1:6379/14" \
    "$PY" -m pytest -m "not browser and not pure" --durations=10 "$@" || rc=$?
  if [ "$rc" = 5 ]; then echo "(no database test among those: nothing to run on PostgreSQL)"; rc=0; fi
  return "$rc"
}

pg_selection=("$@")
if [ "$#" = 0 ]; then pg_selection=(tests); fi
if "$PY" scripts/db_reachable.py "$pg_url"; then
  start_pass PostgreSQL postgresql_pass "${pg_selection[@]}"
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is unreachable and CI=true: failing (the suite must run on both databases)." >&2
  exit 1
else
  echo "!! PostgreSQL is unreachable: running on SQLite only. Set TEST_DATABASE_URL to include it." >&2
fi
if [ "$#" = 0 ]; then
  start_pass browser env -u DATABASE_URL -u TEST_DATABASE_URL TEST_REDIS_URL="redis://127.0.0.1:6379/13" \
    "$PY" -m pytest --durations=5 tests/browser
  sqlite_selection=(-m "not browser")
else
  sqlite_selection=("$@")
fi
echo "== tests: the SQLite pass"
sqlite_started=$(date +%s)
failed=()
env -u DATABASE_URL -u TEST_DATABASE_URL "$PY" -m pytest --durations=10 "${sqlite_selection[@]}" || failed+=(SQLite)
echo "== the SQLite pass took $(( $(date +%s) - sqlite_started )) s"
wait

for name in "${passes[@]}"; do
  echo "== tests: the $name pass"
  cat "$logs/$name.log"
  if [ "$(cat "$logs/$name.rc" 2>/dev/null || echo 1)" != 0 ]; then failed+=("$name"); fi
done
echo "(pure tests read no database and the browser suite runs once, both on SQLite; to run the browser suite on"
echo " PostgreSQL: TEST_DATABASE_URL=... .venv/bin/python -m pytest tests/browser)"
if [ "${#failed[@]}" != 0 ]; then
  echo "!! failed: the ${failed[*]} pass(es)" >&2
  exit 1
fi
echo "== make test took $(( $(date +%s) - started )) s"
