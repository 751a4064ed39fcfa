"""Every benchmark runs in its --quick mode, so `make bench` cannot rot between releases.

No thresholds and no timings: only that each bench/bench_*.py runs end to end, prints its rows
and that `python -m bench.run --quick` writes the JSON with the machine's description. It runs once,
in the SQLite pass of `make test`, and on SQLite only (BENCH_DATABASES=sqlite); `make bench` runs
every benchmark on PostgreSQL too."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import benchmark_names

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql"),
    reason="the benchmarks cover PostgreSQL themselves; they run once, in the SQLite pass",
)


def test_every_benchmark_file_is_run_by_make_bench():
    names = benchmark_names()
    assert {"submit", "mail", "gap", "pages", "export"} <= set(names)
    assert "python -m bench.run" in (ROOT / "Makefile").read_text()


def test_quick_run_of_every_benchmark_writes_one_table_and_the_json(tmp_path):
    out = tmp_path / "latest.json"
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "DATABASE_SCHEMA")}
    # SQLite only: the PostgreSQL half doubled this test's time and pushed CI on a slow day past 15
    # minutes; `make bench` runs both databases (every benchmark's PostgreSQL path was last run by it).
    env["BENCH_DATABASES"] = "sqlite"
    completed = subprocess.run([sys.executable, "-m", "bench.run", "--quick", "--out", str(out)], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=1200)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.splitlines()[0].split()[:3] == ["benchmark", "case", "db"]
    payload = json.loads(out.read_text())
    machine = payload["machine"]
    assert machine["cpus"] and machine["python"] and machine["sqlite"]
    rows = payload["results"]
    assert {row["benchmark"] for row in rows} == set(benchmark_names())
    assert {row["database"] for row in rows} >= {"sqlite"}
    speed = [row for row in rows if row["unit"] in ("s", "req/s", "emails/s", "answers/s")]
    assert speed and all(row.get("baseline") and row.get("ratio") for row in speed), "a speed figure lacks a baseline"
    assert all(row.get("errors", 0) == 0 for row in rows if row["benchmark"] == "submit")
