#!/usr/bin/env bash
# Static checks: ruff, bandit (no high-severity finding), pip-audit of the pinned requirements.
# pip-audit needs its vulnerability service; when that cannot be reached the script says so plainly
# and does not fail the build (a finding it *does* report fails it).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
status=0

echo "== ruff"
"$BIN/ruff" check . || status=1

echo "== bandit (high severity fails)"
"$BIN/bandit" -q -r perception -lll || status=1

echo "== pip-audit (requirements.txt)"
report=$(timeout "${PIP_AUDIT_TIMEOUT:-150}" "$BIN/pip-audit" -r requirements.txt --progress-spinner off 2>&1)
audit_status=$?
unaudited=$(grep -c "could not be audited" <<<"$report" || true)
if grep -qE "^Found [0-9]+ known vulnerabilit" <<<"$report"; then
  echo "$report"
  status=1
elif [ "$audit_status" -eq 124 ]; then
  echo "pip-audit did not finish in time (no answer from its vulnerability service): NOT audited."
elif [ "$unaudited" -gt 0 ]; then
  echo "pip-audit could not reach its vulnerability service for $unaudited packages: they were NOT audited."
  echo "(This machine reaches only the package index; run 'make audit' where pypi.org's JSON API is reachable.)"
elif [ "$audit_status" -ne 0 ]; then
  echo "$report" | tail -5
  echo "pip-audit could not run (exit $audit_status): NOT audited."
else
  echo "$report" | tail -3
fi
exit $status
