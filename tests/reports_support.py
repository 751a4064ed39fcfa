"""Helpers shared by the report and import tests (tests/reports/test_gap_cli.py, test_reports*.py, test_trend.py;
tests/responses/test_import*.py, test_properties.py)."""

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from perception.core.models import Answer, Item, PredictedAnswer, Response, Team


def items_by_key(db, keys):
    found = {item.key: item for item in db.session.execute(select(Item).where(Item.key.in_(keys))).scalars()}
    return [found[key] for key in keys]


def gap_json(runner, *args):
    result = runner.invoke(args=["gap", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def write_csv(path, header, rows, *, bom=False, line_ending="\n"):
    """Write rows (lists) under a header with the csv module; returns the path as a string."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=line_ending)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8"))
    return str(path)


def row_counts(db):
    """How many rows the import could touch, to show that a refused file changed nothing."""
    db.session.rollback()
    return {
        model.__name__: db.session.execute(select(func.count()).select_from(model)).scalar()
        for model in (Response, Answer, PredictedAnswer, Team)
    }


def assert_close(actual, expected, rel=1e-12, abs_=1e-12, path="report"):
    """Same structure; numbers equal to a relative `rel` (absolute `abs_` near zero)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), f"{path}: {actual!r} != {expected!r}"
        for key in expected:
            assert_close(actual[key], expected[key], rel, abs_, f"{path}.{key}")
    elif isinstance(expected, list | tuple):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{path}: {actual!r} != {expected!r}"
        for index, (got, want) in enumerate(zip(actual, expected, strict=True)):
            assert_close(got, want, rel, abs_, f"{path}[{index}]")
    elif isinstance(expected, bool) or expected is None or isinstance(expected, str):
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
    else:
        assert isinstance(actual, int | float) and not isinstance(actual, bool), f"{path}: {actual!r}"
        assert actual == pytest.approx(float(expected), rel=rel, abs=abs_), f"{path}: {actual!r} != {expected!r}"
