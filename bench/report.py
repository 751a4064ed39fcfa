"""Print benchmark rows as one table; write them as JSON with the machine's description."""

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _format(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def print_table(rows):
    header = ["benchmark", "case", "db", "value", "unit", "baseline", "ratio", "notes"]
    lines = []
    for row in rows:
        notes = ", ".join(f"{key}={_format(value)}" for key, value in row.items()
                          if key not in {"benchmark", "case", "database", "value", "unit", "baseline", "ratio",
                                         "baseline_name", "higher_is_better"})
        baseline = f"{_format(row.get('baseline'))} ({row['baseline_name']})" if row.get("baseline") else "-"
        lines.append([row["benchmark"], row["case"], row["database"], _format(row["value"]), row["unit"], baseline,
                      _format(row.get("ratio")), notes])
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=False)]
    for line in [header, ["-" * width for width in widths], *lines]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=False)).rstrip())


def machine():
    versions = {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}
    import sqlite3

    versions["sqlite"] = sqlite3.sqlite_version
    try:
        versions["postgresql"] = subprocess.run(["psql", "--version"], capture_output=True, text=True,
                                                timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        versions["postgresql"] = None
    versions["postgresql_server"] = _postgresql_server()
    return versions


def _postgresql_server():
    """The server's own version (psql above is only the client's), or None when unreachable."""
    from bench.common import postgres_url

    url = postgres_url()
    if url is None:
        return None
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql("SHOW server_version").scalar()
    finally:
        engine.dispose()


def write_json(rows, path=RESULTS / "latest.json"):
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"measured_at": datetime.now(UTC).isoformat(), "machine": machine(), "results": rows}
    path.write_text(json.dumps(payload, indent=2))
    return path
